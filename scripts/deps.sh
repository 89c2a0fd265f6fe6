#!/usr/bin/env bash
# Install the Debian packages one purpose of calyx needs, and the ones named as arguments.
#   scripts/deps.sh [--list] [GROUP | PACKAGE]...
# A GROUP is one of the names below; any other argument is a Debian package, installed
# the same way (make bench: its peers and timers, tests/bench/run.sh; the host tier's
# report test: chromium and a font, tests/host/report.sh; its Day 5 test and make demo:
# flake8, tests/host/day5.sh and scripts/demo.sh). No argument means "build".
# --list prints the packages the arguments stand for, one a line, and installs nothing.
# The Makefile passes the groups of the targets it was asked for (DEPS_FOR_* there), so
# `make` alone never installs QEMU or the fuzzing toolchain, and `make test` on a fresh
# machine installs everything its tiers run.
# Idempotent and quick when everything is present: dpkg is asked first, apt only when
# something is missing. Run as root (CI and the dev machines are root).
set -euo pipefail

declare -A GROUP=(
  # the binary: compiler, the BPF toolchain (clang for bpf/, bpftool for the skeletons)
  # and the libraries it links
  [build]="make gcc pkg-config clang-19 llvm-19 libbpf-dev bpftool libelf-dev zlib1g-dev
           libsodium-dev libyaml-dev libcjson-dev libseccomp-dev libarchive-dev
           libcurl4-openssl-dev"
  # make test-unit: cmocka
  [unit]="libcmocka-dev"
  # make test-cli and the host tier's checkers (JSON, token surgery, the SVF checker);
  # the group ledger's test (tests/host/etcd.sh): an etcd cluster, etcdctl, openssl's CA;
  # rsyslog ships the SVF log (tests/host/shipping.sh), prometheus gives promtool
  # (tests/host/metrics.sh)
  [test]="python3 python3-nacl etcd-server etcd-client openssl rsyslog prometheus"
  # the VM tier (scripts/vm-test.sh): QEMU and the initramfs' contents
  [vm]="qemu-system-x86 cpio gzip busybox-static iproute2"
  # make fuzz: libFuzzer and the sanitizer runtimes for clang-19
  [fuzz]="clang-19 libclang-rt-19-dev libfuzzer-19-dev"
  # make install's test (tests/host/install.sh): man -l, groff's warnings, the unit check
  [install]="man-db groff-base systemd"
  # make demo: the Day 5 linter and the checkers (it falls back to the VM tier when no
  # backend works on the host, so the Makefile adds "vm" too)
  [demo]="python3 python3-nacl flake8"
)

list=0
[ "${1:-}" != --list ] || { list=1; shift; }
[ $# -gt 0 ] || set -- build
PKGS=()
for a in "$@"; do
  if [ -n "${GROUP[$a]:-}" ]; then
    read -r -a g <<<"$(echo ${GROUP[$a]})"
    PKGS+=("${g[@]}")
  else
    PKGS+=("$a")
  fi
done

if [ $list = 1 ]; then
  printf '%s\n' "${PKGS[@]}" | sort -u
  exit 0
fi
missing=()
for p in $(printf '%s\n' "${PKGS[@]}" | sort -u); do
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
