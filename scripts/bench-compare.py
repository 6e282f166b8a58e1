#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# Two `make bench` reports side by side (their .json files, see
# scripts/bench-report.py): ours/stock per matrix cell and VDUSE/ublk per
# peer job, before and after a change, as markdown on stdout.
#
#   bench-compare.py BEFORE.json AFTER.json
#
# Each report's ratios were measured within its own boot; the two columns
# are two such measurements, not one.
import json
import sys


def fmt(r):
    if not r or r.get("ratio") is None:
        return "-"
    if r.get("min") is None:
        return "%.2f" % r["ratio"]
    return "%.2f (%.2f-%.2f)" % (r["ratio"], r["min"], r["max"])


def main():
    if len(sys.argv) != 3:
        print("usage: bench-compare.py BEFORE.json AFTER.json",
              file=sys.stderr)
        return 2
    b, a = (json.load(open(p)) for p in sys.argv[1:])
    for backend in b.get("matrix", {}):
        cb = b["matrix"][backend]["cells"]
        ca = a.get("matrix", {}).get(backend, {}).get("cells", {})
        print("ours/stock, qemu-storage-daemon %s backend:" % backend)
        print("")
        print("| queues x size, job | before | after |")
        print("|---|---|---|")
        for cell in cb:
            print("| %s | %s | %s |" % (
                cell, fmt(cb[cell].get("ours_stock")),
                fmt(ca.get(cell, {}).get("ours_stock"))))
        gb = b["matrix"][backend].get("geomean_ours_stock")
        ga = a.get("matrix", {}).get(backend, {}).get("geomean_ours_stock")
        print("| *geometric mean* | %s | %s |" % (
            "%.2f" % gb if gb else "-", "%.2f" % ga if ga else "-"))
        print("")
    if b.get("peers"):
        print("Null disks, no qemu-storage-daemon:")
        print("")
        print("| job | ours/ublk before | after | stock/ublk before | after "
              "| ours/stock before | after |")
        print("|---|---|---|---|---|---|---|")
        for jn, e in b["peers"].items():
            f = a.get("peers", {}).get(jn, {})
            print("| %s | %s | %s | %s | %s | %s | %s |" % (
                jn, fmt(e.get("ours_ublk")), fmt(f.get("ours_ublk")),
                fmt(e.get("stock_ublk")), fmt(f.get("stock_ublk")),
                fmt(e.get("ours_stock")), fmt(f.get("ours_stock"))))
        print("")
    return 0


if __name__ == "__main__":
    sys.exit(main())
