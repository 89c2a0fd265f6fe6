#!/bin/sh
# Regenerates vmlinux/vmlinux.h (CO-RE type definitions) from a kernel's BTF.
# Usage: vmlinux/regen.sh [BTF_FILE]   (default: the running kernel's /sys/kernel/btf/vmlinux)
# The programs are CO-RE: libbpf relocates every field access against the target kernel's
# BTF at load time, so a header from a newer kernel works on older ones as long as each
# field used exists there too (fields that may be missing are guarded with
# bpf_core_field_exists in bpf/calyx.bpf.c). Committed header: from Linux 6.18.
set -eu
btf=${1:-/sys/kernel/btf/vmlinux}
out=$(dirname "$0")/vmlinux.h
tmp=$out.tmp.$$
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c > "$tmp"
mv "$tmp" "$out"
trap - EXIT
if [ "$btf" = /sys/kernel/btf/vmlinux ]; then
  echo "wrote $out from the running kernel's BTF ($(uname -r))"
else
  echo "wrote $out from $btf"
fi
