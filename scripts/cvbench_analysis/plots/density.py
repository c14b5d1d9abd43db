"""The density charts: host memory of N idle instances against N with the least-squares fit
(and the user/kernel split), and instances per GiB from the fitted MiB per additional instance."""
import math
import sys

import matplotlib

from .. import results as R
from .common import color_of, failed_note, plt, save


def density_series(iterations):
    """{label: {n: [entries]}} from density/<launcher>/n:N entries."""
    return {R.short_label(k): v for k, v in R.density_series(iterations).items()}


def plot_density(run_dir, context, iterations, errors):
    series = density_series(iterations)
    if not series:
        print("plot: density has no successful entries", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 2, figsize=(13, 5))
    # Left: what N instances cost (user PSS + kernel-side growth), every repetition, and the
    # least-squares line cost = fixed + slope * N through them.
    ax = axes[0]
    fits = {}
    for label, per_n in sorted(series.items()):
        field = R.density_cost_field(per_n)
        xs, ys = [], []
        for n in sorted(per_n):
            for v in R.values(per_n[n], field):
                xs.append(n)
                ys.append(v)
        if not xs:
            continue
        col = color_of(label)
        ax.plot(xs, ys, "o", ms=4, color=col, alpha=0.7)
        fit = R.density_fit(per_n)
        if fit:
            fits[label] = fit
            lo, hi = min(xs), max(xs)
            grid = [lo * (hi / lo) ** (i / 40) for i in range(41)]
            ax.plot(grid, [fit["fixed"] + fit["slope"] * g for g in grid], color=col,
                    linestyle="--" if "minimal" in label else "-",
                    label=f"{label}: {fit['slope']:.3g} \u00b1 {fit['ci95']:.2g} MiB/instance")
        else:
            ax.plot([], [], "o", color=col, label=f"{label} (one N: no fit)")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1)  # a negative reading (host noise) shows as measured
    for a in (ax.xaxis, ax.yaxis):
        a.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("N idle instances (log)")
    ax.set_ylabel("host memory of the N instances, MiB (symlog)")
    ax.set_title("cost = user (PSS) + kernel (Slab, Percpu, Shmem growth; page tables, stacks)\n"
                 "points: every repetition; lines: least squares fixed + slope*N (slope \u00b1 95% CI)",
                 fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    # Right: the marginal cost split into user and kernel side (slopes of their own fits), with
    # the MemAvailable drop's slope as the cross-check.
    ax = axes[1]
    rows = []
    for label, per_n in sorted(series.items()):
        u = R.density_fit(per_n, "user_mib")
        k = R.density_fit(per_n, "kernel_mib")
        m = R.density_fit(per_n, "memavailable_drop_mib")
        if u and k:
            rows.append((label, u["slope"], k["slope"], m["slope"] if m else float("nan")))
    if rows:
        rows.sort(key=lambda r: r[1] + r[2])
        ys = range(len(rows))
        ax.barh(ys, [r[1] for r in rows], color=[color_of(r[0]) for r in rows], label="user (PSS)")
        ax.barh(ys, [r[2] for r in rows], left=[r[1] for r in rows], color=[color_of(r[0]) for r in rows],
                alpha=0.45, hatch="//", label="kernel (meminfo growth)")
        ax.plot([r[3] for r in rows], list(ys), "k|", ms=14, mew=2, label="MemAvailable drop (slope)")
        for y, r in zip(ys, rows):
            ax.annotate(f"{r[1]:.3g} + {r[2]:.3g} | drop {r[3]:.3g}", (max(r[1] + r[2], r[3] if not math.isnan(r[3]) else 0), y),
                        textcoords="offset points", xytext=(4, -3), fontsize=7)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([r[0] for r in rows], fontsize=8)
        ax.set_xscale("symlog", linthresh=0.1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("MiB per additional instance (slope of each part's fit; symlog)")
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
    else:
        ax.text(0.5, 0.5, "no run with user_mib/kernel_mib over two or more N", ha="center",
                transform=ax.transAxes, fontsize=8)
    ax.set_title("marginal cost: user + kernel side, and the MemAvailable cross-check", fontsize=8)
    fig.suptitle("Density: host memory of N idle instances", fontsize=10)
    ksm = context.get("ksm_run", context.get("ksm"))
    if context.get("density_ksm"):
        ksm = f"{ksm} on the host; entries marked ksm=on/off set it themselves"
    settle = context.get("density_settle", "")
    save(fig, run_dir, "density", context,
         (f"KSM: {ksm}. " if ksm is not None else "") + (f"Settling: {settle}. " if settle else "") +
         failed_note(errors))

    # Instances per GiB from the marginal cost (the fit's slope; with its interval).
    rows = []
    for label, per_n in sorted(series.items()):
        n, mib, ipg = R.density_figures(per_n)
        if n is not None and not math.isnan(ipg):
            fit = fits.get(label)
            lo = hi = float("nan")
            if fit and math.isfinite(fit["ci95"]):
                s_hi, s_lo = fit["slope"] + fit["ci95"], fit["slope"] - fit["ci95"]
                lo = 1024.0 / s_hi if s_hi > 0 else float("nan")
                hi = 1024.0 / s_lo if s_lo > 0 else float("inf")
            rows.append((label, n, mib, ipg, lo, hi, fit is not None))
    if not rows:
        return
    rows.sort(key=lambda r: -r[3])
    fig, ax = plt.subplots(figsize=(max(6.5, 1.1 * len(rows)), 4.6))
    xs = range(len(rows))
    ax.bar(xs, [r[3] for r in rows], color=[color_of(r[0]) for r in rows])
    for x, r in zip(xs, rows):
        if not math.isnan(r[4]):
            top = r[5] if math.isfinite(r[5]) else r[3] * 4
            ax.plot([x, x], [r[4], top], "k-", lw=1)
        rng = (f"\n95%: {r[4]:.3g}-{r[5]:.3g}" if not math.isnan(r[4]) else "")
        ax.annotate(f"{r[3]:.3g}/GiB\n{r[2]:.3g} MiB each{rng}\n({'fit to' if r[6] else 'at'} N={r[1]})",
                    (x, r[3]), textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r[0] for r in rows], rotation=20)
    ax.set_yscale("log")
    ax.set_ylim(top=max(r[3] for r in rows) * 8)
    ax.set_ylabel("idle instances per GiB of host memory (log)")
    ax.set_title("Density: instances per GiB = 1024 / MiB per additional instance\n"
                 "(slope of cost = fixed + slope*N, cost = user PSS + kernel meminfo growth; bars: 95% CI)",
                 fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    save(fig, run_dir, "density_per_gib", context,
         "One N only: cost/N at that N instead of a slope. The kernel side is host-wide meminfo growth: "
         "other activity on the host lands in it, the fit over several N averages it out.")
