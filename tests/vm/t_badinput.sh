# Bad input: each refusal has its documented exit code, a clear message on stderr, the
# command never starts, and nothing is left behind (no sandbox cgroup, no BPF program).
marker=$WORK/ran
M="/usr/local/bin/try_open $marker w"
# refused CODE DESC: the last crun was refused with CODE and left nothing behind.
refused() {
	check "$2: exit $1" eq "$RC" "$1"
	check "$2: a message on stderr" sh -c "[ -s $ERR ]"
	check "$2: the command did not run" absent "$marker"
	check "$2: no sandbox cgroup or BPF program left" no_sandbox_left
}

issue "$WORK/other.lease" --cmd /usr/bin/git || exit 0
crun "$WORK/other.state" "$WORK/other.lease" /usr/bin/git-evil
refused 68 "a lease for another command"
issue "$WORK/other2.lease" --cmd "$M" || exit 0
crun "$WORK/other2.state" "$WORK/other2.lease" /usr/local/bin/try_open "$marker" w extra-arg
refused 68 "the lease's command with an extra argument"

TTL=1s issue "$WORK/exp.lease" --cmd "$M" || exit 0
sleep 3    # 1s lease + the test matrix's 1s clock skew, with margin
crun "$WORK/exp.state" "$WORK/exp.lease" $M
refused 65 "an expired lease"
check "an expired lease: stderr says so" sh -c "grep -qi expir $ERR"

issue "$WORK/flip.lease" --cmd "$M" || exit 0
# Flip one character in the signature (the end of the body part "v4.public.BODY[.FOOTER]").
tok=$(cat "$WORK/flip.lease")
printf %s "$tok" | awk -F. -v OFS=. '{ i = length($3) - 10; c = substr($3, i, 1);
	$3 = substr($3, 1, i - 1) (c == "A" ? "B" : "A") substr($3, i + 1); print }' > "$WORK/flip2.lease"
check "the tampered token differs from the original" ne "$(cat "$WORK/flip2.lease")" "$tok"
crun "$WORK/flip.state" "$WORK/flip2.lease" $M
refused 65 "a bit-flipped lease"

mkdir -p "$WORK/otherkey"
$CALYX keygen --out "$WORK/otherkey" > /dev/null 2>&1
KEY=$WORK/otherkey/calyx.key issue "$WORK/wk.lease" --cmd "$M" || exit 0
crun "$WORK/wk.state" "$WORK/wk.lease" $M
refused 66 "a lease signed by an untrusted key"

issue "$WORK/miss.lease" --cmd /usr/local/bin/does-not-exist || exit 0
crun "$WORK/miss.state" "$WORK/miss.lease" /usr/local/bin/does-not-exist
refused 68 "a missing binary"

mkdir -p "$WORK/ro-state"
mount -t tmpfs -o ro tmpfs "$WORK/ro-state"
issue "$WORK/ro.lease" --cmd "$M" || exit 0
crun "$WORK/ro-state/s" "$WORK/ro.lease" $M
refused 74 "an unwritable state dir"
umount "$WORK/ro-state"

# Replay: one run allowed; the second is refused, with the same state dir and with another
# (the ledger is host-wide). The state dirs lie outside the lease's $WORK/** (the overlap
# guard would refuse them there).
issue "$WORK/rep.lease" --cmd "$M" --path "$WORK/**:rw" || exit 0
crun /tmp/calyx-states/rep "$WORK/rep.lease" $M
check "a single-use lease: first run exits 0" run_ok
check "a single-use lease: first run wrote the marker" exists "$marker"
rm -f "$marker"
crun /tmp/calyx-states/rep "$WORK/rep.lease" $M
refused 67 "a replayed lease"
crun /tmp/calyx-states/rep-other "$WORK/rep.lease" $M
refused 67 "a replayed lease with another state dir"
