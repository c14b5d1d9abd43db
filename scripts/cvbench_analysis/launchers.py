"""Which launcher is what: the kinds the claims compare (containers against VMs, native as the
baseline) and the order charts draw them in.

An entry is named <suite>/<launcher>[/<dim>:<value>...]; the launcher is the second part
(`podman/runtime:crun` is launcher `podman` with dim runtime:crun, `qemu/kernel:minimal` is `qemu`).
Adding a launcher to the claims is a change here only: name it in CONTAINERS (an OCI runtime
measured bare, the claims' "container") or VMS, and in CHART_ORDER for a fixed chart colour.
Engines (podman) are in none of the claim kinds: their instances are their runtime's containers
plus the engine's own processes, shown in the tables and charts but not picked by a claim's rule.
"""
from . import results as R

# OCI runtimes driven bare through their CLI: the "container" of every claim. The order is the
# order of the container/container ratios in the report.
CONTAINERS = ("cvrun", "crun", "runc", "runsc")
# Launchers that boot the image as a virtual machine (one slot per kernel profile).
VMS = ("libvirt", "qemu")
# Chart colours are taken in this order (matplotlib's default cycle); others get a stable one after.
CHART_ORDER = ["native", "cvrun", "crun", "runc", "runsc", "libvirt", "qemu"]


def launcher(key):
    """'startup/libvirt/kernel:minimal' -> 'libvirt'."""
    return R.parse_name(key)[1]


def label(key):
    """'startup/libvirt/kernel:minimal' -> 'libvirt (minimal)'."""
    return R.short_label(key)


def is_container(key):
    return launcher(key) in CONTAINERS


def is_vm(key):
    return launcher(key) in VMS
