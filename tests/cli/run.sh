#!/usr/bin/env bash
# CLI tests for keygen and the lease commands: run as `tests/cli/run.sh build/calyx`.
# One line per test ("ok - name" / "not ok - name" / "skip - name: reason"), then
# "N passed, M failed". Exit status is non-zero if anything failed.
# Needs: bash, python3 (JSON checks, token surgery); node + npm for the interop check
# (skipped, with the reason printed, when the npm registry cannot be reached).
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 PATH/TO/calyx" >&2
	exit 2
fi
CALYX=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(dirname "$CALYX")
T=$(mktemp -d "${TMPDIR:-/tmp}/calyx-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT
unset CALYX_TEST_NOW CALYX_STATE
cd "$T" || exit 2

pass=0
failed=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '#   %s\n' "$2" | head -n 8
	failed=$((failed + 1))
}
skip() { echo "skip - $1"; }

# run CMD…: sets rc, out, err
run() {
	"$@" >"$T/.out" 2>"$T/.err"
	rc=$?
	out=$(cat "$T/.out")
	err=$(cat "$T/.err")
}
# check NAME CONDITION-STATUS [detail]
check() {
	if [ "$2" -eq 0 ]; then ok "$1"; else notok "$1" "${3:-rc=$rc stdout=$out stderr=$err}"; fi
}
# expect_fail NAME RC MESSAGE CMD…: exit code RC and MESSAGE (fixed string) on stderr
expect_fail() {
	local name=$1 want=$2 msg=$3
	shift 3
	run "$@"
	if [ "$rc" -eq "$want" ] && grep -qF -- "$msg" "$T/.err"; then
		ok "$name"
	else
		notok "$name" "rc=$rc (want $want); stderr: $err (want: $msg)"
	fi
}
mode_of() { stat -c %a "$1"; }
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$@"; }

NOW=$(date +%s)
MATRIX_SHIPPED="$ROOT/policies/capability_matrix.yaml"

# ---------------------------------------------------------------- basics
run "$CALYX" --version
# The release from the Makefile's CALYX_VERSION and the commit the binary was built from.
REL=$(sed -n 's/^CALYX_VERSION *:= *//p' "$ROOT/Makefile")
check "--version prints 'calyx SEMVER (commit HASH)': the Makefile's $REL and this tree's commit" \
	$([ $rc -eq 0 ] && [[ "$out" =~ ^calyx\ ([0-9]+\.[0-9]+\.[0-9]+)\ \(commit\ ([0-9a-f]{7})(-dirty)?\)$ ]] &&
	  [ "${BASH_REMATCH[1]}" = "$REL" ] &&
	  { ! git -C "$ROOT" rev-parse HEAD >/dev/null 2>&1 || [ "${BASH_REMATCH[2]}" = "$(git -C "$ROOT" rev-parse --short=7 HEAD)" ]; }; echo $?)

run "$CALYX" --help
check "--help lists the commands and exit codes" \
	$([ $rc -eq 0 ] && grep -q "lease issue" "$T/.out" && grep -q "exit codes" "$T/.out"; echo $?)

run "$CALYX" lease issue --help
check "lease issue --help shows the option table" \
	$([ $rc -eq 0 ] && grep -q -- "--limit" "$T/.out" && grep -q -- "--ttl DUR" "$T/.out"; echo $?)

run "$CALYX" run --help
check "run --help" $([ $rc -eq 0 ] && grep -q -- "--enforce" "$T/.out"; echo $?)

expect_fail "no command: usage error 64" 64 "missing command" "$CALYX"
expect_fail "unknown command: usage error 64" 64 "unknown command 'frob'" "$CALYX" frob
expect_fail "unknown option names itself and the help to try" 64 "try 'calyx lease issue --help'" \
	"$CALYX" lease issue --bogus
run "$CALYX" lease issue --bogus
check "usage error prints the problem, not the whole help" \
	$([ $rc -eq 64 ] && ! grep -q "usage:" "$T/.err" && grep -q "unknown option '--bogus'" "$T/.err"; echo $?)
expect_fail "missing value: usage error" 64 "option '--ttl' needs a value" "$CALYX" lease issue --ttl
expect_fail "bad duration: usage error" 64 "bad --ttl '5x'" \
	"$CALYX" lease issue --key k --intent I --cmd true --ttl 5x
expect_fail "--ttl 5 without a unit: refused as ambiguous, with the accepted forms" 64 \
	"calyx: bad --ttl '5': a number needs a unit (5s? 5m?): give it as 90s, 5m, 2h or 1d" \
	"$CALYX" lease issue --key k --intent I --cmd true --ttl 5
expect_fail "bad --path access: usage error" 64 "bad --path" \
	"$CALYX" lease issue --key k --intent I --cmd true --ttl 5m --path '/srv/x:rx'
expect_fail "--runs 0: usage error" 64 "bad --runs '0'" \
	"$CALYX" lease issue --key k --intent I --cmd true --ttl 5m --runs 0
expect_fail "verify needs --pub or --matrix" 64 "one of --pub FILE or --matrix FILE is required" \
	"$CALYX" lease verify tok
expect_fail "run needs a command after --" 64 "missing command" "$CALYX" run --lease l --pub p
expect_fail "lease without subcommand" 64 "missing lease subcommand" "$CALYX" lease

# ---------------------------------------------------------------- keygen
run "$CALYX" keygen --out "$T/keys/a"
PID_A=$out
check "keygen creates the directory and both files" \
	$([ $rc -eq 0 ] && [ -f keys/a/calyx.key ] && [ -f keys/a/calyx.pub ]; echo $?)
check "keygen: secret key mode 0600" $([ "$(mode_of keys/a/calyx.key)" = 600 ]; echo $?) \
	"mode $(mode_of keys/a/calyx.key 2>&1)"
check "keygen: public key mode 0644" $([ "$(mode_of keys/a/calyx.pub)" = 644 ]; echo $?) \
	"mode $(mode_of keys/a/calyx.pub 2>&1)"
check "keygen: PASERK k4.secret / k4.public contents" \
	$(grep -qE '^k4\.secret\.[A-Za-z0-9_-]{86}$' keys/a/calyx.key &&
	  grep -qE '^k4\.public\.[A-Za-z0-9_-]{43}$' keys/a/calyx.pub; echo $?) "$(cat keys/a/calyx.pub)"
check "keygen prints the k4.pid key id" $([[ "$PID_A" =~ ^k4\.pid\.[A-Za-z0-9_-]{44}$ ]]; echo $?) "stdout: $PID_A"
(umask 000 && "$CALYX" keygen --out "$T/keys/umask" >/dev/null 2>&1)
check "keygen: secret key 0600 even with umask 000" $([ "$(mode_of keys/umask/calyx.key)" = 600 ]; echo $?)

sum_before=$(cat keys/a/calyx.key keys/a/calyx.pub | sha256sum)
expect_fail "keygen refuses to overwrite (exit 73)" 73 "already exists" "$CALYX" keygen --out keys/a
check "keygen refusal left the keys untouched" \
	$([ -s keys/a/calyx.key ] && [ "$(cat keys/a/calyx.key keys/a/calyx.pub | sha256sum)" = "$sum_before" ]; echo $?)
rm -f keys/umask/calyx.key
expect_fail "keygen refuses when only calyx.pub exists" 73 "calyx.pub already exists" "$CALYX" keygen --out keys/umask

cp -r keys/a keys/f
run "$CALYX" keygen --out keys/f --force
check "keygen --force replaces the pair" \
	$([ $rc -eq 0 ] && [ "$out" != "$PID_A" ] && [ "$(mode_of keys/f/calyx.key)" = 600 ] &&
	  [ "$(cat keys/f/calyx.key keys/f/calyx.pub | sha256sum)" != "$sum_before" ]; echo $?)
check "keygen leaves no temp files" $([ "$(ls -A keys/f | wc -l)" -eq 2 ]; echo $?) "$(ls -A keys/f)"

run "$CALYX" keygen --out "$T/keys/b"
PID_B=$out

# ---------------------------------------------------------------- issue
KEY=keys/a/calyx.key
PUB=keys/a/calyx.pub
issue() { CALYX_TEST_NOW=${ISSUE_NOW:-$NOW} "$CALYX" lease issue "$@"; }
verify() { CALYX_TEST_NOW=${VERIFY_NOW:-$NOW} "$CALYX" lease verify "$@"; }

HOST=$(uname -n)   # the matrix accepts leases for this host only (audience)
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd 'python3 --version' \
	--path 'repo://calyx/tools/*' --limit cpu=10s,mem=256M --limit pids=64 --aud "$HOST"
echo "$out" >good.tok
check "issue prints a v4.public token" $([ $rc -eq 0 ] && [[ "$out" == v4.public.* ]]; echo $?)
check "issue reports the lease id" $(grep -qE 'issued LEASE-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}' "$T/.err"; echo $?) "$err"

run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd 'python3 --version' -o out/none.tok
check "issue -o into a missing directory fails with I/O exit 74" $([ $rc -eq 74 ]; echo $?)
(umask 077 && CALYX_TEST_NOW=$NOW "$CALYX" lease issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m \
	--cmd 'python3 --version' -o file.tok 2>/dev/null)
check "issue -o writes the token with mode 0644" \
	$([ "$(mode_of file.tok)" = 644 ] && grep -q '^v4\.public\.' file.tok; echo $?)

cp $KEY grp.key && chmod 640 grp.key
expect_fail "group-readable secret key refused" 78 "accessible by group or others" \
	issue --key grp.key --intent INT-X --ttl 5m --cmd true
cp $KEY world.key && chmod 604 world.key
expect_fail "world-readable secret key refused" 78 "accessible by group or others" \
	issue --key world.key --intent INT-X --ttl 5m --cmd true
cp $PUB pub600.key && chmod 600 pub600.key
expect_fail "public key given as --key refused" 78 "holds a public key" \
	issue --key pub600.key --intent INT-X --ttl 5m --cmd true
expect_fail "a public key (0644) as --key: said to be a public key, not 'run chmod 600'" 78 \
	"calyx: $PUB holds a public key (k4.public), not a secret key: give the secret key file instead (keygen writes calyx.key beside calyx.pub)" \
	issue --key $PUB --intent INT-X --ttl 5m --cmd true
check "... and no chmod advice" $(! grep -q chmod "$T/.err"; echo $?)
expect_fail "missing key file: I/O error 74" 74 "cannot open" issue --key nope.key --intent INT-X --ttl 5m --cmd true

# ---------------------------------------------------------------- verify: good
run verify --pub $PUB good.tok
check "verify --pub: OK line" \
	$([ $rc -eq 0 ] && [[ "$out" =~ ^OK\ LEASE-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}\ intent\ INT-TEST-SANDBOX\ expires\ [0-9T:Z-]+$ ]]; echo $?)

run verify --pub $PUB --json good.tok
echo "$out" >claims.json
check "verify --json prints the verified claims" \
	$([ $rc -eq 0 ] && [ "$(json_get claims.json 'd["intent"]')" = INT-TEST-SANDBOX ] &&
	  [ "$(json_get claims.json 'd["commands"]')" = "[['python3', '--version']]" ] &&
	  [ "$(json_get claims.json 'd["paths"][0]["pattern"], d["paths"][0]["access"]')" = "('repo://calyx/tools/*', 'ro')" ] &&
	  [ "$(json_get claims.json 'd["iss"]')" = "$PID_A" ] &&
	  [ "$(json_get claims.json 'd["limits"]["mem_bytes"], d["limits"]["pids"], d["runs"]')" = "(268435456, 64, 1)" ]; echo $?)
check "claims: exp = iat + ttl, nbf = iat" \
	$(python3 - claims.json <<'EOF'; echo $?
import json, sys
from datetime import datetime
d = json.load(open(sys.argv[1]))
t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
sys.exit(0 if (t(d["exp"]) - t(d["iat"])).total_seconds() == 300 and d["nbf"] == d["iat"] else 1)
EOF
)

# a matrix that trusts key A, with repo://calyx rooted in the temp dir
mkdir -p repo/tools
python3 - "$MATRIX_SHIPPED" "$(cat $PUB)" "$T/repo" >trust.yaml <<'EOF'
import re, sys
src, pub, root = sys.argv[1], sys.argv[2], sys.argv[3]
y = open(src).read()
y = re.sub(r"(?m)^trusted_keys:.*$", "trusted_keys:\n  - name: test-a\n    public: " + pub, y)
y = re.sub(r"(?m)^  calyx: .*$", "  calyx: " + root, y)
sys.stdout.write(y)
EOF
grep -q "test-a" trust.yaml || notok "test matrix written" "trusted_keys not found in the shipped matrix"

run verify --matrix trust.yaml good.tok
check "verify --matrix (signer trusted by the matrix): OK" $([ $rc -eq 0 ] && [[ "$out" == OK\ * ]]; echo $?)
run verify --matrix "$MATRIX_SHIPPED" --pub $PUB good.tok
check "verify --matrix shipped + --pub: OK" $([ $rc -eq 0 ] && [[ "$out" == OK\ * ]]; echo $?)
run verify --pub $PUB file.tok
check "verify the -o token" $([ $rc -eq 0 ] && [[ "$out" == "OK LEASE-"* ]]; echo $?)
run "$CALYX" lease verify --pub $PUB good.tok
check "verify with the real clock (no test hook)" $([ $rc -eq 0 ] && [[ "$out" == "OK LEASE-"* ]]; echo $?)

# ---------------------------------------------------------------- show
run "$CALYX" lease show good.tok
check "show: first line says UNVERIFIED, then the claims" \
	$([ $rc -eq 0 ] && [[ "$(head -n1 "$T/.out")" == UNVERIFIED* ]] && grep -q INT-TEST-SANDBOX "$T/.out" &&
	  grep -q "python3 --version" "$T/.out"; echo $?)

# a token with claims that don't parse strictly (unsigned: show doesn't check signatures)
mk_token() { # HEADER PAYLOAD_JSON FOOTER_JSON: payload + 64 zero bytes as the "signature"
	python3 - "$@" <<'EOF'
import base64, sys
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
h, p, f = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
print(h + b(p + b"\0" * 64) + ("." + b(f) if f else ""))
EOF
}
mk_token v4.public. '{"jti":"LEASE-X","intent":7,"extra":true}' "{\"kid\":\"$PID_A\"}" >badclaims.tok
run "$CALYX" lease show badclaims.tok
check "show: unparsable claims shown raw with a warning, exit 65" \
	$([ $rc -eq 65 ] && [[ "$(head -n1 "$T/.out")" == UNVERIFIED* ]] && grep -q '"extra"' "$T/.out" &&
	  grep -q "warning" "$T/.err"; echo $?)
echo "hello world" >hello.tok
expect_fail "show: not a v4.public token" 65 "not a v4.public token" "$CALYX" lease show hello.tok
expect_fail "show: empty file" 65 "is empty" "$CALYX" lease show /dev/null
echo "v4.local.AAAA" >local.tok
expect_fail "show: v4.local refused" 65 "not a v4.public token" "$CALYX" lease show local.tok

# ---------------------------------------------------------------- verify: rejections
flip() { # FILE INDEX: replace the base64url char at INDEX with a different valid one
	python3 - "$@" <<'EOF'
import sys
t = open(sys.argv[1]).read().strip()
i = int(sys.argv[2]) % len(t)
c = "B" if t[i] == "A" else "A"
print(t[:i] + c + t[i + 1:])
EOF
}
TOK=$(cat good.tok)
BODY_END=$(( $(expr index "${TOK#v4.public.}" .) + 9 ))   # index of the "." before the footer
flip good.tok 30 >flip-payload.tok
expect_fail "flipped character in the payload" 65 "signature verification failed" verify --pub $PUB flip-payload.tok
flip good.tok $((BODY_END - 20)) >flip-sig.tok
expect_fail "flipped character in the signature" 65 "signature verification failed" verify --pub $PUB flip-sig.tok
flip good.tok $((BODY_END + 15)) >flip-footer.tok
run verify --pub $PUB flip-footer.tok
check "flipped character in the footer" $([ $rc -eq 65 ] && grep -q "lease invalid:" "$T/.err"; echo $?)

ISSUE_NOW=$((NOW - 3600)) run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd 'python3 --version'
echo "$out" >old.tok
expect_fail "expired lease" 65 "lease expired at" verify --pub $PUB old.tok

ISSUE_NOW=$NOW run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 60s --cmd true
echo "$out" >short.tok
VERIFY_NOW=$((NOW + 89)) run verify --pub $PUB short.tok
check "expiry: default 30s skew still accepts at exp+29s" $([ $rc -eq 0 ] && [[ "$out" == "OK LEASE-"* ]]; echo $?)
VERIFY_NOW=$((NOW + 90)) expect_fail "expiry: rejected at exp+30s" 65 "lease expired at" verify --pub $PUB short.tok
VERIFY_NOW=$((NOW + 60)) expect_fail "expiry: --skew 0 rejects at exp" 65 "lease expired at" \
	verify --pub $PUB --skew 0 short.tok
VERIFY_NOW=$((NOW + 100)) run verify --pub $PUB --skew 1m short.tok
check "expiry: --skew 1m accepts at exp+40s" $([ $rc -eq 0 ] && [[ "$out" == "OK LEASE-"* ]]; echo $?)

ISSUE_NOW=$((NOW + 3600)) run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true
echo "$out" >future.tok
expect_fail "not yet valid" 65 "lease not valid before" verify --pub $PUB future.tok

expect_fail "wrong key" 65 "key id mismatch: token signed by $PID_A, expected $PID_B" \
	verify --pub keys/b/calyx.pub good.tok
echo "v4.local.${TOK#v4.public.}" >local.tok
expect_fail "v4.local. header" 65 "not a v4.public token (header 'v4.local.')" verify --pub $PUB local.tok
echo "v3.public.${TOK#v4.public.}" >v3.tok
expect_fail "v3.public. header" 65 "not a v4.public token (header 'v3.public.')" verify --pub $PUB v3.tok
echo "${TOK:0:100}" >trunc.tok
expect_fail "truncated token (footer lost)" 65 "token has no footer" verify --pub $PUB trunc.tok
echo "${TOK:0:$((BODY_END - 30))}${TOK:$BODY_END}" >trunc2.tok
expect_fail "truncated token body" 65 "lease invalid:" verify --pub $PUB trunc2.tok
head -c $((2 * 1024 * 1024)) /dev/urandom >big.tok
expect_fail "2 MiB of garbage" 65 "token is larger than 1 MiB" verify --pub $PUB big.tok
{ printf 'v4.public.'; head -c $((1024 * 1024)) /dev/zero | tr '\0' A; } >big2.tok
expect_fail "a v4.public token just over 1 MiB" 65 "token is larger than 1 MiB" verify --pub $PUB big2.tok
: >empty.tok
expect_fail "empty file" 65 "is empty" verify --pub $PUB empty.tok
expect_fail "missing token file: I/O error 74" 74 "cannot open" verify --pub $PUB nope.tok
expect_fail "secret key given as --pub" 78 "holds a secret key" verify --pub $KEY good.tok
mk_token v4.public. '{}' '' >nofooter.tok
expect_fail "token without footer" 65 "token has no footer" verify --pub $PUB nofooter.tok
mk_token v4.public. '{}' '{"kid":"k4.pid.x","extra":1}' >footer2.tok
expect_fail "footer with more than kid" 65 "footer must be exactly" verify --pub $PUB footer2.tok

# a validly signed lease with bad claims (signed by the interop path below if available;
# here: issue's own validation refuses to sign one)
expect_fail "issue refuses claims verify would reject" 64 "would be invalid" \
	issue --key $KEY --intent 'INT X' --ttl 5m --cmd true

# ---------------------------------------------------------------- matrix
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 2h --cmd true
echo "$out" >longttl.tok
expect_fail "matrix: ttl longer than max_lease_ttl" 66 "lease outside the matrix" verify --matrix trust.yaml longttl.tok
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --limit mem=4G --aud "$HOST"
echo "$out" >bigmem.tok
expect_fail "matrix: mem limit above the maximum" 66 "mem" verify --matrix trust.yaml bigmem.tok
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --path /etc/shadow --aud "$HOST"
echo "$out" >badpath.tok
expect_fail "matrix: path outside the lease_paths bounds names the claim, the value and the bounds" 66 \
	"lease outside the matrix: claim 'paths[0]' (/etc/shadow:ro) is outside every lease_paths bound; the matrix allows: repo://calyx/**:rw, /tmp/calyx/**:rw, /dev/null:rw" \
	verify --matrix trust.yaml badpath.tok
check "... without the prefix twice" $(! grep -q "matrix: lease outside" "$T/.err"; echo $?)
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --path 'repo://calyx/tools/*:rw' --aud "$HOST"
echo "$out" >rwpath.tok
run verify --matrix trust.yaml rwpath.tok
check "matrix: rw inside a rw bound accepted" $([ $rc -eq 0 ] && [[ "$out" == "OK LEASE-"* ]]; echo $?)
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true
echo "$out" >noaud.tok
expect_fail "matrix: a lease without aud refused" 66 "names no audience" verify --matrix trust.yaml noaud.tok
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --aud other-host.example
echo "$out" >otheraud.tok
expect_fail "matrix: a lease for another host refused, naming both" 66 \
	"the lease is for 'other-host.example' (claim 'aud'), this host is '$HOST'" verify --matrix trust.yaml otheraud.tok
run issue --key keys/b/calyx.key --intent INT-TEST-SANDBOX --ttl 5m --cmd true
echo "$out" >signed-b.tok
expect_fail "matrix: untrusted signer, with the fix" 66 "signer $PID_B is not trusted by the matrix (add its public key to trusted_keys in trust.yaml, or pass it with --pub)" \
	verify --matrix trust.yaml signed-b.tok
expect_fail "matrix: shipped matrix trusts nobody without --pub" 66 "is not trusted by the matrix" \
	verify --matrix "$MATRIX_SHIPPED" good.tok
# lease issue --matrix: the same check before signing; what does not fit is never signed.
expect_fail "issue --matrix: a 2-day ttl refused before signing (66)" 66 \
	"lease outside the matrix trust.yaml: lease ttl 2d exceeds max_lease_ttl 1h; nothing was signed" \
	issue --key $KEY --intent INT-TEST-SANDBOX --ttl 2d --cmd true --aud "$HOST" --matrix trust.yaml -o m1.tok
check "... and no token written" $([ -z "$out" ] && [ ! -e m1.tok ]; echo $?)
expect_fail "issue --matrix: a 4G memory limit refused" 66 \
	"claim 'limits.mem_bytes' = 4G exceeds the matrix maximum 2G (limits.max.mem); nothing was signed" \
	issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --limit mem=4G --aud "$HOST" --matrix trust.yaml
check "... nothing on stdout" $([ -z "$out" ]; echo $?)
expect_fail "issue --matrix: a path under /root refused, naming the bounds" 66 \
	"claim 'paths[0]' (/root/x:ro) is outside every lease_paths bound; the matrix allows: repo://calyx/**:rw" \
	issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --path /root/x --aud "$HOST" --matrix trust.yaml
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --aud "$HOST" --matrix trust.yaml
echo "$out" >fits.tok
check "issue --matrix: a lease that fits is signed, silently, and verifies" \
	$([ $rc -eq 0 ] && ! grep -q warning "$T/.err" && verify --matrix trust.yaml fits.tok >/dev/null 2>&1; echo $?)
run issue --key keys/b/calyx.key --intent INT-TEST-SANDBOX --ttl 5m --cmd true --aud "$HOST" --matrix trust.yaml
check "issue --matrix: a signer the matrix does not trust is signed with a warning naming --pub" \
	$([ $rc -eq 0 ] && grep -qF "warning: the signing key $PID_B is not in the trusted_keys of trust.yaml: a run against it needs --pub" "$T/.err"; echo $?)
printf 'version: 1\nmax_lease_ttl: [\n' >broken.yaml
expect_fail "issue --matrix: a malformed matrix is 78" 78 "capability matrix: broken.yaml" \
	issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --matrix broken.yaml
expect_fail "matrix: malformed matrix file, exit 78" 78 "broken.yaml" verify --matrix broken.yaml good.tok
# matrix check: a valid matrix is OK with its summary; a broken one names file:line:col.
run "$CALYX" matrix check trust.yaml
check "matrix check: a valid matrix, exit 0 and its summary" \
	$([ $rc -eq 0 ] && [ "$out" = "OK trust.yaml: 1 trusted key, 1 root, 3 lease_paths bounds, max_lease_ttl 1h, max_runs 10, enforcement auto" ] &&
	  [ -z "$err" ]; echo $?)
run "$CALYX" matrix check "$MATRIX_SHIPPED"
check "matrix check: the shipped matrix warns that it trusts no key" \
	$([ $rc -eq 0 ] && grep -qF "warning: $MATRIX_SHIPPED: trusted_keys is empty: a run needs --pub" "$T/.err"; echo $?)
expect_fail "matrix check: a malformed matrix, 78, named by file and line" 78 "broken.yaml:3:1: max_lease_ttl: YAML syntax error" \
	"$CALYX" matrix check broken.yaml
python3 - trust.yaml >misindent.yaml <<'EOF2'
import re, sys
y = open(sys.argv[1]).read()
y, n = re.subn(r"(?m)^run_as: \{uid: (\d+), gid: (\d+)\}$", r"run_as:\n  uid: \1\ngid: \2", y)
assert n == 1
sys.stdout.write(y)
EOF2
LN=$(grep -n '^gid:' misindent.yaml | cut -d: -f1)
expect_fail "matrix check: a key indented out of its mapping is named as mis-indented" 78 \
	"misindent.yaml:$LN:1: gid: unknown key here: 'gid' is a key of run_as (mis-indented?)" \
	"$CALYX" matrix check misindent.yaml
sed -e 's/^  uid: /   uid: /' -e 's/^gid: /  gid: /' misindent.yaml >misindent2.yaml
expect_fail "matrix check: keys of one mapping at two indentations: the columns are named" 78 \
	"a mis-indented key? line $LN starts at column 3, line $((LN - 1)) at column 4" \
	"$CALYX" matrix check misindent2.yaml
expect_fail "matrix check: a missing file is 74" 74 "nope.yaml: cannot open" "$CALYX" matrix check nope.yaml
expect_fail "matrix check needs FILE" 64 "missing FILE" "$CALYX" matrix check

# fail_on_denial (optional, true/false): accepted, anything else names the key.
sed -e '$a fail_on_denial: true' trust.yaml >fod.yaml
run verify --matrix fod.yaml good.tok
check "matrix: fail_on_denial: true accepted" $([ $rc -eq 0 ]; echo $?)
sed -e '$a fail_on_denial: yes' trust.yaml >fod-bad.yaml
expect_fail "matrix: fail_on_denial: yes refused (78), naming the key" 78 "fail_on_denial" \
	verify --matrix fod-bad.yaml good.tok

# ---------------------------------------------------------------- network allow rules
NA=(--key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd 'python3 --version' --aud "$HOST")
run issue "${NA[@]}" --net 'allow=10.1.0.0/16:443' --net 'allow=[2001:db8::/32]:*/udp' \
	--net 'allow=[::ffff:127.0.0.1]:53/udp'
echo "$out" >net.tok
check "issue with --net allow= rules" $([ $rc -eq 0 ]; echo $?)
run verify --pub $PUB --json net.tok
check "the claim: network.allow exactly, the mapped rule as IPv4" $(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
c = d.get("claims", d)
want = {"allow": [{"cidr": "10.1.0.0/16", "port": 443, "proto": "tcp"},
                  {"cidr": "2001:db8::/32", "port": 0, "proto": "udp"},
                  {"cidr": "127.0.0.1/32", "port": 53, "proto": "udp"}]}
sys.exit(0 if c["network"] == want else 1)' "$out"; echo $?)
run "$CALYX" lease show net.tok
check "show lists the rules" $([ $rc -eq 0 ] && [[ "$out" == *"network     allow 10.1.0.0/16:443/tcp"*"allow [2001:db8::/32]:*/udp"*"allow 127.0.0.1/32:53/udp"* ]]; echo $?)
expect_fail "--net: a bare network is refused (64)" 64 "bad --net '10.0.0.0/8': want deny_all or allow=CIDR:PORT[/tcp|/udp]" \
	issue "${NA[@]}" --net 10.0.0.0/8
expect_fail "--net allow: IPv6 without brackets (64)" 64 "an IPv6 network goes in brackets" \
	issue "${NA[@]}" --net 'allow=2001:db8::/32:443'
expect_fail "--net allow: host bits set (64)" 64 "address has bits set beyond the /8 prefix" \
	issue "${NA[@]}" --net 'allow=10.0.0.1/8:443'
expect_fail "--net allow: port 0 (64)" 64 "port must be 1..65535 or '*'" issue "${NA[@]}" --net 'allow=10.0.0.0/8:0'
expect_fail "--net allow: protocol (64)" 64 "protocol must be tcp or udp" issue "${NA[@]}" --net 'allow=10.0.0.0/8:1/icmp'
expect_fail "--net deny_all with allow= rules (64)" 64 "bad --net deny_all: allow= rules were given too" \
	issue "${NA[@]}" --net 'allow=10.0.0.0/8:1' --net deny_all
expect_fail "verify --matrix (deny_all) refuses allow rules (66)" 66 \
	"claim 'network.allow[0]' = 10.1.0.0/16:443/tcp is not within the matrix's bounds (network: deny_all)" \
	verify --matrix trust.yaml net.tok
sed -e 's|^network: deny_all$|network: {allow: ["10.0.0.0/8:*/tcp", "[2001:db8::/32]:*/udp", "127.0.0.0/8:53/udp"]}|' \
	trust.yaml >net.yaml
run verify --matrix net.yaml net.tok
check "verify --matrix with bounds around every rule: OK" $([ $rc -eq 0 ] && [[ "$out" == OK\ * ]]; echo $?)
sed -e 's|^network: deny_all$|network: {allow: ["10.1.0.0/24:*/tcp"]}|' trust.yaml >net-narrow.yaml
expect_fail "verify --matrix with narrower bounds refuses, naming claim, value and bounds (66)" 66 \
	"claim 'network.allow[0]' = 10.1.0.0/16:443/tcp is not within the matrix's bounds (network.allow: 10.1.0.0/24:*/tcp)" \
	verify --matrix net-narrow.yaml net.tok
expect_fail "issue --matrix refuses too, and signs nothing (66)" 66 "nothing was signed" \
	issue "${NA[@]}" --net 'allow=10.1.0.0/16:443' --matrix net-narrow.yaml -o net-none.tok
check "... no token written" $([ ! -e net-none.tok ]; echo $?)
sed -e 's|^network: deny_all$|network: {allow: ["10.0.0.1/8:*"]}|' trust.yaml >net-bad.yaml
expect_fail "a matrix bound with host bits set: exit 78 naming the key and the rule" 78 \
	"network.allow[0]: rule '10.0.0.1/8:*': network '10.0.0.1/8': address has bits set" \
	verify --matrix net-bad.yaml net.tok

# ---------------------------------------------------------------- run: the summary's options
run "$CALYX" run --help
check "run --help lists --quiet and --fail-on-denial" \
	$([ $rc -eq 0 ] && grep -q -- "-q, --quiet" "$T/.out" && grep -q -- "--fail-on-denial" "$T/.out"; echo $?)
expect_fail "there is no --no-fail-on-denial (the matrix's rule cannot be turned off)" 64 \
	"unknown option '--no-fail-on-denial'" "$CALYX" run --no-fail-on-denial --lease l --pub p -- true
# A run that stops before its command: the error line, then the one-line summary; -q: only
# the error line.
run "$CALYX" run --lease "$T/none.tok" --pub "$PUB" --fail-on-denial -- true
check "run that never started: the error, then 'the command did not start'" \
	$([ $rc -eq 74 ] && [ "$(wc -l <"$T/.err")" -eq 2 ] &&
	  [ "$(tail -n 1 "$T/.err")" = "calyx: summary: the command did not start (exit 74); the lease was not used" ]; echo $?)
run "$CALYX" run -q --lease "$T/none.tok" --pub "$PUB" -- true
check "... with -q only the error line" $([ $rc -eq 74 ] && [ "$(wc -l <"$T/.err")" -eq 1 ] &&
	! grep -q summary "$T/.err"; echo $?)

# ---------------------------------------------------------------- paths that grant nothing useful
run "$CALYX" lease issue --help
check "lease issue --help shows the * / ** difference" \
	$(grep -qF "DIR/* admits the entries directly in DIR (DIR/a.txt, and DIR/sub itself," "$T/.out" &&
	  grep -qF "but not DIR/sub/b.txt); DIR/** admits DIR and everything below it, at any depth." "$T/.out"; echo $?)
mkdir -p tree/a tree/b && echo x >tree/a/f
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --path "$T/tree/*" --path "$T/absent:rw"
check "issue: DIR/* over only directories warns, suggesting DIR/**" \
	$([ $rc -eq 0 ] && grep -qxF "calyx: warning: lease path $T/tree/* grants only the entries directly in its directory, and all 2 entries of $T/tree are directories: the files below them are not admitted ($T/tree/** admits the whole tree)" "$T/.err"; echo $?)
check "issue: a missing path warns" \
	$(grep -qxF "calyx: warning: lease path $T/absent does not exist on this host (No such file or directory): a run here would not see it" "$T/.err"; echo $?)
echo y >tree/g
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --path "$T/tree/*" --path "$T/tree/**"
check "issue: no warning for DIR/* with a file in DIR, nor for DIR/**" $([ $rc -eq 0 ] && ! grep -q warning "$T/.err"; echo $?)

# ---------------------------------------------------------------- #!/usr/bin/env scripts
# env is the script's interpreter (bound by calyx), but the program env execs needs its own
# place in the lease: lease issue says which helper to add.
printf '#!/usr/bin/env sh\necho hi\n' >envscript.sh && chmod 755 envscript.sh
SH_REAL=$(PATH=/usr/local/bin:/usr/bin:/bin command -v sh | xargs realpath)
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd "$T/envscript.sh"
check "issue: a #!/usr/bin/env script command warns, naming the helper to add" \
	$([ $rc -eq 0 ] && grep -qF "calyx: warning: script command $T/envscript.sh starts with '#!/usr/bin/env sh': env then execs sh ($SH_REAL), which this lease does not allow, so calyx run refuses the command (68); add --helper sh, or make the #! line '#!$SH_REAL'" "$T/.err"; echo $?)
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd "$T/envscript.sh" --helper sh
check "... not with --helper sh" $([ $rc -eq 0 ] && ! grep -q "env then execs" "$T/.err"; echo $?)

# ---------------------------------------------------------------- not root
# As nobody (setpriv, util-linux): run and enforcer start say calyx needs root and why (69),
# before any probe fails with EPERM; doctor says why its probes fail. The binary is copied
# where nobody can reach it ($T is root's alone).
NR=$(mktemp -d /tmp/calyx-cli-nr.XXXXXX)
chmod 755 "$NR" && cp "$CALYX" "$NR/calyx" && chmod 755 "$NR/calyx"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
expect_fail "not root: run says it needs root, why, and that the lease was not used (69)" 69 \
	"calyx: run needs root (running as uid 65534): it loads the enforcer (BPF LSM or Landlock), makes the sandbox's cgroup and namespaces, and keeps the state dir and the ledger root's; run it as root (sudo calyx run …); nothing was run, the lease was not used" \
	as_nobody "$NR/calyx" run --lease "$T/good.tok" --pub "$T/$PUB" -- true
check "... in one line, nothing about EPERM" $([ "$(wc -l <"$T/.err")" -eq 1 ] && ! grep -q "not permitted" "$T/.err"; echo $?)
expect_fail "not root: enforcer start says it needs root (69)" 69 \
	"calyx: enforcer start needs root (running as uid 65534): loading and pinning BPF programs" \
	as_nobody "$NR/calyx" enforcer start
run as_nobody "$NR/calyx" doctor
check "not root: doctor's first line says its probes fail for that reason" \
	$(head -n 1 "$T/.out" | grep -qF "note: not running as root (uid 65534): the BPF and cgroup probes below fail"; echo $?)
cp "$T/.out" "$T/doctor.out"
# doctor -v: everything doctor says (as this same user, so the same probes), then more.
run as_nobody "$NR/calyx" doctor -v
check "doctor -v shows what doctor shows, then a details section" \
	$(n=$(wc -l <"$T/doctor.out"); [ "$n" -gt 5 ] && head -n "$n" "$T/.out" | cmp -s - "$T/doctor.out" &&
	  [ "$(wc -l <"$T/.out")" -gt "$n" ] && sed -n "$((n + 1))p" "$T/.out" | grep -qx "details (-v):" &&
	  grep -qE "^  running as +uid 65534 \(calyx run needs root\)$" "$T/.out"; echo $?)
cp "$T/.out" "$T/doctor-v.out"
# doctor --json: the same details as doctor -v (each fact of the details section, parsed).
run as_nobody "$NR/calyx" doctor --json
check "doctor --json holds doctor -v's details: uid, state dir, bpffs, cgroup root, Landlock ABIs" \
	$(python3 - "$T/.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["details"]
assert d["uid"] == 65534 and d["root"] is False, d
assert isinstance(d["state_dir"]["path"], str) and d["state_dir"]["path"] and isinstance(d["state_dir"]["exists"], bool), d
assert d["bpffs"]["path"] == "/sys/fs/bpf" and isinstance(d["bpffs"]["mounted"], bool), d
assert d["cgroup_v2_root"] is None or d["cgroup_v2_root"]["path"].startswith("/"), d
abis = [a["abi"] for a in d["landlock_abis"]]
assert abis == list(range(1, len(abis) + 1)), abis
PY
	  echo $?)
# ... and the same values as the text of doctor -v prints
check "... the values doctor -v prints" \
	$(python3 - "$T/.out" "$T/doctor-v.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["details"]
t = open(sys.argv[2]).read()
assert "running as           uid %d" % d["uid"] in t, t
assert d["state_dir"]["path"] + " (" in t, t
if d["cgroup_v2_root"]:
    assert "cgroup v2 root       " + d["cgroup_v2_root"]["path"] + " (enabled below the root: " in t, t
for a in d["landlock_abis"]:
    assert a["adds"] in t, a
PY
	  echo $?)
cp "$T/$PUB" "$T/good.tok" "$NR/" && chmod 644 "$NR/good.tok"
run as_nobody "$NR/calyx" lease verify --pub "$NR/calyx.pub" "$NR/good.tok"
check "not root: lease verify still works (it needs no privilege)" $([ $rc -eq 0 ]; echo $?)
rm -rf "$NR"

# A refusal after the lease verified says whether it was used, with -q too (68 comes before
# cgroups or the enforcer are touched; only the refusal's record is written, in $T/st-q).
run issue --key $KEY --intent INT-TEST-SANDBOX --ttl 5m --cmd true --aud "$HOST"
echo "$out" >runq.tok
run "$CALYX" run -q --lease runq.tok --pub "$PUB" --state "$T/st-q" -- false
check "run -q, refused after verification: the error, then whether the lease was used" \
	$([ $rc -eq 68 ] && [ "$(wc -l <"$T/.err")" -eq 2 ] &&
	  [ "$(head -n 1 "$T/.err")" = "calyx: command not allowed: 'false' is not one of the lease's commands" ] &&
	  [ "$(tail -n 1 "$T/.err")" = "calyx: the lease was not used" ]; echo $?)
run "$CALYX" run --lease runq.tok --pub "$PUB" --state "$T/st-q" -- false
check "... without -q the summary says it" \
	$([ $rc -eq 68 ] && [ "$(tail -n 1 "$T/.err")" = "calyx: summary: the command did not start (exit 68); the lease was not used" ]; echo $?)

# ---------------------------------------------------------------- interop (independent PASETO v4)
NPM_DIR="${CALYX_NPM_DIR:-$ROOT/build/npm}"
interop_ready=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	interop_reason="node/npm not installed"
elif [ -f "$NPM_DIR/node_modules/paseto/package.json" ]; then
	interop_ready=1
elif timeout 300 npm install --prefix "$NPM_DIR" --no-audit --no-fund --silent paseto@4 >"$T/npm.log" 2>&1; then
	interop_ready=1
else
	interop_reason="npm install paseto@4 failed: $(grep -v "^\s*$" "$T/npm.log" | tail -n 1)"
fi
if [ -n "$interop_ready" ]; then
	NM="$NPM_DIR/node_modules"
	run node "$HERE/interop.mjs" verify "$NM" $PUB good.tok "$NOW"
	check "interop: panva/paseto verifies calyx's token" \
		$([ $rc -eq 0 ] && [[ "$out" == *'"intent":"INT-TEST-SANDBOX"'* ]] && [[ "$out" == *"{\"kid\":\"$PID_A\"}"* ]]; echo $?)
	run node "$HERE/interop.mjs" verify "$NM" keys/b/calyx.pub good.tok "$NOW"
	check "interop: panva/paseto rejects calyx's token under another key" $([ $rc -ne 0 ] && [ -s good.tok ] && grep -q '^v4\.public\.' good.tok; echo $?)
	# claims written here, not by calyx: an independent issuer
	python3 - "$NOW" "$PID_A" "$HOST" >ext-claims.json <<'EOF'
import json, sys, time
now, kid, host = int(sys.argv[1]), sys.argv[2], sys.argv[3]
f = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
print(json.dumps({"jti": time.strftime("LEASE-%Y%m%d-%H%M%S-", time.gmtime(now)) + "beef",
                  "intent": "INT-TEST-SANDBOX", "iat": f(now), "nbf": f(now), "exp": f(now + 300),
                  "iss": kid, "commands": [["python3", "--version"]],
                  "paths": [{"pattern": "repo://calyx/tools/*", "access": "ro"}],
                  "network": "deny_all", "limits": {"mem_bytes": 268435456}, "runs": 1, "aud": host}))
EOF
	run node "$HERE/interop.mjs" sign "$NM" $KEY ext-claims.json "{\"kid\":\"$PID_A\"}"
	echo "$out" >ext.tok
	run verify --pub $PUB --json ext.tok
	check "interop: calyx verifies a token signed by panva/paseto" \
		$([ $rc -eq 0 ] && [[ "$out" == *'"jti":"LEASE-'*'-beef"'* ]]; echo $?)
	run verify --matrix trust.yaml ext.tok
	check "interop: calyx verifies it against the matrix" $([ $rc -eq 0 ] && [[ "$out" == "OK LEASE-"*"-beef intent INT-TEST-SANDBOX"* ]]; echo $?)
	python3 - <<'EOF' >ext-bad.json
import json
d = json.load(open("ext-claims.json")); d["shell"] = "/bin/sh"
print(json.dumps(d))
EOF
	run node "$HERE/interop.mjs" sign "$NM" $KEY ext-bad.json "{\"kid\":\"$PID_A\"}"
	echo "$out" >ext-bad.tok
	expect_fail "interop: validly signed token with an unknown claim rejected" 65 "bad claims" \
		verify --pub $PUB ext-bad.tok
	run node "$HERE/interop.mjs" sign "$NM" $KEY ext-claims.json '{"kid":"k4.pid.nope"}'
	echo "$out" >ext-kid.tok
	expect_fail "interop: signed footer with a foreign kid rejected" 65 "key id mismatch" verify --pub $PUB ext-kid.tok
else
	skip "interop with panva/paseto: $interop_reason"
fi

echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
