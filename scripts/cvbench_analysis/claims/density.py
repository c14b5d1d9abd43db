"""Claim 5: "containers give higher resource density".

Rule: from the fitted slope (MiB per additional idle instance) of the densest container and the
densest VM: holds when the VM's 95% interval lies wholly above the container's, does not hold when
it lies wholly below, inconclusive when they overlap or a fit has fewer than 3 points.
"""
from .. import verdicts as V
from ..density_costs import (densest_container_and_vm, density_slopes, per_gib_interval, slope_interval,
                             slope_ratio_interval)
from ..launchers import label
from ..run import failed_list, fmt, not_run, tcg_note

TEXT = "Containers give higher resource density"
CHARTS = ["density.png", "density_per_gib.png"]
RULE = ("from the fitted slope (MiB per additional idle instance, least squares over every "
        "N and repetition, 95% interval from Student's t) of the densest container and the "
        "densest VM (lowest slopes): holds when the VM's interval lies wholly above the "
        "container's (more containers than VMs fit in a GiB), does not hold when it lies "
        "wholly below, inconclusive when they overlap or a fit has fewer than 3 points; "
        "instances per GiB = 1024 / slope")


def evaluate(run):
    if not run.has("density"):
        return V.not_tested(not_run("density"), "density")
    fits = density_slopes(run)
    densest = densest_container_and_vm(fits)

    def per_gib(k):
        g, lo, hi = per_gib_interval(fits[k])
        return f"{label(k)} {fmt(g)} [{fmt(lo)}, {fmt(hi)}]"
    listing = ", ".join(per_gib(k) for k in sorted(fits, key=lambda k: fits[k]["slope"]))
    ksm = run.context.get("ksm_run", run.context.get("ksm", "not recorded"))
    conditions = tcg_note(run) + f" KSM: {ksm}. Idle instances only. " + failed_list(run, "density")
    if densest is None:
        return V.not_tested("no fitted slope (two or more N) for both a container and a VM"
                            + (": instances per GiB " + listing if listing else "") + ". "
                            + failed_list(run, "density"), "density (fitted slope)", tcg_note(run))
    kc, kv = densest
    c, clo, chi = slope_interval(fits[kc])
    v, vlo, vhi = slope_interval(fits[kv])
    if min(fits[kc]["points"], fits[kv]["points"]) < V.MIN_SAMPLES:
        outcome = V.INCONCLUSIVE
    elif vlo > chi:
        outcome = V.HOLDS
    elif vhi < clo:
        outcome = V.DOES_NOT_HOLD
    else:
        outcome = V.INCONCLUSIVE
    point, lo, hi = slope_ratio_interval(fits[kv], fits[kc])
    headline = V.Headline("densest VM / densest container, MiB per additional idle instance",
                          point, lo, hi, (1.0,), "above",
                          f"{fmt(1024.0 / c if c > 0 else float('inf'))} {label(kc)} vs "
                          f"{fmt(1024.0 / v if v > 0 else float('inf'))} {label(kv)} per GiB")
    return V.Verdict(
        outcome, RULE,
        f"MiB per additional instance: densest container {label(kc)} {c:.3g} [{clo:.3g}, {chi:.3g}], "
        f"densest VM {label(kv)} {v:.3g} [{vlo:.3g}, {vhi:.3g}]; instances per GiB (from the slope): "
        f"{listing}", "density (fitted slope of cost_mib over N)", conditions,
        data={"container": kc, "vm": kv, "container_slope": [c, clo, chi], "vm_slope": [v, vlo, vhi]},
        headline=headline)
