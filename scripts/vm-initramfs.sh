#!/usr/bin/env bash
# Build the VM test tier's initramfs (an uncompressed newc cpio; no root needed).
#
# Usage: scripts/vm-initramfs.sh OUT.cpio CALYX_BIN [HOST_FILE...]
# Env:   VM_DIR (default build/vm): holds bin/ (compiled tests/vm/progs) and lsm_probe.bpf.o.
#        VM_RUN (default VM_DIR): this run's directory, with config (the guest runner's
#        settings) and shell-cmd.sh; the tree is staged in VM_RUN/rootfs.
#
# The guest is a merged-/usr layout like the host (/bin -> usr/bin, /lib -> usr/lib, ...),
# so every binary and shared library sits at the same canonical path as on the host: the
# paths calyx resolves, and the capability matrix's runtime baseline, mean the same inside.
# Each binary brings its shared libraries (ldd), including the ELF loader, with the
# symlink chains that lead to them. HOST_FILEs are extra host files copied to the same
# path (with their libraries when they are ELF executables), e.g. a tool the BPF engineer
# wants in the guest.
set -euo pipefail

die() { echo "vm-initramfs: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: $0 OUT.cpio CALYX_BIN [HOST_FILE...]"
out=$1 calyx=$2
shift 2
vm=${VM_DIR:-build/vm}
run=${VM_RUN:-$vm}
src=$(cd "$(dirname "$0")/.." && pwd)
root="$run/rootfs"

[ -x "$calyx" ] || die "$calyx: not an executable (build it first: make build/calyx)"
bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
  ldd "$bb" 2>&1 | grep -q 'not a dynamic' || die "$bb is not the static busybox (busybox-static)"

rm -rf "$root"
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,usr/local/lib/calyx-test}
mkdir -p "$root"/{dev,proc,sys,tmp,run,etc,root,var/lib,tests/vm,tests/escape}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

declare -A added=()

# Copy host path $1 into the tree at its canonical directory, following a symlink chain
# link by link so that every name a loader or a script may use exists in the guest.
add_path() {
  local p=$1 dir name rdir
  case $p in /*) ;; *) die "add_path: not absolute: $p" ;; esac
  dir=$(dirname "$p") name=$(basename "$p")
  rdir=$(realpath -e "$dir") || die "missing directory $dir"
  [ -n "${added[$rdir/$name]:-}" ] && return 0
  added[$rdir/$name]=1
  [ -e "$rdir/$name" ] || [ -L "$rdir/$name" ] || die "missing file $rdir/$name"
  mkdir -p "$root$rdir"
  cp -a --remove-destination "$rdir/$name" "$root$rdir/$name"
  if [ -L "$rdir/$name" ]; then
    local t
    t=$(readlink "$rdir/$name")
    case $t in /*) ;; *) t="$rdir/$t" ;; esac
    add_path "$t"
  fi
}

# Every shared library ldd names for an executable (absolute paths only), and the loader.
add_libs() {
  local lib
  if ! ldd "$1" >/dev/null 2>&1; then
    return 0   # static, or not an ELF program: nothing more to bring
  fi
  while read -r lib; do
    add_path "$lib"
  done < <(ldd "$1" | awk '/=> \// {print $3} /^[[:space:]]*\/[^ ]+ \(0x/ {print $1}')
  if ldd "$1" | grep -q 'not found'; then die "$1: a shared library is not found (ldd)"; fi
}
add_elf() { add_path "$1"; add_libs "$1"; }

# busybox: one real file, every applet a symlink to it. Real programs added later replace
# an applet link of the same name (cp --remove-destination).
cp "$bb" "$root/usr/bin/busybox"
"$bb" --list-full | while read -r a; do
  case $a in */busybox) continue ;; esac
  ln -sf /usr/bin/busybox "$root/$a"
done

add_libs "$calyx"
# libarchive: calyx opens it with dlopen at its first rollback pack, so ldd does not name it.
add_elf /usr/lib/x86_64-linux-gnu/libarchive.so.13
cp --remove-destination "$(realpath -e "$calyx")" "$root/usr/bin/calyx"

# python3 exactly as the host has it: /usr/bin/python3 -> python3.11. `python3 --version`
# needs no standard library (checked in the guest by the dry-run test).
add_elf /usr/bin/python3
add_elf "$(realpath -e /usr/bin/python3)"

# b2sum: BLAKE2b digests of artifacts (busybox has only the SHA family).
add_elf /usr/bin/b2sum

# bpftool: for the BPF engineer's debugging in the guest and the "nothing left loaded" checks.
if [ -x /usr/sbin/bpftool ]; then add_elf /usr/sbin/bpftool; fi

# The test programs and the BPF LSM probe object.
for b in "$vm"/bin/*; do
  case $(basename "$b") in *.*) continue ;; esac   # a concurrent build's temp file
  [ -f "$b" ] || continue
  add_libs "$b"
  cp "$b" "$root/usr/local/bin/"
done
[ -f "$vm/lsm_probe.bpf.o" ] && cp "$vm/lsm_probe.bpf.o" "$root/usr/local/lib/calyx-test/"

# Stand-ins for the prefix-confusion test: distinct files with distinct inodes.
if [ -f "$vm/bin/hello" ]; then
  cp "$vm/bin/hello" "$root/usr/bin/git"
  cp "$vm/bin/hello" "$root/usr/bin/git-evil"
fi

for f in "$@"; do
  [ -e "$f" ] || die "extra file $f does not exist"
  add_elf "$(realpath -s "$f")"
done

# Test scripts, the matrix template and the init script.
cp "$src"/tests/vm/*.sh "$root/tests/vm/" 2>/dev/null || true
cp "$src"/tests/vm/*.yaml "$root/tests/vm/" 2>/dev/null || true
cp "$src"/tests/escape/*.sh "$root/tests/escape/" 2>/dev/null || true
mkdir -p "$root/tests/lib"
cp "$src"/tests/lib/*.sh "$root/tests/lib/" 2>/dev/null || true
[ -f "$root/tests/vm/init.sh" ] || die "tests/vm/init.sh missing"
mv "$root/tests/vm/init.sh" "$root/init"
chmod 0755 "$root/init" "$root"/tests/vm/*.sh
[ -f "$run/config" ] && cp "$run/config" "$root/tests/config"
[ -f "$run/shell-cmd.sh" ] && cp "$run/shell-cmd.sh" "$root/tests/shell-cmd.sh"

cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo calyx-vm > "$root/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"

tmp="$out.tmp"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$tmp"
mv "$tmp" "$out"
