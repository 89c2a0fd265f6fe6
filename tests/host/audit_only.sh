#!/usr/bin/env bash
# Host tier, real kernel: `calyx run --audit-only` on the landlock backend
# (docs/audit-only.md). The escape suite's file, exec and net attacks (a read and a write
# outside the lease, an exec of a binary that is no lease binary, a lease binary with an
# argv the lease does not name, a TCP connect under deny_all) each really happen (the
# bytes read, the file rewritten, the payload's marker printed, the listener's "got:") and
# each has its would_deny record: file opens from the audit-only observer
# (bpf/observe.bpf.c), execs from the exec-image check, the connect from the cgroup
# programs, the socket() from the seccomp baseline's listener. Nothing is denied. The same
# script without --audit-only is denied; the observer is gone once the run is; a matrix
# without `audit_only: allow` refuses the flag with 66 and leaves the lease unused.
# Usage: tests/host/audit_only.sh [path/to/calyx]   (as root, under the tier lock)
set -u
set -f
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
[ "$(id -u)" = 0 ] || { echo "audit_only.sh: must run as root" >&2; exit 1; }

B=$PWD/build/host
mkdir -p "$B"
CF="-std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I tests/vm/progs"
for p in try_open try_exec try_connect hello listen_tcp memfd_exec; do
	gcc $CF -o "$B/$p" "tests/vm/progs/$p.c" || { bad "build $p"; finish; }
done

suite_scratch audit-only
W=$T
mkdir -p "$W/bin" "$W/other" "$W/sb"
for p in try_open try_exec try_connect hello memfd_exec; do cp "$B/$p" "$W/bin/"; done
cp "$B/hello" "$W/other/payload"   # no lease binary
cp "$B/hello" "$W/other/payload2"  # no lease binary, run through a symlink
ln -s payload2 "$W/other/slink"
chmod -R a+rX "$W"
"$CALYX" keygen --out "$W/k" >/dev/null 2>&1 || bad "keygen"
KEY=$W/k/calyx.key PUB=$W/k/calyx.pub
# The shipped matrix (seccomp baseline strict: socket(AF_INET) is one of its refusals),
# once as it is and once allowing audit-only runs.
PLAIN=policies/capability_matrix.yaml
AOM=$W/audit-only.yaml
sed -e '$a audit_only: allow' "$PLAIN" > "$AOM"

PORT=$((7300 + $$ % 500))
"$B/listen_tcp" tcp4 127.0.0.1 "$PORT" > "$W/l.out" 2>&1 &
LPID=$!
"$B/listen_tcp" tcp6 ::1 $((PORT + 2)) > "$W/l6.out" 2>&1 &
LPID="$LPID $!"
trap 'kill $LPID 2>/dev/null; rm -rf "$W"' EXIT
sleep 0.3

# $W/f/*:ro puts $W/f (and so $O's files) into the normal run's view and grants $O itself,
# not its files: the enforcer is what refuses them there, not the view (ENOENT).
O=$W/f/outside
fresh_files() {
	rm -rf "$O"
	mkdir -p "$O"
	echo secret-data > "$O/secret"
	echo keep-data > "$O/overwrite"
	chmod 755 "$O"
	chmod 644 "$O/secret"
	chmod 666 "$O/overwrite"   # writable for the sandbox's uid: only the enforcer says no
	# the changes that open nothing: a directory the sandbox's uid may change (777), the
	# file it chmods/chowns its own; the lease grants $M itself :ro, nothing in it
	rm -rf "$M"
	mkdir -p "$M/d0" "$M/tree"
	for f in a rel b t own tree/x; do echo "m-$f" > "$M/$f"; done
	chown 65534 "$M/own" "$M/b"   # b: linked after its rename (protected_hardlinks)
	chmod 644 "$M/own"
	chmod 777 "$M" "$M/tree"
	chmod 666 "$M/t"
}
M=$W/f/mut
cat > "$W/sb/ao.sh" <<EOF
t() { n=\$1; shift; r=\$("\$@" 2>&1); echo "\$n: rc=\$? \$r"; }
t read $W/bin/try_open $O/secret r
t write $W/bin/try_open $O/overwrite w audit-wrote
t exec $W/bin/try_exec $W/other/payload from-audit
t argv $W/bin/try_exec $W/bin/hello not-the-lease-argv
t tcp4 $W/bin/try_connect tcp4 127.0.0.1 $PORT
t udp4 $W/bin/try_connect udp4 127.0.0.1 $((PORT + 1))
t tcp6 $W/bin/try_connect tcp6 ::1 $((PORT + 2))
t memfd $W/bin/memfd_exec memfd $W/bin/hello
t ldso $W/bin/try_exec /lib64/ld-linux-x86-64.so.2 $W/bin/hello via-loader
t symexec $W/bin/try_exec $W/other/slink via-symlink
t unlink /bin/rm $M/a
t unlinkrel /bin/sh -c "cd $M && exec /bin/rm rel"
t rmtree /bin/rm -r $M/tree
t mkdir /bin/mkdir $M/newdir
t rmdir /bin/rmdir $M/d0
t rename /bin/mv $M/b $M/c
t link /bin/ln $M/c $M/h
t symlink /bin/ln -s target $M/s
t chmod /bin/chmod 600 $M/own
t chown /bin/chown 65534 $M/own
t truncate /usr/bin/truncate -s 0 $M/t
t mkfifo /usr/bin/mkfifo $M/p
EOF
chmod 644 "$W/sb/ao.sh"

# issue NAME: the lease for the script
issue() {
	"$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-AUDIT --ttl 5m \
		--cmd "/bin/sh $W/sb/ao.sh" --cmd "$W/bin/hello lease-argv" --helper /bin/sh \
		--helper "$W/bin/try_open" --helper "$W/bin/try_exec" --helper "$W/bin/try_connect" --helper "$W/bin/memfd_exec" \
		--helper /bin/rm --helper /bin/mkdir --helper /bin/rmdir --helper /bin/mv --helper /bin/ln \
		--helper /bin/chmod --helper /bin/chown --helper /usr/bin/truncate --helper /usr/bin/mkfifo \
		--path "$W/sb/**:ro" --path "$W/bin/**:ro" --path "$W/f/*:ro" -o "$W/$1.tok" > /dev/null 2> "$W/$1.issue"
	LID=$(grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' "$W/$1.issue" | head -n1)
}
# run NAME MATRIX [calyx run args]: sets RC, ERR (calyx's stderr file), D (the run dir)
run() {
	local name=$1 m=$2
	shift 2
	"$CALYX" run --lease "$W/$name.tok" --matrix "$m" --pub "$PUB" --state "$ST" --enforce landlock "$@" \
		-- /bin/sh "$W/sb/ao.sh" > "$W/$name.out" 2> "$W/$name.err"
	RC=$?
	ERR=$W/$name.err
	D=$ST/outgoing/staging_runs/$LID
}
line() { grep "^$1: " "$D/stdout.log" 2>/dev/null | head -n 1 | cut -d' ' -f2-; }
is_ok() {
	local l
	l=$(line "$1")
	case $l in "rc=0 "*"$2"*) return 0 ;; esac
	WHY="want rc=0 and '$2', got '${l:-<no line $1>}'"
	return 1
}
is_denied() {
	local l
	l=$(line "$1")
	case $l in *errno=EACCES*|*errno=EPERM*|"rc=137"*) return 0 ;; esac
	WHY="want a refusal, got '${l:-<no line $1>}'"
	return 1
}
no_payload() { ! grep -q "HELLO-RAN argv0=$W/other/payload\|not-the-lease-argv" "$D/stdout.log" && return 0; WHY="ran: $(cat "$D/stdout.log")"; return 1; }
eq() { [ "$1" = "$2" ] && return 0; WHY="got '$1', want '$2'"; return 1; }
ge() { [ "$1" -ge "$2" ] 2>/dev/null && return 0; WHY="got '$1', want >= $2"; return 1; }
exists() { [ -e "$1" ] && return 0; WHY="$1 does not exist"; return 1; }
has() { grep -qF -- "$2" "$1" 2>/dev/null && return 0; WHY="'$2' not in $1: $(head -c 300 "$1" 2>/dev/null)"; return 1; }
jq_() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): m=m[k]
print(json.dumps(m))' "$D/meta.json" "$1" 2>/dev/null; }
# wd HOOK STRING: a would_deny line of that hook in events.jsonl that contains STRING
wd() {
	grep '"type":"would_deny"' "$D/events.jsonl" 2>/dev/null | grep -F "\"hook\":\"$1\"" | grep -qF -- "$2" && return 0
	WHY="no would_deny $1 line with '$2': $(grep -F "\"hook\":\"$1\"" "$D/events.jsonl" 2>/dev/null | head -n 2 | head -c 500)"
	return 1
}
# mut OP PATH [SOURCE]: a would_deny path_mutate line with that op, path and path_source
# (default caller: the name part is the task's)
mut() {
	grep '"type":"would_deny"' "$D/events.jsonl" 2>/dev/null | grep -F '"hook":"path_mutate"' |
		grep -F "\"op\":\"$1\"" | grep -qF "\"path\":\"$2\",\"path_source\":\"${3:-caller}\"" && return 0
	WHY="no would_deny path_mutate op $1 path $2: $(grep -F '"hook":"path_mutate"' "$D/events.jsonl" 2>/dev/null | head -n 3 | head -c 600)"
	return 1
}
gone() { [ ! -e "$1" ] && [ ! -L "$1" ] && return 0; WHY="$1 still exists"; return 1; }
svf_has() {
	grep -F "\"type\":\"$1\"" "$ST/logs/svf_audit/svf.jsonl" 2>/dev/null | grep -qF -- "$2" && return 0
	WHY="no SVF $1 record with '$2'"
	return 1
}
no_observer() {
	! bpftool link show 2>/dev/null | grep -q calyx_observe && return 0
	WHY="a calyx_observe link is still attached: $(bpftool link show | grep -A2 calyx_observe | head -n 3)"
	return 1
}
no_deny_lines() {
	! grep -q '"type":"deny"\|"type":"kill"' "$D/events.jsonl" && return 0
	WHY="$(grep '"type":"deny"\|"type":"kill"' "$D/events.jsonl" | head -n 3 | head -c 600)"
	return 1
}

# --- the refusal, then the same lease in audit-only mode -----------------------------
fresh_files
ST=$W/ao.state
issue ao
run ao "$PLAIN" --audit-only
check "--audit-only without audit_only: allow: exit 66" eq "$RC" 66
check "the refusal names the key" has "$ERR" "audit_only: allow"
check "nothing ran: the file kept its bytes" eq "$(cat "$O/overwrite")" keep-data
run ao "$AOM" --audit-only --fail-on-denial
check "audit-only run with the lease the refusal left unused exits 0 (would-denies are no denials for --fail-on-denial)" eq "$RC" 0
check "file: the outside secret was read" is_ok read "ok read: secret-data"
check "file: the outside file was rewritten" eq "$(cat "$O/overwrite")" audit-wrote
check "exec: the unleased payload ran" is_ok exec "HELLO-RAN argv0=$W/other/payload from-audit"
check "argv: hello ran with an argv the lease does not name" is_ok argv "HELLO-RAN argv0=$W/bin/hello not-the-lease-argv"
check "net: the connect reached the listener" is_ok tcp4 "ok connected"
check "net: the listener got the bytes" has "$W/l.out" "got: hi"
check "would_deny file_open (read) of the secret, the denial's fields" wd file_open "\"class\":\"file\",\"errno\":13,\"access\":\"read\",\"path\":\"$O/secret\""
check "would_deny file_open (write) of the rewritten file" wd file_open "\"access\":\"write\",\"path\":\"$O/overwrite\""
check "would_deny exec_image of the payload, not killed" wd exec_image "\"path\":\"$W/other/payload\""
check "the exec_image line says killed false" wd exec_image '"killed":false'
check "would_deny exec_argv of hello with its argv" wd exec_argv "\"argv\":[\"$W/bin/hello\",\"not-the-lease-argv\"]"
check "would_deny socket_connect to the listener" wd socket_connect "\"addr\":\"127.0.0.1\",\"port\":$PORT"
check "UDP connect: done" is_ok udp4 "ok connected"
check "would_deny socket_connect udp to 127.0.0.1:$((PORT + 1))" wd socket_connect "\"addr\":\"127.0.0.1\",\"port\":$((PORT + 1))"
check "TCP over IPv6: reached" is_ok tcp6 "ok connected"
check "the IPv6 listener got the bytes" has "$W/l6.out" "got: hi"
check "would_deny socket_connect to ::1" wd socket_connect "\"addr\":\"::1\",\"port\":$((PORT + 2))"
check "would_deny seccomp socket (the baseline's refusal, continued)" wd seccomp '"syscall":"socket"'
# the escape suite's e_exec cases: each runs, each has its exec would-deny, none is killed
check "memfd exec: ran" is_ok memfd "HELLO-RAN"
check "ld.so as launcher: ran" is_ok ldso "HELLO-RAN argv0=$W/bin/hello via-loader"
check "exec through a symlink: ran" is_ok symexec "HELLO-RAN argv0=$W/other/slink via-symlink"
check "would_deny exec_image of the ld.so launcher" wd exec_image "ld-linux-x86-64.so.2"
check "would_deny exec_image through the symlink (the name given, path_source caller)" wd exec_image "\"path\":\"$W/other/slink\",\"path_source\":\"caller\",\"killed\":false"
memfd_wd() {
	grep '"type":"would_deny"' "$D/events.jsonl" 2>/dev/null | grep -F '"class":"exec"' | grep -qi 'memfd' && return 0
	WHY="no exec would_deny naming the memfd: $(grep '"class":"exec"' "$D/events.jsonl" | head -c 800)"
	return 1
}
check "would_deny exec of the memfd" memfd_wd
for n in unlink unlinkrel rmtree mkdir rmdir rename link symlink chmod chown truncate mkfifo; do
	check "change $n: done" is_ok "$n" ""
done
check "unlink: the file is gone" gone "$M/a"
check "unlink of a name relative to the cwd: gone" gone "$M/rel"
check "rm -r (unlinkat on a dirfd): the tree is gone" gone "$M/tree"
check "mkdir: made" exists "$M/newdir"
check "rmdir: gone" gone "$M/d0"
check "rename: the new name has the bytes" eq "$(cat "$M/c" 2>/dev/null)" m-b
check "link: the second name exists" exists "$M/h"
check "symlink: made" eq "$(readlink "$M/s")" target
check "chmod: the mode changed" eq "$(stat -c %a "$M/own")" 600
check "truncate: empty" eq "$(stat -c %s "$M/t")" 0
check "mkfifo: a fifo" eq "$(stat -c %F "$M/p")" fifo
check "would_deny unlink of the file, path from the caller's absolute name" mut unlink "$M/a"
check "would_deny unlink, the cwd kernel-resolved, the name the caller's" mut unlink "$M/rel"
check "would_deny unlink inside the tree (dirfd kernel-resolved)" mut unlink "$M/tree/x"
check "would_deny rmdir of the tree" mut rmdir "$M/tree"
check "would_deny mkdir" mut mkdir "$M/newdir"
check "would_deny rmdir" mut rmdir "$M/d0"
check "would_deny rename (the old name)" mut rename "$M/b"
check "would_deny rename_target (the new name)" mut rename_target "$M/c"
check "would_deny link_source" mut link_source "$M/c"
check "would_deny link (the new name)" mut link "$M/h"
check "would_deny symlink" mut symlink "$M/s"
check "would_deny chmod" mut chmod "$M/own"
check "would_deny chown" mut chown "$M/own"
check "would_deny truncate (ftruncate: the fd's path, all kernel-resolved)" mut truncate "$M/t" kernel
check "would_deny mknod (mkfifo)" mut mknod "$M/p"
check "SVF file_event.would_deny for the unlink" svf_has file_event.would_deny "$M/a"
check "no deny or kill line: nothing was denied" no_deny_lines
check "meta.json audit_only true" eq "$(jq_ audit_only)" true
check "meta.json seccomp: no refusal" eq "$(jq_ seccomp.refusals)" 0
check "meta.json seccomp: the three socket() calls continued" eq "$(jq_ seccomp.continued)" 3
check "meta.json would_deny.file >= 2" ge "$(jq_ would_deny.file)" 2
check "meta.json would_deny.exec >= 2" ge "$(jq_ would_deny.exec)" 2
check "meta.json would_deny.net >= 2" ge "$(jq_ would_deny.net)" 2
check "meta.json: no Landlock ruleset" eq "$(jq_ enforcement.landlock)" ""
check "meta.json denials.file is a count (no ruleset refuses unseen): 0" eq "$(jq_ denials.file)" 0
check "SVF file_event.would_deny names the secret" svf_has file_event.would_deny "$O/secret"
check "SVF exec_event.would_deny names the payload" svf_has exec_event.would_deny "$W/other/payload"
check "SVF net_event.would_deny names the port" svf_has net_event.would_deny "\"port\":$PORT"
check "SVF lease_event.verified says audit_only" svf_has lease_event.verified '"audit_only":true'
check "SVF exec_event.completed says audit_only" svf_has exec_event.completed '"audit_only":true'
summary_line() {
	grep -qE 'audit-only +[0-9]+ would-deny: exec [0-9]+, file [0-9]+, net [0-9]+' "$ERR" && return 0
	WHY="calyx's stderr: $(tr '\n' '|' < "$ERR" | head -c 800)"
	return 1
}
check "the summary says audit-only: N would-deny" summary_line
check "the observer is detached once the run is over" no_observer
"$CALYX" report "$LID" --state "$ST" -o "$W/report.html" > /dev/null 2>&1
check "calyx report says audit-only" has "$W/report.html" 'id="audit-only"'
check "calyx report lists the would_deny lines as allowed" has "$W/report.html" "(allowed: audit-only)"
check "the audit log verifies" sh -c "\"$CALYX\" audit verify --state \"$ST\" > /dev/null 2>&1"

# --- the same attacks in normal mode -----------------------------------------------
fresh_files
ST=$W/n.state
issue n
run n "$AOM"
check "normal run exits 0" eq "$RC" 0
check "normal: the secret read is refused" is_denied read
check "normal: the rewrite is refused, the file unchanged" eq "$(cat "$O/overwrite")" keep-data
check "normal: neither the payload nor the wrong argv ran" no_payload
check "normal: the connect is refused" is_denied tcp4
check "normal: the UDP connect is refused" is_denied udp4
check "normal: the IPv6 connect is refused" is_denied tcp6
check "normal: memfd exec refused or killed" is_denied memfd
check "normal: ld.so launcher killed" is_denied ldso
not_ran() { ! grep -q "via-symlink" "$D/stdout.log" 2>/dev/null && line symexec | grep -q . && return 0; WHY="got '$(line symexec)'"; return 1; }
check "normal: exec through a symlink does not run (outside the view: ENOENT)" not_ran
check "normal: the unlink is refused, the file kept" exists "$M/a"
check "normal: rm -r refused, the tree kept" exists "$M/tree/x"
check "normal: mkdir refused" gone "$M/newdir"
check "normal: rmdir refused" exists "$M/d0"
check "normal: rename refused" exists "$M/b"
check "normal: symlink refused" gone "$M/s"
check "normal: mkfifo refused" gone "$M/p"
check "normal: no would_deny line" sh -c "! grep -q '\"type\":\"would_deny\"' '$D/events.jsonl'"
check "normal: meta.json audit_only false" eq "$(jq_ audit_only)" false
finish
