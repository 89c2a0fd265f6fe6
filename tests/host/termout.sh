#!/usr/bin/env bash
# The terminal echo (issue 8 class 11, docs/run.md "Output"): when calyx run's stdout or
# stderr is a terminal, the command's control sequences are shown spelled out (OSC 52
# clipboard write, CSI, CR, C1 U+009B, the bidi override U+202E, a stray 8-bit CSI byte);
# stdout.log and stderr.log keep the raw bytes, and so does an echo that is not a
# terminal. calyx runs here with a pseudo-terminal (python3 pty, raw mode so the tty
# driver adds nothing) on each of stdout and stderr.
#   tests/host/termout.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
suite_scratch termout
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }

# What the command writes: on stdout an OSC 52 clipboard write, a colour, a CR that would
# overwrite the line, a UTF-8 C1 CSI, a bidi override, a raw 8-bit CSI byte and text that
# must pass as is (UTF-8 é, a tab); on stderr an OSC 0 title and a bidi isolate.
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
out = (b"plain caf\xc3\xa9\tok\n"
       b"\x1b]52;c;aGk=\x07clip\n"
       b"\x1b[31mred\x1b[0m\n"
       b"safe\rEVIL\n"
       b"\xc2\x9b" b"2J c1\n"
       b"abc\xe2\x80\xaedef\n"
       b"raw\x9b" b"31m\n")
err = b"\x1b]0;owned\x07title\n" b"x\xe2\x81\xa6y\n"
open(t + "/out.raw", "wb").write(out)
open(t + "/err.raw", "wb").write(err)
# The shown forms (docs/run.md "Output").
open(t + "/out.shown", "wb").write(
       b"plain caf\xc3\xa9\tok\n"
       b"\\x1b]52;c;aGk=\\x07clip\n"
       b"\\x1b[31mred\\x1b[0m\n"
       b"safe\\x0dEVIL\n"
       b"\\u009b2J c1\n"
       b"abc\\u202edef\n"
       b"raw\\x9b31m\n")
open(t + "/err.shown", "wb").write(b"\\x1b]0;owned\\x07title\n" b"x\\u2066y\n")
PY
chmod 644 "$T"/*.raw
printf 'cat %s\ncat %s >&2\n' "$T/out.raw" "$T/err.raw" > "$T/emit.sh"
chmod 644 "$T/emit.sh"
"$CALYX" lease issue -k "$T/k/calyx.key" -i INT-TEST-TERM --ttl 5m --aud "$(uname -n)" --runs 2 \
  --cmd "sh $T/emit.sh" --helper cat --path "$T/emit.sh:ro" --path "$T/out.raw:ro" --path "$T/err.raw:ro" \
  -o "$T/t.tok" 2>"$T/issue.err" || { bad "lease issue: $(cat "$T/issue.err")"; finish; }

# Under two ptys: what the terminal got, byte for byte.
python3 - "$CALYX" "$T" <<'PY' > "$T/pty.log" 2>&1
import os, subprocess, sys, tty, select
calyx, t = sys.argv[1], sys.argv[2]
mo, so = os.openpty()
me, se = os.openpty()
for fd in (so, se):
    tty.setraw(fd)
p = subprocess.Popen([calyx, "run", "--lease", t + "/t.tok", "--pub", t + "/k/calyx.pub",
                      "--state", t + "/state", "--", "sh", t + "/emit.sh"],
                     stdin=subprocess.DEVNULL, stdout=so, stderr=se, close_fds=True)
os.close(so); os.close(se)
got = {mo: b"", me: b""}
open_fds = [mo, me]
while open_fds:
    r, _, _ = select.select(open_fds, [], [], 60)
    if not r:
        break
    for fd in r:
        try:
            d = os.read(fd, 65536)
        except OSError:
            d = b""
        if d:
            got[fd] += d
        else:
            open_fds.remove(fd)
rc = p.wait()
open(t + "/tty.out", "wb").write(got[mo])
open(t + "/tty.err", "wb").write(got[me])
print("rc", rc)
PY
check "calyx run under a pty exits 0 ($(tr '\n' ' ' < "$T/pty.log"))" grep -qx "rc 0" "$T/pty.log"
# calyx's own lines on stderr ("calyx: ...") are not the command's: compare only the rest.
grep -av '^calyx: ' "$T/tty.err" > "$T/tty.err.cmd"
check "the terminal's stdout shows every control sequence spelled out, the text as is" cmp "$T/out.shown" "$T/tty.out"
check "the terminal's stderr too" cmp "$T/err.shown" "$T/tty.err.cmd"
check "... no ESC, BEL, CR or 8-bit C1 byte reached either terminal" \
  python3 -c 'import sys; d = open(sys.argv[1], "rb").read() + open(sys.argv[2], "rb").read(); sys.exit(any(b in d for b in (b"\x1b", b"\x07", b"\r", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x81\xa6")))' \
  "$T/tty.out" "$T/tty.err.cmd"
run=$(find "$T/state/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name 'LEASE-*' | sort | head -n1)
check "stdout.log keeps the raw bytes" cmp "$T/out.raw" "$run/stdout.log"
check "stderr.log keeps the raw bytes" cmp "$T/err.raw" "$run/stderr.log"

# Not a terminal (a file, a pipe): the echo is the raw bytes, as before.
rc=0
"$CALYX" run --lease "$T/t.tok" --pub "$T/k/calyx.pub" --state "$T/state" -- sh "$T/emit.sh" \
  > "$T/file.out" 2> "$T/file.err" || rc=$?
check "calyx run with stdout and stderr to files exits 0" test "$rc" -eq 0
check "... the file gets the raw bytes (the filter is for terminals only)" cmp "$T/out.raw" "$T/file.out"
grep -av '^calyx: ' "$T/file.err" > "$T/file.err.cmd"
check "... stderr too" cmp "$T/err.raw" "$T/file.err.cmd"
finish
