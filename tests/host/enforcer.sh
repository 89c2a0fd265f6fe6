#!/usr/bin/env bash
# Builds tests/host/enforcer_smoke against the calyx library objects and runs it.
#   tests/host/enforcer.sh [CALYX_BIN]       host: the resident landlock set (brought up if
#                                            it is not; left up, without any slot or cgroup
#                                            of the test). tests/host/run.sh passes
#                                            CALYX_BIN: it shows the set afterwards
#   tests/host/enforcer.sh --vm [CALYX_BIN]  the bpf-lsm set: the VM tier's t_enforcer_smoke
#                                            alone (make test-vm runs it with every other test)
#   tests/host/enforcer.sh --build [OUT]     only build OUT (default build/tests/enforcer_smoke)
# The resident sets, their root cgroups and bpffs are host-wide: run the host tier under
# the tier lock when others may run it too (flock /tmp/calyx-tier.lock ...).
set -euo pipefail
cd "$(dirname "$0")/../.."

# Every library module, through an archive: the linker takes only what the enforcer
# needs, and a helper module split out of another one is found without a list to update.
# The objects are those of CALYX_BIN's build (tests/lib/objs.sh: build/asan under make
# test-asan, with its sanitizer flags); build/ for --build, --vm or no CALYX_BIN.
case ${1:-} in
  --build|--vm|'') CALYX=build/calyx ;;
  *) CALYX=$1 ;;
esac
. tests/lib/objs.sh
build() {
  local out=$1 objs tmp
  objs=$(for c in user/*/*.c; do
           [ "$c" = user/cli/main.c ] || { c=${c#user/}; echo "$BUILD/obj/${c%.c}.o"; }
         done; echo "$BUILD/obj/shipped_matrix.o" "$BUILD/obj/version.o")
  # shellcheck disable=SC2086 # one word per object
  make -s BUILD="$BUILD" SANITIZE="$OBJ_CFLAGS" $objs
  mkdir -p "$(dirname "$out")"
  # Private temp names: the host and VM tiers may build at the same time.
  tmp=$(mktemp -d "$(dirname "$out")/.enforcer_smoke.XXXXXX")
  # shellcheck disable=SC2086
  ar rcs "$tmp/libcalyx.a" $objs
  # shellcheck disable=SC2046 # pkg-config prints several flags
  # shellcheck disable=SC2086 # OBJ_CFLAGS: several flags or none
  gcc -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE $OBJ_CFLAGS -I user -I bpf -I "$BUILD" \
    -o "$tmp/enforcer_smoke" tests/host/enforcer_smoke.c "$tmp/libcalyx.a" \
    $(pkg-config --libs libsodium yaml-0.1 libcjson libbpf libseccomp) -lelf -lz ||
    { rm -rf "$tmp"; exit 1; }
  mv "$tmp/enforcer_smoke" "$out"
  rm -rf "$tmp"
}

case ${1:-} in
  --build) build "${2:-build/tests/enforcer_smoke}" ;;
  --vm) exec scripts/vm-test.sh --tests t_enforcer_smoke "${2:-build/calyx}" ;;
  *)
    build "$BUILD/tests/enforcer_smoke"
    rc=0
    # (Under make test-asan: enforcer_smoke.c, __asan_default_options, says what LSan checks.)
    "$BUILD/tests/enforcer_smoke" landlock || rc=$?
    if [ -n "${1:-}" ] && [ -x "$1" ]; then
      echo "# after the test:"
      "$1" enforcer status --enforce landlock | sed 's/^/#   /' || true
    fi
    exit "$rc" ;;
esac
