#!/usr/bin/env bash
# What the audit log records (docs/audit.md "What the log records") and `calyx audit show`:
# one run that goes ahead and one attempt per refusal exit code this host can produce
# (65 expired and garbled, 66 another host's lease, 67 replayed, 68 argv not allowed,
# 69 --enforce bpf-lsm on a kernel that refuses BPF LSM, 74 no lease file, 78 a malformed
# matrix), each checked in the log: lease_event.verified's claims, token and matrix
# hashes (against b2sum), caller, cwd and version; each lease_event.refused's exit code,
# reason (the line printed), step and claims; no token text in the log; refusals that
# consume nothing; nothing recorded where the state dir is unsafe; `calyx audit show
# --type lease_event.refused --json` printing exactly those lines; the chain still valid.
#   tests/host/audit_records.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
. tests/lib/objs.sh
. tests/lib/svf.sh
suite_scratch audit_records
# shellcheck disable=SC2086 # OBJ_CFLAGS: several flags or none
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE $OBJ_CFLAGS -I user -o "$T/sign_claims" tests/host/progs/sign_claims.c \
  "$BUILD"/obj/token/paseto.o "$BUILD"/obj/token/keys.o "$BUILD"/obj/base/paserk.o "$BUILD"/obj/base/b64url.o \
  "$BUILD"/obj/base/errmsg.o "$BUILD"/obj/base/fileio.o -lsodium || { bad "build sign_claims"; finish; }
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }
KEY=$T/k/calyx.key PUB=$T/k/calyx.pub HOST=$(uname -n)
ST=$T/state LOG=$T/state/logs/svf_audit/svf.jsonl
VERSION=$("$CALYX" --version | sed 's/^calyx //')
# The caller's working directory is recorded: run from a directory of our own.
mkdir -p "$T/caller-cwd"
cd "$T/caller-cwd" || { bad "cd"; finish; }

issue() { local out=$1; shift; "$CALYX" lease issue -k "$KEY" -i INT-TEST-AUDIT --ttl 5m "$@" -o "$out" 2>"$T/issue.err" \
  || { diag "lease issue failed: $(cat "$T/issue.err")"; return 1; }; }
# run LEASE ARGS... -- CMD: sets RC and ERR (stderr)
run() { local lease=$1; shift; SUDO_UID=4321 "$CALYX" run --lease "$lease" "$@" >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err"); }
rc_is() { [ "$RC" -eq "$1" ] || { WHY="exit $RC, expected $1; stderr: $ERR"; return 1; }; }
lease_id() { "$CALYX" lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1; }
b2() { b2sum -l 256 "$1" | cut -c1-64; }
n_refused() { grep -c '"type":"lease_event.refused"' "$LOG" 2>/dev/null; }
# refused_ok CODE STEP LEASE-ID|"" TOKEN-FILE|"" MATRIX-PATH: the log's last two records are
# the refusal of the attempt just made, as the attempt's stderr said it, and the checkpoint
# that seals it (docs/audit.md).
refused_ok() {
  python3 - "$LOG" "$1" "$2" "$3" "$4" "$5" "$T/err" "$VERSION" "$T/caller-cwd" <<'EOF'
import hashlib, json, sys
log, code, step, lease, tok, mpath, errf, version, cwd = sys.argv[1:]
lines = open(log, "rb").read().splitlines()
seal = json.loads(lines[-1])
assert seal["type"] == "log_event.checkpoint", seal["type"]
rec = json.loads(lines[-2])
assert rec["type"] == "lease_event.refused", rec["type"]
assert seal["data"]["seq"] == rec["seq"] and seal["data"]["head"] == rec["hash"], seal
d = rec["data"]
assert d["exit_code"] == int(code), d
assert d["step"] == step, d["step"]
# the reason is the line the attempt printed
lines = open(errf).read().splitlines()
assert "calyx: " + d["reason"] in lines, (d["reason"], lines)
assert rec["lease"] == lease, (rec["lease"], lease)
if lease:
    assert d["claims"]["jti"] == lease and rec["intent"] == "INT-TEST-AUDIT" == d["claims"]["intent"], d["claims"]
else:
    assert d["claims"] is None and rec["intent"] == "", d["claims"]
if tok:
    assert d["token_blake2b"] == hashlib.blake2b(open(tok, "rb").read(), digest_size=32).hexdigest(), d
else:
    assert d["token_blake2b"] is None, d
assert d["matrix_file"]["path"] == mpath, d["matrix_file"]
if mpath != "shipped":
    assert d["matrix_file"]["blake2b"] == hashlib.blake2b(open(mpath, "rb").read(), digest_size=32).hexdigest()
assert d["lease_used"] is False, d
assert d["caller"] == {"uid": 0, "gid": 0, "sudo_uid": 4321, "cwd": cwd}, d["caller"]
assert d["calyx_version"] == version, d
EOF
}

# ---------------------------------------------------------------- 68 and 69 first: they consume nothing
issue "$T/ok.tok" --aud "$HOST" --cmd /bin/true || bad "issue ok lease"
OKID=$(lease_id "$T/ok.tok")
run "$T/ok.tok" --pub "$PUB" --state "$ST" -- /bin/false
check "argv not one of the lease's commands: 68" rc_is 68
check "... lease_event.refused (step command, claims, token hash, caller, version) although the state dir was not open yet" \
  refused_ok 68 command "$OKID" "$T/ok.tok" shipped
run "$T/ok.tok" --pub "$PUB" --state "$ST" --enforce bpf-lsm -- /bin/true
check "--enforce bpf-lsm on this host: 69" rc_is 69
check "... lease_event.refused (step backend)" refused_ok 69 backend "$OKID" "$T/ok.tok" shipped

# ---------------------------------------------------------------- the run that goes ahead
run "$T/ok.tok" --pub "$PUB" --state "$ST" -- /bin/true
check "the same lease then runs (exit 0): neither refusal used it" rc_is 0
check "... one run directory: the refusals left none" \
  test "$(find "$ST/outgoing/staging_runs" -mindepth 1 -maxdepth 1 | wc -l)" -eq 1
check "lease_event.verified: claims, token_blake2b (b2sum -l 256 of the file), matrix_file, caller, version; the old keys kept" \
  python3 - "$LOG" "$OKID" "$T/ok.tok" "$(b2 "$T/ok.tok")" "$VERSION" "$T/caller-cwd" "$ROOT/policies/capability_matrix.yaml" <<'EOF'
import hashlib, json, sys
log, lease, tokf, tokhash, version, cwd, shipped = sys.argv[1:]
recs = [json.loads(l) for l in open(log)]
# the 69 attempt got past step 7 too: its verified record, then its refusal
v = [r for r in recs if r["type"] == "lease_event.verified" and r["lease"] == lease]
assert len(v) == 2, len(v)
d = v[-1]["data"]
assert d["token_blake2b"] == tokhash, (d["token_blake2b"], tokhash)
c = d["claims"]
assert c["jti"] == lease and c["intent"] == "INT-TEST-AUDIT" and c["commands"] == [["/bin/true"]], c
assert c["network"] == "deny_all" and c["runs"] == 1 and c["aud"] and c["iss"] == d["iss"], c
for k in ("iat", "nbf", "exp", "paths", "limits"):
    assert k in c, k
assert d["matrix"] == "<shipped>" and d["command"] == 0 and isinstance(d["exp"], (int, float)), d
# the shipped matrix is policies/capability_matrix.yaml compiled in, byte for byte
assert d["matrix_file"] == {"path": "shipped",
                            "blake2b": hashlib.blake2b(open(shipped, "rb").read(), digest_size=32).hexdigest()}, d["matrix_file"]
assert d["caller"] == {"uid": 0, "gid": 0, "sudo_uid": 4321, "cwd": cwd}, d["caller"]
assert d["calyx_version"] == version, d
s = [r for r in recs if r["type"] == "exec_event.started" and r["lease"] == lease]
assert len(s) == 1 and s[0]["data"]["backend"] == "landlock" and s[0]["data"]["backend_reason"], s
EOF

# ---------------------------------------------------------------- 67
run "$T/ok.tok" --pub "$PUB" --state "$ST" -- /bin/true
check "the lease again: replayed, 67" rc_is 67
check "... lease_event.refused (step ledger)" refused_ok 67 ledger "$OKID" "$T/ok.tok" shipped

# ---------------------------------------------------------------- 65: expired (signed claims), garbled (none)
now=$(date +%s)
python3 - "$T/ok.tok" "$T/exp.json" "$now" "$HOST" <<'EOF' || bad "make the expired claims"
import json, sys, time
now = int(sys.argv[3])
t = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
c = {"jti": "LEASE-20261203-000000-e0e0", "intent": "INT-TEST-AUDIT", "iat": t(now - 7200), "nbf": t(now - 7200),
     "exp": t(now - 3600), "iss": "", "commands": [["/bin/true"]], "paths": [], "network": "deny_all",
     "limits": {}, "runs": 1, "aud": sys.argv[4]}
open(sys.argv[2], "w").write(json.dumps(c))
EOF
PID=$("$CALYX" lease verify --pub "$PUB" --json "$T/ok.tok" | python3 -c 'import json,sys; print(json.load(sys.stdin)["iss"])')
sed -i "s|\"iss\": \"\"|\"iss\": \"$PID\"|" "$T/exp.json"
"$T/sign_claims" "$KEY" < "$T/exp.json" > "$T/exp.tok" || bad "sign the expired lease"
run "$T/exp.tok" --pub "$PUB" --state "$ST" -- /bin/true
check "an expired lease: 65" rc_is 65
check "... lease_event.refused (step lease) with the signed claims: the lease is named" \
  refused_ok 65 lease LEASE-20261203-000000-e0e0 "$T/exp.tok" shipped
tok=$(cat "$T/ok.tok")
printf '%s\n' "${tok:0:40}A${tok:41}" > "$T/garbled.tok"
[ "$(cat "$T/garbled.tok")" != "$tok" ] || printf '%s\n' "${tok:0:40}B${tok:41}" > "$T/garbled.tok"
run "$T/garbled.tok" --pub "$PUB" --state "$ST" -- /bin/true
check "a garbled token: 65" rc_is 65
check "... lease_event.refused with no claims and no lease (what it claims is nobody's word), its hash" \
  refused_ok 65 lease "" "$T/garbled.tok" shipped

# ---------------------------------------------------------------- 66, 74, 78
issue "$T/other.tok" --aud build-elsewhere --cmd /bin/true || bad "issue other-host lease"
run "$T/other.tok" --pub "$PUB" --state "$ST" -- /bin/true
check "a lease for another host: 66" rc_is 66
check "... lease_event.refused (step lease, claims)" refused_ok 66 lease "$(lease_id "$T/other.tok")" "$T/other.tok" shipped
run "$T/missing.tok" --pub "$PUB" --state "$ST" -- /bin/true
check "no lease file: 74" rc_is 74
check "... lease_event.refused (step lease, no token hash)" refused_ok 74 lease "" "" shipped
printf 'exec_staging_with_lease: [oops\n' > "$T/bad-matrix.yaml"
run "$T/ok.tok" --matrix "$T/bad-matrix.yaml" --pub "$PUB" --state "$ST" -- /bin/true
check "a malformed matrix: 78" rc_is 78
check "... lease_event.refused (step matrix, the matrix file's path and hash; the lease not read yet)" \
  refused_ok 78 matrix "" "" "$T/bad-matrix.yaml"

# ---------------------------------------------------------------- secrets, the unsafe state dir
check "the log holds no token text (a bearer grant) and no key" \
  python3 - "$LOG" "$T/ok.tok" "$T/exp.tok" "$T/other.tok" "$KEY" <<'EOF'
import sys
log = open(sys.argv[1]).read()
for f in sys.argv[2:]:
    s = open(f).read().strip()
    body = s.split(".")[2] if s.startswith("v4.") else s.split(".")[-1]
    assert body[:40] not in log, f
EOF
mkdir -p "$T/st-open"; chmod 0777 "$T/st-open"
run "$T/ok.tok" --pub "$PUB" --state "$T/st-open" -- /bin/false
check "a refusal with a world-writable state dir: still 68" rc_is 68
check "... nothing recorded there" test -z "$(ls -A "$T/st-open")"
check "... and stderr says so" grep -q "the refusal is not recorded: state dir $T/st-open is not safe" "$T/err"

# ---------------------------------------------------------------- calyx audit show
check "the chain is valid with the refusals in it (independent checker)" svf_ok "$LOG"
"$CALYX" audit show --state "$ST" --type lease_event.refused --json > "$T/show.json" 2>"$T/show.err"; rc=$?
check "audit show --type lease_event.refused --json: exit 0" test "$rc" -eq 0
grep '"type":"lease_event.refused"' "$LOG" > "$T/want.json"
check "... exactly the log's refused lines, byte for byte ($(wc -l < "$T/want.json") of them)" cmp "$T/show.json" "$T/want.json"
check "... 8 refusals recorded in this state dir" test "$(wc -l < "$T/want.json")" -eq 8
"$CALYX" audit show --state "$ST" --lease "$OKID" > "$T/show.txt" 2>"$T/show.err"; rc=$?
check "audit show --lease (text): one line per record of the lease" \
  test "$rc" -eq 0 -a "$(wc -l < "$T/show.txt")" -eq "$(grep -c "\"lease\":\"$OKID\"" "$LOG")"
check "... the first is the 68 refusal: ts, type, lease, intent, exit_code, step" \
  grep -qE "^[0-9T:.-]+Z lease_event\.refused $OKID INT-TEST-AUDIT exit_code=68 step=command reason=" <(head -n1 "$T/show.txt")
"$CALYX" audit show --state "$ST" --type lease_event --since 1h --json > "$T/fam.json" 2>/dev/null
check "audit show --type lease_event --since 1h: every lease_event record" \
  test "$(wc -l < "$T/fam.json")" -eq "$(grep -c '"type":"lease_event\.' "$LOG")"
"$CALYX" audit show --state "$ST" --since 2999-01-01T00:00:00Z > "$T/none.txt" 2>&1; rc=$?
check "audit show --since a future time: nothing, exit 0" test "$rc" -eq 0 -a ! -s "$T/none.txt"
"$CALYX" audit show --state "$ST" --since yesterday > /dev/null 2>"$T/show.err"; rc=$?
check "audit show --since yesterday: 64, saying why" \
  bash -c '[ "$1" -eq 64 ] && grep -q "bad --since '"'"'yesterday'"'"'" "$2"' _ "$rc" "$T/show.err"
"$CALYX" audit show --state "$T/nowhere" > /dev/null 2>"$T/show.err"; rc=$?
check "audit show of a state dir with no log: 74, saying so" \
  bash -c '[ "$1" -eq 74 ] && grep -q "no audit log" "$2"' _ "$rc" "$T/show.err"
mkdir -p "$T/st-dmg/logs/svf_audit"
{ head -n 2 "$LOG"; echo 'not a record'; tail -n 1 "$LOG"; } > "$T/st-dmg/logs/svf_audit/svf.jsonl"
"$CALYX" audit show --state "$T/st-dmg" --json > "$T/dmg.json" 2>"$T/show.err"; rc=$?
check "audit show of a log with a line that is not a record: 74, the line named, the others shown" \
  bash -c '[ "$1" -eq 74 ] && grep -q "svf.jsonl:3: not a record" "$2" && [ "$(wc -l < "$3")" -eq 3 ]' _ "$rc" "$T/show.err" "$T/dmg.json"
finish
