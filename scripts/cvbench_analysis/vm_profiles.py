"""The VM kernel profiles side by side (distro vs minimal): the report's section of that name."""
from .density_costs import density_per_instance
from .launchers import VMS
from .run import fmt, startup_medians


def vm_profiles_section(run):
    med = startup_medians(run, "ready_ms")
    mem = density_per_instance(run)
    rows = []
    for l in VMS:
        for prof in ("distro", "minimal"):
            sk = f"startup/{l}/kernel:{prof}"
            dk = f"density/{l}/kernel:{prof}"
            if sk in med or dk in mem:
                rows.append(f"| {l} | {prof} | {fmt(med.get(sk), ' ms')} | {fmt(mem.get(dk), ' MiB')} |")
    if not rows:
        return "No VM ran in this run (no libvirt or qemu entries), so the kernel profiles are not compared.\n"
    out = ["| VM launcher | kernel profile | launch to READY (median) | host memory per idle VM (largest N) |",
           "|---|---|---|---|"] + rows
    for l in VMS:
        d, m = med.get(f"startup/{l}/kernel:distro"), med.get(f"startup/{l}/kernel:minimal")
        if d and m:
            out.append(f"\n{l}: the minimal kernel reaches READY in {m / d:.2f}x the distro kernel's time.")
    return "\n".join(out) + "\n"
