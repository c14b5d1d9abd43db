"""Claim 3: a container "runs like a native process".

Rule: per container launcher and throughput mode, native-like when the bootstrap 95% interval of
every figure's ratio (typical of the container's samples / typical of native's, same sweep) lies
within BAND; not native-like when one lies wholly outside; inconclusive otherwise. The claim holds
when every launcher and mode is native-like, partly when some are.
"""
import math

from .. import results as R
from .. import verdicts as V
from ..launchers import CONTAINERS, LAUNCHER_DIMS, label
from ..run import best, failed_list, fmt, not_run, startup_medians

TEXT = "Runs like a native process"
CHARTS = ["throughput.png", "startup.png"]
# Throughput figures that stand for each mode (all rates: higher is better).
NATIVE_FIGURES = {"cpu": ("int_ops_per_s", "fp_ops_per_s"),
                  "mem": ("triad_gb_per_s", "copy_gb_per_s"),
                  "disk": ("seq_read_mb_per_s", "seq_write_mb_per_s", "rand_read_iops", "rand_write_iops"),
                  "net": ("stream_mb_per_s", "rr_per_s")}
BAND = (0.9, 1.1)


def throughput_samples(run, key, figure):
    return R.values(run.groups("throughput").get(key, []), figure)


def evaluate(run):
    if not run.has("throughput"):
        return V.not_tested(not_run("throughput"), "throughput")
    lo_band, hi_band = BAND
    groups = run.groups("throughput")
    rows, outcomes, by_mode, ratios = [], [], {}, []
    for key in sorted(groups):
        s, l, dims = R.parse_name(key)
        if l not in CONTAINERS:
            continue
        mode = dims.get("mode", "?")
        # An engine's variants (docker/runtime:runc/net:host) are rows of their own.
        l = l + "".join(f"/{k}:{v}" for k, v in dims.items() if k in LAUNCHER_DIMS)
        native_key = "/".join(["throughput", "native"] + [f"{k}:{v}" for k, v in dims.items()
                                                           if k not in LAUNCHER_DIMS])
        parts = []
        flags = {}
        for e in groups[key]:
            flags.update(e.get("flags") or {})
        for fig in NATIVE_FIGURES.get(mode, ()):
            if fig in flags:
                # cvbench flagged it (e.g. disk reads faster than the device): not a result.
                rows.append(f"| {l} | {mode} | {fig} | FLAGGED: {flags[fig]} | - | not a result |")
                continue
            num, den = throughput_samples(run, key, fig), throughput_samples(run, native_key, fig)
            if not num or not den:
                continue
            o, point, lo, hi = V.ratio_test(num, den, key + fig, V.within, lo_band, hi_band)
            parts.append(o)
            ratios.append((f"{l} {mode} {fig}", point, lo, hi))
            rows.append(f"| {l} | {mode} | {fig} | {V.fmt_interval(point, lo, hi)} | {len(num)} / {len(den)} | {o} |")
        if parts:
            o = V.all_of(parts)
            outcomes.append(o)
            by_mode.setdefault(o, []).append(f"{l} {mode}")
    if not rows:
        return V.not_tested("throughput ran but no container and native pair has samples of a "
                            "mode's figures" + ((". " + failed_list(run, "throughput")) if run.errors("throughput") else ""),
                            "throughput")
    outcome = V.summary(outcomes)
    numbers = "; ".join(f"{o.lower()}: {', '.join(v)}" for o, v in sorted(by_mode.items()))
    table = ("| launcher | mode | figure | ratio to native [95% CI] | samples (launcher / native) | verdict |\n"
             "|---|---|---|---|---|---|\n" + "\n".join(rows))
    med = startup_medians(run)
    nat = [v for k, v in med.items() if R.parse_name(k)[1] == "native"]
    k, c = best(med, CONTAINERS)
    startup_note = (f" Start-up is not part of this claim's rule: {label(k)} {fmt(c, ' ms')} vs native "
                    f"{fmt(nat[0], ' ms')} to launch and exit." if nat and k else "")
    return V.Verdict(
        outcome,
        f"per launcher and mode: native-like when the bootstrap 95% interval of every figure's ratio "
        f"(typical of the container's samples / typical of native's, same sweep) lies within "
        f"{lo_band}-{hi_band}; not native-like when one lies wholly outside; inconclusive when one "
        f"straddles an edge or has fewer than {V.MIN_SAMPLES} samples. Claim: holds if every launcher "
        f"and mode is native-like, partly if some are",
        numbers, "throughput (ratio to native per mode and figure)",
        "Ratios from raw samples of the same sweep, not from the suite's running *_ratio_to_native. "
        + sampling_note(run) + failed_list(run, "throughput") + startup_note,
        detail=table, headline=headline(ratios, outcomes))


def sampling_note(run):
    """How many samples each entry got and why (the suite's sequential rule, from the context)."""
    ctx = run.suites.get("throughput", ({}, [], []))[0]
    rule = ctx.get("throughput_sampling_rule")
    if not rule:
        return "Fixed repetitions (no sampling rule in this run's context). "
    return (f"Samples per entry (the table's counts) came from the suite's rule, {rule}: the rule "
            "stops sampling, this claim's rule judges the samples again. ")


def headline(ratios, outcomes):
    """The ratio farthest from native (the one the claim is least true for), with how many
    launcher-modes were native-like."""
    measured = [r for r in ratios if r[1] > 0 and not math.isnan(r[1])]
    text = f"{outcomes.count(V.HOLDS)} of {len(outcomes)} launcher-modes native-like"
    if not measured:
        return V.Headline("ratio to native", text=text)
    what, point, lo, hi = max(measured, key=lambda r: abs(math.log(r[1])))
    return V.Headline(f"farthest from native: {what}", point, lo, hi, BAND, "within", text)
