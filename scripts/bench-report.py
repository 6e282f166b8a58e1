#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`, the report: read what scripts/bench-guest.sh left in the
# VM's output directory and write bench/results/<date>-<kernel>[-tag].md
# (the tables), .json (the same figures with every repetition) and one
# chart per backend (.png, with python3-matplotlib).
#
# Each cell: the median over the repetitions, with min-max.  Ratios: of
# the medians, and in brackets the min-max of the per-repetition ratios
# (ours and stock of one repetition ran back to back, so each pair saw
# the same moment of the machine).
import argparse
import json
import math
import os
import statistics
import sys

# vqN/stats, in its order; later trees may append fields.
VQ_STATS = ("kicks", "kicks_held", "irqs", "cb_local", "cb_remote", "irqfd")


def jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def fio_result(path):
    """IOPS, bandwidth and latencies of the direction that moved more."""
    try:
        with open(path) as f:
            j = json.load(f)["jobs"][0]
    except (OSError, ValueError, KeyError, IndexError) as e:
        return {"error": "no fio result: %s" % e}
    d = j["write"] if j["write"]["io_bytes"] > j["read"]["io_bytes"] \
        else j["read"]
    if j.get("error") or not d["iops"]:
        return {"error": "fio error %d" % j.get("error", 0)}
    pct = d["clat_ns"].get("percentile", {})
    return {"iops": d["iops"], "bw_kib": d["bw"],
            "clat_mean_us": d["clat_ns"]["mean"] / 1e3,
            "clat_p99_us": pct.get("99.000000", 0) / 1e3,
            "ios": d["total_ios"]}


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values),
            "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


def pinned(env, peers=True):
    """The sentence saying where the daemons and fio were pinned, if."""
    d, f = env.get("daemon_cpus", ""), env.get("fio_cpus", "")
    if peers and env.get("peer_cpus"):
        d = f = env["peer_cpus"]
    aff = env.get("irq_affinity", "")
    aff = (" Every queue's irq_cb_affinity set to %s after attaching." % aff
           if aff else "")
    if not d and not f:
        return aff
    if d == f:
        return " The daemon and fio pinned to CPU(s) %s.%s" % (d, aff)
    return " The daemon pinned to CPU(s) %s, fio to %s.%s" % (
        d or "any", f or "any", aff)


def geomean(values):
    values = [v for v in values if v]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt_num(v):
    if v is None:
        return "-"
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_spread(s):
    if not s:
        return "-"
    if len(s["values"]) < 2:
        return fmt_num(s["median"])
    return "%s (%s-%s)" % (fmt_num(s["median"]), fmt_num(s["min"]),
                           fmt_num(s["max"]))


def fmt_ratio(r):
    if not r or r.get("ratio") is None:
        return "-"
    if r.get("min") is None or r["min"] == r["max"]:
        return "%.2f" % r["ratio"]
    return "**%.2f** (%.2f-%.2f)" % (r["ratio"], r["min"], r["max"])


def paired_ratio(a_runs, b_runs, metric="iops"):
    """Ratio of medians, and the min-max of the ratios rep by rep."""
    a = summary([r[metric] for r in a_runs])
    b = summary([r[metric] for r in b_runs])
    if not a or not b or not b["median"]:
        return None
    by_rep = {r["rep"]: r[metric] for r in b_runs}
    per = [r[metric] / by_rep[r["rep"]] for r in a_runs
           if by_rep.get(r["rep"])]
    return {"ratio": a["median"] / b["median"],
            "min": min(per) if per else None,
            "max": max(per) if per else None, "per_rep": per}


def per_io(runs, hz, window_s):
    """Counters per request over the peers' runs (medians)."""
    out = {}
    vals = {}
    for r in runs:
        d0, d1 = r.get("daemon0") or {}, r.get("daemon1") or {}
        served = d1.get("served", 0) - d0.get("served", 0)
        # The /proc/stat window holds the ramp and fio's start and end
        # too: the daemon's count is the window's, fio's is not.
        ios = served if served > 0 else r["iops"] * window_s
        if ios <= 0:
            continue
        c0, c1 = r.get("cpu0") or [], r.get("cpu1") or []
        v = {}
        if len(c0) == 2 and len(c1) == 2:
            v["cpu_us"] = (c1[0] - c0[0]) * 1e6 / hz / ios
            v["ctxt"] = (c1[1] - c0[1]) / ios
        if served > 0:
            v["daemon_wakeups"] = (d1.get("wakeups", 0) -
                                   d0.get("wakeups", 0)) / served
            if "injects" in d1:
                v["injects"] = (d1["injects"] - d0.get("injects", 0)) / served
        q0, q1 = r.get("vq0") or [], r.get("vq1") or []
        if q0 and len(q0) == len(q1):
            for i, k in enumerate(VQ_STATS[:len(q0)]):
                v["vq_" + k] = (q1[i] - q0[i]) / ios
        for k, x in v.items():
            vals.setdefault(k, []).append(x)
    for k, xs in vals.items():
        out[k] = statistics.median(xs)
    return out


def chart(path, title, cells, targets, ylabel):
    """Grouped bars, one group per cell, median with min-max bars."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    colors = {"ours": "#1f77b4", "stock": "#ff7f0e", "ublk": "#2ca02c",
              "null_blk": "#7f7f7f"}
    targets = [t for t in targets
               if any(c[1].get(t) for c in cells)]
    n = len(targets)
    width = 0.8 / max(n, 1)
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(cells) + 2), 4.5))
    for i, t in enumerate(targets):
        xs, ys, lo, hi = [], [], [], []
        for k, (_, e) in enumerate(cells):
            s = e.get(t)
            if not s:
                continue
            xs.append(k - 0.4 + width * (i + 0.5))
            ys.append(s["median"])
            lo.append(s["median"] - s["min"])
            hi.append(s["max"] - s["median"])
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=t,
               color=colors.get(t))
    ax.set_xticks(range(len(cells)))
    ax.set_xticklabels([c[0] for c in cells], rotation=30, ha="right",
                       fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="the VM's output directory")
    ap.add_argument("--results", required=True, help="where reports go")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--exit-code", type=int, default=0)
    a = ap.parse_args()

    env = load(os.path.join(a.out, "env.json"), {})
    host = load(os.path.join(a.out, "host.json"), {})
    host_end = load(os.path.join(a.out, "host-end.json"), {})
    raw = jsonl(os.path.join(a.out, "runs.jsonl"))
    ctl = jsonl(os.path.join(a.out, "ctl.jsonl"))
    devices = jsonl(os.path.join(a.out, "devices.jsonl"))
    kernel = env.get("kernel", "unknown")
    date = host.get("date", "")[:10] or "unknown"
    tag = host.get("tag", "")
    hz = env.get("hz", 100)
    window = env.get("runtime_s", 0) + env.get("ramp_s", 0)

    runs, failed = [], []
    for r in raw:
        r.update(fio_result(os.path.join(a.out, r["fio"])))
        (failed if "error" in r else runs).append(r)

    def sel(section, target, backend, config, job):
        return [r for r in runs if r["section"] == section and
                r["target"] == target and r["config"] == config and
                r["job"] == job and
                (backend is None or r["backend"] == backend)]

    def ordered(key, section):
        seen = []
        for r in raw:
            if r["section"] == section and r[key] not in seen:
                seen.append(r[key])
        return seen

    loads = []
    try:
        with open(os.path.join(a.out, "hostload.txt")) as f:
            loads = [float(line.split()[1]) for line in f if line.strip()]
    except OSError:
        pass

    data = {"date": date, "kernel": kernel, "tag": tag,
            "complete": a.exit_code == 0 and not failed,
            "exit_code": a.exit_code, "seconds": a.seconds, "env": env,
            "host": host, "host_load_1min": summary(loads),
            "devices": devices, "matrix": {}, "peers": {},
            "failed_runs": failed, "runs": raw}
    md = []
    w = md.append
    w("# vduse bench, %s, %s%s" % (date, kernel, ", " + tag if tag else ""))
    w("")
    if not data["complete"]:
        w("**Incomplete run** (exit code %d, %d failed fio run(s)): "
          "figures may be missing; see *Failed runs*.\n" % (
              a.exit_code, len(failed)))
    w("Commit %s. %s guest (%s vCPUs, %s MB) on %s (%s CPUs), %s; fio "
      "%s s + %s s ramp per run, %s repetition(s); whole run %d s "
      "(%.1f min)." % (
          host.get("commit", "?"), host.get("accel", "?").upper(),
          env.get("vcpus", "?"), env.get("mem_mb", "?"),
          host.get("host_cpu", "?"), host.get("host_cpus", "?"),
          host.get("qemu", "?"), env.get("runtime_s", "?"),
          env.get("ramp_s", "?"), env.get("reps", "?"), a.seconds,
          a.seconds / 60))
    w("")
    hl = data["host_load_1min"]
    w("**The host is shared** with other guests: its 1-minute load "
      "average was %s at the start, %s at the end%s. Absolute figures "
      "mean nothing here; read the ratios, whose two sides ran back to "
      "back in the same boot." % (
          host.get("loadavg", "?").split(" ")[0],
          host_end.get("loadavg_end", "?").split(" ")[0],
          ", median %.1f (%.1f-%.1f) sampled every 30 s" % (
              hl["median"], hl["min"], hl["max"]) if hl else ""))
    w("")
    w("- **ours**: this tree's vduse.ko; **stock**: Debian's vduse.ko "
      "from the same kernel package; **null_blk**: `queue_mode=2 "
      "irqmode=0`, the in-kernel ceiling; **ublk**: ublk_drv served by "
      "scripts/bench-ublk-null.c.")
    w("- fio: `--direct=1 --ioengine=libaio --time_based --norandommap "
      "--randrepeat=0 --group_reporting` on the whole disk, I/O scheduler "
      "`none`. A cell: median IOPS over the repetitions (min-max). A "
      "ratio: of the medians, then the min-max of the ratios repetition "
      "by repetition.")
    w("")

    w("## Modules")
    w("")
    w("| target | file | build ID | taint | loads, each checked |")
    w("|---|---|---|---|---|")
    mods = [c for c in ctl if c.get("type") == "module"]
    seen = set()
    for m in mods:
        if (m["target"], m["build_id"]) in seen:
            continue
        seen.add((m["target"], m["build_id"]))
        w("| %s | `%s` | `%s` | %s | %d |" % (
            m["target"], m["file"], m["build_id"],
            "`%s`" % m["taint"] if m["taint"] else "none",
            sum(1 for x in mods if x["target"] == m["target"])))
    w("")

    os.makedirs(a.results, exist_ok=True)
    charts = []
    base = "%s-%s%s" % (date, kernel, "-" + tag if tag else "")

    # The matrix: qemu-storage-daemon, one table and chart per backend.
    configs = ordered("config", "matrix")
    jobs = ordered("job", "matrix")
    for b in ordered("backend", "matrix"):
        if b == "null_blk":
            continue
        w("## qemu-storage-daemon, %s backend: ours vs stock" % b)
        w("")
        w("`--export type=vduse-blk,num-queues=Q,queue-size=S` for each "
          "QxS; null_blk with `submit_queues=Q hw_queue_depth=S` where "
          "measured.%s" % pinned(env, peers=False))
        w("")
        w("| queues x size | job | ours IOPS | stock IOPS | null_blk IOPS "
          "| ours/stock |")
        w("|---|---|---|---|---|---|")
        cells, table = [], {}
        for c in configs:
            for jn in jobs:
                o = sel("matrix", "ours", b, c, jn)
                s = sel("matrix", "stock", b, c, jn)
                n = sel("matrix", "null_blk", None, c, jn)
                if not o and not s:
                    continue
                e = {t: summary([r["iops"] for r in rs])
                     for t, rs in (("ours", o), ("stock", s),
                                   ("null_blk", n)) if rs}
                e["ours_stock"] = paired_ratio(o, s)
                table["%s %s" % (c, jn)] = e
                cells.append(("%s %s" % (c, jn), e))
                w("| %s | %s | %s | %s | %s | %s |" % (
                    c, jn, fmt_spread(e.get("ours")),
                    fmt_spread(e.get("stock")),
                    fmt_spread(e.get("null_blk")),
                    fmt_ratio(e["ours_stock"])))
        gm = geomean([e["ours_stock"]["ratio"] for e in table.values()
                      if e.get("ours_stock")])
        below = [k for k, e in table.items() if e.get("ours_stock") and
                 e["ours_stock"]["ratio"] < 1.0]
        w("| | *geometric mean* | | | | **%s** |" % (
            "%.2f" % gm if gm else "-"))
        w("")
        w("Cells below 1.0: %s." % (", ".join(below) if below else "none"))
        w("")
        # One cell's three pairs say little on a noisy host; the pairs of
        # every shape together say more about a job.
        pooled = {}
        w("Pooled over the device shapes: every repetition's ours/stock "
          "pair of a job.")
        w("")
        w("| job | pairs | median | 25%-75% | geometric mean | pairs ours "
          "ahead |")
        w("|---|---|---|---|---|---|")
        for jn in jobs + ["all"]:
            per = [x for k, e in table.items() if e.get("ours_stock")
                   and (jn == "all" or k.endswith(" " + jn))
                   for x in e["ours_stock"]["per_rep"]]
            if len(per) < 2:
                continue
            q = statistics.quantiles(per, n=4)
            pooled[jn] = {"pairs": len(per),
                          "median": statistics.median(per),
                          "q1": q[0], "q3": q[2], "geomean": geomean(per),
                          "ahead": sum(1 for x in per if x > 1)}
            p = pooled[jn]
            w("| %s | %d | **%.2f** | %.2f-%.2f | %.2f | %d of %d |" % (
                jn, p["pairs"], p["median"], p["q1"], p["q3"],
                p["geomean"], p["ahead"], p["pairs"]))
        w("")
        data["matrix"][b] = {"cells": table, "geomean_ours_stock": gm,
                             "below_1": below, "pooled": pooled}
        png = "%s-%s.png" % (base, b)
        if chart(os.path.join(a.results, png),
                 "qemu-storage-daemon %s: IOPS (median, min-max), %s" % (
                     b, tag or date), cells, ["ours", "stock", "null_blk"],
                 "IOPS (log)"):
            charts.append(png)
            w("![%s](%s)" % (b, png))
            w("")

    # The peers: null disks with no qemu-storage-daemon.
    pjobs = ordered("job", "peers")
    if pjobs:
        cfg = ordered("config", "peers")[0]
        w("## Null disks, no qemu-storage-daemon: VDUSE vs ublk")
        w("")
        w("One queue of %s on each: scripts/bench-vduse-null.c on ours and "
          "on stock (the selftests' block server, no data touched), "
          "scripts/bench-ublk-null.c (one io_uring, no data touched; "
          "ublk_drv copies to and from its buffer), null_blk.%s" % (
              cfg.split("x")[1],
              pinned(env)))
        w("")
        w("| job | ours | stock | ublk | null_blk | ours/ublk | stock/ublk "
          "| ours/stock |")
        w("|---|---|---|---|---|---|---|---|")
        cells = []
        for jn in pjobs:
            rs = {t: sel("peers", t, None, cfg, jn)
                  for t in ("ours", "stock", "ublk", "null_blk")}
            e = {t: summary([r["iops"] for r in v])
                 for t, v in rs.items() if v}
            e["ours_ublk"] = paired_ratio(rs["ours"], rs["ublk"])
            e["stock_ublk"] = paired_ratio(rs["stock"], rs["ublk"])
            e["ours_stock"] = paired_ratio(rs["ours"], rs["stock"])
            e["clat_us"] = {t: summary([r["clat_mean_us"] for r in v])
                            for t, v in rs.items() if v}
            e["per_io"] = {t: per_io(v, hz, window)
                           for t, v in rs.items() if v}
            data["peers"][jn] = e
            cells.append((jn, e))
            w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                jn, fmt_spread(e.get("ours")), fmt_spread(e.get("stock")),
                fmt_spread(e.get("ublk")), fmt_spread(e.get("null_blk")),
                fmt_ratio(e["ours_ublk"]), fmt_ratio(e["stock_ublk"]),
                fmt_ratio(e["ours_stock"])))
        w("")
        w("Mean completion latency (fio clat), µs:")
        w("")
        w("| job | ours | stock | ublk | null_blk |")
        w("|---|---|---|---|---|")
        for jn, e in cells:
            w("| %s | %s |" % (jn, " | ".join(
                fmt_spread(e["clat_us"].get(t))
                for t in ("ours", "stock", "ublk", "null_blk"))))
        w("")
        w("### Where a request's time goes (per request, medians)")
        w("")
        w("*daemon wakeups*: returns from the daemon's wait (VDUSE: kick "
          "eventfd reads; ublk: io_uring_enter() returns); *injects*: "
          "VDUSE_VQ_INJECT_IRQ calls; *kicks*, *irqs*, *cb local/remote*: "
          "ours' vq0/stats (kicks signalled to the daemon, interrupts "
          "injected, where the driver's callback ran); *ctxt* and *CPU "
          "µs*: /proc/stat over the run's window (ramp and fio's start "
          "included), all CPUs.")
        w("")
        w("| job | target | daemon wakeups | injects | kicks | irqs | "
          "cb local | cb remote | ctxt | CPU µs |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for jn, e in cells:
            for t in ("ours", "stock", "ublk", "null_blk"):
                p = e["per_io"].get(t)
                if not p:
                    continue
                g = lambda k: "%.2f" % p[k] if k in p else "-"
                w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    jn, t, g("daemon_wakeups"), g("injects"),
                    g("vq_kicks"), g("vq_irqs"), g("vq_cb_local"),
                    g("vq_cb_remote"), g("ctxt"),
                    "%.0f" % p["cpu_us"] if "cpu_us" in p else "-"))
        w("")
        png = "%s-peers.png" % base
        if chart(os.path.join(a.results, png),
                 "null disks, no qemu-storage-daemon: IOPS (median, "
                 "min-max), %s" % (tag or date), cells,
                 ["ours", "stock", "ublk", "null_blk"], "IOPS (log)"):
            charts.append(png)
            w("![peers](%s)" % png)
            w("")

    if devices:
        w("## Devices")
        w("")
        w("| section | target | backend | queues x size | hardware queues "
          "| nr_requests | scheduler |")
        w("|---|---|---|---|---|---|---|")
        for d in devices:
            w("| %s | %s | %s | %s | %s | %s | %s |" % (
                d["section"], d["target"], d["backend"], d["config"],
                d["hw_queues"], d["nr_requests"], d.get("scheduler", "?")))
        w("")

    cp = {}
    for t in ("ours", "stock"):
        cyc = [c["result"] for c in ctl
               if c.get("type") == "cycles" and c["target"] == t]
        st = [c["result"] for c in ctl
              if c.get("type") == "status" and c["target"] == t]
        if cyc or st:
            cp[t] = {"cycles_per_s": summary([c["cycles_per_s"] for c in cyc]),
                     "status_mean_us": summary([c["mean_us"] for c in st]),
                     "status_p99_us": summary([c["p99_us"] for c in st])}
    if cp:
        data["control_path"] = cp
        w("## Control path")
        w("")
        w("scripts/bench-ctl.c: create/attach/detach/destroy cycles, and "
          "VHOST_VDPA_SET_STATUS round trips relayed to the daemon.")
        w("")
        w("| figure | ours | stock |")
        w("|---|---|---|")
        for label, key in (("cycles/s", "cycles_per_s"),
                           ("SET_STATUS mean µs", "status_mean_us"),
                           ("SET_STATUS p99 µs", "status_p99_us")):
            w("| %s | %s | %s |" % (label,
                                    fmt_spread(cp.get("ours", {}).get(key)),
                                    fmt_spread(cp.get("stock", {}).get(key))))
        w("")

    errors = []
    try:
        with open(os.path.join(a.out, "errors.txt")) as f:
            errors = [line.strip() for line in f if line.strip()]
    except OSError:
        pass
    data["errors"] = errors
    if failed or errors:
        w("## Failed runs")
        w("")
        for e in errors:
            w("- %s" % e)
        for r in failed:
            w("- %s %s %s %s %s rep %s: %s" % (
                r["section"], r["target"], r["backend"], r["config"],
                r["job"], r["rep"], r["error"]))
        w("")

    data["charts"] = charts
    with open(os.path.join(a.results, base + ".md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(a.results, base + ".json"), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print("\n".join(md))
    print("bench: report in %s/%s.md and .json%s" % (
        a.results, base, ", charts " + " ".join(charts) if charts else
        " (no charts: python3-matplotlib is missing)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
