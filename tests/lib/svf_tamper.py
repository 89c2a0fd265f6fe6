#!/usr/bin/python3
"""Tamper with a copied state dir's SVF log the way an attacker or a crash would.

    svf_tamper.py CASE LOGDIR

LOGDIR is the copy's logs/svf_audit (svf.jsonl and svf.checkpoint.json), changed in place.
The log must hold at least two runs (two checkpoints); its second line is the first run's
lease_event.consumed ("run":1). CASE and the fault `calyx audit verify` must find
(docs/audit.md, "Exit codes"):
  edited     a field of line 2 changed, hash left                  80
  rehashed   the same, line 2's hash recomputed, line 3's prev not  80
  deleted    line 2 removed                                        81
  inserted   line 2 copied in again before line 4                  82
  reordered  lines 2 and 3 swapped                                 83
  truncated  the last run's records cut off whole                  84
  cutcp      the last checkpoint itself cut short                  84
  cut        a crash mid-append: the start of a record, no newline 85
  badsig     the first checkpoint's signature changed, the chain rehashed   86
  nosidecar  svf.checkpoint.json removed                           87
Used by tests/host/audit.sh and tests/host/day5.sh.
"""
import hashlib
import json
import os
import re
import sys

TAIL = re.compile(rb',"hash":"([0-9a-f]{64})"\}$')


def rehash(ls, start):
    """Recompute each hash and the next record's prev from line start on."""
    for i in range(start, len(ls)):
        m = TAIL.search(ls[i])
        body = ls[i][:m.start()] + b"}"
        h = hashlib.blake2b(body, digest_size=32).hexdigest().encode()
        ls[i] = ls[i][:m.start()] + b',"hash":"' + h + b'"}'
        if i + 1 < len(ls):
            ls[i + 1] = re.sub(rb'"prev":"[0-9a-f]{64}"', b'"prev":"' + h + b'"', ls[i + 1], count=1)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: svf_tamper.py CASE LOGDIR")
    case, d = sys.argv[1], sys.argv[2]
    p = os.path.join(d, "svf.jsonl")
    orig = open(p, "rb").read().split(b"\n")[:-1]
    lines = list(orig)
    cps = [i for i, l in enumerate(lines) if b'"log_event.checkpoint"' in l]
    if len(cps) < 2 or b'"run":1' not in lines[1]:
        sys.exit("svf_tamper.py: the log needs two runs, its line 2 a first run's record")
    if case == "edited":
        lines[1] = lines[1].replace(b'"run":1', b'"run":7', 1)
    elif case == "rehashed":
        # only line 2 rehashed: the lines after it keep their bytes (line 3's prev is stale)
        lines[1] = lines[1].replace(b'"run":1', b'"run":7', 1)
        rehash(lines, 1)
        lines[2:] = orig[2:]
    elif case == "deleted":
        del lines[1]
    elif case == "inserted":
        lines.insert(3, lines[1])
    elif case == "reordered":
        lines[1], lines[2] = lines[2], lines[1]
    elif case == "truncated":
        lines = lines[:cps[-2] + 1]
    elif case == "badsig":
        i = cps[0]
        lines[i] = re.sub(rb'"sig":"(.)', lambda m: b'"sig":"' + (b"B" if m.group(1) == b"A" else b"A"),
                          lines[i], count=1)
        rehash(lines, i)
        # the sidecar follows the rehashed last checkpoint, so only the signature is wrong
        sp = os.path.join(d, "svf.checkpoint.json")
        sc = json.load(open(sp))
        sc["hash"] = TAIL.search(lines[cps[-1]]).group(1).decode()
        json.dump(sc, open(sp, "w"))
    elif case not in ("cut", "cutcp", "nosidecar"):
        sys.exit("svf_tamper.py: unknown case " + case)
    out = b"\n".join(lines) + b"\n"
    if case == "cut":        # what a crash mid-append leaves: the start of a record, no end of line
        out += lines[1][:120]
    elif case == "cutcp":    # the last checkpoint itself cut: not a crash's doing
        out = out[:-20]
    open(p, "wb").write(out)
    if case == "nosidecar":
        os.unlink(os.path.join(d, "svf.checkpoint.json"))


main()
