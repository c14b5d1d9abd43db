"""One run directory as the claims read it: its suites, context and the files scripts/sweep
leaves beside them (sweep.json, image_inspect.json), and the small helpers every claim words its
numbers with (so "not tested", failures and TCG are said the same way everywhere)."""
import json
import math
import os

from . import results as R
from .launchers import launcher, label


class Run:
    def __init__(self, run_dir):
        self.dir = run_dir
        self.suites = R.load_run(run_dir)
        self.context = R.run_context(self.suites)
        self.tcg = R.accelerator(self.context) == "TCG"

    def has(self, suite):
        return suite in self.suites

    def groups(self, suite):
        return R.by_name(self.suites[suite][1]) if self.has(suite) else {}

    def errors(self, suite):
        return R.errors_by_key(self.suites[suite][2]) if self.has(suite) else {}


def fmt(v, unit="", digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}{unit}"
    return f"{v:.{digits}g}{unit}"


def not_run(suite):
    return f"Not tested in this run: the `{suite}` suite did not run (no `{suite}.json`)."


def failed_list(run, suite):
    errs = run.errors(suite)
    if not errs:
        return ""
    return "Did not run: " + "; ".join(f"{label(k)} ({m[:90]})" for k, m in list(errs.items())[:8]) + "."


def tcg_note(run):
    if run.tcg:
        why = str(run.context.get("accelerator", "")).split(":", 1)[-1].strip()
        return (f"VMs ran under TCG (software emulation: {why}); this inflates every VM time and "
                f"adds QEMU's translation cache to VM memory, so VM costs here are upper bounds of "
                f"what KVM would show.")
    return "VMs ran under KVM."


def startup_medians(run, field="real_time"):
    return {k: R.median(R.values(v, field)) for k, v in run.groups("startup").items() if R.values(v, field)}


def best(d, names):
    """(key, value) of the smallest value among entries whose launcher is in names."""
    items = [(k, v) for k, v in d.items() if launcher(k) in names and not math.isnan(v)]
    return min(items, key=lambda kv: kv[1]) if items else (None, float("nan"))


def worst(d, names):
    items = [(k, v) for k, v in d.items() if launcher(k) in names and not math.isnan(v)]
    return max(items, key=lambda kv: kv[1]) if items else (None, float("nan"))


def leanest(samples_by_key, names):
    """The key with the lowest typical among launchers in names, or None."""
    keys = [k for k, v in samples_by_key.items() if launcher(k) in names and v]
    return min(keys, key=lambda k: R.typical(samples_by_key[k])) if keys else None


def image_inspect(run):
    """`cvbench image inspect`'s JSON that scripts/sweep saves in the run (None when absent)."""
    try:
        with open(os.path.join(run.dir, "image_inspect.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
