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
# The ring buffer's peak fill (CALYX_STAT_RB_PEAK, the largest over the CPUs): the run's
# records went through it, so it held at least one (8-byte aligned), never more than its size.
RB_PEAK=$(meta ringbuf.peak_bytes) RB_SIZE=$(meta ringbuf.size_bytes)
check "meta.json ringbuf: peak $RB_PEAK of $RB_SIZE bytes, > 0, 8-byte aligned, at most the size" \
	test "${RB_SIZE:-0}" = 2097152 -a "${RB_PEAK:-0}" -gt 0 -a "${RB_PEAK:-0}" -le "${RB_SIZE:-0}" -a $((${RB_PEAK:-1} % 8)) = 0
CT_OUT=$RUN/stdout.log
CT_RUN=$RUN
ct_checks
check "no sandbox cgroup or BPF program left" no_sandbox_left
