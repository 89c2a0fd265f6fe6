#!/usr/bin/env bash
# Find one of Debian 12's packaged cloud kernels for the VM test tier and print the path of
# its vmlinuz on stdout. Installed kernel: /boot/vmlinuz-VERSION. Otherwise the signed .deb
# is downloaded once and extracted (no root needed); later runs reuse it. The 6.1 kernel is
# cached in BUILD_VM_DIR itself (kernel.version, kernel/), any other series in
# BUILD_VM_DIR/kernel-SERIES/ with the same layout.
# Usage: scripts/vm-kernel.sh [--kernel SERIES] [BUILD_VM_DIR]   (default 6.1, build/vm)
#        SERIES: 6.1 (linux-image-6.1.0-N-cloud-amd64) or e.g. 6.12
#        (linux-image-6.12.N+deb12-cloud-amd64); same as VM_KERNEL=SERIES
set -euo pipefail

die() { echo "vm-kernel: $*" >&2; exit 1; }

series=${VM_KERNEL:-6.1} dir=
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) [ $# -ge 2 ] || die "--kernel wants a series"; series=$2; shift 2 ;;
    --kernel=*) series=${1#*=}; shift ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$dir" ] || die "one BUILD_VM_DIR only"; dir=$1; shift ;;
  esac
done
case $series in
  [0-9]*.[0-9]*) case $series in *[!0-9.]*|*.*.*) die "bad kernel series '$series' (e.g. 6.1, 6.12)" ;; esac ;;
  *) die "bad kernel series '$series' (e.g. 6.1, 6.12)" ;;
esac
dir=${dir:-build/vm}
[ "$series" = 6.1 ] || dir="$dir/kernel-$series"
mkdir -p "$dir"

# The cached extraction is reused as is: a second run must not touch the network.
if [ -f "$dir/kernel.version" ]; then
  ver=$(cat "$dir/kernel.version")
  if [ -f "/boot/vmlinuz-$ver" ]; then echo "/boot/vmlinuz-$ver"; exit 0; fi
  if [ -s "$dir/kernel/boot/vmlinuz-$ver" ]; then echo "$dir/kernel/boot/vmlinuz-$ver"; exit 0; fi
fi

# Newest signed flavour: the "-unsigned" and "-dbg" packages are excluded by the anchors.
# 6.1 is named 6.1.0-ABI, later series 6.12.PATCH+debN; "6\.1" never matches 6.12.
pattern="^linux-image-${series//./\\.}(\\.[0-9]+)*(-[0-9]+|\\+deb[0-9]+)-cloud-amd64\$"
find_newest() {
  apt-cache search --names-only "$pattern" 2>/dev/null | awk '{print $1}' | sort -V | tail -n1
}
pkg=$(find_newest)
if [ -z "$pkg" ]; then
  echo "vm-kernel: no linux-image-$series*-cloud-amd64 in the apt lists; running apt-get update" >&2
  apt-get update -qq >/dev/null || die "apt-get update failed"
  pkg=$(find_newest)
fi
[ -n "$pkg" ] || die "no linux-image-$series*-cloud-amd64 package found in apt (Debian 12 bookworm sources needed)"
ver=${pkg#linux-image-}

if [ -f "/boot/vmlinuz-$ver" ]; then
  echo "$ver" > "$dir/kernel.version"
  echo "/boot/vmlinuz-$ver"
  exit 0
fi

vmlinuz="$dir/kernel/boot/vmlinuz-$ver"
if [ ! -s "$vmlinuz" ]; then
  echo "vm-kernel: downloading $pkg" >&2
  rm -f "$dir"/"$pkg"_*.deb
  (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) || die "apt-get download $pkg failed"
  deb=$(ls "$dir"/"$pkg"_*.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || die "apt-get download left no $pkg .deb in $dir"
  rm -rf "$dir/kernel.tmp"
  mkdir -p "$dir/kernel.tmp"
  dpkg-deb -x "$deb" "$dir/kernel.tmp" || die "dpkg-deb -x $deb failed"
  # The signed package ships the kernel image; make sure this one really does.
  [ -s "$dir/kernel.tmp/boot/vmlinuz-$ver" ] || die "$deb contains no boot/vmlinuz-$ver"
  # Modules are not used (everything the tests need is built in): drop them to save space.
  rm -rf "$dir/kernel.tmp/lib/modules" "$dir/kernel.tmp/usr"
  rm -rf "$dir/kernel"
  mv "$dir/kernel.tmp" "$dir/kernel"
  rm -f "$deb"
fi
echo "$ver" > "$dir/kernel.version"
echo "$vmlinuz"
