"""Claim 4: "virtual machines are resource intensive".

Rule: the leanest VM costs more than FACTOR times the leanest container, in start-up (ready_ms,
bootstrap interval of the ratio of typicals) and in host memory per additional idle instance (the
ratio of the density fits' slopes, its interval from theirs; the largest N's cost per instance
when a kind has no fit). Holds when both parts hold.
"""
from .. import results as R
from .. import verdicts as V
from ..density_costs import (densest_container_and_vm, density_slopes, per_instance_mib_samples,
                             slope_ratio_interval)
from ..launchers import CONTAINERS, VMS, label
from ..run import fmt, leanest, tcg_note

TEXT = "Virtual machines are resource intensive"
CHARTS = ["startup_phases.png", "density.png", "vm_profiles.png"]
# "Resource intensive": a VM costs at least this many times the container's (start-up, memory).
FACTOR = 2.0


def evaluate(run):
    bits, outcomes, parts = [], [], []
    ready = {k: R.values(v, "ready_ms") for k, v in run.groups("startup").items()}
    # Memory: the fitted MiB per additional instance (claim 5's figure) when both kinds have a fit;
    # its interval is the slopes' (VM lo / container hi .. VM hi / container lo).
    fits = density_slopes(run)
    densest = densest_container_and_vm(fits)
    memory_from_fit = densest is not None
    if memory_from_fit:
        kc, kv = densest
        c, v = fits[kc]["slope"], fits[kv]["slope"]
        point, lo, hi = slope_ratio_interval(fits[kv], fits[kc])
        if min(fits[kc]["points"], fits[kv]["points"]) < V.MIN_SAMPLES:
            o = V.INCONCLUSIVE
        elif lo > FACTOR:
            o = V.HOLDS
        elif hi < FACTOR:
            o = V.DOES_NOT_HOLD
        else:
            o = V.INCONCLUSIVE
        outcomes.append(o)
        parts.append(("host memory per additional idle instance", point, lo, hi, o))
        bits.append(f"host memory per additional idle instance (fitted slope): leanest VM {label(kv)} "
                    f"{v:.3g} MiB / leanest container {label(kc)} {c:.3g} MiB = "
                    f"{V.fmt_interval(point, lo, hi)}x ({o.lower()})")
    for what, samples, unit in (("launch to READY", ready, " ms"),
                                ("host memory per idle instance", per_instance_mib_samples(run), " MiB")):
        if memory_from_fit and what.startswith("host memory"):
            continue
        kc, kv = leanest(samples, CONTAINERS), leanest(samples, VMS)
        if not (kc and kv):
            # One half of the rule unmeasured: the claim cannot hold on the other half alone.
            bits.append(f"{what}: not measured (no VM and container both have samples)")
            outcomes.append(V.INCONCLUSIVE)
            parts.append((what, float("nan"), float("nan"), float("nan"), V.INCONCLUSIVE))
            continue
        o, point, lo, hi = V.ratio_test(samples[kv], samples[kc], kv + kc, V.above, FACTOR)
        outcomes.append(o)
        parts.append((what, point, lo, hi, o))
        bits.append(f"{what}: leanest VM {label(kv)} {fmt(R.typical(samples[kv]), unit)} / leanest container "
                    f"{label(kc)} {fmt(R.typical(samples[kc]), unit)} = {V.fmt_interval(point, lo, hi)}x ({o.lower()})")
    if all(o == V.INCONCLUSIVE for o in outcomes) and all("not measured" in b for b in bits):
        missing = [s for s in ("startup", "density") if not run.has(s)]
        return V.not_tested("no VM and container both ran" + (f"; suites not run: {', '.join(missing)}" if missing else ""),
                            "startup, density", tcg_note(run))
    return V.Verdict(
        V.all_of(outcomes),
        f"for start-up (ready_ms): the bootstrap 95% interval of leanest VM / leanest container "
        f"(typicals); for memory: the ratio of the fitted MiB per additional idle instance (density, "
        f"least squares over N; interval from the slopes' 95% intervals; the largest N's cost per "
        f"instance when a kind has no fit): lies above {FACTOR:g}x: holds; "
        f"wholly below: does not hold; else (or fewer than {V.MIN_SAMPLES} samples/points) inconclusive. "
        f"Claim: holds when both hold",
        "; ".join(bits), "startup (ready_ms), density (MiB per instance)",
        tcg_note(run) + " The leanest VM profile is compared (usually the minimal kernel).",
        headline=headline(parts))


def headline(parts):
    """The part that decides the claim: the one furthest from holding (does not hold, then
    inconclusive, then the lowest interval); the other part in words."""
    measured = [p for p in parts if p[1] == p[1]]
    if not measured:
        return None
    rank = {V.DOES_NOT_HOLD: 0, V.INCONCLUSIVE: 1, V.HOLDS: 2}
    first = min(measured, key=lambda p: (rank.get(p[4], 1), p[2] if p[2] == p[2] else -1.0))
    others = "; ".join(f"{w}: {V.Headline(w, p, lo, hi).number() or 'not measured'}"
                       for w, p, lo, hi, _ in parts if (w, p) != first[:2])
    return V.Headline(f"leanest VM / leanest container, {first[0]}", first[1], first[2], first[3],
                      (FACTOR,), "above", others)
