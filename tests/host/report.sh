#!/usr/bin/env bash
# `calyx report` (docs/report.md) on real runs of this host's landlock backend, rendered by
# headless Chromium (Debian's chromium, installed by scripts/deps.sh like the benchmark's
# packages): an ok run with a child process (a helper), an exec the enforcer kills (ld.so
# as launcher: the record this backend makes with a path) and a hostile argument, and a
# run stopped by its output limit. The DOM Chromium builds must hold the lease id, the
# command, the denied path, the violation's limit and measured value (as meta.json and the
# SVF record have them), each file's BLAKE2b-256 as `b2sum -l 256` computes it, and
# "verifies"; a copy of the state dir with one log record edited shows "does not verify";
# the hostile argument is text, never a script element; the page names no URL and loads
# nothing. Unknown run, damaged meta.json, unreadable state dir: their exit codes.
# Screenshots: build/report/report.png, build/report/report-violation.png.
#   tests/host/report.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
set -f

scripts/deps.sh chromium fonts-dejavu-core >/dev/null || { bad "scripts/deps.sh chromium fonts-dejavu-core failed"; finish; }
CHROMIUM=$(command -v chromium) || { bad "no chromium on PATH after scripts/deps.sh"; finish; }
suite_scratch report
mkdir -p "$ROOT/build/report"
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
ST=$T/state
mkdir "$T/in" && echo "input-data" > "$T/in/data.txt" && chmod -R a+rX "$T/in"

# job NAME LEASE-OPTIONS… -- CMD…: issue a lease for exactly CMD and run it. RC, LID, RUN.
job() {
	local name=$1; shift
	local lopts=()
	while [ "$1" != -- ]; do lopts+=("$1"); shift; done
	shift
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-REPORT --ttl 5m \
		"${lopts[@]}" -o "$T/$name.tok" 2>"$T/$name.issue" || { bad "issue $name: $(cat "$T/$name.issue")"; return 1; }
	LID=$("$CALYX" lease show "$T/$name.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
	"$CALYX" run --lease "$T/$name.tok" --pub "$T/k/calyx.pub" --state "$ST" -q -- "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	RUN=$ST/outgoing/staging_runs/$LID
	diag "$name: $LID exit $RC; stderr: $(head -c 300 "$T/$name.err" | tr '\n' '|')"
}
# render HTML DOM [SHOT]: Chromium's DOM of the page (and a screenshot), from a private
# profile; no network namespace is needed: the page has nothing to fetch (checked below).
render() {
	local shot=()
	[ $# -ge 3 ] && shot=(--screenshot="$3" --window-size=1280,2000)
	timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --user-data-dir="$T/chrome" "${shot[@]}" \
		--dump-dom "file://$1" >"$2" 2>"$2.err"
}
# The page checker (Python's html.parser, not calyx's code): `page FILE MODE ARGS…`.
page() { python3 - "$@" <<'EOF'
import html.parser, json, re, subprocess, sys

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.stack, self.rows = [], [], [], []
        self.style, self.comments = "", []
        self.cell = None
        self.verdict, self.in_verdict = None, False
    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        self.stack.append(tag)
        a = dict(attrs)
        if a.get("id") == "verdict":
            self.verdict, self.in_verdict = "", True
        if tag == "tr":
            self.rows.append({"class": a.get("class", ""), "cells": []})
        if tag == "td" and self.rows:
            self.cell = {"class": a.get("class", ""), "text": ""}
            self.rows[-1]["cells"].append(self.cell)
    def handle_endtag(self, tag):
        if tag == "td":
            self.cell = None
        if tag == "p":
            self.in_verdict = False
        while self.stack and self.stack.pop() != tag:
            pass
    def handle_data(self, d):
        if self.stack and self.stack[-1] == "style":
            self.style += d
            return
        self.text.append(d)
        if self.in_verdict:
            self.verdict += d
        if self.cell is not None:
            self.cell["text"] += d
    def handle_comment(self, d):
        self.comments.append(d)

path, mode, args = sys.argv[1], sys.argv[2], sys.argv[3:]
p = P()
p.feed(open(path, encoding="utf-8").read())
text = "".join(p.text)
flat = re.sub(r"\s+", " ", text)
def need(s, what):
    if s not in text and s not in flat:
        sys.exit(f"the page's text lacks {what}: {s!r}")

if mode == "text":                  # each argument must be in the page's text
    for s in args:
        need(s, "the text")
elif mode == "notext":
    for s in args:
        if s in text or s in flat:
            sys.exit(f"the page's text has {s!r}")
elif mode == "noscript":            # no script element at all; the hostile text is text
    scripts = [t for t, _ in p.tags if t == "script"]
    if scripts:
        sys.exit(f"{len(scripts)} script elements")
    need(args[0], "the hostile argument as text")
    code = [c["text"] for r in p.rows for c in r["cells"]]
    if not any(args[0] in c for c in code):
        sys.exit("the hostile argument is in no table cell")
elif mode == "nourl":               # nothing that names or loads a URL, outside the text
    for tag, attrs in p.tags:
        for k, v in attrs:
            v = v or ""
            if k in ("src", "srcset", "action", "formaction", "data", "poster", "background") :
                sys.exit(f"<{tag}> has {k}={v!r}")
            if k == "href" and not v.startswith("#"):
                sys.exit(f"<{tag}> href={v!r} is not a link within the page")
            if k.startswith("on"):
                sys.exit(f"<{tag}> has an event handler {k}")
            if re.search(r"(?i)https?:|//|javascript:|data:|file:", v) and not (tag == "meta" and k == "content"):
                sys.exit(f"<{tag}> {k}={v!r} names a URL")
            # the one "http" outside the text: the CSP meta's attribute name
            if "http" in k.lower() and not (tag == "meta" and k == "http-equiv" and v == "Content-Security-Policy"):
                sys.exit(f"<{tag}> attribute {k}")
        if tag in ("script", "iframe", "object", "embed", "link", "img", "base", "form", "image", "use"):
            sys.exit(f"a <{tag}> element")
    csp = [dict(a).get("content", "") for t, a in p.tags if t == "meta" and dict(a).get("http-equiv") == "Content-Security-Policy"]
    if len(csp) != 1 or not csp[0].startswith("default-src 'none'") or "http" in csp[0]:
        sys.exit(f"Content-Security-Policy: {csp}")
    if re.search(r"(?i)url\(|@import|http", p.style):
        sys.exit("the style sheet loads or names something")
    if any("http" in c for c in p.comments):
        sys.exit("a comment names a URL")
elif mode == "artifacts":           # every file of the run dir, with b2sum's hash
    run = args[0]
    files = sorted(subprocess.run(["find", run, "-maxdepth", "1", "-type", "f", "-printf", "%f\n"],
                                  capture_output=True, text=True, check=True).stdout.split())
    rows = {}
    for r in p.rows:
        if r["class"] == "artifact":
            c = {x["class"]: x["text"].strip() for x in r["cells"]}
            rows[c["name"]] = c["hash"]
    if sorted(rows) != files:
        sys.exit(f"files on the page {sorted(rows)} != in the run dir {files}")
    for f in files:
        h = subprocess.run(["b2sum", "-l", "256", f"{run}/{f}"], capture_output=True, text=True,
                           check=True).stdout.split()[0]
        if rows[f] != h:
            sys.exit(f"{f}: page {rows[f]} != b2sum {h}")
elif mode == "limit":               # the limit's row: its name, measured value and bound
    claim, measured, bound = args
    for r in p.rows:
        if r["class"] == "limit hit":
            cells = " ".join(c["text"] for c in r["cells"])
            if f"{measured} bytes" in cells and f"{bound} bytes" in cells:
                break
    else:
        sys.exit(f"no violated limit row with {measured} bytes of {bound} bytes")
    need(f"Stopped by a limit: {claim}", "the violation")
    need(f"measured {measured} bytes", "the violation's measure")
elif mode == "verdict":             # the audit verdict: exactly "verifies", or starting so
    want, = args
    if p.verdict is None:
        sys.exit("no verdict element")
    if not (p.verdict == want if want == "verifies" else p.verdict.startswith(want)):
        sys.exit(f"verdict {p.verdict!r}, expected {want!r}")
elif mode == "denial":              # a row of the denial table with these texts
    for r in p.rows:
        if r["class"] == "denial":
            cells = " | ".join(c["text"] for c in r["cells"])
            if all(a in cells for a in args):
                break
    else:
        sys.exit(f"no denial row with {args}")
elif mode == "svf":                 # an SVF record type in the page's audit table
    types = [r["cells"][2]["text"] for r in p.rows if r["class"] == "svf" and len(r["cells"]) > 2]
    for t in args:
        if t not in types:
            sys.exit(f"no {t} record on the page (has {types})")
else:
    sys.exit("bad mode " + mode)
EOF
}
report_rc() { "$CALYX" report "$@" >"$T/rep.out" 2>"$T/rep.err"; RC=$?; }

# ---------------------------------------------------------------- A: an ok run
HOSTILE='<script>alert(1)</script>'
SCRIPT="cat $T/in/data.txt; /lib64/ld-linux-x86-64.so.2 /usr/bin/true; echo child-done \"\$0\""
job ok --cmd "sh -c '$SCRIPT' '$HOSTILE'" --helper cat --path "$T/in/**:ro" -- sh -c "$SCRIPT" "$HOSTILE"
LA=$LID RA=$RUN
check "A: the run exits 0" test "$RC" = 0
check "A: ... its child ran (cat's output) and the shell went on after the kill" \
	test "$(cat "$RA/stdout.log" 2>/dev/null)" = "input-data
child-done $HOSTILE"
check "A: ... the exec of ld.so was killed and recorded with its path" python3 -c '
import json, sys
k = [json.loads(l) for l in open(sys.argv[1])]
k = [r for r in k if r.get("type") == "kill"]
assert k and k[0]["path"] == "/lib64/ld-linux-x86-64.so.2" and k[0]["killed"], k' "$RA/events.jsonl"
"$CALYX" report "$LA" --state "$ST" -o "$T/a.html" 2>"$T/a.err"; RC=$?
check "A: calyx report -o exits 0" test "$RC" = 0
check "A: ... writes the page with mode 0644 and leaves no temp file (.a.html.XXXXXX)" \
	bash -c '[ "$(stat -c %a "$1/a.html")" = 644 ] && ! ls -A "$1" | grep -q "^\.a\.html\."' _ "$T"
check "A: ... says nothing on stderr" test ! -s "$T/a.err"
"$CALYX" report "$LA" --state "$ST" >"$T/a-stdout.html" 2>/dev/null
check "A: the page on stdout is the same bytes as -o's" cmp -s "$T/a.html" "$T/a-stdout.html"
check "A: the page names no URL and loads nothing (no src/href to a URL, CSP default-src 'none')" page "$T/a.html" nourl

render "$T/a.html" "$T/a.dom" "$ROOT/build/report/report.png"; RC=$?
check "A: headless Chromium renders the page" test "$RC" = 0 -a -s "$T/a.dom"
[ "$RC" = 0 ] || diag "chromium: $(tail -n 5 "$T/a.dom.err" | tr '\n' '|')"
check "A: DOM: the lease id, the command, the helper's binary" page "$T/a.dom" text "$LA" "$SCRIPT" /usr/bin/cat
check "A: DOM: the denial row: the killed exec's path, its hook and class" \
	page "$T/a.dom" denial "kill (killed)" exec_image exec /lib64/ld-linux-x86-64.so.2
check "A: DOM: the audit verdict is 'verifies'" page "$T/a.dom" verdict verifies
check "A: DOM: Landlock's unobserved file denials are said to be unobserved" \
	page "$T/a.dom" text "not observed by this backend"
check "A: DOM: the hostile argument is text, and there is no script element" page "$T/a.dom" noscript "$HOSTILE"
check "A: DOM: every file of the run dir with its b2sum -l 256" page "$T/a.dom" artifacts "$RA"
check "A: DOM: the audit table has the run's records" \
	page "$T/a.dom" svf lease_event.verified lease_event.consumed exec_event.started exec_event.denied exec_event.completed
check "A: DOM: 'does not verify' is nowhere" page "$T/a.dom" notext "does not verify"
check "A: the screenshot is a PNG" bash -c '[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' _ "$ROOT/build/report/report.png"

# ---------------------------------------------------------------- B: a run stopped by output=1K
job flood --cmd "yes calyx-flood" --limit output=1K -- yes calyx-flood
LB=$LID RB=$RUN
check "B: the run is stopped by its output limit (123)" test "$RC" = 123
MEASURED=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["violation"]; assert v["limit"]=="output_bytes" and v["bound"]==1024 and v["measured"]>1024, v; print(v["measured"])' "$RB/meta.json" 2>/dev/null)
check "B: meta.json: violation output_bytes, measured > 1024 (${MEASURED:-none})" test -n "$MEASURED"
check "B: the SVF log has resource_event.violation with the same measure" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
v = [r for r in recs if r["type"] == "resource_event.violation" and r["lease"] == sys.argv[2]]
assert len(v) == 1 and v[0]["data"]["limit"] == "output_bytes" and v[0]["data"]["measured"] == int(sys.argv[3]), v' \
	"$ST/logs/svf_audit/svf.jsonl" "$LB" "${MEASURED:-0}"
report_rc "$LB" --state "$ST" -o "$T/b.html"
check "B: calyx report exits 0" test "$RC" = 0
render "$T/b.html" "$T/b.dom" "$ROOT/build/report/report-violation.png"
check "B: DOM: status violation, the lease id, the command" page "$T/b.dom" text "violation" "$LB" "calyx-flood"
check "B: DOM: the violated limit's row: output_bytes, measured $MEASURED bytes, bound 1024 bytes" \
	page "$T/b.dom" limit output_bytes "${MEASURED:-?}" 1024
check "B: DOM: the resource_event.violation record is in the audit table" page "$T/b.dom" svf resource_event.violation exec_event.completed
check "B: DOM: ... and the run verifies" page "$T/b.dom" verdict verifies
check "B: DOM: every file of the run dir with its b2sum -l 256" page "$T/b.dom" artifacts "$RB"

# ---------------------------------------------------------------- C: a tampered copy of the log
cp -a "$ST" "$T/st2"
python3 - "$T/st2/logs/svf_audit/svf.jsonl" "$LA" <<'EOF'
import sys
p, lease = sys.argv[1], sys.argv[2]
lines = open(p, "rb").read().split(b"\n")
for i, l in enumerate(lines):
    if b'"type":"lease_event.consumed"' in l and lease.encode() in l:
        lines[i] = l.replace(b'"runs_allowed":1', b'"runs_allowed":9')
        assert lines[i] != l
        break
open(p, "wb").write(b"\n".join(lines))
EOF
SEQ=$(python3 -c 'import json,sys; print([json.loads(l)["seq"] for l in open(sys.argv[1]) if json.loads(l)["type"]=="lease_event.consumed" and json.loads(l)["lease"]==sys.argv[2]][0])' "$T/st2/logs/svf_audit/svf.jsonl" "$LA")
report_rc "$LA" --state "$T/st2" -o "$T/c.html"
check "C: a report from the tampered copy still exits 0 (the page says what is wrong)" test "$RC" = 0
check "C: ... and warns on stderr" grep -q "calyx: report: warning: the audit of $LA does not verify: the audit log does not verify (edited, exit 80 of calyx audit verify): svf.jsonl:$SEQ: " "$T/rep.err"
render "$T/c.html" "$T/c.dom"
check "C: DOM: does not verify, naming the edited line ($SEQ)" \
	page "$T/c.dom" verdict "does not verify: the audit log does not verify (edited, exit 80 of calyx audit verify): svf.jsonl:$SEQ: hash mismatch"
report_rc "$LA" --state "$ST" -o "$T/a2.html"
render "$T/a2.html" "$T/a2.dom"
check "C: DOM: the original state dir still verifies" page "$T/a2.dom" verdict verifies
# A changed artifact in another copy: the chain verifies, the file does not.
cp -a "$ST" "$T/st3"
echo tampered >> "$T/st3/outgoing/staging_runs/$LA/stdout.log"
report_rc "$LA" --state "$T/st3" -o "$T/c3.html"
check "C: a changed stdout.log: does not verify, naming the file" \
	grep -q "does not verify: stdout.log: its BLAKE2b-256 " "$T/c3.html"

# ---------------------------------------------------------------- D: errors
report_rc LEASE-20000101-000000-0000 --state "$ST"
check "D: unknown lease: exit 88" test "$RC" = 88
check "D: ... the message names the run and where it looked" \
	grep -q "^calyx: report: no run LEASE-20000101-000000-0000 in $ST/outgoing/staging_runs" "$T/rep.err"
check "D: ... and nothing on stdout" test ! -s "$T/rep.out"
cp -a "$ST" "$T/st4"
head -c 40 "$RA/meta.json" > "$T/st4/outgoing/staging_runs/$LA/meta.json"
report_rc "$LA" --state "$T/st4" -o "$T/d.html"
check "D: damaged meta.json: exit 89" test "$RC" = 89
check "D: ... the message names the run and meta.json" grep -q "^calyx: report: run $LA: meta.json is damaged: not a JSON object" "$T/rep.err"
check "D: ... and no page was written" test ! -e "$T/d.html"
report_rc "$LA" --state "$T/absent"
check "D: a state dir that does not exist: exit 74, named" bash -c '[ "$1" = 74 ] && grep -q "state dir $2/absent: No such file or directory" "$2/rep.err"' _ "$RC" "$T"
report_rc "../$LA" --state "$ST"
check "D: a path for LEASE-ID: usage error (64)" test "$RC" = 64
report_rc "$LA" --state "$ST" -o "$T/nodir/x.html"
check "D: -o into a missing directory: exit 74" test "$RC" = 74

finish
