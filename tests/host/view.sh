#!/usr/bin/env bash
# The sandbox's namespaces on this host (landlock backend, the shipped matrix: run_as
# 65534; docs/run.md "The sandbox's view and namespaces"): its own host name, network
# namespace (only loopback, up; no host socket in sock_diag; abstract AF_UNIX names are its
# own), IPC namespace (host SysV objects and POSIX queues invisible, its own gone with the
# run), cgroup and PID namespaces, a session keyring that is neither the caller's nor
# another run's, and the working directory (the lease's cwd, else /, never the caller's);
# its private mount view: host paths outside it do not exist there (ENOENT, not EACCES),
# /proc is its own, /tmp is private, :ro lease paths are read-only mounts, :rw writable.
# What the sandbox cannot look at itself (netlink is refused by seccomp under deny_all) is
# looked at from the host through /proc/PID/ns of the running sandbox (ns_probe in: setns).
#
# Usage: tests/host/view.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
[ "$(id -u)" = 0 ] || { echo "view.sh: must run as root" >&2; exit 1; }
suite_scratch view
W=$T
P=$W/ns_probe
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I tests/vm/progs -o "$P" tests/vm/progs/ns_probe.c ||
	{ bad "build ns_probe"; finish; }
"$CALYX" keygen --out "$W/k" >/dev/null 2>&1 || bad "keygen"
TAG=calyx-view-$$
HOSTKEY=$((0x5a000000 + $$ % 65536))
INKEY=$((0x5b000000 + $$ % 65536))
MQ_HOST=/$TAG-host MQ_IN=/$TAG-in
cleanup() {
	for k in "$HOSTKEY" "$INKEY"; do for t in shm msg sem; do "$P" "$t-rm" "$k" >/dev/null; done; done
	"$P" mq-rm "$MQ_HOST" >/dev/null; "$P" mq-rm "$MQ_IN" >/dev/null
	[ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null
	rm -rf "$W" "/tmp/$TAG-host"
}
trap cleanup EXIT
# Host files outside the view (the sandbox's /tmp is its own, $W is not in it).
echo secret > "$W/secret"; chmod 644 "$W/secret"
ln -s /etc/passwd "$W/link"
mkdir -m 777 "$W/rw"
# World-writable, so only the read-only mount refuses writing it (not its mode).
echo ro > "$W/rofile"; chmod 666 "$W/rofile"
echo host > "/tmp/$TAG-host"; chmod 644 "/tmp/$TAG-host"

# What the host holds that the sandbox must not see: a world-readable SysV segment, queue
# and semaphore set, a POSIX queue, an abstract listener, a key in our session keyring.
check "host: a world-readable SysV segment" sh -c "'$P' shm-make $HOSTKEY | grep -q '^ok'"
check "host: a SysV message queue" sh -c "'$P' msg-make $HOSTKEY | grep -q '^ok'"
check "host: a SysV semaphore set" sh -c "'$P' sem-make $HOSTKEY | grep -q '^ok'"
check "host: a POSIX message queue" sh -c "'$P' mq-make $MQ_HOST | grep -q '^ok'"
"$P" abs-listen "$TAG" 30 > "$W/listener.out" & LPID=$!
for _ in $(seq 50); do grep -q listening "$W/listener.out" && break; sleep 0.1; done
check "host: an abstract AF_UNIX listener @$TAG" grep -q '^ok listening' "$W/listener.out"
HOST_KEYRING=$(keyctl_out=$("$P" keyring) && echo "${keyctl_out#ok }")
HOST_KEY=$("$P" key-add "$TAG")
check "host: a key $TAG in the caller's session keyring" test "${HOST_KEY%% *}" = ok

# The script the sandbox runs: one line per look, "NAME: <probe output>"; then it waits on
# a FIFO until the host has looked at its namespaces.
mkfifo -m 666 "$W/fifo"
LOOKS=("hostname" "cwd" "shm-get $HOSTKEY" "msg-get $HOSTKEY" "sem-get $HOSTKEY" "mq-get $MQ_HOST"
	"shm-make $INKEY" "msg-make $INKEY" "sem-make $INKEY" "mq-make $MQ_IN"
	"abs-bind $TAG" "abs-connect $TAG" "links" "keyring"
	"stat /etc/shadow" "read /etc/shadow" "stat $W/secret" "readlink $W/link" "listxattr $W/secret"
	"inotify /root" "stat /tmp/$TAG-host" "write $W/rofile" "write $W/rw/made" "read /etc/passwd"
	"read /proc/filesystems" "read /proc/self/status" "key-search $TAG")
{
	echo "P=$P"
	for l in "${LOOKS[@]}"; do echo "echo \"$l: \$(\$P $l 2>&1)\""; done
	echo "read x < $W/fifo"
} > "$W/look.sh"
chmod 644 "$W/look.sh"
# The keyring group re-opened, so the sandbox can name its session keyring at all.
sed -e 's/^seccomp: {allow: \[\]}$/seccomp: {allow: [keyring]}/' policies/capability_matrix.yaml > "$W/keyring.yaml"
grep -q '^seccomp: {allow: \[keyring\]}' "$W/keyring.yaml" || bad "could not write the keyring matrix"

# vrun NAME [lease args...]: a lease for `sh look.sh` (its own state dir), started in the
# background; SPID is the sandbox's pid (host view) once it waits on the FIFO.
vrun() {
	local name=$1
	shift
	"$CALYX" lease issue -k "$W/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-VIEW --ttl 5m \
		--cmd "/bin/sh $W/look.sh" --helper "$P" --path "$W/look.sh:ro" --path "$W/fifo:rw" "$@" \
		-o "$W/$name.tok" >/dev/null 2>"$W/$name.issue" || bad "$name: lease issue: $(cat "$W/$name.issue")"
	(cd "$W" && exec "$CALYX" run --lease "$W/$name.tok" --pub "$W/k/calyx.pub" --matrix "$W/keyring.yaml" \
		--state "$W/$name.state" --enforce landlock -- /bin/sh "$W/look.sh" >"$W/$name.out" 2>"$W/$name.err") &
	RPID=$!
	SPID=
	for _ in $(seq 100); do
		kill -0 "$RPID" 2>/dev/null || break
		grep -q '^key-search' "$W/$name.out" 2>/dev/null &&
			SPID=$(cat /sys/fs/cgroup/unified/calyx/landlock/*-$RPID/r*/cgroup.procs \
				/sys/fs/cgroup/calyx/landlock/*-$RPID/r*/cgroup.procs 2>/dev/null | head -n1) &&
			[ -n "$SPID" ] && break
		sleep 0.1
	done
}
# vend NAME: let the sandbox finish; RC, RUN (its run directory).
vend() {
	echo go > "$W/fifo"
	wait "$RPID"
	RC=$?
	RUN=$(ls -d "$W/$1.state"/outgoing/staging_runs/LEASE-* 2>/dev/null | head -n1)
}
line() { awk -v k="$2: " 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$W/$1.out"; }
expect() {   # DESC RUN LOOK ERE
	local l
	l=$(line "$2" "$3")
	if printf '%s' "$l" | grep -Eq "$4"; then ok "$1"; else bad "$1: '$3' gave '$l'"; fi
}

# ---------------------------------------------------------------- the first run
vrun one --path "$W/rw/**:rw" --path "$W/rofile:ro" --path "$W/absent/**:ro"
if [ -n "$SPID" ]; then
	ok "the sandbox runs (pid $SPID) and waits"
	for ns in net ipc uts cgroup pid; do
		check "its $ns namespace is not the host's" \
			test "$(readlink "/proc/$SPID/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")"
	done
	check "its mount namespace is not the host's (its view)" \
		test "$(readlink "/proc/$SPID/ns/mnt")" != "$(readlink "/proc/self/ns/mnt")"
	check "its root is not the host's" test "$(stat -L -c %d:%i "/proc/$SPID/root")" != "$(stat -c %d:%i /)"
	L=$("$P" in "/proc/$SPID/ns/net" links)
	check "RTM_GETLINK in its network namespace lists only loopback, up (host: $("$P" links))" \
		test "$L" = "ok lo+up"
	D=$("$P" in "/proc/$SPID/ns/net" diag-unix)
	check "sock_diag in its network namespace sees no host socket ($D; host: $("$P" diag-unix))" \
		test "$D" = "ok 0"
	check "the :ro lease path is a read-only mount, the :rw one writable (its mountinfo)" sh -c \
		"grep -q ' $W/rofile ro,nosuid,nodev' /proc/$SPID/mountinfo && grep -q ' $W/rw rw,nosuid,nodev' /proc/$SPID/mountinfo"
	PIDS=$(ls "/proc/$SPID/root/proc" | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ')
	check "its /proc is its own: only its PID namespace's pids (it sees '$PIDS')" \
		sh -c "printf '%s\n' '$PIDS' | grep -Eqx '1( [2-9])* '"
	check "the host's /etc/shadow is not in its root" test ! -e "/proc/$SPID/root/etc/shadow"
	C=$("$P" in "/proc/$SPID/ns/cgroup" cat "/proc/$SPID/cgroup")
	check "its cgroup namespace is rooted at the sandbox cgroup (it sees '$(echo $C)')" sh -c "printf '%s\n' '$C' | grep -qx '0::/'"
else
	bad "the sandbox did not come up: $(head -c 400 "$W/one.err")"
fi
vend one
[ "$RC" = 0 ] && ok "calyx run exits 0" || bad "calyx run: exit $RC: $(head -c 400 "$W/one.err")"
expect "the host name is the sandbox's" one hostname '^ok calyx$'
expect "the working directory is / (no cwd in the lease), not the caller's $W" one cwd '^ok /$'
expect "a world-readable host SysV segment is invisible" one "shm-get $HOSTKEY" '^errno=ENOENT'
expect "a host SysV message queue is invisible" one "msg-get $HOSTKEY" '^errno=ENOENT'
expect "a host SysV semaphore set is invisible" one "sem-get $HOSTKEY" '^errno=ENOENT'
expect "a host POSIX message queue is invisible" one "mq-get $MQ_HOST" '^errno=ENOENT'
expect "the sandbox makes a SysV segment of its own" one "shm-make $INKEY" '^ok [0-9]+$'
expect "... a message queue" one "msg-make $INKEY" '^ok [0-9]+$'
expect "... a semaphore set" one "sem-make $INKEY" '^ok [0-9]+$'
# Opening the new queue's file (in the IPC namespace's own mqueue mount) is outside every
# Landlock rule: refused.
expect "... but no POSIX message queue (Landlock refuses opening it)" one "mq-make $MQ_IN" '^errno=EACCES'

expect "the view: /etc/shadow does not exist (not EACCES)" one "stat /etc/shadow" '^errno=ENOENT'
expect "... nor opens" one "read /etc/shadow" '^errno=ENOENT'
expect "... a host file next to the lease's is not there" one "stat $W/secret" '^errno=ENOENT'
expect "... readlink of a host symlink outside the view" one "readlink $W/link" '^errno=ENOENT'
expect "... listxattr of a host file outside the view" one "listxattr $W/secret" '^errno=ENOENT'
expect "... inotify on a host directory outside the view" one "inotify /root" '^errno=ENOENT'
expect "... /tmp is private: the host's /tmp/$TAG-host is not in it" one "stat /tmp/$TAG-host" '^errno=ENOENT'
expect "... the baseline's /etc/passwd is (read-only, readable)" one "read /etc/passwd" '^ok$'
expect "... the baseline's /proc/filesystems opens in its own /proc (a rule added inside the view)" one "read /proc/filesystems" '^ok$'
expect "... its own /proc/self/status is there but no rule grants it: Landlock refuses" one "read /proc/self/status" '^errno=EACCES'
expect "... a :ro lease path is a read-only mount (EROFS)" one "write $W/rofile" '^errno=EROFS'
expect "... a :rw lease path is writable" one "write $W/rw/made" '^ok$'
check "... and what it wrote is on the host" test "$(cat "$W/rw/made")" = x
for t in shm msg sem; do
	check "its SysV $t object is gone with the run" sh -c "'$P' $t-get $INKEY | grep -q '^errno=ENOENT'"
done
check "its POSIX queue is gone with the run" sh -c "'$P' mq-get $MQ_IN | grep -q '^errno=ENOENT'"
expect "binding the abstract name a host listener holds succeeds (its own namespace)" one "abs-bind $TAG" '^ok bound$'
expect "connecting to the host's abstract listener fails" one "abs-connect $TAG" '^errno=ECONNREFUSED'
expect "netlink stays refused by seccomp under deny_all" one links '^errno=EPERM'
expect "its session keyring is not the caller's ($HOST_KEYRING)" one keyring "^ok [0-9]+$"
K1=$(line one keyring)
check "... (serial differs)" test "${K1#ok }" != "$HOST_KEYRING"
expect "the caller's key is not found from its session keyring" one "key-search $TAG" '^errno=ENOKEY'
# The listener takes one connection and ends: the host's own reaches it only if the
# sandbox's did not.
check "the host's abstract listener still waits: the host connects to it" \
	sh -c "'$P' abs-connect '$TAG' | grep -qx 'ok connected'"
wait "$LPID"; LPID=
check "... and it saw that one connection only" test "$(cat "$W/listener.out")" = "ok listening
ok accepted"
META=$RUN/meta.json
check "meta.json sandbox: namespaces, hostname, keyring, cwd" python3 -c "
import json, sys
s = json.load(open('$META'))['sandbox']
assert s['namespaces'] == ['pid', 'net', 'mnt', 'ipc', 'uts', 'cgroup'], s
assert s['hostname'] == 'calyx' and s['session_keyring'] == 'new, anonymous', s
v = s['view']
assert v['cwd'] == '/', s
e = {x['path']: x for x in v['entries']}
assert e['/usr'] == {'path': '/usr', 'kind': 'bind', 'from': 'baseline', 'access': 'ro'}, e['/usr']
assert e['$W/rw'] == {'path': '$W/rw', 'kind': 'bind', 'from': 'lease', 'access': 'rw'}, e
assert e['$W/look.sh']['access'] == 'ro' and e['$W/look.sh']['from'] == 'lease', e
assert e['/proc']['kind'] == 'proc' and e['/tmp']['kind'] == 'tmpfs' and e['/dev']['kind'] == 'tmpfs', e
assert e['/dev/null']['kind'] == 'bind', e
assert '/etc/shadow' not in e and '/etc' not in e, e
assert {'path': '$W/absent', 'why': 'not on the host'} in v['left_out'], v['left_out']"

# ---------------------------------------------------------------- a second run, with a cwd
for t in shm msg sem; do "$P" "$t-rm" "$INKEY" >/dev/null; done
"$P" mq-rm "$MQ_IN" >/dev/null
mkdir -m 755 "$W/work"
vrun two --path "$W/work/**:ro" --cwd "$W/work"
vend two
[ "$RC" = 0 ] && ok "second run exits 0" || bad "second run: exit $RC: $(head -c 400 "$W/two.err")"
expect "the working directory is the lease's cwd" two cwd "^ok $W/work\$"
K2=$(line two keyring)
check "another run gets another session keyring (${K1#ok } then ${K2#ok })" \
	test -n "${K2#ok }" -a "${K2#ok }" != "${K1#ok }" -a "${K2#ok }" != "$HOST_KEYRING"
check "meta.json says the cwd" python3 -c "
import json
assert json.load(open('$RUN/meta.json'))['sandbox']['view']['cwd'] == '$W/work'"

# A cwd that is not on this host: refused before the lease is used.
vrun three --path "$W/gone/**:ro" --cwd "$W/gone"
wait "$RPID"
RC=$?
check "a lease cwd missing on this host: exit 74" test "$RC" = 74
check "... saying so, and that the lease was not used" \
	grep -q "lease cwd '$W/gone'.*No such file or directory; nothing was run, the lease was not used" "$W/three.err"
finish
