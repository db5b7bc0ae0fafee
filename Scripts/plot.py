#!/usr/bin/env python3
"""Plot a stat3sim CSV: chosen columns against time, scenarios overlaid, log axes on request;
or, for a sweep, a heat map of one metric over two varied names.

Examples:
  Scripts/plot.py results/classic.csv --columns pSTAT3_fraction,SOCS3 --out results/classic.png
  Scripts/plot.py all.csv --columns pSTAT3_fraction --scenarios default,ruxolitinib --out rux.svg
  Scripts/plot.py results/sobotta2017.csv --logy --out sobotta.png
  Scripts/plot.py sweep.csv --heatmap --x IL6 --y kf9 --z pSTAT3_fraction__peak --logx --out map.png
  Scripts/plot.py cancer_sensitivity.csv --tornado --top 12 --out tornado.png
  Scripts/plot.py switch_gsa.csv --indices --out indices.png

Without --columns it plots every observable (the columns after the species, read from the
.meta.json sidecar when present) or, failing that, every column. One panel per column; with a
`scenario` column every scenario is a line in each panel. Writes PNG or SVG by the extension.

--tornado reads a `stat3sim sensitivity` CSV: one panel per metric, the --top parameters by their
largest |normalized sensitivity| over the scenarios, a bar per scenario. --indices reads a
`stat3sim gsa` CSV: one panel per metric, S1 and ST (or mu_star and sigma) per parameter with the
reported confidence intervals as error bars.
"""
import argparse
import csv
import json
import math
import os
import sys


def save(fig, out):
    """Lays `fig` out and writes it to `out` (PNG or SVG by the extension), making its folder."""
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=130)
    print(f"wrote {out}")


def pyplot():
    """matplotlib's pyplot on the file-only Agg back-end."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def read_rows(path, valid, what):
    """The rows of a CSV as dicts; exits with `what` when `valid(first row)` is false."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows or not valid(rows[0]):
        sys.exit(f"plot.py: {path} is not {what}")
    return rows


def finish(fig, args):
    """The figure's title, then `save`."""
    if args.title:
        fig.suptitle(args.title)
    save(fig, args.out)


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    has_scenario = header[0] == "scenario"
    data = {}
    for row in body:
        scenario = row[0] if has_scenario else None
        values = row[1:] if has_scenario else row
        names = header[1:] if has_scenario else header
        series = data.setdefault(scenario, {name: [] for name in names})
        for name, value in zip(names, values):
            series[name].append(float(value))
    names = header[1:] if has_scenario else header
    return names, data


def default_columns(path, names):
    meta = os.path.splitext(path)[0] + ".meta.json"
    if os.path.exists(meta):
        try:
            import tomllib
            info = json.load(open(meta))
            model = info["model"]["file"]
            with open(model, "rb") as f:
                observables = list(tomllib.load(f).get("observables", {}).keys())
            chosen = [o for o in observables if o in names]
            if chosen:
                return chosen
        except Exception:
            pass
    return [n for n in names if n != "time"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv", help="a CSV written by stat3sim run")
    parser.add_argument("--columns", help="comma-separated columns to plot")
    parser.add_argument("--scenarios", help="comma-separated scenarios to overlay (default: all)")
    parser.add_argument("--logx", action="store_true", help="logarithmic time axis")
    parser.add_argument("--logy", action="store_true", help="logarithmic value axes")
    parser.add_argument("--time-unit", default=None, help="label of the time axis (default: from the .meta.json)")
    parser.add_argument("--title", default=None)
    parser.add_argument("--out", required=True, help="output file, .png or .svg")
    parser.add_argument("--heatmap", action="store_true", help="sweep CSV: colour --z over --x and --y")
    parser.add_argument("--x", help="heat map: varied name on the horizontal axis")
    parser.add_argument("--y", help="heat map: varied name on the vertical axis")
    parser.add_argument("--z", help="heat map: the metric column to colour by")
    parser.add_argument("--scenario", help="heat map: rows of this scenario only")
    parser.add_argument("--tornado", action="store_true", help="sensitivity CSV: normalized sensitivities as bars")
    parser.add_argument("--indices", action="store_true", help="gsa CSV: Sobol' or Morris indices as bars")
    parser.add_argument("--top", type=int, default=12, help="tornado: parameters per metric")
    args = parser.parse_args()
    if args.heatmap:
        return heatmap(args)
    if args.tornado:
        return tornado(args)
    if args.indices:
        return indices(args)

    plt = pyplot()
    names, data = read(args.csv)
    columns = args.columns.split(",") if args.columns else default_columns(args.csv, names)
    for c in columns:
        if c not in names:
            sys.exit(f"plot.py: {args.csv} has no column '{c}'; columns: {', '.join(names)}")
    scenarios = list(data.keys())
    if args.scenarios:
        wanted = args.scenarios.split(",")
        missing = [s for s in wanted if s not in data]
        if missing:
            sys.exit(f"plot.py: {args.csv} has no scenario {', '.join(missing)}; scenarios: {', '.join(str(s) for s in data)}")
        scenarios = wanted
    time_unit = args.time_unit
    meta = os.path.splitext(args.csv)[0] + ".meta.json"
    if time_unit is None and os.path.exists(meta):
        time_unit = json.load(open(meta)).get("units", {}).get("time") or None

    panels = len(columns)
    cols = min(3, panels)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.2 * rows), squeeze=False)
    for k, column in enumerate(columns):
        ax = axes[k // cols][k % cols]
        for scenario in scenarios:
            series = data[scenario]
            ax.plot(series["time"], series[column], label=scenario if scenario is not None else None, lw=1.6)
        ax.set_title(column, fontsize=10)
        ax.set_xlabel(f"time ({time_unit})" if time_unit else "time")
        if args.logx:
            ax.set_xscale("log")
        if args.logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if len(scenarios) > 1 or scenarios[0] is not None:
            ax.legend(fontsize=8)
    for k in range(panels, rows * cols):
        axes[k // cols][k % cols].axis("off")
    finish(fig, args)


def heatmap(args):
    import numpy as np

    plt = pyplot()
    rows = read_rows(args.csv, lambda r: "point" in r and "status" in r, "a sweep file (no point and status columns)")
    for name in (args.x, args.y, args.z):
        if not name or name not in rows[0]:
            sys.exit(f"plot.py: --heatmap needs --x, --y and --z among: {', '.join(rows[0].keys())}")
    if args.scenario:
        rows = [r for r in rows if r.get("scenario") == args.scenario]
    xs = sorted({float(r[args.x]) for r in rows})
    ys = sorted({float(r[args.y]) for r in rows})
    grid = np.full((len(ys), len(xs)), np.nan)
    for r in rows:
        if r[args.z] != "":
            grid[ys.index(float(r[args.y])), xs.index(float(r[args.x]))] = float(r[args.z])
    fig, ax = plt.subplots(figsize=(6, 4.6))
    if args.z.endswith("__regime"):
        # A phase diagram: the three regimes of the `regime` metric in fixed colours.
        from matplotlib.colors import ListedColormap, BoundaryNorm
        cmap = ListedColormap(["#4c9be8", "#f2a541", "#d1495b"])
        mesh = ax.pcolormesh(xs, ys, grid, shading="nearest", cmap=cmap, norm=BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3))
        bar = fig.colorbar(mesh, ax=ax, ticks=[0, 1, 2])
        bar.ax.set_yticklabels(["returns to baseline", "sustained", "bistable"])
    else:
        mesh = ax.pcolormesh(xs, ys, grid, shading="nearest", cmap="viridis")
        fig.colorbar(mesh, ax=ax, label=args.z)
    if args.logx:
        ax.set_xscale("log")
    if args.logy:
        ax.set_yscale("log")
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        ax.scatter([float(r[args.x]) for r in failed], [float(r[args.y]) for r in failed], marker="x", c="red", label="failed")
        ax.legend(fontsize=8)
    ax.set_xlabel(args.x)
    ax.set_ylabel(args.y)
    ax.set_title(args.title or args.z, fontsize=10)
    save(fig, args.out)


def tornado(args):
    plt = pyplot()
    rows = read_rows(args.csv, lambda r: "normalized" in r and "rank" in r,
                     "a `stat3sim sensitivity` file (no normalized and rank columns)")
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    scenarios = list(dict.fromkeys(r.get("scenario", "default") for r in rows))
    value = {}
    for r in rows:
        x = float(r["normalized"])
        value[(r["metric"], r.get("scenario", "default"), r["parameter"])] = 0.0 if math.isnan(x) else x
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.2 * len(metrics), 0.42 * args.top + 1.6), squeeze=False)
    colours = ["#4c9be8", "#d1495b", "#f2a541", "#5aa469", "#8e6bbf", "#555555"]
    for ax, metric in zip(axes[0], metrics):
        parameters = list(dict.fromkeys(r["parameter"] for r in rows if r["metric"] == metric))
        largest = {p: max(abs(value.get((metric, s, p), 0.0)) for s in scenarios) for p in parameters}
        chosen = sorted(parameters, key=lambda p: -largest[p])[: args.top][::-1]
        height = 0.8 / len(scenarios)
        for k, scenario in enumerate(scenarios):
            ys = [i + (k - (len(scenarios) - 1) / 2) * height for i in range(len(chosen))]
            ax.barh(ys, [value.get((metric, scenario, p), 0.0) for p in chosen], height=height,
                    color=colours[k % len(colours)], label=scenario)
        ax.set_yticks(range(len(chosen)))
        ax.set_yticklabels(chosen, fontsize=8)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("d ln M / d ln p")
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        if len(scenarios) > 1:
            ax.legend(fontsize=8)
    finish(fig, args)


def indices(args):
    import numpy as np

    plt = pyplot()
    rows = read_rows(args.csv, lambda r: {"S1", "ST"} <= set(r) or {"mu_star", "sigma"} <= set(r),
                     "a `stat3sim gsa` file (no S1/ST or mu_star/sigma columns)")
    sobol = "S1" in rows[0]
    bars = [("S1", "S1_conf"), ("ST", "ST_conf")] if sobol else [("mu_star", "mu_star_conf"), ("sigma", None)]
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        chosen = [r for r in rows if r["metric"] == metric]
        x = np.arange(len(chosen))
        width = 0.38
        for k, (column, conf) in enumerate(bars):
            values = [float(r[column]) for r in chosen]
            errors = [float(r[conf]) for r in chosen] if conf else None
            ax.bar(x + (k - 0.5) * width, values, width, yerr=errors, capsize=3, label=column,
                   color=["#4c9be8", "#d1495b"][k])
        ax.set_xticks(x)
        ax.set_xticklabels([r["parameter"] for r in chosen], rotation=45, ha="right", fontsize=8)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    finish(fig, args)


if __name__ == "__main__":
    main()
