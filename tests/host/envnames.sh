#!/usr/bin/env bash
# Environment names that load code (issue 8 class 12, docs/lease-format.md "Environment
# names that load code"): a lease's `env` may not pass BASH_ENV, PYTHONSTARTUP, PERL5OPT,
# NODE_OPTIONS... through, since each makes a fixed, allowed argv run a file or string of
# the caller's choosing. `lease issue` refuses them, and so does `calyx run` for a lease
# another issuer signed with one (a token made here by tests/host/progs/sign_claims with
# calyx's own PASETO code): exit 65 before anything runs or the lease is used.
#   tests/host/envnames.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
. tests/lib/objs.sh
suite_scratch envnames
# shellcheck disable=SC2086 # OBJ_CFLAGS: several flags or none
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE $OBJ_CFLAGS -I user -o "$T/sign_claims" tests/host/progs/sign_claims.c \
  "$BUILD"/obj/token/paseto.o "$BUILD"/obj/token/keys.o "$BUILD"/obj/base/paserk.o "$BUILD"/obj/base/b64url.o \
  "$BUILD"/obj/base/errmsg.o "$BUILD"/obj/base/fileio.o -lsodium || { bad "build sign_claims"; finish; }
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }
KEY=$T/k/calyx.key PUB=$T/k/calyx.pub
AUD=$(uname -n)

# --- lease issue refuses each kind (exact names and prefixes), naming it and why
for spec in "BASH_ENV|BASH_ENV|a file a non-interactive bash runs before its script" \
            "ENV|ENV|a file sh (dash), ksh and bash in POSIX mode run at start" \
            "PYTHONSTARTUP|PYTHON\\*|the Python interpreter's start" \
            "PERL5OPT|PERL\\*|perl's start" \
            "NODE_OPTIONS|NODE_\\*|node's start" \
            "GIT_CONFIG_PARAMETERS|GIT_CONFIG\\*|git configuration" \
            "LD_PRELOAD|LD_\\*|the dynamic loader"; do
  IFS='|' read -r name rule why <<<"$spec"
  rc=0
  "$CALYX" lease issue -k "$KEY" -i INT-TEST-ENV --ttl 5m --aud "$AUD" --cmd "bash -c 'echo hi'" \
    --env "$name" -o "$T/x.tok" >"$T/out" 2>"$T/err" || rc=$?
  check "lease issue --env $name: refused (64)" test "$rc" -eq 64
  check "... naming the variable, the table entry and why" \
    grep -q "claim 'env\[0\]': '$name' is refused ($rule): $why" "$T/err"
  check "... no token written" test ! -e "$T/x.tok"
done
rc=0
"$CALYX" lease issue -k "$KEY" -i INT-TEST-ENV --ttl 5m --aud "$AUD" --cmd "bash -c 'echo hi'" \
  --env GIT_AUTHOR_NAME -o "$T/good.tok" >"$T/out" 2>"$T/err" || rc=$?
check "lease issue --env GIT_AUTHOR_NAME (harmless neighbour of the GIT_* entries): issued" test "$rc" -eq 0

# --- a validly signed lease with env BASH_ENV, made outside `lease issue`
"$CALYX" lease verify --pub "$PUB" --json "$T/good.tok" > "$T/good.json" 2>"$T/err" || bad "verify the good lease"
python3 - "$T/good.json" "$T/bad.json" "$T/ctl.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["env"] = ["BASH_ENV"]
open(sys.argv[2], "w").write(json.dumps(c, separators=(",", ":")))
c["env"] = ["GIT_AUTHOR_NAME"]
c["jti"] = c["jti"][:-4] + ("0000" if c["jti"][-4:] != "0000" else "0001")
open(sys.argv[3], "w").write(json.dumps(c, separators=(",", ":")))
PY
"$T/sign_claims" "$KEY" < "$T/bad.json" > "$T/bad.tok" || bad "sign the BASH_ENV lease"
"$T/sign_claims" "$KEY" < "$T/ctl.json" > "$T/ctl.tok" || bad "sign the control lease"
# The file BASH_ENV would make bash run first: it leaves a marker.
printf 'touch "%s"\n' "$T/bash-env-ran" > "$T/evil.sh"
chmod 644 "$T/evil.sh"
ST=$T/state

rc=0
"$CALYX" lease verify --pub "$PUB" "$T/bad.tok" >"$T/out" 2>"$T/err" || rc=$?
check "lease verify of the hand-made BASH_ENV lease: 65" test "$rc" -eq 65
check "... naming BASH_ENV and why" grep -q "claim 'env\[0\]': 'BASH_ENV' is refused (BASH_ENV): a file a non-interactive bash" "$T/err"

rc=0
BASH_ENV=$T/evil.sh "$CALYX" run --lease "$T/bad.tok" --pub "$PUB" --state "$ST" -- bash -c 'echo hi' \
  >"$T/out" 2>"$T/err" || rc=$?
check "calyx run of the hand-made BASH_ENV lease: refused (65)" test "$rc" -eq 65
check "... the message names BASH_ENV and why" \
  grep -q "lease invalid: bad claims: claim 'env\[0\]': 'BASH_ENV' is refused (BASH_ENV): a file a non-interactive bash runs before its script" "$T/err"
check "... nothing ran (no output, BASH_ENV's file never ran)" bash -c '[ ! -s "$1" ] && [ ! -e "$2" ]' _ "$T/out" "$T/bash-env-ran"
check "... no run directory" bash -c '[ -z "$(ls -A "$1/outgoing/staging_runs" 2>/dev/null)" ]' _ "$ST"
check "... the lease was not consumed (no lease_event.consumed)" \
  bash -c '! grep -qs "\"lease_event.consumed\"" "$1/logs/svf_audit/svf.jsonl"' _ "$ST"

# Control: the same claims with a harmless name, signed the same way, run (so the refusal
# above is the name's, not the hand-made token's).
rc=0
GIT_AUTHOR_NAME=calyx-test "$CALYX" run --lease "$T/ctl.tok" --pub "$PUB" --state "$ST" -- bash -c 'echo hi' \
  >"$T/out" 2>"$T/err" || rc=$?
check "control: the hand-made lease with env GIT_AUTHOR_NAME runs (exit 0, prints hi)" \
  bash -c '[ "$1" -eq 0 ] && [ "$(cat "$2")" = hi ] || { cat "$3"; exit 1; }' _ "$rc" "$T/out" "$T/err"
check "... and BASH_ENV from the caller's environment never reached it" test ! -e "$T/bash-env-ran"
finish
