#!/usr/bin/env python3
"""state_claims.py STATE: nothing in a state dir claims an artifact that is not there.

Every exec_event.completed record that names a run directory names one that is in place,
whose meta.json has the record's meta_blake2b; in every run directory in place, every
file meta.json records ({"file", "bytes", "blake2b"}, anywhere in it: the artifacts, the
rollback pack and its manifests) is there with that size and BLAKE2b-256. No temp run
directory (".NAME.tmp-PID") is left, but the one of a run whose completion record says
artifacts_written false (its meta.json could not be written: what was written, the
rollback pack included, is kept there until the next sweep moves it into place,
docs/reliability.md); an exec_event.artifacts_recovered record is checked like a
completion (its run_dir's meta.json has its meta_blake2b). Prints one line per fault; exit 1 if any.
Used by tests/host/crash.sh and tests/host/load.sh (docs/reliability.md)."""
import hashlib, json, os, sys

st = sys.argv[1]
runs = os.path.join(st, "outgoing/staging_runs")
faults = []


def b2(path):
    h = hashlib.blake2b(digest_size=32)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def claimed(o):
    if isinstance(o, dict):
        if set(("file", "bytes", "blake2b")) <= o.keys():
            yield o
        for v in o.values():
            yield from claimed(v)
    elif isinstance(o, list):
        for v in o:
            yield from claimed(v)


log = os.path.join(st, "logs/svf_audit/svf.jsonl")
unwritten = set()   # run names whose completion says their artifacts were not written
for line in open(log) if os.path.exists(log) else []:
    r = json.loads(line)
    if r["type"] == "exec_event.completed" and r["data"].get("artifacts_written") is False:
        unwritten.update((r["lease"], "%s-r%d" % (r["lease"], r["data"]["run"])))
for n, line in enumerate(open(log) if os.path.exists(log) else [], 1):
    r = json.loads(line)
    if r["type"] not in ("exec_event.completed", "exec_event.artifacts_recovered") or not r["data"].get("run_dir"):
        continue
    meta = os.path.join(runs, r["data"]["run_dir"], "meta.json")
    if not os.path.isfile(meta):
        faults.append("svf.jsonl:%d: completion names %s, which has no meta.json" % (n, r["data"]["run_dir"]))
    elif r["data"].get("meta_blake2b") and b2(meta) != r["data"]["meta_blake2b"]:
        faults.append("svf.jsonl:%d: meta_blake2b is not %s's" % (n, meta))

for name in sorted(os.listdir(runs)) if os.path.isdir(runs) else []:
    d = os.path.join(runs, name)
    if name.startswith("."):
        if name[1:].split(".tmp-")[0] not in unwritten:
            faults.append("temp run directory left: " + d)
        continue
    try:
        meta = json.load(open(os.path.join(d, "meta.json")))
    except (OSError, ValueError) as e:
        faults.append("%s: meta.json: %s" % (d, e))
        continue
    for f in claimed(meta):
        p = os.path.join(d, f["file"])
        if not os.path.isfile(p):
            faults.append("%s: meta.json claims %s, not there" % (d, f["file"]))
        elif os.path.getsize(p) != f["bytes"] or b2(p) != f["blake2b"]:
            faults.append("%s: %s is not what meta.json says (size or hash)" % (d, f["file"]))

for f in faults:
    print(f)
sys.exit(1 if faults else 0)
