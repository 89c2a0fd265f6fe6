# THREATS.md long paths: > 255 bytes, > 4095 bytes, > 20 components: denied or correctly
# matched, never allowed by truncation. The kernel matcher keeps 255 bytes: longer paths
# are denied even under an allowed subtree (DESIGN.md: fail closed).
L=$WORK/long
# The > PATH_MAX tree under a :ro path of its own: a :rw path is packed for rollback
# before the run, and a path longer than PATH_MAX cannot be packed (the run is refused,
# docs/rollback.md). It is moved out of $WORK at the end (a rename: busybox rm cannot walk
# a tree deeper than PATH_MAX), so later tests' :rw paths do not hold it.
L5=$WORK/long5k
mkdir -p "$L" "$L5" "$WORK/sb"
p300=$(long_path gen "$L" 300)
p5000=$(long_path gen "$L5" 5000)
long_path mk "$p300" long300 > /dev/null
long_path mk "$p5000" long5000 > /dev/null
# Deep but short: 30 components, well under 255 bytes, inside the subtree: allowed.
deep=$L$(for i in $(seq 30); do printf /a; done)/f
long_path mk "$deep" deep > /dev/null
# Truncation: an exact rule for a path E as long as the kernel matcher holds (251 bytes:
# calyx refuses longer rules); the sibling E-plus-suffix shares all of E's bytes. A matcher
# that truncates would admit it.
# The sibling must be in the sandbox's view (else it is ENOENT, not the matcher's
# refusal): the lease's "$gp/*" (E's grandparent) binds it and grants only gp's entries.
T=$WORK/trunc/t/u
mkdir -p "$T"
exact=$(long_path gen "$T" 251 e)
sib=${exact}zzzzzzzz
long_path mk "$exact" exact > /dev/null
long_path mk "$sib" sibling > /dev/null
gp=$(dirname "$(dirname "$exact")")
sb_script "$WORK/sb/long.sh" <<EOF2
P=/usr/local/bin/long_path
t p300-read \$P open $p300 r
t p300-write \$P open $p300 w
t p5000-read \$P open $p5000 r
t deep-read \$P open $deep r
t exact-read \$P open $exact r
t sibling-read \$P open $sib r
EOF2
S=$WORK/l.state
issue "$WORK/l.lease" --cmd "/bin/sh $WORK/sb/long.sh" --helper /bin/sh --helper /usr/local/bin/long_path \
	--path "$WORK/sb/**:ro" --path "$L/**:rw" --path "$L5/**:ro" --path "$exact:ro" --path "$gp/*:ro" || exit 0
crun "$S" "$WORK/l.lease" /bin/sh "$WORK/sb/long.sh"
check "calyx run exits 0" run_ok
check "300-byte path under an allowed subtree: read denied (too long to match)" is_denied p300-read
check "300-byte path: write denied" is_denied p300-write
check "300-byte path: content unchanged" eq "$(long_path open "$p300" r)" "ok read: long300"
check "5000-byte path (> PATH_MAX, 25 components): read denied" is_denied p5000-read
check "30 components within 255 bytes under an allowed subtree: read works" is_ok deep-read deep
check "exact 251-byte rule: that path reads" is_ok exact-read exact
check "a longer sibling sharing the 251-byte prefix: denied (no truncation)" is_denied sibling-read
check "no sandbox cgroup or BPF program left" no_sandbox_left
mv "$L5" "/tmp/calyx-longpath-done.$$"
