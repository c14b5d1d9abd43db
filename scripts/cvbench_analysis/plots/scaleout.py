"""The scale-out chart: instances READY against time (sequential | concurrent)."""
import sys

import matplotlib

from .. import results as R
from .common import color_of, failed_note, plt, save


def plot_scaleout(run_dir, context, iterations, errors):
    groups = R.by_name(iterations)
    starts = sorted({R.parse_name(k)[2].get("start", "") for k in groups})
    if not groups:
        print("plot: scaleout has no successful entries", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, len(starts), figsize=(6 * len(starts), 4.8), squeeze=False, sharey=True)
    for ax, start in zip(axes[0], starts):
        for key, entries in sorted(groups.items()):
            _, launcher, dims = R.parse_name(key)
            if dims.get("start", "") != start:
                continue
            rest = {k: v for k, v in dims.items() if k not in ("start",)}
            label = launcher + (f" ({', '.join(f'{k}={v}' if k != 'kernel' else v for k, v in rest.items())})"
                                if rest else "")
            marks = sorted({k for e in entries for k in e if k.startswith("ready_at_ms_")})
            if not marks:
                continue
            # Each repetition as a faint step line; the median time of the k-th READY in bold.
            for e in entries:
                t = sorted(e[m] for m in marks if m in e)
                ax.step([0] + t, range(len(t) + 1), where="post", color=color_of(label), alpha=0.2,
                        linewidth=0.8)
            med = [R.median(R.values(entries, m)) for m in marks]
            ax.step([0] + med, range(len(med) + 1), where="post", color=color_of(label), linewidth=2,
                    label=label, linestyle="--" if "minimal" in label else "-")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_xlabel("ms since the first launch call (symlog)")
        ax.set_title(f"start: {start or '?'}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("instances READY")
    axes[0][0].yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.suptitle("Scale-out: instances READY against time (bold: median over repetitions; faint: each)",
                 fontsize=10)
    fig.tight_layout()
    save(fig, run_dir, "scaleout", context, failed_note(errors))
