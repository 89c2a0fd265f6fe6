#!/usr/bin/env bash
# Find Debian's packaged 6.1 cloud kernel for the VM test tier and print the path of its
# vmlinuz on stdout. Installed kernel: /boot/vmlinuz-VERSION. Otherwise the signed .deb is
# downloaded once into build/vm/ and extracted there (no root needed); later runs reuse it.
# Usage: scripts/vm-kernel.sh [BUILD_VM_DIR]   (default build/vm)
set -euo pipefail

dir=${1:-build/vm}
mkdir -p "$dir"

die() { echo "vm-kernel: $*" >&2; exit 1; }

# The cached extraction is reused as is: a second run must not touch the network.
if [ -f "$dir/kernel.version" ]; then
  ver=$(cat "$dir/kernel.version")
  if [ -f "/boot/vmlinuz-$ver" ]; then echo "/boot/vmlinuz-$ver"; exit 0; fi
  if [ -s "$dir/kernel/boot/vmlinuz-$ver" ]; then echo "$dir/kernel/boot/vmlinuz-$ver"; exit 0; fi
fi

# Newest signed flavour: the "-unsigned" and "-dbg" packages are excluded by the anchors.
find_newest() {
  apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
    awk '{print $1}' | sort -V | tail -n1
}
pkg=$(find_newest)
if [ -z "$pkg" ]; then
  echo "vm-kernel: no linux-image-6.1.0-*-cloud-amd64 in the apt lists; running apt-get update" >&2
  apt-get update -qq >/dev/null || die "apt-get update failed"
  pkg=$(find_newest)
fi
[ -n "$pkg" ] || die "no linux-image-6.1.0-*-cloud-amd64 package found in apt (Debian 12 bookworm sources needed)"
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
