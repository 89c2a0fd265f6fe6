#!/usr/bin/env bash
# Host tier, real kernel: a socket made outside and handed into a deny_all sandbox on the
# landlock backend (the confinement class "a UDP socket passed in by a host process"),
# shown as it really is. The cgroup BPF programs that refuse a sandbox's own UDP traffic
# are run for the cgroup of the socket's *creator*, Landlock (ABI <= 7) has no UDP right,
# and seccomp cannot tell a passed descriptor from another: so a host process that
# listens on a pathname socket the sandbox can reach (a lease :rw path) and hands over a
# UDP socket of the host's network lets the sandbox send through it. The sandbox's own
# sockets stay refused. On bpf-lsm the socket hooks judge the task that uses the socket
# and refuse both (tests/escape/e_fdpass.sh; docs/backends.md).
# Usage: tests/host/fdpass.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
[ "$(id -u)" = 0 ] || { bad "fdpass.sh: must run as root"; finish; }
suite_scratch fdpass
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$T" "$T.state"' EXIT
mkdir -p "$T/bin" "$T/k" "$T/pass"
chmod 777 "$T/pass"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I tests/vm/progs -o "$T/bin/fd_pass" tests/vm/progs/fd_pass.c ||
	{ bad "build fd_pass"; finish; }
P=$T/bin/fd_pass
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }
ST=$T.state
PORT=$((47000 + $$ % 1000))

# serve_then_run OP: a host server handing one socket, and a sandbox running `fd_pass OP`
serve_then_run() {
	(umask 000; exec "$P" serve "$T/pass/pass.sock" "$PORT" 1) > "$T/serve.out" 2>&1 &
	srv=$!
	local i=0
	while ! grep -q "ok listening" "$T/serve.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	local args=("$@")
	"$CALYX" lease issue -k "$T/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-FDPASS --ttl 5m \
		--cmd "$P ${args[*]}" --path "$T/pass/**:rw" -o "$T/l" 2>"$T/issue.err" ||
		{ bad "lease issue: $(cat "$T/issue.err")"; return 1; }
	"$CALYX" run --lease "$T/l" --pub "$T/k/calyx.pub" --state "$ST" -- "$P" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	wait "$srv"
	srv=
}

serve_then_run send "$T/pass/pass.sock" "$PORT"
check "calyx run exits 0 (rc $RC: $(head -c 200 "$T/err"))" [ "$RC" = 0 ]
RUN=$(find "$ST/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -type d | head -n1)
check "it ran on the landlock backend, network deny_all" [ "$(python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["enforcement"]; print(e["backend"], e["network"])' "$RUN/meta.json")" = "landlock deny_all" ]
check "the socket was received inside" grep -qx "ok received" "$T/out"
check "[limit] sendto on the passed host UDP socket: it went through" grep -qx "ok sendto" "$T/out"
check "[limit] ... and the host's UDP target received it" grep -qx "target received 1" "$T/serve.out"
diag "sandbox: $(tr '\n' '|' < "$T/out") host: $(tr '\n' '|' < "$T/serve.out")"
finish
