"""The startup charts: launch-to-exit per launcher (violin + box + every run, log scale) and
where launch time goes (startup_phases: median phase segments, containers | VMs)."""
import math
import sys

from .. import results as R
from .common import color_of, failed_note, is_vm, order_keys, plt, save

# Phase marks in launch order; a segment is the time from the previous mark present to this one.
PHASES = ["create_ms", "start_ms", "api_returned_ms", "running_ms", "first_line_ms", "ready_ms",
          "exit_ms"]


def plot_startup(run_dir, context, iterations, errors):
    groups = {k: v for k, v in R.by_name(iterations).items() if R.values(v)}
    if not groups:
        print("plot: startup has no successful entries", file=sys.stderr)
        return
    names = order_keys(groups, lambda k: R.median(R.values(groups[k])))
    labels = [R.short_label(n) for n in names]
    samples = [R.values(groups[n]) for n in names]

    fig, ax = plt.subplots(figsize=(max(6.5, 1.25 * len(names)), 4.8))
    pos = list(range(1, len(names) + 1))
    logs = [[math.log10(v) for v in s if v > 0] for s in samples]
    # Violins are drawn in log space so their shape matches the log axis.
    vp = ax.violinplot([l if len(l) > 1 else l * 2 for l in logs], positions=pos, widths=0.8,
                       showextrema=False)
    for body, lab in zip(vp["bodies"], labels):
        body.set_facecolor(color_of(lab))
        body.set_alpha(0.25)
    ax.boxplot(logs, positions=pos, widths=0.18, showfliers=False, whis=(5, 95),
               medianprops={"color": "black"})
    for i, (l, lab) in enumerate(zip(logs, labels), start=1):
        jitter = [i + 0.22 * ((j * 0.618) % 1 - 0.5) for j in range(len(l))]
        ax.scatter(jitter, l, s=5, alpha=0.35, color=color_of(lab), zorder=3, linewidths=0)
        m = R.median(samples[i - 1])
        ax.annotate(f"{m:.3g} ms", (i, math.log10(m)), textcoords="offset points", xytext=(14, 6),
                    fontsize=8, va="center", weight="bold")
    ax.set_xticks(pos)
    ax.set_xticklabels(labels, rotation=20)
    lo = math.floor(min(min(l) for l in logs if l))
    hi = math.ceil(max(max(l) for l in logs if l))
    ticks = [t for t in range(lo, hi + 1)]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{10 ** t:g}" for t in ticks])
    ax.set_ylim(lo, hi)
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel("launch call to workload exit (ms, log scale)")
    n = [len(s) for s in samples]
    ax.set_title("Startup of the `ready` workload per launcher\n"
                 "violin: distribution; box: quartiles, whiskers 5th-95th pct; dots: runs; label: median",
                 fontsize=10)
    save(fig, run_dir, "startup", context,
         f"runs per launcher: {min(n)}-{max(n)}" + ("; " + failed_note(errors) if errors else ""))

    plot_phases(run_dir, context, groups, names)


# Segments a VM launcher's marks delimit, named by the mark that ends them and the launcher (the
# same mark means different work under each: libvirt's api_returned follows its QMP set-up, the
# qemu launcher's follows posix_spawn). A segment not named here is labelled by its mark.
VM_SEGMENT = {
    ("libvirt", "qemu_forked"): "libvirt: before QEMU exists",
    ("libvirt", "console_connected"): "QEMU starts (to its console)",
    ("libvirt", "api_returned"): "libvirt: QMP set-up, guest paused",
    ("libvirt", "running"): "libvirt: state query",
    ("qemu", "api_returned"): "spawn",
    ("qemu", "console_connected"): "QEMU starts (to its console)",
    ("libvirt", "first_line"): "guest boot to first line",
    ("qemu", "first_line"): "guest boot to first line",
}
# The management layer's own segments: drawn hatched so they read as one layer.
MANAGEMENT = {"libvirt: before QEMU exists", "libvirt: QMP set-up, guest paused",
              "libvirt: state query"}
SEGMENT_LABEL = {"first_line": "first line from workload", "ready": "READY line",
                 "exit": "exit observed", "create": "create (instance exists)",
                 "start": "start returned", "api_returned": "API call returned",
                 "running": "running"}
VM_MARKS = ["qemu_forked_ms", "console_connected_ms"]


def phase_segments(entries, launcher=""):
    """[(segment, median ms)] for one entry's samples in the order the marks came, plus teardown.

    The order is each mark's median time: launchers mark the same names in different orders
    (libvirt's console connects inside its API call, the qemu launcher's after spawn returned).
    """
    marks = PHASES + VM_MARKS
    present = [p for p in marks if any(p in e for e in entries)]
    # first_line equals ready when the workload's first line *is* READY: drop it, it is 0 wide.
    if "first_line_ms" in present and "ready_ms" in present:
        same = all(abs(e.get("first_line_ms", -1) - e.get("ready_ms", -2)) < 1e-6 for e in entries)
        if same:
            present.remove("first_line_ms")
    present.sort(key=lambda p: R.median([e[p] for e in entries if p in e]))
    segs = []
    for i, p in enumerate(present):
        prev = present[i - 1] if i else None
        d = [e[p] - (e[prev] if prev else 0.0) for e in entries if p in e and (prev is None or prev in e)]
        name = VM_SEGMENT.get((launcher, p[:-3]), SEGMENT_LABEL.get(p[:-3], p[:-3]))
        segs.append((name, max(0.0, R.median(d)) if d else 0.0))
    td = R.values(entries, "teardown_ms")
    return segs, (R.median(td) if td else None)


def plot_phases(run_dir, context, groups, names):
    panels = [("containers and native", [n for n in names if not is_vm(n)]),
              ("virtual machines", [n for n in names if is_vm(n)])]
    panels = [p for p in panels if p[1]]
    fig, axes = plt.subplots(1, len(panels), figsize=(max(7, 1.5 * len(names) + 2), 5),
                             gridspec_kw={"width_ratios": [len(p[1]) for p in panels]}, squeeze=False)
    cmap = plt.get_cmap("tab20")
    colors = {}  # segment name -> colour, in order of first appearance

    def color(seg):
        if seg not in colors:
            colors[seg] = cmap(len(colors) % 20)
        return colors[seg]

    for ax, (title, keys) in zip(axes[0], panels):
        labels = [R.short_label(k) for k in keys]
        top = 0.0
        for x, k in enumerate(keys):
            segs, teardown = phase_segments(groups[k], R.parse_name(k)[1])
            bottom = 0.0
            mgmt = 0.0
            for seg, v in segs:
                ax.bar(x, v, bottom=bottom, color=color(seg), width=0.6, linewidth=0.5,
                       edgecolor="black" if seg in MANAGEMENT else "white",
                       hatch="xx" if seg in MANAGEMENT else None)
                bottom += v
                if seg in MANAGEMENT:
                    mgmt += v
            total = bottom
            if teardown is not None:
                ax.bar(x, teardown, bottom=bottom, color="lightgrey", hatch="//", width=0.6,
                       edgecolor="grey", linewidth=0.5)
                bottom += teardown
            note = f"exit {total:.3g}"
            if mgmt > 0:
                note += f"\nmanagement {mgmt:.3g}"
            if teardown is not None:
                note += f"\n+{teardown:.3g} teardown"
            ax.annotate(note, (x, bottom), textcoords="offset points", xytext=(0, 2), ha="center",
                        fontsize=7)
            top = max(top, bottom)
        ax.set_ylim(0, top * 1.2)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(labels, rotation=20)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("median ms since the launch call (linear)")
        ax.grid(axis="y", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=c, hatch="xx" if s in MANAGEMENT else None,
                             edgecolor="black" if s in MANAGEMENT else c)
               for s, c in colors.items()]
    names_ = [s + (" (management layer)" if s in MANAGEMENT else "") for s in colors]
    handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="lightgrey", hatch="//", edgecolor="grey"))
    names_.append("teardown (after exit)")
    fig.legend(handles, names_, loc="upper center", ncol=min(4, len(names_)), fontsize=8,
               bbox_to_anchor=(0.5, 1.0 + 0.035 * ((len(names_) - 1) // 4)))
    fig.suptitle("Where launch time goes: each segment is the median time from the previous mark",
                 fontsize=10, y=1.07 + 0.035 * ((len(names_) - 1) // 4))
    fig.tight_layout()
    save(fig, run_dir, "startup_phases", context,
         "A segment missing from a bar is a mark that launcher does not have (native has no OCI "
         "create/start). Hatched: the management layer's own time (libvirt before QEMU exists, and "
         "its QMP set-up while the guest is paused, which also holds QEMU's machine set-up; the qemu "
         "launcher has that inside its guest boot).")
