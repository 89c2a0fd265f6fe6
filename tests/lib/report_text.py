#!/usr/bin/python3
"""What a `calyx report` page says, as text, read with Python's html.parser (not calyx's code).

    report_text.py PAGE.html

Prints one line each:
  stopped: the "Stopped by a limit: LIMIT measured N bytes…, bound M bytes…" sentence, or "-"
  limit: the text of each violated limit's row (class "limit hit"), one line per row
  svf: the record types of the page's audit table, in order
  verdict: the audit verdict (the element with id "verdict"), e.g. "verifies"
Used by tests/host/day5.sh and scripts/demo.sh (the Day 5 violation's page).
"""
import html.parser
import re
import sys


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.rows, self.verdict, self.in_verdict = [], [], None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") == "verdict":
            self.verdict, self.in_verdict = "", True
        if tag == "tr":
            self.rows.append({"class": a.get("class", ""), "cells": []})
        if tag in ("td", "th") and self.rows:
            self.rows[-1]["cells"].append("")

    def handle_endtag(self, tag):
        if tag == "p":
            self.in_verdict = False

    def handle_data(self, d):
        self.text.append(d)
        if self.in_verdict:
            self.verdict += d
        if self.rows and self.rows[-1]["cells"]:
            self.rows[-1]["cells"][-1] += d


def flat(s):
    return re.sub(r"\s+", " ", s).strip()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: report_text.py PAGE.html")
    p = Page()
    p.feed(open(sys.argv[1], encoding="utf-8").read())
    text = flat(" ".join(p.text))
    m = re.search(r"Stopped by a limit: \S+ measured \d+ bytes( \([^)]*\))?, bound \d+ bytes( \([^)]*\))?", text)
    print("stopped: " + (m.group(0) if m else "-"))
    for r in p.rows:
        if r["class"] == "limit hit":
            print("limit: " + " | ".join(flat(c) for c in r["cells"]))
    print("svf: " + " ".join(flat(r["cells"][2]) for r in p.rows if r["class"] == "svf" and len(r["cells"]) > 2))
    print("verdict: " + ("-" if p.verdict is None else flat(p.verdict)))


main()
