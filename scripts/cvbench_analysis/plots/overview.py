"""The report's overview figure, "claims at a glance": one row per claim, its headline ratio on a
log axis with the 95% interval, the rule's threshold (a line, or the band for "within") and the
verdict; a claim without a ratio shows its words in the row. The run's conditions go underneath,
as under every chart."""
import math

from .. import verdicts as V
from .common import plt, save

STEM = "claims_at_a_glance"
COLOURS = {V.HOLDS: "tab:green", V.DOES_NOT_HOLD: "tab:red", V.PARTLY: "tab:orange",
           V.INCONCLUSIVE: "tab:gray", V.NOT_TESTED: "darkgray"}
RULE_WORDS = {"above": "holds above", "below": "holds below", "within": "holds within"}


def _span(evaluated):
    """(xmin, xmax) of the log axis: every interval end, point and threshold, with room."""
    xs = []
    for _, _, _, v in evaluated:
        h = v.headline
        if h and h.has_ratio():
            xs += [x for x in (h.value, h.lo, h.hi, *h.threshold) if x > 0 and math.isfinite(x)]
    if not xs:
        return 0.1, 10.0
    return min(xs) / 3, max(xs) * 3


def plot_overview(run_dir, context, evaluated):
    """Draws RUN_DIR/claims_at_a_glance.png and .svg; returns the PNG's file name."""
    n = len(evaluated)
    fig, ax = plt.subplots(figsize=(11, 0.62 * n + 1.4))
    xmin, xmax = _span(evaluated)
    for row, (i, text, _, v) in enumerate(evaluated):
        y = n - 1 - row
        colour = COLOURS.get(v.outcome, "black")
        h = v.headline
        if h and h.has_ratio():
            if h.rule == "within" and len(h.threshold) == 2:
                ax.fill_betweenx([y - 0.22, y + 0.22], *h.threshold, color="tab:green", alpha=0.15, lw=0)
            for t in h.threshold:
                ax.plot([t, t], [y - 0.25, y + 0.25], color="black", lw=1.2, ls="--")
            lo = h.lo if h.lo > 0 and math.isfinite(h.lo) else xmin
            hi = h.hi if math.isfinite(h.hi) else xmax
            if not math.isnan(h.lo) and not (h.lo == h.value == h.hi):
                ax.plot([lo, hi], [y, y], color=colour, lw=3, solid_capstyle="butt")
            ax.plot([h.value], [y], "o", color=colour, ms=8, mec="black", mew=0.6)
            # Words above the row, running away from the nearer edge of the axis.
            left = math.log(h.value) < math.log(math.sqrt(xmin * xmax))
            ax.annotate(f"{h.number()}  ({RULE_WORDS.get(h.rule, h.rule)} "
                        f"{'-'.join(f'{t:g}' for t in h.threshold)}x): {h.what}",
                        (min(max(h.value, xmin), xmax), y), textcoords="offset points",
                        xytext=(-6 if left else 6, 8), ha="left" if left else "right", va="bottom",
                        fontsize=7)
        else:
            words = (h.text or h.what) if h else v.numbers
            ax.text(math.sqrt(xmin * xmax), y, words[:110], ha="center", va="center", fontsize=7.5,
                    color="dimgray", style="italic")
        ax.text(1.01, y, v.outcome, transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=9, weight="bold", color=colour)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{i}. {text}" for i, text, _, _ in reversed(evaluated)], fontsize=8)
    ax.set_ylim(-0.6, n - 0.2)
    ax.set_xscale("log")
    ax.set_xlim(xmin, xmax)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("headline ratio of each claim (log); bar: 95% interval; dashed: the rule's "
                  "threshold; shaded: a band the ratio must stay in")
    ax.grid(axis="x", alpha=0.3, which="both")
    ax.set_title("Claims at a glance: each claim's headline number against its rule", fontsize=10)
    save(fig, run_dir, STEM, context, "Rows without a ratio state their count in words. Every rule, "
         "all numbers and caveats: REPORT.md, one section per claim.")
    return f"{STEM}.png"
