"""The throughput chart: ratio to native per workload mode and figure, grouped by launcher
(net adds native over veth and containment bars; flagged figures are printed, not drawn)."""
import sys

from .. import results as R
from .common import color_of, failed_note, plt, save
from ..launchers import CHART_ORDER

LOWER_IS_BETTER = ("_us", "latency", "_p50", "_p99")


def throughput_table(iterations):
    """({mode: {figure: {label: [ratio samples]}}}, {mode: {figure: {label: flag reason}}}).

    Ratios are the *_ratio_to_native counters (cvbench computes them after the run against the
    median of all native repetitions). In net mode each container or VM gets a second bar,
    '<launcher> / native veth' (*_ratio_to_native_veth: containment alone), and 'native (veth)'
    is the network path alone. A figure flagged by cvbench (e.g. disk reads above what the
    device gives) gets no bar: the chart prints the flag where the bar would be."""
    table, flags = {}, {}
    for key, entries in R.by_name(iterations).items():
        _, launcher, dims = R.parse_name(key)
        mode = dims.get("mode", "?")
        rest = {k: v for k, v in dims.items() if k != "mode"}
        label = launcher + (f" ({', '.join(rest.values())})" if rest else "")
        keys = {k for e in entries for k in e}
        for k in sorted(keys):
            if k.endswith("_ratio_to_native"):
                f, lab = k[: -len("_ratio_to_native")], label
            elif k.endswith("_ratio_to_native_veth") and launcher != "native":
                f, lab = k[: -len("_ratio_to_native_veth")], label + " / native veth"
            else:
                continue
            vals = R.values(entries, k)
            if vals:
                table.setdefault(mode, {}).setdefault(f, {})[lab] = vals
        for e in entries:
            for f, reason in (e.get("flags") or {}).items():
                flags.setdefault(mode, {}).setdefault(f, {})[label] = reason
                table.setdefault(mode, {}).setdefault(f, {})
    return table, flags


def plot_throughput(run_dir, context, iterations, errors):
    table, flags = throughput_table(iterations)
    if not table:
        print("plot: throughput has no *_ratio_to_native counters", file=sys.stderr)
        return
    modes = sorted(table)
    fig, axes = plt.subplots(len(modes), 1, figsize=(11, 2.9 * len(modes)), squeeze=False)
    for ax, mode in zip(axes[:, 0], modes):
        figures = sorted(table[mode])
        mode_flags = flags.get(mode, {})
        labels = sorted({l for f in figures for l in table[mode][f]} |
                        {l for f in mode_flags for l in mode_flags[f]},
                        key=lambda l: (CHART_ORDER.index(l.split(" ")[0]) if l.split(" ")[0] in CHART_ORDER else 99, l))
        width = 0.8 / max(1, len(labels))
        for j, label in enumerate(labels):
            xs, meds, lo, hi = [], [], [], []
            for i, f in enumerate(figures):
                vals = table[mode][f].get(label)
                reason = mode_flags.get(f, {}).get(label)
                if reason:
                    # Not a result: the flag stands where the bar would.
                    ax.text(i - 0.4 + width * (j + 0.5), 0.05, f"{label}: FLAGGED", rotation=90,
                            fontsize=6, ha="center", va="bottom", color="darkred", clip_on=True)
                    continue
                if not vals:
                    continue
                m, p10, p90, _ = R.spread(vals)
                xs.append(i - 0.4 + width * (j + 0.5))
                meds.append(m)
                lo.append(max(0.0, m - min(vals)))
                hi.append(max(0.0, max(vals) - m))
            ax.bar(xs, meds, width=width * 0.95, yerr=[lo, hi], capsize=2, label=label,
                   color=color_of(label), error_kw={"linewidth": 0.8},
                   hatch="//" if "minimal" in label else ".." if "veth" in label else None,
                   alpha=0.6 if "/ native veth" in label else 1.0)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle=":")
        ax.set_xticks(range(len(figures)))
        ax.set_xticklabels([f + (" (lower is better)" if f.endswith(LOWER_IS_BETTER) else "")
                            for f in figures], fontsize=8, rotation=10)
        ax.set_ylabel("ratio to native\n(median; bars: min-max)")
        ax.set_title(f"mode: {mode}", fontsize=9, loc="left")
        ax.grid(axis="y", alpha=0.3)
    handles, labels_ = [], []
    for ax in axes[:, 0]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels_:
                handles.append(h)
                labels_.append(l)
    fig.suptitle("Throughput relative to native in the same run (1.0 = median of native's repetitions; higher is "
                 "better unless marked)\nnet: 'native (veth)' = network path alone; '<launcher> / native veth' = "
                 "containment alone", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(handles, labels_, loc="upper center", ncol=min(6, len(labels_)), fontsize=8,
               bbox_to_anchor=(0.5, 0.945))
    flagged = [f"{label} {mode} {f}: {reason}" for mode, fl in sorted(flags.items())
               for f, by in sorted(fl.items()) for label, reason in sorted(by.items())]
    note = failed_note(errors)
    if flagged:
        note = (note + " " if note else "") + "Flagged, not results: " + "; ".join(flagged) + "."
    save(fig, run_dir, "throughput", context, note)
