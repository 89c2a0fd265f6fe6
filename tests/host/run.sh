#!/usr/bin/env bash
# Host tier: `calyx run` on this machine's real kernel, as root (make test-host).
#   tests/host/run.sh build/calyx
# The host kernel refuses BPF LSM (KERNEL-NOTES.md): here `--enforce bpf-lsm` must fail
# closed, and `auto` runs on the landlock backend, so the whole runner (cgroup, limits,
# artifacts, SVF chain) is exercised for real. The bpf-lsm success path is the VM tier's.
# Then the other host suites in this directory run, one result line each.
# One "ok - …" / "not ok - …" line per test, then "N passed, M failed"; exit 1 on failure.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALYX=$(realpath "${1:-build/calyx}")
PASS=0 FAIL=0

ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# check NAME CONDITION...: ok when the command succeeds
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

if [ "$(id -u)" -ne 0 ]; then
  bad "host tests need root (cgroups, BPF): run as root"
  echo "$PASS passed, $FAIL failed"; exit 1
fi
[ -x "$CALYX" ] || { bad "no calyx binary at $CALYX"; echo "$PASS passed, $FAIL failed"; exit 1; }

T=$(mktemp -d /tmp/calyx-host.XXXXXX)
chmod 755 "$T"
RO_MNT=""
cleanup() {
  [ -n "$RO_MNT" ] && umount "$RO_MNT" 2>/dev/null
  [ -n "${U:-}" ] && rm -rf "$U"
  [ -n "${lsn:-}" ] && kill "$lsn" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

CG2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n1)
[ -n "$CG2" ] || bad "no cgroup v2 mount found in /proc/self/mountinfo"
# The resident landlock set's root cgroup: one directory per runner (<lease>-<runner pid>),
# its sandbox r<N> below it. Runner directories left there or directly under
# <v2 mount>/calyx (the old layout) are counted; there must be none between runs.
SETCG=$CG2/calyx/landlock
leftover_cgroups() { find "$CG2/calyx" -mindepth 1 -maxdepth 2 -type d ! -path "$CG2/calyx/landlock" ! -path "$CG2/calyx/bpf-lsm" 2>/dev/null | wc -l; }
# no_slots LEASE-ID: no sandbox of that lease still holds a slot in the resident set.
no_slots() { local left; left=$("$CALYX" enforcer status --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(s["cgroup"] for b in json.load(sys.stdin) for s in b.get("slots", []) if s["cgroup"].startswith(sys.argv[1] + "-")))' "$1"); [ -z "$left" ] || { echo "# slots still held: $left"; return 1; }; }
# slot_of LEASE-ID RUNNER-PID: "live" or "dead" when that runner's sandbox holds a slot, "" otherwise.
slot_of() { "$CALYX" enforcer status --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(("live" if s["live"] else "dead") for b in json.load(sys.stdin) for s in b.get("slots", []) if s["cgroup"].startswith("%s-%s/" % (sys.argv[1], sys.argv[2]))))' "$1" "$2"; }

set -f   # lease patterns like /usr/** are arguments, never globs

"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
"$CALYX" keygen --out "$T/other" >/dev/null 2>&1 || bad "keygen (second key)"
PUB=$T/k/calyx.pub
KEY=$T/k/calyx.key
ST=$T/state

# issue FILE ARGS...: a lease signed by $KEY (extra args go to `lease issue`)
issue() { local out=$1; shift; "$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-HOST --ttl 5m "$@" -o "$out" 2>"$T/issue.err" \
  || { echo "# lease issue failed: $(cat "$T/issue.err")"; return 1; }; }
# run LEASE ARGS... -- CMD: sets RC, OUT (stdout), ERR (stderr)
run() { local lease=$1; shift; "$CALYX" run --lease "$lease" "$@" >"$T/out" 2>"$T/err"; RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); }
expect_rc() { [ "$RC" -eq "$1" ] || { echo "# exit $RC, expected $1; stderr: $ERR"; return 1; }; }
err_has() { grep -q -- "$1" <<<"$ERR" || { echo "# stderr lacks '$1': $ERR"; return 1; }; }
run_dir_of() { find "$ST/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name "$1*" ! -name '.*' | sort | head -n1; }
lease_id() { "$CALYX" lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1; }
json() { python3 - "$@"; }

# svf_ok LOG: the independent SVF chain checker (tests/lib/svf.sh).
. tests/lib/svf.sh
svf_types() { python3 -c 'import json,sys; [print(json.loads(l)["type"]) for l in open(sys.argv[1])]' "$ST/logs/svf_audit/svf.jsonl"; }

echo "# calyx: $CALYX; cgroup v2 at $CG2; kernel $(uname -r)"

# ---------------------------------------------------------------- usage (64)
run "$T/none.tok" --pub "$PUB" --state "$ST"
check "run without a command is a usage error (64)" expect_rc 64
"$CALYX" run --pub "$PUB" --state "$ST" -- true >/dev/null 2>"$T/err"; RC=$?; ERR=$(cat "$T/err")
check "run without --lease is a usage error (64)" expect_rc 64
run "$T/none.tok" --pub "$PUB" --state "$ST" --enforce nonsense -- true
check "run --enforce nonsense is a usage error (64)" expect_rc 64

# ---------------------------------------------------------------- bpf-lsm fails closed (69)
issue "$T/marker.tok" --cmd "touch $T/marker" || bad "issue marker lease"
# Any run sweeps what killed runners left (a 69 too, with its own state dir): count the
# runner cgroups only after that.
"$CALYX" run --lease "$T/marker.tok" --pub "$PUB" --state "$T/prime-state" --enforce bpf-lsm -- touch "$T/marker" >/dev/null 2>&1
before=$(leftover_cgroups)
run "$T/marker.tok" --pub "$PUB" --state "$ST" --enforce bpf-lsm -- touch "$T/marker"
check "--enforce bpf-lsm on this kernel fails closed with 69" expect_rc 69
check "the refusal says why (the kernel refuses trampoline programs)" err_has "trampoline"
check "the refusal is one 'calyx: …' line" bash -c '[ "$(grep -c "^calyx: enforcement unavailable" <<<"$1")" -eq 1 ]' _ "$ERR"
check "nothing ran (no marker file)" test ! -e "$T/marker"
check "no sandbox cgroup left under $CG2/calyx" test "$(leftover_cgroups)" -eq "$before"
check "no run directory was created" test -z "$(ls -A "$ST/outgoing/staging_runs" 2>/dev/null)"
run "$T/marker.tok" --pub "$PUB" --state "$ST" --enforce bpf-lsm -- touch "$T/marker"
check "a second attempt is again 69, not 67 (lease not consumed)" expect_rc 69
check "the ledger has no entry for the lease" test -z "$(ls -A "$ST/ledger" 2>/dev/null)"

# A matrix that demands bpf-lsm refuses auto and landlock as well.
sed -e 's/^enforcement: .*/enforcement: bpf-lsm/' \
    -e "s|^trusted_keys: \[\]|trusted_keys:\n  - {name: host-test, public: $(cat "$PUB")}|" \
    policies/capability_matrix.yaml > "$T/bpflsm-matrix.yaml"
run "$T/marker.tok" --matrix "$T/bpflsm-matrix.yaml" --state "$ST" -- touch "$T/marker"
check "a matrix requiring bpf-lsm fails closed under auto (69)" expect_rc 69
run "$T/marker.tok" --matrix "$T/bpflsm-matrix.yaml" --state "$ST" --enforce landlock -- touch "$T/marker"
check "a matrix requiring bpf-lsm refuses --enforce landlock (69)" expect_rc 69
check "... saying the matrix requires bpf-lsm" err_has "requires bpf-lsm"
check "still nothing ran" test ! -e "$T/marker"

# ---------------------------------------------------------------- cgroup scope fails closed (69)
# The BPF scope check uses an absolute cgroup level computed from the path below the v2
# mount: wrong inside a cgroup namespace or under a mount of a subtree, and then nothing
# would be confined. calyx must refuse before anything exists.
issue "$T/scope.tok" --cmd "echo scope-ran" || bad "issue scope lease"
unshare --cgroup "$CALYX" run --lease "$T/scope.tok" --pub "$PUB" --state "$ST" -- echo scope-ran >"$T/out" 2>"$T/err"
RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
check "run inside a new cgroup namespace (unshare --cgroup) fails closed with 69" expect_rc 69
check "... saying it runs in a non-initial cgroup namespace" err_has "enforcement unavailable: calyx runs in a non-initial cgroup namespace"
check "... nothing ran (no output)" test -z "$OUT"
check "... no runner cgroup made" test "$(leftover_cgroups)" -eq "$before"
check "... no run directory, no ledger entry (lease not consumed)" \
  bash -c '[ -z "$(ls -A "$1/outgoing/staging_runs")" ] && [ -z "$(ls -A "$1/ledger")" ]' _ "$ST"
# The initial namespace, but the only v2 mount shows a subtree (bind mount of a child
# cgroup, in a private mount namespace): mountinfo root is not "/".
mkdir -p "$CG2/calyx-scope-test" "$T/cgsub"
unshare -m --propagation private sh -c 'mount --bind "$1/calyx-scope-test" "$2" && umount "$1" && shift 2 && exec "$@"' \
  _ "$CG2" "$T/cgsub" "$CALYX" run --lease "$T/scope.tok" --pub "$PUB" --state "$ST" -- echo scope-ran >"$T/out" 2>"$T/err"
RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
rmdir "$CG2/calyx-scope-test" 2>/dev/null
check "run where the v2 mount's root is not / fails closed with 69" expect_rc 69
check "... saying the mount shows /calyx-scope-test, not the root" err_has "shows /calyx-scope-test of the hierarchy, not its root"
check "... nothing ran (no output, no run directory)" \
  bash -c '[ -z "$1" ] && [ -z "$(ls -A "$2/outgoing/staging_runs")" ]' _ "$OUT" "$ST"
# No bpffs for the resident set (no /sys/fs/bpf at all, in a private mount namespace whose
# /sys/fs is an empty tmpfs with only the cgroup mounts put back): the set can be neither
# found nor pinned, so fail closed, nothing consumed.
mkdir -p "$T/cgkeep"
unshare -m --propagation private sh -c 'mount --rbind /sys/fs/cgroup "$1" && mount -t tmpfs tmpfs /sys/fs &&
  mkdir /sys/fs/cgroup && mount --rbind "$1" /sys/fs/cgroup && shift && exec "$@"' \
  _ "$T/cgkeep" "$CALYX" run --lease "$T/scope.tok" --pub "$PUB" --state "$ST" -- echo scope-ran >"$T/out" 2>"$T/err"
RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
check "run where the resident set cannot be pinned (no /sys/fs/bpf) fails closed with 69" expect_rc 69
check "... saying bpffs cannot be mounted" err_has "mounting bpffs at /sys/fs/bpf failed"
check "... nothing ran, no runner cgroup, no ledger entry" \
  bash -c '[ -z "$1" ] && [ -z "$(ls -A "$2/ledger")" ] && [ "$3" -eq "$4" ]' _ "$OUT" "$ST" "$(leftover_cgroups)" "$before"
run "$T/scope.tok" --pub "$PUB" --state "$ST" -- echo scope-ran
check "the same lease then runs in the initial namespace (it was not consumed)" \
  bash -c '[ "$1" -eq 0 ] && [ "$2" = scope-ran ]' _ "$RC" "$OUT"
sid=$(lease_id "$T/scope.tok")
check "... the first line of the run is the process whose fork the runner waited for" json "$ST/outgoing/staging_runs/$sid" <<'EOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "meta.json")))
evs = [json.loads(l) for l in open(os.path.join(d, "events.jsonl"))]
# moved into the cgroup after its fork (this host), the child forks a probe from inside,
# which exits at once: the first process to end
p = evs[0] if evs else {}
assert p.get("type") == "process" and p["cgroup_id"] == m["enforcement"]["cgroup_id"], evs[:2]
assert p["comm"] == "calyx" and p["exit_code"] == 0 and p["start"] and p["end"] and p["execs"] == [], p
EOF
rm -rf "$ST"

# ---------------------------------------------------------------- lease problems
issue "$T/echo.tok" --cmd "echo hello" || bad "issue echo lease"
run "$T/echo.tok" --pub "$PUB" --state "$ST" -- echo goodbye
check "argv not in the lease: 68" expect_rc 68
check "... naming the command" err_has "not one of the lease's commands"
run "$T/echo.tok" --pub "$PUB" --state "$ST" -- echo hello extra
check "argv with an extra argument: 68" expect_rc 68

issue "$T/missing.tok" --cmd "calyx-no-such-binary --x" || bad "issue missing-binary lease"
run "$T/missing.tok" --pub "$PUB" --state "$ST" -- calyx-no-such-binary --x
check "binary not found: 68" expect_rc 68
check "... saying 'binary not found'" err_has "binary not found"

# A #! script command: its interpreter need not be in the lease (calyx binds the argv the
# kernel builds for it); one it cannot bind (a relative name) is refused, naming the command.
printf '#!/bin/sh\necho script-ran\n' > "$T/script.sh"; chmod 755 "$T/script.sh"
issue "$T/script.tok" --cmd "$T/script.sh" || bad "issue script lease"
run "$T/script.tok" --pub "$PUB" --state "$ST" -- "$T/script.sh"
check "#! script command whose interpreter is in no lease command: runs" expect_rc 0
check "... its output" grep -qx script-ran <<<"$OUT"
printf '#!sh\necho script-ran\n' > "$T/relscript.sh"; chmod 755 "$T/relscript.sh"
issue "$T/relscript.tok" --cmd "$T/relscript.sh" || bad "issue relative-interpreter script lease"
run "$T/relscript.tok" --pub "$PUB" --state "$ST" -- "$T/relscript.sh"
check "#! script with a relative interpreter: 68" expect_rc 68
check "... naming the command" err_has "lease command '$T/relscript.sh'"
# "#!/usr/bin/env sh": env is bound as the interpreter, but the sh it execs is not in the
# lease: refused before anything runs (68), naming the helper to add; the lease not used.
printf '#!/usr/bin/env sh\necho env-script-ran\n' > "$T/envscript.sh"; chmod 755 "$T/envscript.sh"
SH_REAL=$(PATH=/usr/local/bin:/usr/bin:/bin command -v sh | xargs realpath)
issue "$T/envscript.tok" --cmd "$T/envscript.sh" || bad "issue env-script lease"
run "$T/envscript.tok" --pub "$PUB" --state "$ST" -- "$T/envscript.sh"
check "#!/usr/bin/env script whose program is not in the lease: 68" expect_rc 68
check "... naming the helper to add and that the lease was not used" err_has \
  "script $T/envscript.sh starts with '#!/usr/bin/env sh', so env then execs sh ($SH_REAL), which the lease does not allow (the run would be killed at that exec): add --helper sh to the lease, or make the #! line '#!$SH_REAL' (calyx binds a script's own interpreter); nothing was run, the lease was not used"
run "$T/envscript.tok" --pub "$PUB" --state "$ST" -- "$T/envscript.sh"
check "... and not consumed: refused the same way again (68, not 67)" expect_rc 68
issue "$T/envscript2.tok" --cmd "$T/envscript.sh" --helper sh || bad "issue env-script lease with --helper sh"
run "$T/envscript2.tok" --pub "$PUB" --state "$ST" -- "$T/envscript.sh"
check "... with the suggested --helper sh it runs" expect_rc 0
check "... its output" grep -qx env-script-ran <<<"$OUT"

# Lease paths must be under the shipped matrix's bounds (/tmp/calyx/**).
X=/tmp/calyx/host-paths-$$
mkdir -p /tmp/calyx "$X" && chmod 755 "$X"
# DIR/* over a directory holding only directories grants none of their files: a warning
# at the start of the run (lease issue warns too: tests/cli), the run goes on.
mkdir -p "$X/tree/a" && echo x > "$X/tree/a/f" && chmod 755 "$X/tree" "$X/tree/a"
issue "$T/tree.tok" --cmd "cat $X/tree/a/f" --path "$X/tree/*" || bad "issue DIR/* lease"
run "$T/tree.tok" --pub "$PUB" --state "$ST" -- cat "$X/tree/a/f"
check "DIR/* over only directories: the run warns, suggesting DIR/**" err_has \
  "calyx: warning: lease path $X/tree/\* grants only the entries directly in its directory, and all 1 entry of $X/tree is a directory: the files below them are not admitted ($X/tree/\*\* admits the whole tree)"
check "... and the file below is indeed not readable (the command fails)" bash -c '[ "$1" -ne 0 ]' _ "$RC"

# A :rw path the run_as user (nobody) cannot write, and a cwd it cannot enter: refused
# before the lease is used (74), with the fix; after the fix the same lease runs.
mkdir -p "$X/out" && chmod 755 "$X/out"
issue "$T/rwroot.tok" --cmd "touch $X/out/made" --path "$X/out/**:rw" || bad "issue rw lease"
run "$T/rwroot.tok" --pub "$PUB" --state "$ST" -- touch "$X/out/made"
check ":rw path the run_as user cannot write: refused (74)" expect_rc 74
check "... naming the user, the owner and mode, and the fix" err_has \
  "lease path $X/out/\*\* is :rw, but the matrix's run_as user (uid 65534, gid 65534) cannot write $X/out (Permission denied; owner 0:0, mode 0755): give it to that user (chown 65534:65534 $X/out) or make it writable for it, or lease it :ro; nothing was run, the lease was not used"
chown 65534:65534 "$X/out"
run "$T/rwroot.tok" --pub "$PUB" --state "$ST" -- touch "$X/out/made"
check "... after the chown the same lease runs (it was not used): 0" expect_rc 0
check "... and the file is made, by nobody" bash -c '[ "$(stat -c %u "$1" 2>/dev/null)" = 65534 ]' _ "$X/out/made"
mkdir -p "$X/wd" && chmod 700 "$X/wd"
issue "$T/cwd.tok" --cmd "pwd" --cwd "$X/wd" --path "$X/wd/**:ro" || bad "issue cwd lease"
run "$T/cwd.tok" --pub "$PUB" --state "$ST" -- pwd
check "a cwd the run_as user cannot enter: refused (74)" expect_rc 74
check "... naming it and the fix" err_has \
  "the working directory $X/wd (the lease's cwd) cannot be entered by the matrix's run_as user (uid 65534, gid 65534): Permission denied (owner 0:0, mode 0700): give that user search permission (x) on it and on every directory above it, or issue the lease with another --cwd; nothing was run, the lease was not used"
chmod 755 "$X/wd"
run "$T/cwd.tok" --pub "$PUB" --state "$ST" -- pwd
check "... after chmod the same lease runs in it (--cwd sets the working directory)" bash -c '[ "$1" = 0 ] && [ "$2" = "$3" ]' _ "$RC" "$OUT" "$X/wd"
rm -rf "$X"

now=$(date +%s)
CALYX_TEST_NOW=$((now - 3600)) "$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-HOST --ttl 1m --cmd "echo hello" -o "$T/expired.tok" 2>/dev/null
run "$T/expired.tok" --pub "$PUB" --state "$ST" -- echo hello
check "expired lease: 65" expect_rc 65
check "... saying expired" err_has "expired"

"$CALYX" lease issue -k "$T/other/calyx.key" --aud "$(uname -n)" -i INT-TEST-HOST --ttl 5m --cmd "echo hello" -o "$T/other.tok" 2>/dev/null
run "$T/other.tok" --matrix policies/capability_matrix.yaml --state "$ST" -- echo hello
check "signer not trusted by --matrix: 66" expect_rc 66
run "$T/other.tok" --pub "$PUB" --state "$ST" -- echo hello
check "lease signed by another key than --pub: 65" expect_rc 65

head -c 40 "$T/echo.tok" > "$T/cut.tok"
run "$T/cut.tok" --pub "$PUB" --state "$ST" -- echo hello
check "truncated token: 65" expect_rc 65

issue "$T/toolong.tok" --cmd "echo hello" --limit wall=2h 2>/dev/null
if [ -s "$T/toolong.tok" ]; then
  run "$T/toolong.tok" --pub "$PUB" --state "$ST" -- echo hello
  check "lease asking for more than the matrix max (wall 2h > 1h): 66" expect_rc 66
else
  bad "could not issue a lease with wall=2h"
fi

# ---------------------------------------------------------------- state dir (74)
touch "$T/plainfile"
run "$T/echo.tok" --pub "$PUB" --state "$T/plainfile/state" -- echo hello
check "state dir under a regular file: 74" expect_rc 74
mkdir -p "$T/ro"
if mount -t tmpfs -o size=1m,mode=0755 tmpfs "$T/ro"; then
  RO_MNT=$T/ro
  mkdir -p "$T/ro/outgoing/staging_runs" "$T/ro/logs/svf_audit"
  mount -o remount,ro "$T/ro"
  run "$T/echo.tok" --pub "$PUB" --state "$T/ro" -- echo hello
  check "read-only state dir (as root): 74" expect_rc 74
  check "... saying not writable" err_has "not writable"
  umount "$T/ro"; RO_MNT=""
else
  bad "could not mount a tmpfs for the read-only state dir test"
fi
# Nothing so far consumed the echo lease: it still runs.

# ---------------------------------------------------------------- the run itself (auto → landlock here)
run "$T/echo.tok" --pub "$PUB" --state "$ST" -- echo hello
check "auto on this host runs the command (exit 0)" expect_rc 0
id=$(lease_id "$T/echo.tok")
D=$(run_dir_of "$id")
check "run directory outgoing/staging_runs/$id exists" test -n "$D" -a -d "$D"
check "stdout.log holds the output" bash -c '[ "$(cat "$1/stdout.log")" = hello ]' _ "$D"
check "exit_code.txt is 0" bash -c '[ "$(cat "$1/exit_code.txt")" = 0 ]' _ "$D"
check "no temp files left in the run directory" bash -c '[ -z "$(ls -A "$1" | grep "^\.")" ]' _ "$D"
check "meta.json: schema, status ok, backend, limits, artifacts hashes" json "$D" <<'EOF'
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "meta.json")))
assert m["status"] == "ok" and m["exit_code"] == 0 and m["signal"] is None, m
assert m["argv"] == ["echo", "hello"] and m["binary"].endswith("/echo"), m
assert m["enforcement"]["backend"] in ("landlock", "bpf-lsm"), m["enforcement"]
assert m["enforcement"]["kernel"] == os.uname().release
for k in ("cpu_ms", "mem_bytes", "pids", "wall_ms", "output_bytes"):
    assert k in m["limits"]["effective"] and k in m["limits"]["enforced"], k
assert set(m["denials"]) == {"exec", "file", "net", "other", "syscall"}
assert isinstance(m["dropped_events"], int)
assert m["start"].endswith("Z") and m["duration_ms"] >= 0
for name, a in m["artifacts"].items():
    b = open(os.path.join(d, name), "rb").read()
    assert a["bytes"] == len(b), name
    assert a["blake2b"] == hashlib.blake2b(b, digest_size=32).hexdigest(), name
assert "stdout.log" in m["artifacts"] and "events.jsonl" in m["artifacts"]
EOF
check "events.jsonl: one JSON object per line, with the process that ran echo" json "$D" <<'EOF'
import json, os, sys
evs = [json.loads(l) for l in open(os.path.join(sys.argv[1], "events.jsonl"))]
assert any(e["type"] == "process" and (e["binary"] or "").endswith("/echo") for e in evs), evs
assert all("pid" in e and ("ts" in e or e["type"] == "process") for e in evs)
EOF
check "no sandbox cgroup left after the run" test "$(leftover_cgroups)" -eq "$before"
check "its sandbox holds no slot in the resident set after the run" no_slots "$id"
run "$T/echo.tok" --pub "$PUB" --state "$ST" -- echo hello
check "replayed single-use lease: 67" expect_rc 67
check "... saying replayed" err_has "replayed"
check "SVF log is a valid chain (independent checker)" svf_ok "$ST/logs/svf_audit/svf.jsonl"
check "SVF has verified, consumed, started, completed in order" bash -c \
  'svf_types() { python3 -c "import json,sys; [print(json.loads(l)[\"type\"]) for l in open(sys.argv[1])]" "$1"; }
   svf_types "$1" | grep -E "lease_event.consumed|exec_event" | head -3 | tr "\n" " " | grep -q "lease_event.consumed exec_event.started exec_event.completed"' _ "$ST/logs/svf_audit/svf.jsonl"

# Environment: only PATH, HOME, LANG, TZ and the lease's env names.
issue "$T/env.tok" --cmd "env" --env CALYX_HOST_VISIBLE || bad "issue env lease"
CALYX_HOST_VISIBLE=yes CALYX_HOST_SECRET=no run "$T/env.tok" --pub "$PUB" --state "$ST" -- env
check "env: exit 0" expect_rc 0
check "env: the lease's env name passes through" grep -q '^CALYX_HOST_VISIBLE=yes$' <<<"$OUT"
check "env: other variables do not" bash -c '! grep -q CALYX_HOST_SECRET <<<"$1"' _ "$OUT"
check "env: fixed PATH, HOME, LANG, TZ" bash -c 'grep -q "^PATH=/usr/local/bin:/usr/bin:/bin$" <<<"$1" && grep -q "^HOME=/nonexistent$" <<<"$1" && grep -q "^LANG=C.UTF-8$" <<<"$1" && grep -q "^TZ=UTC$" <<<"$1"' _ "$OUT"

# Credentials and isolation of the child.
issue "$T/id.tok" --cmd "id -u" --cmd "ls /proc/self/fd" --cmd "sh -c 'echo \$\$'" --runs 3 || bad "issue id lease"
run "$T/id.tok" --pub "$PUB" --state "$ST" -- id -u
check "runs as the matrix's run_as uid (65534)" bash -c '[ "$1" = 65534 ]' _ "$OUT"
run "$T/id.tok" --pub "$PUB" --state "$ST" -- ls /proc/self/fd
check "the sandbox cannot list /proc/self/fd (outside the baseline)" bash -c '[ "$1" -ne 0 ] && [ -z "$2" ]' _ "$RC" "$OUT"
run "$T/id.tok" --pub "$PUB" --state "$ST" -- sh -c 'echo $$'
check "the command is init of its own PID namespace" bash -c '[ "$1" = 1 ]' _ "$OUT"
idl=$(lease_id "$T/id.tok")
check "a lease with runs=3 gets -r1, -r2, -r3 run directories" bash -c 'for n in 1 2 3; do [ -f "$1-r$n/meta.json" ] || exit 1; done' _ "$ST/outgoing/staging_runs/$idl"

# Landlock refuses the open of a file in the view that no rule grants (the sandbox's own
# /proc has /proc/self/status; /etc/shadow is not in the view at all: ENOENT, view.sh);
# on this backend its own refusals of files are enforced but not observed (no hook short
# of a system-wide syscall tracepoint sees them without BPF LSM): meta.json says so with a
# null count, and no record is invented.
issue "$T/deny.tok" --cmd "cat /proc/self/status" || bad "issue deny lease"
run "$T/deny.tok" --pub "$PUB" --state "$ST" -- cat /proc/self/status
check "reading /proc/self/status (in the view, not granted) fails inside the sandbox with EACCES" \
  bash -c '[ "$1" -ne 0 ] && [ -z "$2" ] && grep -q "Permission denied" <<<"$3"' _ "$RC" "$OUT" "$ERR"
D=$(run_dir_of "$(lease_id "$T/deny.tok")")
check "meta.json: status failed, file denials null (not observed on landlock)" json "$D" <<'EOF'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "meta.json")))
assert m["status"] == "failed" and m["exit_code"] != 0, m
assert m["denials"]["file"] is None and m["denials"]["exec"] == 0, m["denials"]
EOF
check "no file_event.denied is claimed for /proc/self/status" bash -c '! grep "\"file_event.denied\"" "$1" | grep -q "/proc/self/status"' _ "$ST/logs/svf_audit/svf.jsonl"

# ---------------------------------------------------------------- limits
issue "$T/lim.tok" --runs 5 --limit wall=1s,cpu=300ms,output=64K \
  --cmd "sleep 30" --cmd "sh -c 'sleep 31 & sleep 32'" --helper sleep \
  --cmd "sh -c 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'" \
  --cmd "sh -c 'while :; do :; done'" || bad "issue limits lease"
lid=$(lease_id "$T/lim.tok")
start=$(date +%s%N)
run "$T/lim.tok" --pub "$PUB" --state "$ST" -- sh -c 'sleep 31 & sleep 32'
el=$(( ($(date +%s%N) - start) / 1000000 ))
check "wall-clock limit: 124" expect_rc 124
check "... killed near the limit (1 s), not at the command's end (${el} ms)" test "$el" -lt 5000
check "... no sandboxed process survives (background sleep too)" bash -c '! pgrep -x sleep -a | grep -q "sleep 3[12]"'
check "... meta.json status violation, violation.limit wall_ms, measured >= bound" json "$ST/outgoing/staging_runs/$lid-r1" <<'EOF'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "meta.json")))
v = m["violation"]
assert m["status"] == "violation" and v["limit"] == "wall_ms" and v["bound"] == 1000, m
assert v["measured"] >= v["bound"] and v["how"].startswith("runner timerfd"), v
EOF
run "$T/lim.tok" --pub "$PUB" --state "$ST" -- sh -c 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'
check "output limit: 123" expect_rc 123
check "... stdout.log capped at 64 KiB, truncation recorded" json "$ST/outgoing/staging_runs/$lid-r2" <<'EOF'
import json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "meta.json")))
assert os.path.getsize(os.path.join(d, "stdout.log")) == 65536
a = m["artifacts"]["stdout.log"]
assert a["truncated"] is True and a["bytes_produced"] > 65536, a
assert m["status"] == "violation" and m["violation"]["limit"] == "output_bytes", m
assert m["violation"]["measured"] > m["violation"]["bound"] == 65536, m["violation"]
EOF
run "$T/lim.tok" --pub "$PUB" --state "$ST" -- sh -c 'while :; do :; done'
check "cpu limit: 123" expect_rc 123
check "... meta.json violation cpu_ms, measured > bound" json "$ST/outgoing/staging_runs/$lid-r3" <<'EOF'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "meta.json")))
v = m["violation"]
assert m["status"] == "violation" and v["limit"] == "cpu_ms" and v["measured"] > v["bound"] == 300, m
EOF
check "no sandbox cgroup left after the limit runs" test "$(leftover_cgroups)" -eq "$before"

# ---------------------------------------------------------------- signals to the runner
"$CALYX" run --lease "$T/lim.tok" --pub "$PUB" --state "$ST" -- sleep 30 >/dev/null 2>&1 &
rp=$!
# The sandboxed sleep is found through its cgroup, never by name: other processes on the
# host may be running a "sleep 30" too.
sp=""
for _ in $(seq 50); do
  sp=$(head -n1 "$SETCG/$lid-$rp/r4/cgroup.procs" 2>/dev/null)
  [ -n "$sp" ] && [ "$(cat "/proc/$sp/comm" 2>/dev/null)" = sleep ] && break
  sp=""; sleep 0.1
done
if [ -n "$sp" ]; then
  check "the sandboxed process holds only fds 0, 1, 2" bash -c '[ "$(ls /proc/$1/fd | sort -n | tr "\n" " ")" = "0 1 2 " ]' _ "$sp"
  check "... stdin is /dev/null, stdout/stderr are pipes" bash -c '[ "$(readlink /proc/$1/fd/0)" = /dev/null ] && readlink /proc/$1/fd/1 | grep -q "^pipe:" && readlink /proc/$1/fd/2 | grep -q "^pipe:"' _ "$sp"
  check "... has no_new_privs, uid/gid 65534, no supplementary groups" bash -c 'grep -q "^NoNewPrivs:[[:space:]]*1" /proc/$1/status && grep -q "^Uid:[[:space:]]*65534[[:space:]]*65534[[:space:]]*65534" /proc/$1/status && grep -q "^Gid:[[:space:]]*65534" /proc/$1/status && grep -q "^Groups:[[:space:]]*$" /proc/$1/status' _ "$sp"
  check "... lives in the sandbox cgroup calyx/landlock/<lease>-<runner pid>/r4" bash -c 'grep -q "^0::/calyx/landlock/$2-$3/r4$" /proc/$1/cgroup' _ "$sp" "$lid" "$rp"
  check "... is pid 1 of its own PID namespace and leads its own session" bash -c 'grep -q "^NSpid:[[:space:]]*$1[[:space:]]*1$" /proc/$1/status && [ "$(ps -o sid= -p $1 | tr -d " ")" = "$1" ]' _ "$sp"
else
  bad "the sandboxed sleep 30 was not found"
fi
# Another run meanwhile: its sweep must leave the live runner alone (it holds its lock).
issue "$T/meanwhile.tok" --cmd "echo meanwhile" || bad "issue meanwhile lease"
run "$T/meanwhile.tok" --pub "$PUB" --state "$ST" -- echo meanwhile
check "a run while another runs: exit 0" expect_rc 0
check "... its sweep left the live runner's cgroup and sandbox alone" \
  bash -c '[ -d "$1/$2-$3/r4" ] && kill -0 "$4"' _ "$SETCG" "$lid" "$rp" "$sp"
kill -TERM $rp; wait $rp; RC=$?
check "SIGTERM to calyx run: exit 143" expect_rc 143
check "... the sandbox was killed" bash -c '[ -n "$1" ] && ! kill -0 "$1" 2>/dev/null' _ "$sp"
check "... and its cgroup removed" test "$(leftover_cgroups)" -eq "$before"
check "... and its slot freed" no_slots "$lid"
check "... meta.json says interrupted by SIGTERM" grep -q '"interrupted_by":[[:space:]]*"TERM"' "$ST/outgoing/staging_runs/$lid-r4/meta.json"
check "... meta.json status interrupted" grep -q '"status":[[:space:]]*"interrupted"' "$ST/outgoing/staging_runs/$lid-r4/meta.json"

# sleep is a lease binary too (the exec rules are every lease command's argv[0]).
issue "$T/kill.tok" --cmd "sh -c 'sleep 4243 & sleep 4242'" --cmd "sleep 1" --helper sleep || bad "issue kill lease"
kid=$(lease_id "$T/kill.tok")
"$CALYX" run --lease "$T/kill.tok" --pub "$PUB" --state "$ST" -- sh -c 'sleep 4243 & sleep 4242' >/dev/null 2>&1 &
rp=$!
for _ in $(seq 50); do pgrep -f "^sleep 4242" >/dev/null && break; sleep 0.1; done
check "the killed run's command is running (sleep 4242 in the sandbox)" \
  bash -c 'grep -q "^0::/calyx/landlock/$1-$2/r1$" /proc/$(pgrep -f "^sleep 4242" | head -n1)/cgroup' _ "$kid" "$rp"
sleep 0.2   # a tick: the runner has written the first records to events.jsonl
kill -KILL $rp; wait $rp 2>/dev/null
sleep 0.5
check "SIGKILL of calyx run: no sandboxed process survives (pid namespace + death signal)" \
  bash -c '! pgrep -f "sleep 424[23]" >/dev/null'
check "... it left its cgroups behind, empty" bash -c '[ -d "$1/$2-$3/r1" ] || exit 1
  for d in $(find "$1/$2-$3" -type d); do [ -z "$(cat $d/cgroup.procs)" ] || exit 1; done' _ "$SETCG" "$kid" "$rp"
check "... its hidden temp run directory and its runner record" \
  bash -c '[ -d "$1/outgoing/staging_runs/.$2.tmp-$3" ] && [ -f "$1/run/$2.json" ]' _ "$ST" "$kid" "$rp"
# Its slot is held, but not live: the cgroup holds no task and its runner is gone (so it
# neither refuses `enforcer stop` nor blocks a replacement of the set).
check "... and its sandbox still registered in the resident set (its slot held, not live)" \
  test "$(slot_of "$kid" "$rp")" = dead
# Stale runner cgroups are told by their lock, never by a pid: an unlocked one named
# after a live pid (this shell) is swept, a locked one (flock(1) holding it) is kept.
fake_dead=$SETCG/LEASE-20000101-000000-dead-$$
fake_live=$SETCG/LEASE-20000101-000000-11fe-999999
# and the same for a runner directory of the old layout (a program set per run), directly
# under <v2 mount>/calyx
fake_old=$CG2/calyx/LEASE-20000101-000000-0ld0-$$
mkdir "$fake_dead" "$fake_live" "$fake_old"
flock "$fake_live" sleep 60 & holder=$!
sleep 0.2
issue "$T/after.tok" --cmd "echo after" || bad "issue after lease"
run "$T/after.tok" --pub "$PUB" --state "$ST" -- echo after
check "the next run succeeds (exit 0)" expect_rc 0
check "... its sweep removed the killed runner's cgroups" test ! -e "$SETCG/$kid-$rp"
check "... and freed its slot in the resident set" no_slots "$kid"
check "... and the run holds no slot itself" no_slots "$(lease_id "$T/after.tok")"
check "... and an unlocked runner cgroup named after a live pid" test ! -e "$fake_dead"
check "... and an unlocked runner cgroup of the old layout" test ! -e "$fake_old"
check "... but kept a locked one (a live runner's)" test -d "$fake_live"
kill $holder; wait $holder 2>/dev/null; rmdir "$fake_live"
check "... no runner cgroup left" test "$(leftover_cgroups)" -eq "$before"
check "... no temp run directory and no runner record left" \
  bash -c '[ ! -e "$1/outgoing/staging_runs/.$2.tmp-$3" ] && [ -z "$(ls -A "$1/run")" ]' _ "$ST" "$kid" "$rp"
check "... the killed run is in place with meta.json status abandoned" json "$ST/outgoing/staging_runs/$kid" "$kid" "$rp" <<'EOF'
import hashlib, json, os, sys
d, lease, rp = sys.argv[1], sys.argv[2], int(sys.argv[3])
m = json.load(open(os.path.join(d, "meta.json")))
assert m["status"] == "abandoned" and m["lease"] == lease and m["run"] == 1, m
assert m["argv"] == ["sh", "-c", "sleep 4243 & sleep 4242"], m["argv"]
assert m["exit_code"] is None and m["calyx_exit_code"] is None and m["end"] is None, m
assert m["abandoned"]["runner_pid"] == rp, m["abandoned"]
assert m["enforcement"]["cgroup"].endswith("/calyx/landlock/%s-%d/r1" % (lease, rp)), m["enforcement"]
for name, a in m["artifacts"].items():
    b = open(os.path.join(d, name), "rb").read()
    assert a["blake2b"] == hashlib.blake2b(b, digest_size=32).hexdigest(), name
evs = [json.loads(l) for l in open(os.path.join(d, "events.jsonl"))]
# the lines of the processes that ended before the runner died (the live probe); the
# sleeps were alive then, and their lines are the runner's to write at the end
assert any(e["type"] == "process" and e["comm"] == "calyx" and e["exit_code"] == 0 for e in evs), evs
assert not any(e["type"] == "process" and (e["binary"] or "").endswith("/sleep") for e in evs), evs
EOF
check "... the SVF log is a valid chain (independent checker)" svf_ok "$ST/logs/svf_audit/svf.jsonl"
check "... with verified, consumed, started and an abandoned completed record for the killed run" \
  json "$ST/logs/svf_audit/svf.jsonl" "$kid" "$ST/outgoing/staging_runs/$kid/meta.json" "$rp" <<'EOF'
import hashlib, json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["lease"] == sys.argv[2]]
assert [r["type"] for r in recs] == ["lease_event.verified", "lease_event.consumed",
                                     "exec_event.started", "exec_event.completed"], [r["type"] for r in recs]
d = recs[-1]["data"]
assert d["run"] == 1 and d["status"] == "abandoned" and d["completed_by"] == "sweep", d
assert d["runner_pid"] == int(sys.argv[4]) and d["run_dir"] == sys.argv[2], d
assert d["meta_blake2b"] == hashlib.blake2b(open(sys.argv[3], "rb").read(), digest_size=32).hexdigest()
EOF
run "$T/kill.tok" --pub "$PUB" --state "$ST" -- sh -c 'sleep 4243 & sleep 4242'
check "the killed run's lease stays used (67)" expect_rc 67
check "... a run refused after the set was opened (67) holds no slot" no_slots "$kid"

# ---------------------------------------------------------------- SIGKILL: the enforcement outlives the runner
# A SIGKILLed runner's fds close in do_exit (exit_files) before the death signal reaches
# its sandbox (exit_notify). The programs are the resident set's (pinned, never the
# runner's), and its sandbox stays registered until a later run's sweep has emptied its
# cgroup. The sandboxed udp_loop tries, every ~200 us, to create a UDP socket and sendto a
# listener outside; every attempt, also the ones after the kill, must be refused, and the
# listener must receive nothing.
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/udp_loop" tests/host/progs/udp_loop.c \
  || bad "build tests/host/progs/udp_loop.c"
# The :rw log directory must be under the matrix's lease_paths (/tmp/calyx/**).
U=/tmp/calyx/host-udp-$$
mkdir -p "$U" && chown 65534:65534 "$U"
"$T/udp_loop" listen "$T/udp.port" "$T/udp.count" "$T/udp.stop" &
lsn=$!
for _ in $(seq 50); do [ -s "$T/udp.port" ] && break; sleep 0.1; done
PORT=$(cat "$T/udp.port" 2>/dev/null)
[ -n "$PORT" ] || bad "the UDP listener did not start"
# The probe works when nothing confines it: one datagram reaches the listener.
"$T/udp_loop" send "$U/outside.log" "$PORT" once >/dev/null 2>&1
for _ in $(seq 20); do [ "$(cat "$T/udp.count" 2>/dev/null)" = 1 ] && break; sleep 0.1; done
check "udp_loop outside any sandbox sends a datagram to the listener on port $PORT" \
  bash -c '[ "$(cat "$1")" = 1 ]' _ "$T/udp.count"
# The second command is the argv the process moved into the dead sandbox runs (below): argv
# is bound there too.
issue "$T/udp.tok" --cmd "$T/udp_loop send $U/log $PORT" --cmd "$T/udp_loop send $U/moved.log $PORT once" \
  --path "$U/**:rw" || bad "issue udp lease"
uid=$(lease_id "$T/udp.tok")
# The cgroup programs must refuse the socket (also after the runner is gone, when seccomp's
# listener is too): the seccomp baseline's inet_sockets group is relaxed.
. tests/lib/seccomp.sh
inet_matrix "$T/inet-matrix.yaml" || bad "inet_sockets matrix"
"$CALYX" run --lease "$T/udp.tok" --matrix "$T/inet-matrix.yaml" --pub "$PUB" --state "$ST" -- "$T/udp_loop" send "$U/log" "$PORT" >/dev/null 2>"$T/udp.err" &
rp=$!
for _ in $(seq 50); do [ -s "$U/log" ] && [ "$(wc -l < "$U/log")" -ge 200 ] && break; sleep 0.1; done
check "the sandboxed udp_loop is running and refused (last attempt: $(tail -n1 "$U/log" 2>/dev/null))" \
  bash -c '[ -s "$1" ] && [ "$(wc -l < "$1")" -ge 200 ] && tail -n1 "$1" | grep -q " socket:EPERM$" ||
           { echo "# calyx run: $(cat "$2")"; exit 1; }' _ "$U/log" "$T/udp.err"
SBCG=$SETCG/$uid-$rp/r1
tkill=$(date +%s%N)
kill -KILL $rp; wait $rp 2>/dev/null
check "after the SIGKILL the sandbox is still registered in the resident set ($(slot_of "$uid" "$rp"))" \
  bash -c 'case "$1" in live|dead) exit 0 ;; *) exit 1 ;; esac' _ "$(slot_of "$uid" "$rp")"
pinned=$(ls /sys/fs/bpf/calyx/landlock 2>/dev/null | tr '\n' ' ')
check "... whose programs stay pinned ($pinned)" \
  bash -c 'for p in calyx_exec_image calyx_tp_fork calyx_cg_connect4 calyx_cg_sendmsg4 calyx_cg_sock_create; do grep -qw "link_$p" <<<"$1" || exit 1; done' _ "$pinned"
for _ in $(seq 50); do grep -q '^populated 0' "$SBCG/cgroup.events" 2>/dev/null && break; sleep 0.1; done
check "... the sandbox died (death signal, PID namespace): its cgroup is empty" \
  grep -q '^populated 0' "$SBCG/cgroup.events"
check "... every attempt was refused, also the ones logged after the kill, until it died" \
  json "$U/log" "$tkill" <<'EOF'
import sys
lines = [l.split() for l in open(sys.argv[1])]
t = int(sys.argv[2])
after = [l for l in lines if int(l[0]) >= t]
print("#   %d attempts, %d logged after the kill: %s" % (len(lines), len(after), sorted({l[1] for l in after})))
assert lines and all(l[1] == "socket:EPERM" for l in lines), [l for l in lines if l[1] != "socket:EPERM"][:5]
EOF
sleep 0.3
check "... the listener received nothing from the sandbox (only the probe's datagram)" \
  bash -c '[ "$(cat "$1")" = 1 ]' _ "$T/udp.count"
# The dead sandbox's cgroup is still there, and so are its rules: a process put into it now
# (root, no Landlock domain: only the pinned cgroup programs and the map entries can stop
# it) runs a lease command (its exec image and argv are allowed) and is refused the socket.
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" send "$3" "$4" once' _ "$SBCG" "$T/udp_loop" "$U/moved.log" "$PORT" 2>&1)
check "... a process moved into the dead runner's sandbox cgroup is still refused ($moved)" \
  test "$moved" = "socket:EPERM"
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -c "exit 0"' _ "$SBCG" /usr/bin/python3 2>&1; echo "rc=$?")
check "... and killed when it execs a binary outside the lease ($moved)" test "$moved" = "rc=137"
issue "$T/udp-after.tok" --cmd "echo udp-after" || bad "issue udp-after lease"
run "$T/udp-after.tok" --pub "$PUB" --state "$ST" -- echo udp-after
check "the next run succeeds" expect_rc 0
check "... its sweep removed the dead sandbox's cgroups" test ! -e "$SETCG/$uid-$rp"
check "... and only then freed its slot" no_slots "$uid"
check "... and the run holds no slot itself" no_slots "$(lease_id "$T/udp-after.tok")"
touch "$T/udp.stop"; wait $lsn 2>/dev/null
rm -rf "$U"

# Two runs at once: each runner has its own cgroup directory and slot in the one resident
# set, neither denies the other's sandbox.
issue "$T/two.tok" --runs 2 --cmd "sleep 1" || bad "issue concurrent lease"
"$CALYX" run --lease "$T/two.tok" --pub "$PUB" --state "$ST" -- sleep 1 >/dev/null 2>"$T/two1.err" & p1=$!
"$CALYX" run --lease "$T/two.tok" --pub "$PUB" --state "$ST" -- sleep 1 >/dev/null 2>"$T/two2.err" & p2=$!
sleep 0.6
both=$(leftover_cgroups)
wait $p1; r1=$?; wait $p2; r2=$?
check "two concurrent runs: both exit 0 ($r1, $r2)" bash -c '[ "$1" = 0 ] && [ "$2" = 0 ] || { cat "$3" "$4"; exit 1; }' _ "$r1" "$r2" "$T/two1.err" "$T/two2.err"
check "... with two runner cgroups alive at once (saw $both)" test "$both" -eq $((before + 2))
check "... and none left afterwards" test "$(leftover_cgroups)" -eq "$before"
check "... no slot left held by either" no_slots "$(lease_id "$T/two.tok")"

# ---------------------------------------------------------------- a matrix with run_as root
# Landlock does not mediate chmod, chown or setxattr, and a root command keeps the
# file-ownership capabilities: on the landlock backend (this host's) a root matrix could
# set the setuid bit on host binaries, chown root-only files and add ACLs. calyx refuses
# it when it picks the backend (69), before the ledger: nothing runs, the lease is not
# used, and the message says why and that bpf-lsm can run it. A root sandbox on bpf-lsm
# is the VM tier's (tests/vm/t_root.sh, tests/escape/e_root_meta.sh).
sed -e 's/^run_as: .*/run_as: {uid: 0, gid: 0}/' \
    -e "s|^trusted_keys: \[\]|trusted_keys:\n  - {name: host-test, public: $(cat "$PUB")}|" \
    policies/capability_matrix.yaml > "$T/root-matrix.yaml"
grep -q '^run_as: {uid: 0, gid: 0}$' "$T/root-matrix.yaml" || bad "render the root matrix"
rootrun() { local lease=$1; shift; "$CALYX" run --lease "$lease" --matrix "$T/root-matrix.yaml" --state "$ST" "$@" >"$T/out" 2>"$T/err"; RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); }
issue "$T/root.tok" --cmd "mkdir /tmp/calyx-host-rootran-$$" || bad "issue root lease"
rid=$(lease_id "$T/root.tok")
consumed_before=$(grep -c '"lease_event.consumed"' "$ST/logs/svf_audit/svf.jsonl" 2>/dev/null)
cg_before=$(leftover_cgroups)
rootrun "$T/root.tok" -- mkdir "/tmp/calyx-host-rootran-$$"
check "run_as root on landlock: refused (69)" expect_rc 69
check "... saying why (Landlock does not mediate chmod, chown, setxattr)" \
  err_has "run_as uid 0 on the landlock backend: Landlock does not mediate chmod, chown or setxattr (ACLs)"
check "... and that bpf-lsm can run it" err_has "the bpf-lsm backend can run it (matrix 'enforcement: bpf-lsm'"
check "... nothing ran (no /tmp/calyx-host-rootran-$$)" test ! -e "/tmp/calyx-host-rootran-$$"
check "... no run directory" test -z "$(run_dir_of "$rid")"
check "... no lease_event.consumed recorded" \
  test "$(grep -c '"lease_event.consumed"' "$ST/logs/svf_audit/svf.jsonl" 2>/dev/null)" = "$consumed_before"
check "... no runner cgroup left" test "$(leftover_cgroups)" -eq "$cg_before"
rootrun "$T/root.tok" -- mkdir "/tmp/calyx-host-rootran-$$"
check "... refused again with 69, not 67: the lease was not consumed" expect_rc 69
rootrun "$T/root.tok" --enforce bpf-lsm -- mkdir "/tmp/calyx-host-rootran-$$"
check "... --enforce bpf-lsm: 69, BPF LSM unavailable on this host" expect_rc 69
check "... nothing ran either way" test ! -e "/tmp/calyx-host-rootran-$$"

# No task belongs directly in a runner's directory or in the set's root (the runner stays
# in its own cgroup): one that gets there is denied like an orphan, not let out of scope. A
# process moved there (root, no Landlock domain) is killed when it execs a binary outside
# the lease.
issue "$T/par.tok" --cmd "sleep 30" || bad "issue parent lease"
pid_=$(lease_id "$T/par.tok")
"$CALYX" run --lease "$T/par.tok" --pub "$PUB" --state "$ST" -- sleep 30 >/dev/null 2>&1 &
rp=$!
for _ in $(seq 50); do [ -n "$(cat "$SETCG/$pid_-$rp/r1/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -c "exit 0"' _ "$SETCG/$pid_-$rp" /usr/bin/python3 2>&1; echo "rc=$?")
check "a process moved into a live runner's cgroup directory is killed at a non-lease exec ($moved)" test "$moved" = "rc=137"
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" -c "exit 0"' _ "$SETCG" /usr/bin/python3 2>&1; echo "rc=$?")
check "... and one moved into the set's root cgroup too ($moved)" test "$moved" = "rc=137"
kill -TERM $rp; wait $rp 2>/dev/null
# The runner's own rlimits (it used to raise RLIMIT_MEMLOCK to unlimited for BPF) do not
# leak: the command gets the caller's.
issue "$T/memlock.tok" --cmd "sh -c 'ulimit -l'" || bad "issue memlock lease"
run "$T/memlock.tok" --pub "$PUB" --state "$ST" -- sh -c 'ulimit -l'
check "the sandbox inherits the caller's RLIMIT_MEMLOCK ($(ulimit -l)), not one raised by calyx ($OUT)" \
  test "$OUT" = "$(ulimit -l)"

# ---------------------------------------------------------------- lease binaries only root can change
# The exec rules are dev+ino+path, which an in-place edit keeps: a lease binary that
# someone other than root can rewrite (owner, mode, a :rw lease path, a directory on the
# way up) is refused before anything runs (68), naming the reason, and the lease is not
# consumed. A root-owned binary in a sticky world-writable directory (/tmp) is fine.
B=/tmp/calyx/host-bin-$$
mkdir -p /tmp/calyx "$B/rw" "$B/ww" && chmod 755 "$B" "$B/rw" && chmod 777 "$B/ww"
cp /bin/true "$B/nobody" && chown 65534:65534 "$B/nobody"
cp /bin/true "$B/grpw" && chmod 775 "$B/grpw"
cp /bin/true "$B/rw/tool"
cp /bin/true "$B/ww/tool"
cp /bin/true "$B/ok"
cp /bin/true "/tmp/calyx-host-true-$$"
issue "$T/bin1.tok" --cmd "$B/nobody"
run "$T/bin1.tok" --pub "$PUB" --state "$ST" -- "$B/nobody"
check "lease binary owned by nobody: refused (68)" expect_rc 68
check "... the message names the owner" err_has "could be changed by someone other than root: it is owned by uid 65534, not root"
run "$T/bin1.tok" --pub "$PUB" --state "$ST" -- "$B/nobody"
check "... and the lease was not consumed (refused again with 68, not 67)" expect_rc 68
issue "$T/bin2.tok" --cmd "$B/grpw"
run "$T/bin2.tok" --pub "$PUB" --state "$ST" -- "$B/grpw"
check "group-writable lease binary: refused (68)" expect_rc 68
check "... the message says group-writable" err_has "it is group-writable (mode 0775)"
issue "$T/bin3.tok" --cmd "$B/rw/tool" --path "$B/rw/**:rw"
run "$T/bin3.tok" --pub "$PUB" --state "$ST" -- "$B/rw/tool"
check "lease binary under the lease's own :rw path: refused (68)" expect_rc 68
check "... the message names the :rw path" err_has "it lies under the lease's :rw path $B/rw/"
issue "$T/bin4.tok" --cmd "$B/ww/tool"
run "$T/bin4.tok" --pub "$PUB" --state "$ST" -- "$B/ww/tool"
check "lease binary in a world-writable directory without the sticky bit: refused (68)" expect_rc 68
check "... the message names the directory" err_has "its directory $B/ww is world-writable without the sticky bit"
issue "$T/bin5.tok" --cmd "$B/ok" --cmd "$B/nobody"
run "$T/bin5.tok" --pub "$PUB" --state "$ST" -- "$B/ok"
check "an unsafe binary in any lease command refuses the run, not only the one run (68)" expect_rc 68
issue "$T/bin6.tok" --cmd "$B/ok" --path "$B/ww/**:rw"
run "$T/bin6.tok" --pub "$PUB" --state "$ST" -- "$B/ok"
check "a root-owned 0755 binary next to (not under) the :rw path runs (0)" expect_rc 0
issue "$T/bin7.tok" --cmd "/tmp/calyx-host-true-$$"
run "$T/bin7.tok" --pub "$PUB" --state "$ST" -- "/tmp/calyx-host-true-$$"
check "a root-owned binary directly in sticky /tmp runs (0)" expect_rc 0
rm -rf "$B" "/tmp/calyx-host-true-$$"

check "SVF log still a valid chain after all runs" svf_ok "$ST/logs/svf_audit/svf.jsonl"

# ---------------------------------------------------------------- other host suites
set +f
for s in tests/host/*.sh; do
  [ "$(basename "$s")" = run.sh ] && continue
  echo "# ---- $s"
  if bash "$s" "$CALYX" 2>&1 | sed 's/^/#   /'; [ "${PIPESTATUS[0]}" -eq 0 ]; then
    ok "suite $(basename "$s")"
  else
    bad "suite $(basename "$s")"
  fi
done

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
