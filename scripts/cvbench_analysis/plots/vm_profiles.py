"""The VM kernel profiles side by side: distro vs minimal guest kernel, per VM launcher
(startup, memory per instance, throughput)."""
import math
import sys

from .. import results as R
from .common import is_vm, plt, save
from ..launchers import VMS
from .throughput import throughput_table

def plot_vm_profiles(run_dir, suites):
    """Distro vs minimal guest kernel, per VM launcher: startup, memory per instance, throughput."""
    panels = []
    if "startup" in suites:
        g = R.by_name(suites["startup"][1])
        vals = {k: R.median(R.values(v, "ready_ms")) for k, v in g.items() if is_vm(k) and R.values(v, "ready_ms")}
        if vals:
            panels.append(("launch to READY (ms, median)", vals))
    if "density" in suites:
        series = {k: v for k, v in R.density_series(suites["density"][1]).items() if is_vm(k)}
        vals = {k: R.density_figures(v)[1] for k, v in series.items()}
        vals = {k: v for k, v in vals.items() if not math.isnan(v)}
        if vals:
            panels.append(("host memory per idle VM (MiB, largest N)", vals))
    if "throughput" in suites:
        table, _ = throughput_table(suites["throughput"][1])
        for mode in sorted(table):
            f = sorted(table[mode])[0]
            vals = {}
            for label, v in table[mode][f].items():
                if label.split(" ")[0] in VMS and "/ native veth" not in label:
                    vals[f"x/{label.split(' ')[0]}/kernel:{label.split('(')[-1].rstrip(')')}" if "(" in label else label] = R.median(v)
            if vals:
                panels.append((f"{mode}: {f} ratio to native", vals))
    profiles_seen = {R.parse_name(k)[2].get("kernel") for _, vals in panels for k in vals}
    if len(profiles_seen - {None}) < 2:
        print("plot: vm_profiles needs VM entries of two kernel profiles; skipped", file=sys.stderr)
        return
    context = R.run_context(suites)
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels) + 1, 4.4), squeeze=False)
    for ax, (title, vals) in zip(axes[0], panels):
        launchers = sorted({R.parse_name(k)[1] for k in vals})
        profiles = ["distro", "minimal"]
        for j, prof in enumerate(profiles):
            xs, ys = [], []
            for i, l in enumerate(launchers):
                for k, v in vals.items():
                    _, lk, dims = R.parse_name(k)
                    if lk == l and dims.get("kernel") == prof:
                        xs.append(i - 0.2 + 0.4 * j)
                        ys.append(v)
            bars = ax.bar(xs, ys, width=0.38, label=f"kernel: {prof}", color=["tab:orange", "tab:green"][j])
            for b, y in zip(bars, ys):
                ax.annotate(f"{y:,.0f}" if y >= 100 else f"{y:.3g}", (b.get_x() + b.get_width() / 2, y), textcoords="offset points",
                            xytext=(0, 2), ha="center", fontsize=7)
        ax.set_xticks(range(len(launchers)))
        ax.set_xticklabels(launchers)
        ax.set_title(title, fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("VM kernel profiles side by side: Debian's cloud kernel (distro) vs our minimal kernel",
                 fontsize=10)
    fig.tight_layout()
    save(fig, run_dir, "vm_profiles", context)
