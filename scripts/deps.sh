#!/usr/bin/env bash
# Install every Debian package calyx needs to build, test and demo, and the ones named as
# arguments.
# Idempotent and quick when everything is present: dpkg is asked first, apt only when
# something is missing. Run as root (CI and the dev machines are root).
set -euo pipefail

# Extra packages named on the command line are installed the same way (make bench: its
# peers and timers, tests/bench/run.sh; the host tier's report test: chromium and a font,
# tests/host/report.sh; its Day 5 test and make demo: flake8, tests/host/day5.sh and
# scripts/demo.sh).
PKGS=(
  "$@"
  make gcc pkg-config
  clang-19 llvm-19 libclang-rt-19-dev libfuzzer-19-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libsodium-dev libyaml-dev libcjson-dev libcmocka-dev libseccomp-dev libarchive-dev
  python3 python3-nacl cpio gzip busybox-static qemu-system-x86 iproute2
)

missing=()
for p in "${PKGS[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent on a fresh machine: update once, then install.
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
