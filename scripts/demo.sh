#!/usr/bin/env bash
# The origin system's dry run (Station Calyx, "Phase 2 Sandbox Infrastructure") end to end:
# key generation, lease issuance for INT-TEST-SANDBOX (5 minutes, `python3 --version`,
# paths repo://calyx/tools/*), verification against a key and against the capability
# matrix, inspection, the sandboxed run with the backend `auto` picks on this host, its
# artifacts and SVF events, and the refused replay. Run as `scripts/demo.sh build/calyx` (make demo).
# The state directory is a fresh temp dir (kept afterwards; CALYX_DEMO_STATE overrides).
set -euo pipefail

CALYX=$(realpath "${1:-build/calyx}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MATRIX="$ROOT/policies/capability_matrix.yaml"
STATE=${CALYX_DEMO_STATE:-$(mktemp -d "${TMPDIR:-/tmp}/calyx-demo.XXXXXX")}
export CALYX_STATE="$STATE"
mkdir -p "$STATE/keys" "$STATE/outgoing/leases"

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
show_cmd() { printf '   $ %s\n' "$*"; }

step "0. calyx $("$CALYX" --version | cut -d' ' -f2-), state directory $STATE"

step "1. keygen: an Ed25519 signing key pair (PASERK k4), secret key mode 0600"
show_cmd calyx keygen --out keys --force
KID=$("$CALYX" keygen --out "$STATE/keys" --force)
say "key id (k4.pid): $KID"
ls -l "$STATE/keys" | sed 's/^/   /'

HOST=$(uname -n)
step "2. lease issue: intent INT-TEST-SANDBOX, 5 minutes, command 'python3 --version', paths repo://calyx/tools/*, for this host ($HOST)"
say "(the origin ran 'python --version'; Debian ships python3)"
show_cmd calyx lease issue --key keys/calyx.key --intent INT-TEST-SANDBOX --ttl 5m \
	--cmd "'python3 --version'" --path "'repo://calyx/tools/*'" --net deny_all --aud "$HOST" -o lease.token
"$CALYX" lease issue --key "$STATE/keys/calyx.key" --intent INT-TEST-SANDBOX --ttl 5m \
	--cmd 'python3 --version' --path 'repo://calyx/tools/*' --net deny_all --aud "$HOST" -o "$STATE/lease.token"
JTI=$("$CALYX" lease verify --pub "$STATE/keys/calyx.pub" --json "$STATE/lease.token" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["jti"])')
cp "$STATE/lease.token" "$STATE/outgoing/leases/$JTI.token"
say "lease $JTI stored as outgoing/leases/$JTI.token"
say "token: $(cut -c1-72 "$STATE/lease.token")…"

step "3. lease verify (CP14) with the public key: header, signature, key id, expiry, not-before, claims"
show_cmd calyx lease verify --pub keys/calyx.pub "outgoing/leases/$JTI.token"
"$CALYX" lease verify --pub "$STATE/keys/calyx.pub" "$STATE/outgoing/leases/$JTI.token" | sed 's/^/   /'

step "4. lease verify against the capability matrix (policies/capability_matrix.yaml), key trusted via --pub"
say "the lease must fit the host policy: exec_staging_with_lease, max TTL, path bounds, limits, network deny_all"
show_cmd calyx lease verify --matrix policies/capability_matrix.yaml --pub keys/calyx.pub "outgoing/leases/$JTI.token"
"$CALYX" lease verify --matrix "$MATRIX" --pub "$STATE/keys/calyx.pub" "$STATE/outgoing/leases/$JTI.token" | sed 's/^/   /'

step "5. a tampered lease is refused (one character of the payload changed)"
python3 - "$STATE/lease.token" >"$STATE/tampered.token" <<'PY'
import sys
t = open(sys.argv[1]).read().strip()
print(t[:40] + ("B" if t[40] == "A" else "A") + t[41:])
PY
show_cmd calyx lease verify --pub keys/calyx.pub tampered.token
if res=$("$CALYX" lease verify --pub "$STATE/keys/calyx.pub" "$STATE/tampered.token" 2>&1); then
	echo "demo: a tampered lease verified" >&2
	exit 1
fi
printf '%s\n' "$res" | sed 's/^/   /'

step "5b. a lease for another host is refused here (its aud names the host it was issued for)"
"$CALYX" lease issue --key "$STATE/keys/calyx.key" --intent INT-TEST-SANDBOX --ttl 5m \
	--cmd 'python3 --version' --net deny_all --aud build-other-host -o "$STATE/other-host.token"
show_cmd calyx lease verify --matrix policies/capability_matrix.yaml --pub keys/calyx.pub other-host.token
rc=0
res=$("$CALYX" lease verify --matrix "$MATRIX" --pub "$STATE/keys/calyx.pub" "$STATE/other-host.token" 2>&1) || rc=$?
printf '%s\n' "$res" | sed 's/^/   /'
say "exit code: $rc (66 = outside this host's matrix)"
[ "$rc" -eq 66 ] || { echo "demo: a lease for another host was not refused" >&2; exit 1; }

step "6. lease show: the claims, human-readable (signature NOT checked)"
show_cmd calyx lease show "outgoing/leases/$JTI.token"
"$CALYX" lease show "$STATE/outgoing/leases/$JTI.token" | sed 's/^/   /'

step "7. doctor: what this kernel supports and which enforcement backend 'auto' picks"
show_cmd calyx doctor
if ! "$CALYX" doctor | sed 's/^/   /'; then
	# No backend works on this host: the same run happens inside the VM tier instead
	# (Debian's 6.1 kernel under QEMU, BPF LSM active), and the demo says so.
	say "no enforcement backend is usable on this host: running the dry run inside the VM tier"
	exec "$ROOT/scripts/vm-test.sh" --tests t_dryrun "$CALYX"
fi

step "8. run (CP20): 'python3 --version' in its own cgroup, confined by the lease, as uid 65534"
show_cmd calyx run --lease "outgoing/leases/$JTI.token" --pub keys/calyx.pub -- python3 --version
rc=0
"$CALYX" run --lease "$STATE/outgoing/leases/$JTI.token" --pub "$STATE/keys/calyx.pub" \
	--state "$STATE" -- python3 --version >"$STATE/run.out" 2>&1 || rc=$?
sed 's/^/   /' "$STATE/run.out"
say "exit code: $rc"
[ "$rc" -eq 0 ] || { echo "demo: the sandboxed run failed (exit $rc)" >&2; exit 1; }

RUN="$STATE/outgoing/staging_runs/$JTI"
step "9. the run's artifacts in outgoing/staging_runs/$JTI/"
ls -l "$RUN" | sed 's/^/   /'
say "stdout.log:    $(cat "$RUN/stdout.log")"
say "exit_code.txt: $(cat "$RUN/exit_code.txt")"
say "meta.json:"
python3 -m json.tool "$RUN/meta.json" | sed 's/^/     /'

step "10. SVF audit events (logs/svf_audit/svf.jsonl, hash-chained)"
python3 - "$STATE/logs/svf_audit/svf.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    extra = {k: r["data"][k] for k in ("backend", "backend_reason", "binary", "status", "exit_code") if k in r["data"]}
    print(f'   #{r["seq"]} {r["ts"]} {r["type"]:<22} {r["lease"]} {json.dumps(extra)}')
    print(f'      prev {r["prev"][:16]}…  hash {r["hash"][:16]}…')
PY

step "11. the lease was single-use: running it again is refused (replay)"
show_cmd calyx run --lease "outgoing/leases/$JTI.token" --pub keys/calyx.pub -- python3 --version
rc=0
"$CALYX" run --lease "$STATE/outgoing/leases/$JTI.token" --pub "$STATE/keys/calyx.pub" \
	--state "$STATE" -- python3 --version >"$STATE/replay.out" 2>&1 || rc=$?
sed 's/^/   /' "$STATE/replay.out"
say "exit code: $rc (67 = lease already consumed)"
[ "$rc" -eq 67 ] || { echo "demo: a replayed lease was not refused" >&2; exit 1; }

step "12. ... with another state dir too: the single-use ledger is host-wide (the matrix's ledger: /var/lib/calyx/ledger)"
OTHER=$(mktemp -d "${TMPDIR:-/tmp}/calyx-demo-other.XXXXXX")
show_cmd calyx run --lease "outgoing/leases/$JTI.token" --pub keys/calyx.pub --state "$OTHER" -- python3 --version
rc=0
"$CALYX" run --lease "$STATE/outgoing/leases/$JTI.token" --pub "$STATE/keys/calyx.pub" \
	--state "$OTHER" -- python3 --version >"$STATE/replay2.out" 2>&1 || rc=$?
sed 's/^/   /' "$STATE/replay2.out"
rm -rf "$OTHER"
say "exit code: $rc (67 = lease already consumed)"
[ "$rc" -eq 67 ] || { echo "demo: a lease replayed with another state dir was not refused" >&2; exit 1; }

printf '\ndemo: dry run complete; state kept in %s\n' "$STATE"
