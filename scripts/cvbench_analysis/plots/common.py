"""What every chart of a run shares: matplotlib set up for files (Agg), one colour per launcher,
the conditions line under each chart (results.caption) and the files written (PNG + SVG)."""
import math
import os
import sys
import textwrap
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .. import results as R  # noqa: E402
from ..launchers import CHART_ORDER, VMS  # noqa: E402

plt.rcParams["svg.hashsalt"] = "cvbench"
PALETTE = plt.rcParams["axes.prop_cycle"].by_key()["color"]

written = []


def is_vm(key):
    return R.parse_name(key)[1] in VMS


def color_of(label):
    """A stable colour per launcher (+ profile), the same in every chart of a run and in every
    run (a launcher outside CHART_ORDER gets one by a fixed hash of its name)."""
    base = label.split(" ")[0].split("/")[0]
    i = CHART_ORDER.index(base) if base in CHART_ORDER else len(CHART_ORDER) + zlib.crc32(base.encode()) % 3
    return PALETTE[i % len(PALETTE)]


def save(fig, run_dir, stem, context, note=""):
    width = max(110, int(fig.get_size_inches()[0] * 17))  # characters that fit at 7 pt
    text = R.caption(context) + (("\n" + textwrap.fill(note, width)) if note else "")
    fig.text(0.01, 0.0, text, fontsize=7, va="top", ha="left", wrap=True)
    for ext in ("png", "svg"):
        # No date in the SVG and fixed element ids (svg.hashsalt): a chart redrawn from the same
        # numbers is the same file, so re-rendering committed runs does not churn them.
        fig.savefig(os.path.join(run_dir, f"{stem}.{ext}"), dpi=130, bbox_inches="tight",
                    metadata={"Date": None} if ext == "svg" else None)
    plt.close(fig)
    written.append(f"{stem}.png")
    print(f"plot: {run_dir}/{stem}.png", file=sys.stderr)


def failed_note(errors):
    errs = R.errors_by_key(errors)
    if not errs:
        return ""
    items = [f"{R.short_label(k)}: {m[:70]}" for k, m in list(errs.items())[:6]]
    more = f" (+{len(errs) - 6} more)" if len(errs) > 6 else ""
    return "did not run (see JSON): " + "; ".join(items) + more

def order_keys(keys, stat):
    return sorted(keys, key=lambda k: (stat(k) if not math.isnan(stat(k)) else float("inf")))
