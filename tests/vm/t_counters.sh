# Counters on bpf-lsm: the process lines of a counters_tree run (tests/vm/progs/
# counters_tree.c) against the kernel's own accounting of the same processes, and
# meta.json's resources against the lines (the checks: tests/lib/counters.sh, shared with
# the host tier's landlock run). The guest's files are on tmpfs: the measured child's
# write_bytes is 0 there (no writeback, nothing accounted), which wait4 reports too.
. /tests/lib/counters.sh
JGET=jget
mkdir -p "$WORK/rw"
chmod 777 "$WORK/rw"
CT_PAGES=2048 CT_BYTES=$((64 * 4096))
fs=$(stat -f -c %T "$WORK/rw" 2>/dev/null)
case $fs in
tmpfs|ramfs) CT_DISK=0 ;;
'') CT_DISK=unknown ;;
*) CT_DISK=1 ;;
esac
check "the file system of the data file is known ($fs)" test "$CT_DISK" != unknown
issue "$WORK/c.lease" --cmd "/usr/local/bin/counters_tree $CT_PAGES $CT_BYTES $WORK/rw/data 300" \
	--path "$WORK/rw/**:rw" || exit 0
crun "$WORK/c.state" "$WORK/c.lease" /usr/local/bin/counters_tree "$CT_PAGES" "$CT_BYTES" "$WORK/rw/data" 300
check "calyx run exits 0" eq "$RC" 0
check "it ran on bpf-lsm" eq "$(meta enforcement.backend)" bpf-lsm
CT_OUT=$RUN/stdout.log
CT_RUN=$RUN
ct_checks
check "no sandbox cgroup or BPF program left" no_sandbox_left
