#!/usr/bin/env bash
# Builds tests/host/enforcer_smoke against the calyx objects and runs it.
#   tests/host/enforcer.sh            host: the landlock-backend program set
#   tests/host/enforcer.sh --vm       in the 6.1 VM (scripts/vm-test.sh): the bpf-lsm set
#   tests/host/enforcer.sh --build    only build build/tests/enforcer_smoke
set -euo pipefail
cd "$(dirname "$0")/../.."
# Only the modules the enforcer needs (the rest of calyx may be mid-change).
mods="loader loader_rules landlock pathpat matrix lease paseto units shipped_matrix"
objs=$(for m in $mods; do echo build/obj/$m.o; done)
make -s $objs
bin=build/tests/enforcer_smoke
mkdir -p build/tests
gcc -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I user -I bpf -I build \
  -o "$bin" tests/host/enforcer_smoke.c $objs \
  $(pkg-config --libs libsodium yaml-0.1 libcjson libbpf) -lelf -lz
case ${1:-} in
  --build) exit 0 ;;
  --vm) exec scripts/vm-test.sh --add "$PWD/$bin" --shell-cmd "$PWD/$bin bpf-lsm" build/calyx ;;
  *) exec "$bin" landlock ;;
esac
