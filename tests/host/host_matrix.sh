#!/usr/bin/env bash
# The host matrix (docs/matrix.md "Which matrix"): `calyx run --pub KEY` without --matrix
# reads the installed /etc/calyx/capability_matrix.yaml when something is there, and the
# compiled-in shipped matrix only when nothing is:
# - nothing there: the shipped matrix (the refusal record says "shipped");
# - a host file there: that file (a copy of the shipped one with the capability disabled
#   refuses every lease with 66; the refusal record names the file and its BLAKE2b);
# - --matrix FILE wins over the host file;
# - a broken host file is refused with 78, an unreadable one (a dangling symlink) with 74:
#   never a fallback to the shipped matrix.
# Every attempt (when the lookup is right) is refused while the lease and matrix are
# checked, before any cgroup or BPF state is touched. The binary under test is this build
# relinked with the host matrix's path moved into the scratch dir (the path is the build's
# SYSCONFDIR, in build/version.c), so /etc is never written.
#   tests/host/host_matrix.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
. tests/lib/objs.sh
suite_scratch host_matrix

HOSTM=$T/etc/calyx/capability_matrix.yaml
# The variant binary: every object of this build but version.o, and a version.o with the
# same version and the scratch host matrix path.
VERSION=$("$CALYX" --version | sed 's/^calyx //')
printf 'const char calyx_version[] = "%s";\nconst char calyx_host_matrix[] = "%s";\n' "$VERSION" "$HOSTM" >"$T/version.c"
# (From the sources, as tests/host/enforcer.sh does: a stale object of a removed module
# must not be linked.)
objs=$(for c in user/*/*.c; do c=${c#user/}; echo "$BUILD/obj/${c%.c}.o"; done; echo "$BUILD/obj/shipped_matrix.o")
# shellcheck disable=SC2046,SC2086 # one word per object and flag
gcc $OBJ_CFLAGS -c -o "$T/version.o" "$T/version.c" &&
  gcc $OBJ_CFLAGS -o "$T/calyx" $objs "$T/version.o" $(pkg-config --libs libsodium yaml-0.1 libcjson libbpf libseccomp libarchive) -lelf -lz ||
  { bad "relink calyx with the scratch host matrix path"; finish; }
H=$T/calyx
check "the relinked calyx is this build's version and reads $HOSTM" \
  sh -c "[ \"\$('$H' --version)\" = \"\$('$CALYX' --version)\" ] && grep -qF '$HOSTM' '$H'"

"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
KEY=$T/k/calyx.key PUB=$T/k/calyx.pub
# A lease for another host: the shipped matrix refuses it (66, claim 'aud'), so an attempt
# that gets that far shows which matrix was read without running anything.
"$CALYX" lease issue -k "$KEY" -i INT-TEST-HOSTM --ttl 5m --cmd true --aud not-this-host -o "$T/l.tok" 2>"$T/issue.err" ||
  { bad "lease issue: $(cat "$T/issue.err")"; finish; }
# A lease for this host: only a matrix with the capability disabled refuses it before
# anything runs (the capability is checked after the lease).
"$CALYX" lease issue -k "$KEY" -i INT-TEST-HOSTM --ttl 5m --cmd true --aud "$(uname -n)" -o "$T/here.tok" 2>"$T/issue.err" ||
  { bad "lease issue: $(cat "$T/issue.err")"; finish; }
ST=$T/state LOG=$T/state/logs/svf_audit/svf.jsonl
LEASE=$T/l.tok
run() { "$H" run --lease "$LEASE" --pub "$PUB" --state "$ST" "$@" -- true >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err"); }
# refused CODE MATRIX-PATH: the exit code, and the log's last refusal names that matrix
# (its BLAKE2b-256 too when it is a file that was read)
refused() {
  [ "$RC" -eq "$1" ] || { WHY="exit $RC, expected $1; stderr: $ERR"; return 1; }
  WHY=$(python3 - "$LOG" "$1" "$2" <<'EOF'
import hashlib, json, os, sys
log, code, mpath = sys.argv[1:]
recs = [json.loads(l) for l in open(log, "rb").read().splitlines()]
rec = [r for r in recs if r["type"] == "lease_event.refused"][-1]
d = rec["data"]
if d["exit_code"] != int(code): sys.exit("last refusal: exit_code %s" % d["exit_code"])
if d["matrix_file"]["path"] != mpath: sys.exit("matrix_file.path %r, expected %r" % (d["matrix_file"]["path"], mpath))
if mpath != "shipped" and os.path.isfile(mpath) and code != "78":
    want = hashlib.blake2b(open(mpath, "rb").read(), digest_size=32).hexdigest()
    if d["matrix_file"]["blake2b"] != want: sys.exit("matrix_file.blake2b %r, expected %r" % (d["matrix_file"]["blake2b"], want))
EOF
) || return 1
}

# ---------------------------------------------------------------- nothing at the path
run
check "no host file: the shipped matrix: 66, claim 'aud' named, the record says \"shipped\"" \
  eval 'refused 66 shipped && [[ $ERR == *not-this-host* ]]'

# ---------------------------------------------------------------- a host file
mkdir -p "$(dirname "$HOSTM")"
sed 's/^  exec_staging_with_lease: true$/  exec_staging_with_lease: false/' policies/capability_matrix.yaml >"$HOSTM"
grep -q 'exec_staging_with_lease: false' "$HOSTM" || bad "the test's host matrix disables the capability"
LEASE=$T/here.tok run
check "a host file: it is the matrix (66, its capability 'exec_staging_with_lease' disabled; the record names the file and its hash)" \
  eval 'refused 66 "$HOSTM" && [[ $ERR == *"capability '"'exec_staging_with_lease'"' is disabled"* ]]'
cp policies/capability_matrix.yaml "$T/other.yaml"
run --matrix "$T/other.yaml"
check "--matrix wins over the host file (66 for the lease's aud, the record names --matrix's file)" \
  eval 'refused 66 "$T/other.yaml" && [[ $ERR == *not-this-host* ]] && [[ $ERR != *exec_staging_with_lease* ]]'

# ---------------------------------------------------------------- a broken host file: no fallback
printf 'version: 1\nmax_lease_ttl: [\n' >"$HOSTM"
run
check "a malformed host file: 78 naming it, not the shipped matrix" \
  eval 'refused 78 "$HOSTM" && [[ $ERR == *"capability matrix: $HOSTM"* ]]'
rm -f "$HOSTM" && ln -s "$T/nonexistent.yaml" "$HOSTM"
run
check "a host file that cannot be read (dangling symlink): 74, not the shipped matrix" \
  eval 'refused 74 "$HOSTM" && [[ $ERR == *"$HOSTM: cannot open"* ]]'
rm -f "$HOSTM"
run
check "the host file removed again: the shipped matrix" eval 'refused 66 shipped'

finish
