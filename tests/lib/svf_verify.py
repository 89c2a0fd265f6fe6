#!/usr/bin/python3
"""An independent verifier of calyx's SVF audit log, written from docs/audit.md alone.

    svf_verify.py STATE_DIR PUBKEY_FILE [--allow-unsigned-tail]

Prints "intact RECORDS HEAD" and exits 0, or "FAULT KIND WHERE: MESSAGE" and exits 1
(KIND as `calyx audit verify` names it: edited, deleted, inserted, reordered, truncated,
cut-record, bad-signature, unsigned). Python's hashlib for BLAKE2b, PyNaCl (Debian's
python3-nacl) for Ed25519: nothing shared with calyx's C code. The suite runs both
verifiers on the same logs and requires the same verdict.
"""
import base64
import hashlib
import json
import os
import re
import sys

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

KEYS = ["seq", "ts", "type", "lease", "intent", "host", "data", "prev"]
TAIL = re.compile(rb',"hash":"([0-9a-f]{64})"\}$')
ZERO = "0" * 64


class Fault(Exception):
    def __init__(self, kind, where, msg):
        super().__init__(msg)
        self.kind, self.where, self.msg = kind, where, msg


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def load_pub(path):
    text = open(path).read().strip()
    if not text.startswith("k4.public."):
        sys.exit("not a PASERK k4.public key: " + path)
    raw = b64url_decode(text[len("k4.public."):])
    pid = "k4.pid." + base64.urlsafe_b64encode(
        hashlib.blake2b(b"k4.pid." + text.encode(), digest_size=33).digest()).decode().rstrip("=")
    return VerifyKey(raw), pid


def ordered_object(pairs):
    return pairs   # keep the pairs: order and duplicates matter


def parse(line, where):
    m = TAIL.search(line)
    if not line.startswith(b"{") or not m:
        raise Fault("edited", where, "record does not end in its hash member")
    body = line[:m.start()] + b"}"
    if hashlib.blake2b(body, digest_size=32).hexdigest() != m.group(1).decode():
        raise Fault("edited", where, "hash mismatch")
    try:
        pairs = json.loads(body, object_pairs_hook=ordered_object)
    except ValueError as e:
        raise Fault("edited", where, "not JSON: %s" % e)
    if [k for k, _ in pairs] != KEYS:
        raise Fault("edited", where, "keys %s" % [k for k, _ in pairs])
    rec = dict(pairs)
    rec["hash"] = m.group(1).decode()
    rec["data"] = dict(rec["data"]) if isinstance(rec["data"], list) else rec["data"]
    return rec


def read_records(path, name, last_file):
    out = []
    with open(path, "rb") as f:
        raw = f.read()
    lines = raw.split(b"\n")
    for i, line in enumerate(lines):
        where = "%s:%d" % (name, i + 1)
        if i == len(lines) - 1:
            if line:
                return out, Fault("cut-record" if last_file else "edited", where, "cut short")
            break
        try:
            rec = parse(line, where)
        except Fault as f:
            return out, f
        rec["where"] = where
        out.append(rec)
    return out, None


def check_checkpoint(rec, vk, pid):
    d = rec["data"]
    if d.get("key") != pid:
        raise Fault("bad-signature", rec["where"], "signed by key %s" % d.get("key"))
    msg = ("calyx-svf-checkpoint-v1\n%d\n%s\n" % (d["seq"], d["head"])).encode()
    try:
        vk.verify(msg, b64url_decode(d["sig"]))
    except (BadSignatureError, ValueError):
        raise Fault("bad-signature", rec["where"], "signature does not verify")
    if d["seq"] != rec["seq"] - 1 or d["head"] != rec["prev"]:
        raise Fault("edited", rec["where"], "checkpoint signs another head")


def verify(state, pub, allow_unsigned):
    vk, pid = load_pub(pub)
    logdir = os.path.join(state, "logs", "svf_audit")
    rotated = sorted(n for n in os.listdir(logdir) if re.fullmatch(r"svf\.\d{12}\.jsonl", n))
    names = rotated + (["svf.jsonl"] if os.path.exists(os.path.join(logdir, "svf.jsonl")) else [])
    recs, cut = [], None
    for i, n in enumerate(names):
        got, cut = read_records(os.path.join(logdir, n), n, i == len(names) - 1)
        recs += got
        if cut:
            break
    expect, prev, since, checkpoints = 1, ZERO, 0, 0
    for i, r in enumerate(recs):
        if r["seq"] > expect:
            if any(x["seq"] == expect for x in recs[i + 1:]):
                raise Fault("reordered", r["where"], "seq %d where %d belongs" % (r["seq"], expect))
            raise Fault("deleted", r["where"], "seq jumps from %d to %d" % (expect - 1, r["seq"]))
        if r["seq"] < expect:
            raise Fault("inserted", r["where"], "seq %d again" % r["seq"])
        if r["prev"] != prev:
            raise Fault("edited", recs[i - 1]["where"] if i else r["where"], "prev does not match")
        if r["type"] == "log_event.checkpoint":
            check_checkpoint(r, vk, pid)
            checkpoints += 1
            since = 0
        else:
            since += 1
        prev = r["hash"]
        expect += 1
    side = os.path.join(logdir, "svf.checkpoint.json")
    if cut:
        # a crash never cuts a checkpoint the sidecar already names
        last = recs[-1]["seq"] if recs else 0
        if cut.kind == "cut-record" and os.path.exists(side) and json.load(open(side))["seq"] > last:
            raise Fault("truncated", "svf.jsonl", "the last checkpoint is cut")
        raise cut
    if os.path.exists(side):
        sc = json.load(open(side))
        last = recs[-1]["seq"] if recs else 0
        if sc["seq"] > last:
            raise Fault("truncated", "svf.jsonl", "log ends at %d, last checkpoint %d" % (last, sc["seq"]))
        hit = [r for r in recs if r["seq"] == sc["seq"]]
        if not hit or hit[0]["hash"] != sc["hash"] or hit[0]["type"] != "log_event.checkpoint":
            raise Fault("edited", "svf.checkpoint.json", "names a checkpoint the log does not hold")
    elif checkpoints:
        raise Fault("unsigned", "svf.checkpoint.json", "missing")
    if since and not allow_unsigned:
        raise Fault("unsigned", "svf.jsonl", "%d records after the last checkpoint" % since)
    return len(recs), prev


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    try:
        n, head = verify(args[0], args[1], "--allow-unsigned-tail" in sys.argv)
    except Fault as f:
        print("FAULT %s %s: %s" % (f.kind, f.where, f.msg))
        sys.exit(1)
    print("intact %d %s" % (n, head))


if __name__ == "__main__":
    main()
