#!/usr/bin/python3
"""What the host's metrics file should say of the runs of a state dir, from their meta.json
files (docs/fleet.md "Metrics"), for tests/host/metrics.sh.

    metrics_want.py STATE_DIR

Prints one "SAMPLE VALUE" line for every run counter, denial, would-deny and ring-fill
sample (all three backend label values), then '#' lines with what the checks need to be
meaningful: "#runs N LANDLOCK AUDIT_ONLY", "#would NET SYSCALL" (the audit-only run's),
"#peak MIN MAX LAST SIZE" (ringbuf.peak_bytes of the runs, the last run's, the ring size).
The runs are those the log completed, in log order (the last is the last one)."""
import json
import sys

BACKENDS = ("bpf-lsm", "landlock", "other")
STATUSES = ("ok", "failed", "violation", "interrupted", "abandoned", "other")
CLASSES = ("exec", "file", "net", "other", "syscall")
BOUNDS = ("0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "1")


def main(st):
    dirs = []
    with open(st + "/logs/svf_audit/svf.jsonl") as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "exec_event.completed":
                dirs.append(r["data"]["run_dir"])
    metas = []
    for d in dirs:
        with open(st + "/outgoing/staging_runs/" + d + "/meta.json") as f:
            metas.append(json.load(f))
    want = {}

    def add(k, v):
        want[k] = want.get(k, 0) + v

    for be in BACKENDS:
        for s in STATUSES:
            add('calyx_runs_total{backend="%s",status="%s"}' % (be, s), 0)
        add('calyx_runs_audit_only_total{backend="%s"}' % be, 0)
        for c in CLASSES:
            add('calyx_denials_total{backend="%s",class="%s"}' % (be, c), 0)
            add('calyx_would_deny_total{backend="%s",class="%s"}' % (be, c), 0)
        add('calyx_records_lost_total{backend="%s"}' % be, 0)
        for b in BOUNDS + ("+Inf",):
            add('calyx_ringbuf_peak_fill_ratio_bucket{backend="%s",le="%s"}' % (be, b), 0)
        add('calyx_ringbuf_peak_fill_ratio_count{backend="%s"}' % be, 0)
    sums, last = {}, {}
    for m in metas:
        be = m["enforcement"]["backend"]
        add('calyx_runs_total{backend="%s",status="%s"}' % (be, m["status"]), 1)
        add('calyx_runs_audit_only_total{backend="%s"}' % be, int(m["audit_only"]))
        for c in CLASSES:
            add('calyx_denials_total{backend="%s",class="%s"}' % (be, c), m["denials"][c] or 0)
            add('calyx_would_deny_total{backend="%s",class="%s"}' % (be, c), m.get("would_deny", {}).get(c, 0))
        add('calyx_records_lost_total{backend="%s"}' % be, m["dropped_events"])
        rb = m["ringbuf"]
        r = rb["peak_bytes"] / rb["size_bytes"]
        for b in BOUNDS + ("+Inf",):
            add('calyx_ringbuf_peak_fill_ratio_bucket{backend="%s",le="%s"}' % (be, b),
                int(b == "+Inf" or r <= float(b)))
        add('calyx_ringbuf_peak_fill_ratio_count{backend="%s"}' % be, 1)
        sums[be] = sums.get(be, 0) + r
        last[be] = r
    for be in BACKENDS:
        want['calyx_ringbuf_peak_fill_ratio_sum{backend="%s"}' % be] = "%.9g" % sums.get(be, 0)
        want['calyx_ringbuf_last_peak_fill_ratio{backend="%s"}' % be] = "%.9g" % last.get(be, 0)
    for k, v in want.items():
        print(k, v)
    ll = [m for m in metas if m["enforcement"]["backend"] == "landlock"]
    ao = [m for m in ll if m["audit_only"]]
    print("#runs", len(metas), len(ll), len(ao))
    print("#would", ao[0]["would_deny"]["net"] if ao else 0, ao[0]["would_deny"]["syscall"] if ao else 0)
    peaks = [m["ringbuf"]["peak_bytes"] for m in metas] or [0]
    print("#peak", min(peaks), max(peaks), peaks[-1], metas[-1]["ringbuf"]["size_bytes"] if metas else 0)


if __name__ == "__main__":
    main(sys.argv[1])
