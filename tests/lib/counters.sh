# Shared by tests/host/counters.sh (landlock backend) and tests/vm/t_counters.sh (bpf-lsm):
# the process lines of a `counters_tree PAGES BYTES FILE CPU_MS` run (tests/vm/progs/
# counters_tree.c) against the kernel's own accounting of the same processes, and
# meta.json's resources against the lines. Needs check (the tier's), JGET (jget), and
#   CT_OUT   the command's stdout      CT_RUN    the run directory
#   CT_PAGES, CT_BYTES                 the arguments it ran with
#   CT_DISK                            1: its file is on a disk file system (write_bytes at
#                                      least BYTES), 0: on tmpfs (write_bytes 0)
# The measured child's peak RSS, faults and storage I/O must be exactly what the kernel
# reported for it (wait4's rusage: ru_inblock / ru_oublock are read_bytes / write_bytes in
# 512-byte units), its syscall-level I/O what it did (no read call, BYTES written); its CPU
# time within 20 ms or 10% of wait4's (the exit record is read at the last thread's exit, before its final slice
# is accounted). Context switches are not compared: the kernel counts the final switch
# away from the dead task after the record is made.

ct_field() { # ct_field WORD KEY: the value of KEY=VALUE in the line of CT_OUT that starts with WORD
	awk -v w="$1" -v k="$2" '$1 == w { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$CT_OUT"
}

ct_checks() {
	local ev=$CT_RUN/events.jsonl meta=$CT_RUN/meta.json lines main a b c
	lines=$("$JGET" -l "$ev" type pid ppid exit_code binary binary_source counters.maxrss_kb counters.min_flt \
		counters.maj_flt counters.cpu_ns counters.rchar counters.wchar counters.read_bytes counters.write_bytes)
	# columns: 1 type 2 pid 3 ppid 4 exit 5 binary 6 source 7 maxrss 8 minflt 9 majflt 10 cpu
	#          11 rchar 12 wchar 13 read_bytes 14 write_bytes
	main=$(echo "$lines" | awk -F'\t' '$1 == "process" && $5 ~ /\/counters_tree$/ && $6 == "kernel" { print $2 }' | head -n1)
	a=$(echo "$lines" | awk -F'\t' -v m="$main" '$1 == "process" && $3 == m && $4 == 7')
	b=$(echo "$lines" | awk -F'\t' -v m="$main" '$1 == "process" && $3 == m && $4 == 0 && $6 == "parent"')
	c=$(echo "$lines" | awk -F'\t' -v p="$(echo "$b" | cut -f2)" '$1 == "process" && $3 == p && $4 == 3')
	check "counters: the tree ran (main pid ${main:-none}: $(tail -n1 "$CT_OUT"))" \
		sh -c '[ -n "$1" ] && grep -q "^tree exit=7,0 ok$" "$2"' _ "$main" "$CT_OUT"
	check "counters: one line each for the measured child, the second child and the grandchild" \
		sh -c '[ "$(printf "%s\n" "$1" | grep -c .)" = 1 ] && [ "$(printf "%s\n" "$2" | grep -c .)" = 1 ] && [ "$(printf "%s\n" "$3" | grep -c .)" = 1 ]' \
		_ "$a" "$b" "$c"
	local rss minflt majflt ut st
	rss=$(ct_field rusage maxrss_kb) minflt=$(ct_field rusage minflt) majflt=$(ct_field rusage majflt)
	ut=$(ct_field rusage utime_us) st=$(ct_field rusage stime_us)
	local a_rss a_min a_maj a_cpu a_rchar a_wchar a_rb a_wb
	a_rss=$(echo "$a" | cut -f7) a_min=$(echo "$a" | cut -f8) a_maj=$(echo "$a" | cut -f9)
	a_cpu=$(echo "$a" | cut -f10) a_rchar=$(echo "$a" | cut -f11) a_wchar=$(echo "$a" | cut -f12)
	a_rb=$(echo "$a" | cut -f13) a_wb=$(echo "$a" | cut -f14)
	diag "counters: measured child line rss=$a_rss minflt=$a_min majflt=$a_maj cpu_ns=$a_cpu rchar=$a_rchar wchar=$a_wchar read_bytes=$a_rb write_bytes=$a_wb"
	diag "counters: kernel $(grep '^rusage' "$CT_OUT")"
	check "counters: peak RSS = wait4's ru_maxrss exactly ($a_rss = $rss kB)" test "${a_rss:-x}" = "${rss:-y}"
	check "counters: ... and it holds the $CT_PAGES pages touched ($a_rss >= $((CT_PAGES * 4)) kB)" \
		test "${a_rss:-0}" -ge $((CT_PAGES * 4))
	check "counters: minor faults = wait4's ru_minflt exactly ($a_min = $minflt, >= $CT_PAGES)" \
		sh -c '[ "$1" = "$2" ] && [ "$1" -ge "$3" ]' _ "${a_min:-x}" "${minflt:-y}" "$CT_PAGES"
	check "counters: major faults = wait4's ru_majflt ($a_maj = $majflt)" test "${a_maj:-x}" = "${majflt:-y}"
	check "counters: wchar = the bytes written ($a_wchar = $CT_BYTES)" test "${a_wchar:-x}" = "$CT_BYTES"
	# read_bytes need not be 0: the file system may read a metadata block on its behalf
	# (seen: 4096 = ru_inblock 8); it is compared with the kernel's figure below
	check "counters: rchar 0: it made no read call ($a_rchar)" test "${a_rchar:-x}" = 0
	local ib ob
	ib=$(ct_field rusage inblock) ob=$(ct_field rusage oublock)
	check "counters: read_bytes, write_bytes = wait4's ru_inblock, ru_oublock x 512 exactly ($a_rb $a_wb = $((${ib:-0} * 512)) $((${ob:-0} * 512)))" \
		test "${a_rb:-x} ${a_wb:-x}" = "$((${ib:-0} * 512)) $((${ob:-0} * 512))"
	if [ "$CT_DISK" = 1 ]; then
		check "counters: ... the file's pages among them (write_bytes $a_wb >= $CT_BYTES)" test "${a_wb:-0}" -ge "$CT_BYTES"
	else
		check "counters: ... none on tmpfs (write_bytes $a_wb)" test "${a_wb:-x}" = 0
	fi
	local k_us=$((ut + st)) l_us=$((${a_cpu:-0} / 1000)) tol
	tol=$((k_us / 10)); [ "$tol" -lt 20000 ] && tol=20000
	check "counters: CPU time within 20 ms or 10% of wait4's (line ${l_us} us, wait4 ${k_us} us)" \
		test $((l_us - k_us < 0 ? k_us - l_us : l_us - k_us)) -le "$tol"
	# the tree: meta.json's totals are the sums of the lines (the peak their largest)
	local sums
	sums=$("$JGET" -l "$ev" type counters.cpu_ns counters.user_ns counters.sys_ns counters.maxrss_kb \
		counters.min_flt counters.maj_flt counters.nvcsw counters.nivcsw counters.read_bytes \
		counters.write_bytes counters.rchar counters.wchar | awk -F'\t' '
		$1 == "process" && $2 != "-" { n++; for (i = 2; i <= 13; i++) { if (i == 5) { if ($i > s[i]) s[i] = $i } else s[i] += $i } }
		END { printf "%d", n; for (i = 2; i <= 13; i++) printf " %.0f", s[i]; print "" }')
	local want
	want=$("$JGET" "$meta" resources.processes resources.cpu_ns resources.user_ns resources.sys_ns \
		resources.maxrss_kb resources.min_flt resources.maj_flt resources.nvcsw resources.nivcsw \
		resources.read_bytes resources.write_bytes resources.rchar resources.wchar | tr '\t' ' ')
	check "counters: meta.json resources = the sums of the process lines (n cpu user sys peak minflt majflt nvcsw nivcsw rb wb rchar wchar: $want)" \
		test "$sums" = "$want"
	check "counters: ... from the exit records, none lost" \
		test "$("$JGET" "$meta" resources.source resources.lower_bound dropped_events | tr '\t' ' ')" = \
		"bpf exit records of $(echo "$sums" | cut -d' ' -f1) processes false 0"
	# the kernel adds a reaped child's I/O to its parent's: each line counts its own
	local m_wchar
	m_wchar=$(echo "$lines" | awk -F'\t' -v m="$main" '$2 == m { print $12 }')
	check "counters: the parent's line does not count its children's writes (wchar $m_wchar < $CT_BYTES)" \
		test "${m_wchar:-$CT_BYTES}" -lt "$CT_BYTES"
}
