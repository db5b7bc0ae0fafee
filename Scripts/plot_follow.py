#!/usr/bin/env python3
"""Plot the up and down branches of a `stat3sim sweep --follow` file (hysteresis).

Example:
  Scripts/plot_follow.py results/cancer_follow_autocrine.csv --x IL6_dose --y pSTAT3_fraction --logx --out h.png
Unstable steady states (stable = 0) are drawn hollow.
"""
import argparse
import csv

from plot import save


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("csv")
    parser.add_argument("--x", required=True, help="the followed name")
    parser.add_argument("--y", required=True, help="an observable column")
    parser.add_argument("--logx", action="store_true")
    parser.add_argument("--logy", action="store_true")
    parser.add_argument("--title")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = [r for r in csv.DictReader(open(args.csv)) if r["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for direction, style in [("up", "o-"), ("down", "s--")]:
        branch = [r for r in rows if r["direction"] == direction]
        xs = [float(r[args.x]) for r in branch]
        ys = [float(r[args.y]) for r in branch]
        line, = ax.plot(xs, ys, style, ms=4, label=direction)
        hollow = [(x, y) for x, y, r in zip(xs, ys, branch) if r["stable"] == "0"]
        if hollow:
            ax.plot(*zip(*hollow), "o", mfc="white", color=line.get_color())
    ax.set_xlabel(args.x)
    ax.set_ylabel(f"steady-state {args.y}")
    if args.logx:
        ax.set_xscale("log")
    if args.logy:
        ax.set_yscale("log")
    ax.legend()
    ax.set_title(args.title or f"{args.y} along {args.x}")
    save(fig, args.out)


if __name__ == "__main__":
    main()
