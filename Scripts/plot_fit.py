#!/usr/bin/env python3
"""Plot what `stat3sim fit` and `stat3sim profile` write.

  waterfall FIT.csv          the starts' final NLL + prior, sorted: a plateau of many starts at the
                             lowest value says the optimum was found reliably
  data SIM.tsv               data against the fit, one panel per observable (and a line per
                             condition): SIM.tsv from `stat3sim petab nll PROBLEM.yaml --parameters
                             BEST.tsv --simulations SIM.tsv`; --measurements names the problem's
                             measurement table (the data)
  profiles PROFILES.csv      each parameter's profile (2ΔNLL against its value on its scale) with
                             the 95 % threshold 3.84, one panel per parameter

Examples:
  Scripts/plot_fit.py waterfall boehm_fit.csv --out results/boehm_waterfall.png
  Scripts/plot_fit.py data boehm_sim.tsv \\
      --measurements Tests/PEtab/Boehm_JProteomeRes2014/measurementData_Boehm_JProteomeRes2014.tsv \\
      --out results/boehm_fit.png
  Scripts/plot_fit.py profiles boehm_profiles.csv --out results/boehm_profiles.png
"""
import argparse
import csv
import math
import sys

from plot import pyplot, save


def rows(path, delimiter=","):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def waterfall(args):
    plt = pyplot()
    starts = rows(args.csv)
    if not starts or "nll" not in starts[0]:
        sys.exit(f"plot_fit.py: {args.csv} is not a `stat3sim fit` CSV")
    values = sorted(float(r["nll"]) for r in starts if math.isfinite(float(r["nll"])))
    failed = len(starts) - len(values)
    fig, ax = plt.subplots(figsize=(6, 4))
    best = values[0]
    # The offset from the best on a log axis, as pyPESTO draws it.
    ax.semilogy(range(1, len(values) + 1), [v - best + 1 for v in values], "o-", markersize=3)
    ax.set_xlabel("start (sorted)")
    ax.set_ylabel(f"nll + prior − best + 1 (best {best:.4f})")
    within = sum(1 for v in values if v <= best + 0.1)
    ax.set_title(args.title or f"{within} of {len(starts)} starts within 0.1 of the best" +
                 (f", {failed} failed" if failed else ""))
    save(fig, args.out)


def data(args):
    plt = pyplot()
    simulated = rows(args.csv, "\t")
    measured = rows(args.measurements, "\t")
    if len(simulated) != len(measured) or "simulation" not in simulated[0]:
        sys.exit(f"plot_fit.py: {args.csv} is not the simulation table of {args.measurements}")
    observables = sorted({r["observableId"] for r in measured})
    columns = min(3, len(observables))
    lines = math.ceil(len(observables) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.2 * lines), squeeze=False)
    for k, observable in enumerate(observables):
        ax = axes[k // columns][k % columns]
        pairs = [(m, s) for m, s in zip(measured, simulated) if m["observableId"] == observable]
        conditions = sorted({(m.get("preequilibrationConditionId", ""), m["simulationConditionId"]) for m, _ in pairs})
        for c, condition in enumerate(conditions):
            these = [(float(m["time"]), float(m["measurement"]), float(s["simulation"])) for m, s in pairs
                     if (m.get("preequilibrationConditionId", ""), m["simulationConditionId"]) == condition]
            these.sort()
            colour = f"C{c % 10}"
            label = condition[1] if len(conditions) <= 6 else None
            ax.plot([t for t, _, _ in these], [y for _, y, _ in these], "o", color=colour, markersize=3, label=label)
            ax.plot([t for t, _, _ in these], [h for _, _, h in these], "-", color=colour)
        ax.set_title(observable, fontsize=9)
        ax.set_xlabel("time")
        if len(conditions) <= 6:
            ax.legend(fontsize=6)
    for k in range(len(observables), lines * columns):
        axes[k // columns][k % columns].axis("off")
    if args.title:
        fig.suptitle(args.title)
    save(fig, args.out)


def profiles(args):
    plt = pyplot()
    points = rows(args.csv)
    if not points or "ratio" not in points[0]:
        sys.exit(f"plot_fit.py: {args.csv} is not a `stat3sim profile` CSV")
    names = list(dict.fromkeys(r["parameter"] for r in points))
    columns = min(4, len(names))
    lines = math.ceil(len(names) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(3.4 * columns, 2.8 * lines), squeeze=False)
    for k, name in enumerate(names):
        ax = axes[k // columns][k % columns]
        these = [(float(r["value"]), float(r["ratio"])) for r in points if r["parameter"] == name]
        ax.plot([v for v, _ in these], [r for _, r in these], "o-", markersize=3)
        ax.axhline(args.threshold, color="k", linestyle="--", linewidth=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("value (parameter scale)", fontsize=8)
        ax.set_ylabel("2ΔNLL", fontsize=8)
        ax.set_ylim(bottom=min(0, min(r for _, r in these)), top=max(args.threshold * 1.5, 1))
    for k in range(len(names), lines * columns):
        axes[k // columns][k % columns].axis("off")
    if args.title:
        fig.suptitle(args.title)
    save(fig, args.out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["waterfall", "data", "profiles"])
    parser.add_argument("csv", help="the fit CSV, simulation table or profile CSV")
    parser.add_argument("--measurements", help="data: the problem's measurement table")
    parser.add_argument("--threshold", type=float, default=3.84, help="profiles: the line drawn (2ΔNLL)")
    parser.add_argument("--title")
    parser.add_argument("--out", required=True, help="output file, .png or .svg")
    args = parser.parse_args()
    if args.kind == "data" and not args.measurements:
        sys.exit("plot_fit.py data: give --measurements (the problem's measurement table)")
    {"waterfall": waterfall, "data": data, "profiles": profiles}[args.kind](args)


if __name__ == "__main__":
    main()
