#!/usr/bin/env bash
# The origin system's dry run (Station Calyx, "Phase 2 Sandbox Infrastructure"), lease part:
# key generation, lease issuance for INT-TEST-SANDBOX (5 minutes, `python3 --version`,
# paths repo://calyx/tools/*), verification against a key and against the capability
# matrix, and inspection. Run as `scripts/demo.sh build/calyx` (make demo).
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

step "2. lease issue: intent INT-TEST-SANDBOX, 5 minutes, command 'python3 --version', paths repo://calyx/tools/*"
say "(the origin ran 'python --version'; Debian ships python3)"
show_cmd calyx lease issue --key keys/calyx.key --intent INT-TEST-SANDBOX --ttl 5m \
	--cmd "'python3 --version'" --path "'repo://calyx/tools/*'" --net deny_all -o lease.token
"$CALYX" lease issue --key "$STATE/keys/calyx.key" --intent INT-TEST-SANDBOX --ttl 5m \
	--cmd 'python3 --version' --path 'repo://calyx/tools/*' --net deny_all -o "$STATE/lease.token"
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

step "6. lease show: the claims, human-readable (signature NOT checked)"
show_cmd calyx lease show "outgoing/leases/$JTI.token"
"$CALYX" lease show "$STATE/outgoing/leases/$JTI.token" | sed 's/^/   /'

printf '\ndemo: lease part done; state kept in %s\n' "$STATE"
