#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# `make bench`, the report: read what scripts/bench-guest.sh left in the
# VM's output directory and write bench/results/<date>-<kernel>.md (the
# tables) and .json (the same figures with every repetition, for
# machines).  Medians over the repetitions, spread as min-max (stdev in
# the JSON); ratios are of medians.
import argparse
import json
import math
import os
import statistics
import sys

METRICS = ("iops", "bw_kib", "clat_mean_us", "clat_p99_us")


def jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def load(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "values": values,
    }


def ratio(a, b):
    if not a or not b or not b["median"]:
        return None
    return a["median"] / b["median"]


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


def fmt_spread(s, scale=1.0):
    if not s:
        return "-"
    med = fmt_num(s["median"] * scale)
    if len(s["values"]) < 2:
        return med
    return "%s (%s-%s)" % (med, fmt_num(s["min"] * scale),
                           fmt_num(s["max"] * scale))


def fmt_ratio(r):
    if r is None:
        return "-"
    return "%.2f" % r if r >= 0.1 else "%.3f" % r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="the VM's output directory")
    ap.add_argument("--results", required=True, help="where reports go")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--exit-code", type=int, default=0)
    a = ap.parse_args()

    env = load(os.path.join(a.out, "env.json"), {})
    host = load(os.path.join(a.out, "host.json"), {})
    runs = jsonl(os.path.join(a.out, "runs.jsonl"))
    ctl = jsonl(os.path.join(a.out, "ctl.jsonl"))
    devices = jsonl(os.path.join(a.out, "devices.jsonl"))
    jobs = env.get("jobs", [])
    job_names = [j["name"] for j in jobs] or sorted({r["job"] for r in runs})
    backends = env.get("backends") or sorted(
        {r["backend"] for r in runs if r["target"] != "null_blk"})
    kernel = env.get("kernel", "unknown")
    date = host.get("date", "")[:10] or "unknown"

    # fio: backend -> job -> target -> metric -> summary
    fio = {}
    failed = [r for r in runs if "error" in r]
    for b in backends:
        fio[b] = {}
        for jn in job_names:
            entry = {}
            for t in ("ours", "stock", "null_blk"):
                rs = [r for r in runs if r["job"] == jn and r["target"] == t
                      and (t == "null_blk" or r["backend"] == b)
                      and "error" not in r]
                if rs:
                    entry[t] = {m: summary([r.get(m) for r in rs])
                                for m in METRICS}
            o, s, n = (entry.get(t) for t in ("ours", "stock", "null_blk"))
            entry["ratios"] = {
                "iops_ours_stock": ratio(o and o["iops"], s and s["iops"]),
                "iops_ours_null_blk": ratio(o and o["iops"], n and n["iops"]),
                "clat_stock_ours": ratio(s and s["clat_mean_us"],
                                         o and o["clat_mean_us"]),
                "clat_null_blk_ours": ratio(n and n["clat_mean_us"],
                                            o and o["clat_mean_us"]),
                "p99_stock_ours": ratio(s and s["clat_p99_us"],
                                        o and o["clat_p99_us"]),
            }
            fio[b][jn] = entry

    # Control path: target -> figure -> summary
    modules = [c for c in ctl if c.get("type") == "module"]
    cp = {}
    for t in ("ours", "stock"):
        cyc = [c["result"] for c in ctl
               if c.get("type") == "cycles" and c["target"] == t]
        st = [c["result"] for c in ctl
              if c.get("type") == "status" and c["target"] == t]
        if not cyc and not st:
            continue
        cp[t] = {
            "cycles_per_s": summary([c["cycles_per_s"] for c in cyc]),
            "create_us": summary([c["create_us"] for c in cyc]),
            "attach_us": summary([c["attach_us"] for c in cyc]),
            "detach_us": summary([c["detach_us"] for c in cyc]),
            "destroy_us": summary([c["destroy_us"] for c in cyc]),
            "status_mean_us": summary([c["mean_us"] for c in st]),
            "status_p50_us": summary([c["p50_us"] for c in st]),
            "status_p99_us": summary([c["p99_us"] for c in st]),
            "status_relayed": sum(c["relayed"] for c in st),
            "status_iters": sum(c["iters"] for c in st),
        }

    complete = a.exit_code == 0 and not failed
    data = {
        "date": date, "kernel": kernel, "complete": complete,
        "exit_code": a.exit_code, "seconds": a.seconds,
        "env": env, "host": host, "modules": modules, "devices": devices,
        "fio": fio, "control_path": cp, "failed_runs": failed, "runs": runs,
    }

    md = []
    w = md.append
    w("# vduse bench, %s, %s" % (date, kernel))
    w("")
    if not complete:
        w("**Incomplete run** (exit code %d, %d failed fio run(s)): "
          "figures may be missing.\n" % (a.exit_code, len(failed)))
    w("Commit %s. %s guest (%s vCPUs, %s MB) on %s (%s CPUs), %s; "
      "fio %s s + %s s ramp per run, %s repetition(s), ours, stock and "
      "null_blk interleaved; whole run %d s (%.1f min)." % (
          host.get("commit", "?"), host.get("accel", "?").upper(),
          env.get("vcpus", "?"), env.get("mem_mb", "?"),
          host.get("host_cpu", "?"), host.get("host_cpus", "?"),
          host.get("qemu", "?"), env.get("runtime_s", "?"),
          env.get("ramp_s", "?"), env.get("reps", "?"), a.seconds,
          a.seconds / 60))
    w("")
    w("- **ours**: this tree's vduse.ko; **stock**: Debian's vduse.ko from "
      "the same kernel package; both serve %s, an unmodified %s with "
      "`--export type=vduse-blk,num-queues=N,queue-size=%s,writable=on`, "
      "through virtio-vdpa and virtio-blk (`/dev/vdX`)." % (
          "the same daemon", env.get("qsd", "qemu-storage-daemon"),
          env.get("queue_size", "?")))
    w("- **null_blk**: `queue_mode=2 irqmode=0 hw_queue_depth=%s`, "
      "`submit_queues` as the job's queues: the in-kernel ceiling." %
      env.get("queue_size", "?"))
    w("- Backends: **null-co** (`driver=null-co,size=%s,read-zeroes=on`) and "
      "**file** (a %s file on the guest's tmpfs, `driver=file,"
      "cache.direct=off,aio=threads`)." % (env.get("size", "?"),
                                           env.get("size", "?")))
    w("- fio: `--direct=1 --ioengine=libaio --time_based --norandommap "
      "--randrepeat=0 --group_reporting` on the whole disk, I/O scheduler "
      "`none` on every disk; each cell is the median over the repetitions, "
      "with min-max in brackets.")
    w("")
    if jobs:
        w("| job | rw | bs | iodepth | numjobs | device queues |")
        w("|---|---|---|---|---|---|")
        for j in jobs:
            w("| %s | %s | %s | %s | %s | %s |" % (
                j["name"], j["rw"], j["bs"], j["iodepth"], j["numjobs"],
                j["queues"]))
        w("")

    w("## Modules")
    w("")
    w("Checked each time a module was loaded: the GNU build ID in "
      "/sys/module/vduse/notes equals that of the file (ours: a copy of "
      "drivers/vdpa/vdpa_user/vduse.ko taken when the bench started; stock: "
      "what `modinfo -n vduse` names, decompressed).")
    w("")
    w("| target | file | build ID | taint | checked |")
    w("|---|---|---|---|---|")
    seen = set()
    for m in modules:
        key = (m["target"], m["build_id"])
        if key in seen:
            continue
        seen.add(key)
        loads = sum(1 for x in modules if x["target"] == m["target"])
        w("| %s | `%s` | `%s` | %s | loaded %d time(s), build ID matched "
          "the file each time |" % (m["target"], m["file"], m["build_id"],
                                    "`%s`" % m["taint"] if m["taint"]
                                    else "none", loads))
    w("")

    if devices:
        w("## Devices")
        w("")
        w("Hardware queues as the block layer made them (virtio-blk and "
          "null_blk use at most one per CPU).")
        w("")
        w("| target | backend | queues asked | hardware queues | "
          "nr_requests | scheduler |")
        w("|---|---|---|---|---|---|")
        for d in devices:
            w("| %s | %s | %s | %s | %s | %s |" % (
                d["target"], d["backend"], d["queues"], d["hw_queues"],
                d["nr_requests"], d.get("scheduler", "?")))
        w("")

    for b in backends:
        w("## fio, %s backend" % b)
        w("")
        w("Throughput. Ratios of medians: >1 means ours does more.")
        w("")
        w("| job | ours IOPS | stock IOPS | null_blk IOPS | ours MiB/s | "
          "stock MiB/s | null_blk MiB/s | ours/stock | ours/null_blk |")
        w("|---|---|---|---|---|---|---|---|---|")
        for jn in job_names:
            e = fio[b][jn]
            g = lambda t, m: e.get(t, {}).get(m)
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                jn, fmt_spread(g("ours", "iops")),
                fmt_spread(g("stock", "iops")),
                fmt_spread(g("null_blk", "iops")),
                fmt_spread(g("ours", "bw_kib"), 1 / 1024),
                fmt_spread(g("stock", "bw_kib"), 1 / 1024),
                fmt_spread(g("null_blk", "bw_kib"), 1 / 1024),
                fmt_ratio(e["ratios"]["iops_ours_stock"]),
                fmt_ratio(e["ratios"]["iops_ours_null_blk"])))
        gm = {k: geomean([fio[b][jn]["ratios"][k] for jn in job_names])
              for k in ("iops_ours_stock", "iops_ours_null_blk",
                        "clat_stock_ours", "clat_null_blk_ours")}
        data.setdefault("geomean", {})[b] = gm
        w("| *geometric mean* | | | | | | | %s | %s |" % (
            fmt_ratio(gm["iops_ours_stock"]),
            fmt_ratio(gm["iops_ours_null_blk"])))
        w("")
        w("Completion latency (fio's clat), µs. Latency ratios are "
          "*other/ours*: >1 means ours is faster.")
        w("")
        w("| job | ours mean | stock mean | null_blk mean | stock/ours | "
          "null_blk/ours | ours p99 | stock p99 | null_blk p99 | "
          "p99 stock/ours |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        for jn in job_names:
            e = fio[b][jn]
            g = lambda t, m: e.get(t, {}).get(m)
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                jn, fmt_spread(g("ours", "clat_mean_us")),
                fmt_spread(g("stock", "clat_mean_us")),
                fmt_spread(g("null_blk", "clat_mean_us")),
                fmt_ratio(e["ratios"]["clat_stock_ours"]),
                fmt_ratio(e["ratios"]["clat_null_blk_ours"]),
                fmt_spread(g("ours", "clat_p99_us")),
                fmt_spread(g("stock", "clat_p99_us")),
                fmt_spread(g("null_blk", "clat_p99_us")),
                fmt_ratio(e["ratios"]["p99_stock_ours"])))
        w("| *geometric mean* | | | | %s | %s | | | | |" % (
            fmt_ratio(gm["clat_stock_ours"]),
            fmt_ratio(gm["clat_null_blk_ours"])))
        w("")

    if cp:
        w("## Control path")
        w("")
        env_c = env.get("cycles", "?")
        env_s = env.get("status_iters", "?")
        w("Cycles: VDUSE_CREATE_DEV + open + VDUSE_VQ_SETUP, `vdpa dev add` "
          "(netlink; virtio-blk probes a capacity-0 disk), `vdpa dev del`, "
          "VDUSE_DESTROY_DEV; %s per repetition. Status round trip: "
          "VHOST_VDPA_SET_STATUS on /dev/vhost-vdpa-N, relayed to the "
          "daemon as VDUSE_SET_STATUS and answered by a thread; %s per "
          "repetition. Ratio column: >1 means ours is better (ours/stock "
          "for rates, stock/ours for times)." % (env_c, env_s))
        w("")
        w("| figure | ours | stock | ratio |")
        w("|---|---|---|---|")
        o, s = cp.get("ours", {}), cp.get("stock", {})
        rows = [("cycles/s", "cycles_per_s", False),
                ("create µs", "create_us", True),
                ("attach µs", "attach_us", True),
                ("detach µs", "detach_us", True),
                ("destroy µs", "destroy_us", True),
                ("SET_STATUS round trip mean µs", "status_mean_us", True),
                ("SET_STATUS round trip p50 µs", "status_p50_us", True),
                ("SET_STATUS round trip p99 µs", "status_p99_us", True)]
        cp_ratios = {}
        for label, key, inverse in rows:
            r = ratio(s.get(key), o.get(key)) if inverse else \
                ratio(o.get(key), s.get(key))
            cp_ratios[key] = r
            w("| %s | %s | %s | %s |" % (label, fmt_spread(o.get(key)),
                                         fmt_spread(s.get(key)),
                                         fmt_ratio(r)))
        w("| status messages the daemon saw | %s of %s | %s of %s | |" % (
            o.get("status_relayed", "-"), o.get("status_iters", "-"),
            s.get("status_relayed", "-"), s.get("status_iters", "-")))
        data["control_path_ratios"] = cp_ratios
        w("")

    if failed:
        w("## Failed runs")
        w("")
        for r in failed:
            w("- %s %s %s rep %s: %s" % (r["target"], r["backend"], r["job"],
                                         r["rep"], r["error"]))
        w("")

    os.makedirs(a.results, exist_ok=True)
    base = os.path.join(a.results, "%s-%s" % (date, kernel))
    with open(base + ".md", "w") as f:
        f.write("\n".join(md))
    with open(base + ".json", "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    print("\n".join(md))
    print("bench: report in %s.md and .json" % base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
