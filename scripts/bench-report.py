#!/usr/bin/env python3
"""scripts/bench-report.py — turn the raw results of scripts/bench into the
table it prints: medians per filesystem and workload, vaultfs's ratio to each
other filesystem, the best peer per workload, and the issue's targets.

Usage: scripts/bench-report.py [--meta META] [--json OUT] RESULTS.csv

scripts/bench calls it at the end of a run; run it again on an older
results.csv (WORKDIR/results/STAMP/) to see that run's table. The CSV has one
row per measurement: round,fs,workload,value,unit,status,note with status
"ok", "failed" or "n/a" (the filesystem could not be set up). Standard
library only.
"""

import argparse
import csv
import json
import statistics
import sys

FILESYSTEMS = ["raw", "bindfs", "gocryptfs", "securefs", "cryfs", "vaultfs"]
# The other FUSE filesystems vaultfs is to beat. raw (no FUSE) is the ceiling
# of the machine, shown for orientation, not a peer.
PEERS = ["bindfs", "gocryptfs", "securefs", "cryfs"]
WORKLOADS = ["write", "read", "untar", "md5", "ls", "rm", "randrw", "rss"]
UNITS = {"write": "MiB/s", "read": "MiB/s", "untar": "s", "md5": "s", "ls": "s",
         "rm": "s", "randrw": "IOPS", "rss": "MiB"}
HIGHER_IS_BETTER = {"write", "read", "randrw"}
RSS_LIMIT_MIB = 100.0
BINDFS_FRACTION = 0.80


def fmt(workload, value):
    """A value as the table shows it."""
    if value is None:
        return "-"
    if workload in ("write", "read"):
        return "%.0f" % value if value >= 100 else "%.1f" % value
    if workload == "randrw":
        return "%.0f" % value
    if workload == "rss":
        return "%.1f" % value
    return "%.2f" % value


def advantage(workload, vaultfs, other):
    """vaultfs's advantage over other as a factor: > 1 means vaultfs is
    better (more throughput, less time, less memory)."""
    if vaultfs is None or other is None or vaultfs <= 0 or other <= 0:
        return None
    if workload in HIGHER_IS_BETTER:
        return vaultfs / other
    return other / vaultfs


def read_meta(path):
    meta = {}
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                key, sep, value = line.rstrip("\n").partition("=")
                if sep:
                    meta[key] = value
    return meta


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["round"] = int(row["round"])
        row["value"] = float(row["value"]) if row["status"] == "ok" and row["value"] else None
    return rows


def summarise(rows):
    """medians[fs][workload] = {median, min, max, n, unit}; na[fs] = reason;
    failures[(fs, workload)] = note of the last failure."""
    values, na, failures = {}, {}, {}
    for row in rows:
        fs, w = row["fs"], row["workload"]
        if row["status"] == "ok":
            values.setdefault(fs, {}).setdefault(w, []).append(row["value"])
        elif row["status"] == "n/a":
            na.setdefault(fs, row["note"])
        else:
            failures[(fs, w)] = row["note"]
    medians = {}
    for fs, per_w in values.items():
        for w, vs in per_w.items():
            medians.setdefault(fs, {})[w] = {
                "median": statistics.median(vs), "min": min(vs), "max": max(vs),
                "n": len(vs), "unit": UNITS.get(w, ""), "values": vs}
    # A filesystem with numbers in some round is not n/a as a whole.
    for fs in list(na):
        if fs in medians:
            del na[fs]
    return medians, na, failures


def median_of(medians, fs, w):
    return medians.get(fs, {}).get(w, {}).get("median")


def compare(medians, workloads):
    """vaultfs against every other filesystem and the best peer."""
    ratios, best, beats = {}, {}, {}
    for fs in FILESYSTEMS:
        if fs == "vaultfs" or fs not in medians:
            continue
        ratios[fs] = {w: advantage(w, median_of(medians, "vaultfs", w), median_of(medians, fs, w))
                      for w in workloads}
    for w in workloads:
        candidates = [(fs, median_of(medians, fs, w)) for fs in PEERS
                      if median_of(medians, fs, w) is not None]
        if not candidates:
            continue
        pick = max if w in HIGHER_IS_BETTER else min
        fs, value = pick(candidates, key=lambda c: c[1])
        best[w] = {"fs": fs, "value": value}
        ratio = advantage(w, median_of(medians, "vaultfs", w), value)
        beats[w] = None if ratio is None else ratio > 1.0
    return ratios, best, beats


def targets(medians, beats, workloads):
    out = {}
    out["beats_best_peer_everywhere"] = (
        bool(beats) and all(beats.get(w) for w in workloads if w in beats))
    for w in ("write", "read"):
        if w in workloads:
            ratio = advantage(w, median_of(medians, "vaultfs", w), median_of(medians, "bindfs", w))
            out["%s_vs_bindfs" % w] = {"ratio": ratio,
                                       "met": ratio is not None and ratio >= BINDFS_FRACTION}
    if "rss" in workloads:
        rss = median_of(medians, "vaultfs", "rss")
        peak = medians.get("vaultfs", {}).get("rss", {}).get("max")
        out["rss_under_100_mib"] = {"median": rss, "max": peak,
                                    "met": peak is not None and peak < RSS_LIMIT_MIB}
    return out


def render(meta, medians, na, failures, workloads, ratios, best, beats, tgt):
    lines = []
    out = lines.append
    if meta:
        out("vaultfs benchmark: %s run %s; %s round(s), %s MiB file, %s files, %s s fio"
            % (meta.get("mode", "?"), meta.get("stamp", "?"), meta.get("rounds", "?"),
               meta.get("size_mib", "?"), meta.get("tree_files", "?"),
               meta.get("fio_runtime_s", "?")))
        out("vaultfs %s; kernel %s; %s CPU(s) %s; backing %s"
            % (meta.get("vaultfs_commit", "?"), meta.get("kernel", "?"), meta.get("cpus", "?"),
               meta.get("cpu", ""), meta.get("backing_fs", "?")))
        if meta.get("profiled") == "1":
            out("PROFILED RUN (perf attached to vaultfs): timings are not comparable")
        out("")

    fss = [fs for fs in FILESYSTEMS if fs in medians or fs in na]
    width = 10
    head = "%-11s" % "median" + "".join("%*s" % (width, w.upper()) for w in workloads)
    units = "%-11s" % "" + "".join("%*s" % (width, UNITS[w]) for w in workloads)
    out(head)
    out(units)
    for fs in fss:
        if fs in na:
            out("%-11s n/a (%s)" % (fs, na[fs]))
            continue
        cells = []
        for w in workloads:
            if fs == "raw" and w == "rss":
                cells.append("-")
            elif median_of(medians, fs, w) is not None:
                cells.append(fmt(w, median_of(medians, fs, w)))
            elif (fs, w) in failures:
                cells.append("failed")
            else:
                cells.append("-")
        out("%-11s" % fs + "".join("%*s" % (width, c) for c in cells))
    notes = ["  %s %s: %s" % (fs, w.upper(), note) for (fs, w), note in sorted(failures.items())
             if median_of(medians, fs, w) is None]
    if notes:
        out("failures:")
        lines.extend(notes)

    if "vaultfs" in medians:
        out("")
        out("vaultfs vs    (factor > 1.00x: vaultfs better; times and memory as other/vaultfs)")
        for fs, per_w in ratios.items():
            cells = ["-" if per_w.get(w) is None else "%.2fx" % per_w[w] for w in workloads]
            out("%-11s" % fs + "".join("%*s" % (width, c) for c in cells))
        if best:
            out("%-11s" % "best peer" + "".join(
                "%*s" % (width, best[w]["fs"] if w in best else "-") for w in workloads))
            out("%-11s" % "" + "".join(
                "%*s" % (width, fmt(w, best[w]["value"]) if w in best else "")
                for w in workloads))
            out("%-11s" % "beats it" + "".join(
                "%*s" % (width, {True: "yes", False: "NO", None: "-"}[beats.get(w)])
                for w in workloads))
        else:
            out("(no peer in this run: no best peer to beat)")

        out("")
        out("targets")
        if best:
            lost = [w.upper() for w in workloads if beats.get(w) is False]
            unknown = [w.upper() for w in workloads if beats.get(w) is None]
            verdict = "yes" if tgt["beats_best_peer_everywhere"] and not unknown else "NO"
            detail = []
            if lost:
                detail.append("loses on " + ", ".join(lost))
            if unknown:
                detail.append("no comparison for " + ", ".join(unknown))
            out("  vaultfs beats the best peer on every workload: %s%s"
                % (verdict, " (" + "; ".join(detail) + ")" if detail else ""))
        for w in ("write", "read"):
            t = tgt.get("%s_vs_bindfs" % w)
            if t and t["ratio"] is not None:
                out("  %s >= 80%% of bindfs: %s (%.0f%%)"
                    % (w.upper(), "yes" if t["met"] else "NO", 100 * t["ratio"]))
        t = tgt.get("rss_under_100_mib")
        if t and t["max"] is not None:
            out("  daemon memory < 100 MiB during UNTAR: %s (peak %.1f MiB)"
                % ("yes" if t["met"] else "NO", t["max"]))

    multi = any(m["n"] > 1 for per_w in medians.values() for m in per_w.values())
    if multi:
        out("")
        out("spread       (max/min over the rounds; 1.00 = no noise)")
        for fs in fss:
            if fs in na:
                continue
            cells = []
            for w in workloads:
                m = medians.get(fs, {}).get(w)
                cells.append("-" if not m or m["min"] <= 0 else "%.2f" % (m["max"] / m["min"]))
            out("%-11s" % fs + "".join("%*s" % (width, c) for c in cells))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description="Tabulate the results of scripts/bench.")
    parser.add_argument("csv", help="results.csv written by scripts/bench")
    parser.add_argument("--meta", help="meta.txt written by scripts/bench (key=value lines)")
    parser.add_argument("--json", help="write medians, ratios and targets as JSON here")
    args = parser.parse_args()

    try:
        meta = read_meta(args.meta)
        rows = read_rows(args.csv)
    except (OSError, ValueError, KeyError) as e:
        print("bench-report: cannot read the results: %s" % e, file=sys.stderr)
        return 1
    present = {row["workload"] for row in rows}
    workloads = [w for w in WORKLOADS if w in present]
    medians, na, failures = summarise(rows)
    ratios, best, beats = compare(medians, workloads)
    tgt = targets(medians, beats, workloads)
    print(render(meta, medians, na, failures, workloads, ratios, best, beats, tgt))

    if args.json:
        doc = {
            "meta": meta,
            "higher_is_better": sorted(HIGHER_IS_BETTER),
            "medians": medians,
            "not_available": na,
            "failures": {"%s/%s" % k: v for k, v in failures.items()},
            "vaultfs": {"advantage": ratios, "best_peer": best, "beats_best_peer": beats,
                        "targets": tgt},
            "results": rows,
        }
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
