"""The site's series charts (matplotlib SVG): one entry's counter across the runs of one host,
typical with the 10th-90th percentile bar, a run the gate flagged drawn in red, the host's
conditions underneath. Deterministic files (no date, fixed ids), so a rebuild changes nothing
that did not change."""
import math

from ..plots.common import plt

REGRESSION_COLOUR = "tab:red"


def series_svg(path, title, points, unit, host, flagged=()):
    """points: [data.Point] oldest first; flagged: indexes of points the gate flagged."""
    width, height = max(6.0, 0.85 * len(points) + 3.0), 3.8
    fig, ax = plt.subplots(figsize=(width, height))
    # Fixed margins in inches instead of bbox_inches="tight", which draws every chart twice: the
    # site draws one chart per entry and host, and must build in well under a minute.
    fig.subplots_adjust(left=0.85 / width, right=1 - 0.15 / width, bottom=1.0 / height, top=1 - 0.35 / height)
    xs, ys, lo, hi = [], [], [], []
    for x, p in enumerate(points):
        if not p.values:
            continue
        _, p10, p90 = p.spread
        t = p.typical
        if math.isnan(t):
            continue
        xs.append(x)
        ys.append(t)
        lo.append(max(0.0, t - p10))
        hi.append(max(0.0, p90 - t))
    if xs:
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, lw=1, color="tab:blue",
                    label="typical; bar: p10-p90")
    bad = [x for x in flagged if x in xs]
    if bad:
        ax.plot(bad, [ys[xs.index(x)] for x in bad], "o", ms=11, mfc="none", mec=REGRESSION_COLOUR,
                mew=2, label="the gate flagged this run")
    for x, p in enumerate(points):
        if p.error:
            ax.annotate("failed", (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                        textcoords="offset points", ha="center", fontsize=7, color=REGRESSION_COLOUR)
    ax.set_xticks(range(len(points)))
    ax.set_xticklabels([f"{p.run['git_sha'][:7]}\n{p.run['date_utc'][5:16].replace('T', ' ')}\nn={p.n}"
                        for p in points], fontsize=7)
    ax.set_xlim(-0.6, len(points) - 0.4)
    ax.set_ylabel(unit or "value")
    ax.grid(alpha=0.3)
    if xs:
        ax.legend(fontsize=7, loc="best")
    ax.set_title(title, fontsize=9)
    r = points[-1].run
    fig.text(0.01, 0.01, f"host {host}: {r['cpu_model']} x{r['cpus']}, kernel {r['kernel']}, cgroups "
             f"{r['cgroup_mode']}, VMs {r['accelerator']} (latest run's conditions); runs of this host "
             f"only, oldest first", fontsize=7, va="bottom")
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
