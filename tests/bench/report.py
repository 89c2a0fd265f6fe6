#!/usr/bin/env python3
"""Render the `make bench` table from the host rows (tests/bench/host.sh) and the VM rows
(tests/bench/guest.sh, as printed by scripts/vm-test.sh --shell-cmd).

Usage: report.py --host HOST.txt --vm VM.txt [--meta KEY=VALUE]...
Exit status: 0 when every row was measured (targets missed or not), 1 when a row is
missing or a tier reported an error (E lines): the benchmark could not run.
"""
import argparse
import re
import statistics
import sys

OPS = [("open", "open+close"), ("stat", "stat"), ("fork", "fork+exec+wait"),
       ("connect", "TCP connect, refused")]
COLS = [("a", "(a) none"), ("b", "(b) out,bpf"), ("c", "(c) out,ll"), ("d", "(d) in bpf"),
        ("e", "(e) in ll"), ("f", "(f) env"), ("g", "(g) LL only")]
SELF_CHECK_LIMIT = 0.5   # percent: (a) measured twice in one boot must agree within this


def parse(path, kinds):
    rows = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if len(line) > 2 and line[0] in kinds and line[1] == " ":
                    rows.append((line[0], line[2:]))
    except OSError as e:
        rows.append(("E", "cannot read %s: %s" % (path, e)))
    return rows


def pct(x, base):
    return (x / base - 1.0) * 100.0


def fpct(p):
    return "%+.1f%%" % p


def fms(ns):
    ms = ns / 1e6
    return "%.2f" % ms if ms < 100 else "%.1f" % ms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host")
    ap.add_argument("--vm")
    ap.add_argument("--meta", action="append", default=[])
    a = ap.parse_args()
    meta = dict(m.split("=", 1) for m in a.meta)

    errors, notes = [], []
    info, setups = {}, []
    times = {}           # tag -> [ns]
    ops = {}             # (col, op) -> (ns, status, loops)
    host, rss = {}, {}
    vm_rows = parse(a.vm, "ITRSNE") if a.vm else []
    host_rows = parse(a.host, "HMIE") if a.host else []

    for kind, rest in vm_rows:
        if kind == "E":
            errors.append("VM: " + rest)
        elif kind == "N":
            notes.append("VM: " + rest)
        elif kind == "I":
            k, _, v = rest.partition(" ")
            info[k] = v
        elif kind == "S":
            setups.append(rest)
        elif kind == "T":
            f = rest.split()
            if len(f) == 4:
                times.setdefault(f[0], []).append((int(f[2]), int(f[3])))
        elif kind == "R":
            f = rest.split()
            if len(f) == 5:
                ops[(f[0], f[1])] = (int(f[2]), f[3], int(f[4]))
    for kind, rest in host_rows:
        if kind == "E":
            errors.append("host: " + rest)
        elif kind == "I":
            k, _, v = rest.partition(" ")
            info[k] = v
        elif kind == "H":
            f = rest.split()
            host[f[0]] = dict(zip(["median", "mean", "stddev", "min", "max"], map(float, f[1:6])),
                              runs=int(f[6]))
        elif kind == "M":
            f = rest.split()
            rss[f[0]] = [int(x) for x in f[1:]]

    out = []
    p = out.append
    targets = []         # (target, figure, met)
    missing = []

    p("calyx benchmark (make bench)   %s" % meta.get("date", ""))
    p("  measured: calyx code of commit %s (HEAD %s%s)"
      % (meta.get("code", "?"), meta.get("head", "?"),
         "; the guest's calyx --version: " + info["calyx"] if "calyx" in info else ""))
    if a.vm:
        p("  VM: kernel %s, QEMU TCG -smp %s -icount shift=0,sleep=off (guest time counts "
          "instructions), one boot for every VM row; LSMs %s; Landlock ABI %s"
          % (info.get("kernel", "?"), info.get("cpus", "?"), info.get("lsm", "?"),
             info.get("landlock_abi", "?")))
        p("  VM: %s" % info.get("enforcer", "?"))
    if a.host:
        p("  host: kernel %s, %s CPUs, calyx on the landlock backend (no BPF LSM here); %s, %s, %s"
          % (info.get("host_kernel", "?"), info.get("host_cpus", "?"), info.get("hyperfine", "?"),
             info.get("bwrap", "?"), info.get("firejail", "?")))
        p("  host: load average before/after the host rows: %s / %s"
          % (info.get("host_load_before", "?"), info.get("host_load_after", "?")))

    # --- 1. calyx run of the static true --------------------------------------------
    if a.vm:
        p("")
        p("1. VM: calyx run of a static true, whole process (fork to wait), guest-ms")
        p("   %-32s %10s %12s %4s %20s %10s %10s" % ("", "first", "warm median", "N", "warm min..max",
                                                   "warm/bare", "first/bare"))
        bare = [t for t, _ in times.get("bare", [])]
        if not bare:
            missing.append("VM bare fork+exec+wait of the static true")
            bare_med = None
        else:
            bare_med = statistics.median(bare)
            p("   %-32s %10s %12s %4d %20s %10s %10s" % (
                "bare (fork+exec+wait)", "-", fms(bare_med), len(bare),
                "%s..%s" % (fms(min(bare)), fms(max(bare))), "1", "-"))
        runs_ms = []
        for be in ("bpf-lsm", "landlock"):
            first = [t for t, _ in times.get(be + ".first", [])]
            warm = [t for t, _ in times.get(be + ".warm", [])]
            if not first or not warm:
                missing.append("VM calyx run --enforce %s first/warm" % be)
                continue
            wm = statistics.median(warm)
            spread = "%s..%s" % (fms(min(warm)), fms(max(warm)))
            runs_ms.append("%s: first %s, warm %s" % (be, fms(first[0]), " ".join(fms(t) for t in warm)))
            p("   %-32s %10s %12s %4d %20s %10s %10s" % (
                "calyx run --enforce " + be, fms(first[0]), fms(wm), len(warm), spread,
                "x%.0f" % (wm / bare_med) if bare_med else "?",
                "x%.0f" % (first[0] / bare_med) if bare_med else "?"))
            targets.append(("warm calyx run of /bin/true, %s <= 20 guest-ms" % be,
                            "%s ms" % fms(wm), wm <= 20e6))
        p("   first: no resident program set up before it; warm: the runs after it (median, "
          "and the range); bare: median of N.")
        for r in runs_ms:
            p("   each run, guest-ms, %s" % r)

    # --- 2. per-operation cost --------------------------------------------------------
    if a.vm:
        p("")
        p("2. VM: per-operation cost, guest-ns/op (second line: vs (a))")
        cols = [c for c in COLS if any((c[0], o) in ops for o, _ in OPS)]
        for c, _ in COLS:
            if not any((c, o) in ops for o, _ in OPS):
                missing.append("VM per-op column (%s)" % c)
        w = 13
        p("   %-22s" % "operation" + "".join("%*s" % (w, name) for _, name in cols))
        for o, oname in OPS:
            base = ops.get(("a", o))
            vals, rats = [], []
            for c, _ in cols:
                r = ops.get((c, o))
                if r is None:
                    missing.append("VM %s in column (%s)" % (oname, c))
                    vals.append("?")
                    rats.append("")
                    continue
                ns, st, _ = r
                if st.startswith("denied"):
                    vals.append("den %d" % ns)
                else:
                    vals.append("%d" % ns)
                rats.append("-" if c == "a" else (fpct(pct(ns, base[0])) if base else "?"))
            p("   %-22s" % oname + "".join("%*s" % (w, v) for v in vals))
            p("   %-22s" % "" + "".join("%*s" % (w, v) for v in rats))
        loops = {o: ops[("a", o)][2] for o, _ in OPS if ("a", o) in ops}
        p("   loops per figure: " + ", ".join("%s %d" % (o, n) for o, n in loops.items()) +
          " (after a warm-up of loops/20); connect = socket + connect + close;")
        denied = ["(%s) %s" % (c, ops[(c, o)][1].split(":", 1)[1]) for c, _ in cols
                  for o, _ in OPS if (c, o) in ops and ops[(c, o)][1].startswith("denied")]
        if denied:
            p("   'den N': the attempt was denied (%s); N is the cost of the denied attempt."
              % ", ".join(denied))
        p("   (a) no calyx; (b)/(c) outside any sandbox while a bpf-lsm / landlock-backend "
          "calyx run of a sleep is alive;")
        p("   (d)/(e) the microbench as the sandboxed command (bpf-lsm / landlock backend); "
          "(f) the sandbox environment")
        p("   without enforcement (cgroup depth 3, pidns, uid 65534, caps, no_new_privs, "
          "seccomp); (g) Landlock alone.")
        for s in setups:
            p("   setup " + s)
        for k in sorted(info):
            if k.startswith("denials_"):
                p("   events recorded by calyx in (%s): %s" % (k[8:], info[k]))
        # Self-check: (a) again at the end of the boot.
        checks, worst = [], 0.0
        for o, oname in OPS:
            r1, r2 = ops.get(("a", o)), ops.get(("a2", o))
            if r1 and r2:
                d = pct(r2[0], r1[0])
                worst = max(worst, abs(d))
                checks.append("%s %d vs %d (%s)" % (o, r1[0], r2[0], fpct(d)))
        if checks:
            p("   self-check, (a) measured again at the end of the boot: " + "; ".join(checks))
            p("   -> %s: every figure within %.1f%% (worst %.2f%%)" % (
                "ok" if worst <= SELF_CHECK_LIMIT else "NOT STABLE", SELF_CHECK_LIMIT, worst))
        else:
            missing.append("VM self-check (column a2)")

        dr, fr = ops.get(("d", "open")), ops.get(("f", "open"))
        if dr and fr:
            targets.append(("inside bpf-lsm open+close <= 5% above (f) the bare environment",
                            "%s (%d vs %d ns)" % (fpct(pct(dr[0], fr[0])), dr[0], fr[0]),
                            pct(dr[0], fr[0]) <= 5.0))
        for c, be, lim in (("b", "bpf-lsm set loaded", 2.0), ("c", "landlock backend", 0.5)):
            parts, ok, worst = [], True, None
            for o, _ in OPS:
                r, b = ops.get((c, o)), ops.get(("a", o))
                if r and b:
                    d = pct(r[0], b[0])
                    parts.append("%s %s" % (o, fpct(d)))
                    ok = ok and d <= lim
                    worst = d if worst is None else max(worst, d)
            if parts:
                targets.append(("outside, %s: every op <= %+.1f%% over (a)" % (be, lim),
                                "worst %s (%s)" % (fpct(worst), ", ".join(parts)), ok))

    # --- 3. host ---------------------------------------------------------------------
    if a.host:
        p("")
        p("3. host (real kernel, noisy: read the ratios), hyperfine -N, ms")
        p("   %-58s %8s %15s %5s %9s %9s" % ("command", "median", "mean +- sd", "runs",
                                            "vs bare", "vs bwrap"))
        names = [("bare", "/bin/true"),
                 ("bwrap", "bwrap --ro-bind / / --unshare-net --dev /dev --proc /proc /bin/true"),
                 ("firejail", "firejail --noprofile --net=none /bin/true"),
                 ("calyx", "calyx run --enforce landlock -- /bin/true")]
        for n, label in names:
            h = host.get(n)
            if not h:
                missing.append("host hyperfine %s" % n)
                continue
            vb = h["median"] / host["bare"]["median"] if "bare" in host else None
            vw = h["median"] / host["bwrap"]["median"] if "bwrap" in host else None
            p("   %-58s %8.2f %15s %5d %9s %9s" % (
                label[:58], h["median"] * 1e3, "%.2f +- %.2f" % (h["mean"] * 1e3, h["stddev"] * 1e3),
                h["runs"], "x%.1f" % vb if vb else "?", "x%.2f" % vw if vw else "?"))
        p("   calyx: a fresh single-run lease per run (hyperfine --prepare, not timed).")
        if "calyx" in host and "bwrap" in host:
            r = host["calyx"]["median"] / host["bwrap"]["median"]
            targets.append(("host calyx run <= 1.5x bwrap (medians)", "x%.2f" % r, r <= 1.5))
        if rss:
            p("   peak RSS (GNU time -v, max RSS of the process and its children), kB per run: " +
              "; ".join("%s %s" % (n, " ".join(map(str, v))) for n, v in rss.items()))
        if "calyx" in rss:
            mx = max(rss["calyx"])
            targets.append(("peak RSS of calyx run <= 8 MiB (worst of %d runs)" % len(rss["calyx"]),
                            "%.1f MiB (bwrap %.1f MiB)" % (mx / 1024, max(rss.get("bwrap", [0])) / 1024),
                            mx <= 8 * 1024))
        else:
            missing.append("host peak RSS")

    # --- 4. the sentinel's records (host) --------------------------------------------------
    if a.host:
        rec = [r.split() for k, r in parse(a.host, "R") if k == "R"]
        paced = [(int(x[1]), int(x[2]), int(x[3]), int(x[4])) for x in rec if x[0] == "paced"]
        cpu = [x for x in rec if x[0] == "cpu"]
        rs = [x for x in rec if x[0] == "rss"]
        fast = [x for x in rec if x[0] == "fast"]
        p("")
        p("4. records (host, real time, landlock backend): floods of refused AF_INET sockets,")
        p("   two producer processes; one 96-byte record each")
        for asked, got, n, dropped in paced:
            p("   paced %9d/s asked: %9d/s reached, %8d records, %7d lost" % (asked, got, n, dropped))
        for x in fast:
            n, ms, dropped = int(x[1]), int(x[2]), int(x[3])
            p("   unpaced: %d records in %d ms (%d/s), %d lost" % (n, ms, n * 1000 // max(ms, 1), dropped))
        # the highest rate held over a whole flood with nothing lost: paced or unpaced
        reached = [(got, d) for asked, got, n, d in paced] + \
                  [(int(x[1]) * 1000 // max(int(x[2]), 1), int(x[3])) for x in fast]
        best = max([got for got, d in reached if d == 0] or [0])
        if paced:
            limited = [asked for asked, got, n, d in paced if got < asked * 0.95]
            targets.append(("records: >= 1,000,000/s sustained without loss", "%d/s%s" % (
                best, " (the producers reached at most %d/s)" % max(g for g, _ in reached)
                if limited else ""), best >= 1000000))
        else:
            missing.append("records paced floods")
        if cpu:
            n, run_ns, base_ns = int(cpu[0][1]), int(cpu[0][2]), int(cpu[0][3])
            per = (run_ns - base_ns) / max(n, 1)
            p("   consumer: runner CPU %.1f ms over %d records, %.1f ms for a run without them: "
              "%.0f ns per record" % (run_ns / 1e6, n, base_ns / 1e6, per))
            targets.append(("records: consumer CPU <= 1 us per record", "%.2f us" % (per / 1000), per <= 1000))
        else:
            missing.append("records consumer CPU")
        if rs:
            p("   runner peak RSS (VmHWM): %s kB during the unpaced flood, %s kB without one" % (rs[0][1], rs[0][2]))
        else:
            missing.append("records runner RSS")

    # --- targets ------------------------------------------------------------------------
    p("")
    p("targets")
    tw = max([len(t) for t, _, _ in targets] + [10])
    for t, fig, met in targets:
        p("   %-*s  %-8s %s" % (tw, t, "met" if met else "MISSED", fig))
    met = sum(1 for _, _, m in targets if m)
    p("   %d of %d targets met" % (met, len(targets)))

    for n in notes:
        p("note: " + n)
    if "wall" in meta:
        p("wall time of make bench: %s" % meta["wall"])
    for e in errors:
        p("ERROR: " + e)
    for m in missing:
        p("ERROR: not measured: " + m)
    print("\n".join(out))
    return 1 if errors or missing else 0


if __name__ == "__main__":
    sys.exit(main())
