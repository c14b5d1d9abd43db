"""Claim 6: "scale-out is a matter of spinning up new executables" (containers scale out faster
than VMs).

Rule: at the largest N both containers and VMs reached, holds when the bootstrap 95% interval of
(fastest VMs' time for all N to be READY / fastest containers') lies above 1; wholly below 1: does
not hold; else inconclusive. Concurrent starts are compared (sequential ones when only they ran).
"""
import math

from .. import results as R
from .. import verdicts as V
from ..launchers import CONTAINERS, VMS, label, launcher
from ..run import failed_list, fmt, leanest, not_run, tcg_note

TEXT = "Scale-out is a matter of spinning up new executables"
CHARTS = ["scaleout.png", "startup.png"]


def evaluate(run):
    if not run.has("scaleout"):
        return V.not_tested(not_run("scaleout"), "scaleout")
    samples = {k: R.values(v, "all_ready_ms") for k, v in run.groups("scaleout").items()}
    conc = {k: v for k, v in samples.items() if R.parse_name(k)[2].get("start") == "concurrent" and v} or \
        {k: v for k, v in samples.items() if v}
    listing = ", ".join(f"{label(k)} {fmt(R.typical(v) / 1e3, ' s')}" for k, v in
                        sorted(samples.items(), key=lambda kv: R.typical(kv[1]) if kv[1] else math.inf) if v)
    # Like for like: VMs and containers at the same N (the largest both reached; the sweep caps VMs
    # lower than containers), never 4 guests against 16 containers.
    n_of = lambda k: int(R.parse_name(k)[2].get("n", 0) or 0)  # noqa: E731
    common = {n_of(k) for k in conc if launcher(k) in VMS} & {n_of(k) for k in conc if launcher(k) in CONTAINERS}
    at_n = {k: v for k, v in conc.items() if common and n_of(k) == max(common)}
    kc, kv = leanest(at_n, CONTAINERS), leanest(at_n, VMS)
    if not (kc and kv):
        return V.not_tested("containers and VMs did not both run at one N: " + listing, "scaleout",
                            tcg_note(run))
    o, point, lo, hi = V.ratio_test(conc[kv], conc[kc], "scaleout" + kv + kc, V.above, 1.0)
    return V.Verdict(
        o,
        f"at the largest N both containers and VMs reached (N = {max(common)}): holds when the bootstrap "
        "95% interval of (fastest VMs' time for all N to be READY / fastest "
        f"containers') lies above 1; wholly below 1: does not hold; else (or fewer than {V.MIN_SAMPLES} "
        "samples) inconclusive",
        f"time for all N to reach READY: {listing}; fastest VMs {label(kv)} / fastest containers {label(kc)}: "
        f"{V.fmt_interval(point, lo, hi)}x", "scaleout (instances READY vs time)",
        tcg_note(run) + " " + failed_list(run, "scaleout"),
        headline=V.Headline(f"fastest VMs / fastest containers, time for N = {max(common)} to be READY",
                            point, lo, hi, (1.0,), "above",
                            f"{kind_label(kv)} {fmt(R.typical(conc[kv]) / 1e3, ' s')} vs {kind_label(kc)} "
                            f"{fmt(R.typical(conc[kc]) / 1e3, ' s')}"))


def kind_label(key):
    """'scaleout/qemu/kernel:minimal/n:16/start:concurrent' -> 'qemu (minimal)'."""
    _, l, dims = R.parse_name(key)
    return l + (f" ({dims['kernel']})" if "kernel" in dims else "")
