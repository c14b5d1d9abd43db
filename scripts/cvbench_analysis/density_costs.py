"""What an idle instance costs the host, from the density suite: the fitted MiB per additional
instance per launcher (claims 4 and 5 compare them) and the report's table "Density: what an
instance costs" with the user/kernel split and the MemAvailable cross-check."""
import math

from . import results as R
from .launchers import CONTAINERS, VMS, launcher, label
from .run import fmt


def per_instance_mib_samples(run):
    """{density/<launcher>[/kernel:x]: [MiB per idle instance, one per repetition]} at the largest
    N that has samples (1024 / instances_per_gib: the density suite's own definition)."""
    if not run.has("density"):
        return {}
    out = {}
    for base, per_n in R.density_series(run.suites["density"][1]).items():
        for n in sorted(per_n, reverse=True):
            ipg = [v for v in R.values(per_n[n], "instances_per_gib") if v > 0]
            if ipg:
                out[base] = [1024.0 / v for v in ipg]
                break
    return out


def density_per_instance(run):
    """{density/<launcher>[/kernel:x]: MiB per additional idle instance (fitted slope of user PSS +
    kernel meminfo growth over N; cost/N when one N ran)}."""
    if not run.has("density"):
        return {}
    out = {}
    for base, per_n in R.density_series(run.suites["density"][1]).items():
        n, mib, ipg = R.density_figures(per_n)
        if n is not None and not math.isnan(mib):
            out[base] = max(mib, 1e-3)
    return out


def density_slopes(run):
    """{density/<launcher>[/kernel:x]: fit} for every launcher with at least two N (R.density_fit:
    slope = MiB per additional idle instance, ci95 its half-width, Student's t)."""
    if not run.has("density"):
        return {}
    out = {}
    for base, per_n in R.density_series(run.suites["density"][1]).items():
        fit = R.density_fit(per_n)
        if fit and not math.isnan(fit["slope"]):
            out[base] = fit
    return out


def densest_container_and_vm(fits):
    """(container key, VM key) with the lowest fitted slopes of their kind, or None when a kind has
    no fit (claims 4 and 5 compare these two)."""
    cont = [k for k in fits if launcher(k) in CONTAINERS]
    vms = [k for k in fits if launcher(k) in VMS]
    if not (cont and vms):
        return None
    return (min(cont, key=lambda k: fits[k]["slope"]), min(vms, key=lambda k: fits[k]["slope"]))


def slope_interval(fit):
    """(slope, lo, hi) of a fit's 95% interval (lo/hi infinite with only two points)."""
    return fit["slope"], fit["slope"] - fit["ci95"], fit["slope"] + fit["ci95"]


def slope_ratio_interval(vm_fit, container_fit):
    """(VM slope / container slope, lo, hi): the interval from the two slopes' intervals
    (VM lo / container hi .. VM hi / container lo; unbounded when an end reaches 0)."""
    c, clo, chi = slope_interval(container_fit)
    v, vlo, vhi = slope_interval(vm_fit)
    lo = vlo / chi if chi > 0 else math.inf
    hi = vhi / clo if clo > 0 else math.inf
    return (v / c if c > 0 else math.inf), lo, hi


def per_gib_interval(fit):
    """Instances per GiB from the fitted slope: 1024 / slope, its interval from the slope's (a
    slope interval reaching 0 leaves the upper end unbounded: inf)."""
    s, lo, hi = slope_interval(fit)
    inv = lambda x: 1024.0 / x if x > 0 else float("inf")  # noqa: E731
    return inv(s), inv(hi), inv(lo)


# --- the report's density section ---------------------------------------------------------------

def density_section(run):
    """Per launcher: the fitted marginal cost with its 95% interval, its user and kernel parts, and
    the MemAvailable drop's slope as the cross-check."""
    if not run.has("density"):
        return "The density suite did not run.\n"
    rows = []
    for base, per_n in sorted(R.density_series(run.suites["density"][1]).items()):
        fit = R.density_fit(per_n)
        parts = {f: R.density_fit(per_n, f) for f in ("user_mib", "kernel_mib", "memavailable_drop_mib",
                                                      "guest_ram_mib", "vmm_mib", "tcg_cache_mib")}
        ns = ",".join(str(n) for n in sorted(per_n) if R.values(per_n[n], R.density_cost_field(per_n)))
        if not fit:
            n, mib, ipg = R.density_figures(per_n)
            rows.append(f"| {label(base)} | {ns} | {fmt(mib, ' MiB')} (cost/N at N={n}, one N: no fit) "
                        f"| - | - | - | - | {fmt(ipg)} |")
            continue
        slope = lambda f: fmt(parts[f]["slope"], " MiB") if parts[f] else "-"  # noqa: E731
        drop = parts["memavailable_drop_mib"]
        agree = (f" ({(fit['slope'] / drop['slope']):.2f}x of the drop)"
                 if drop and drop["slope"] > 0 else "")
        ipg = 1024.0 / fit["slope"] if fit["slope"] > 0 else float("nan")
        rows.append(f"| {label(base)} | {ns} | {fit['slope']:.3g} ± {fit['ci95']:.2g} MiB "
                    f"(fixed {fit['fixed']:.3g} MiB, R² {fit['r2']:.3f}, {fit['points']} points) | "
                    f"{slope('user_mib')} | {vm_split(parts)} | {slope('kernel_mib')} | "
                    f"{slope('memavailable_drop_mib')}{agree} | {fmt(ipg)} |")
    if not rows:
        return "No density entry has samples.\n"
    settle = run.context.get("density_settle", "not recorded (an older build)")
    return "\n".join([
        "| launcher | N | MiB per additional instance (95% CI) | user side (PSS) | of which, VMs: guest RAM "
        "touched / VMM / TCG translation cache | kernel side "
        "(Slab+Percpu+Shmem growth, page tables, stacks) | MemAvailable drop (cross-check) | instances per GiB |",
        "|---|---|---|---|---|---|---|---|"] + rows + [
        "", "Each figure is the slope of a least-squares line through every repetition at every N "
        "(scipy.stats.linregress; the interval uses Student's t). User + kernel = the total by "
        "construction; the MemAvailable drop is measured independently and shows how much the sum "
        "explains. The kernel side's meminfo growth is host-wide, so other work on the host adds noise that the fit "
        f"over several N averages out. A VM's user side is its QEMU's PSS split by mapping (vmdriver "
        "qemu_memory.h): the guest RAM mapping, TCG's translation cache (anonymous rwx) and the rest "
        "(the VMM: QEMU's heap, libraries, the kernel and initramfs it loaded); each column is its own "
        "fit, so the three add up to the user side. Containers have no such split (-). "
        f"Settling before each reading: {settle}." + ksm_note(run), ""])


def vm_split(parts):
    """'a / b / c MiB' of the guest RAM, VMM and TCG cache slopes, or '-' (containers, older runs)."""
    fits = [parts.get(f) for f in ("guest_ram_mib", "vmm_mib", "tcg_cache_mib")]
    if not all(fits):
        return "-"
    return " / ".join(f"{f['slope']:.3g}" for f in fits) + " MiB"


def ksm_note(run):
    """How KSM was driven (ksm:on/off entries), from the run's context."""
    how = run.context.get("density_ksm")
    return f" KSM (entries marked ksm:on/off): {how}." if how else ""
