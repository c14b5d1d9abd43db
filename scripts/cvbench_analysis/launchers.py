"""Which launcher is what: the kinds the claims compare (containers against VMs, native as the
baseline) and the order charts draw them in.

An entry is named <suite>/<launcher>[/<dim>:<value>...]; the launcher is the second part
(`podman/runtime:crun` is launcher `podman` with dim runtime:crun, `qemu/kernel:minimal` is `qemu`).
Adding a launcher to the claims is a change here only: name it in CONTAINERS (an OCI runtime
measured bare, the claims' "container") or VMS, and in CHART_ORDER for a fixed chart colour.
Docker and containerd (`docker/runtime:runc`, `containerd/runtime:cvrun`, ...) are containers as
users meet them: their instances count the container and its shim, the daemons are reported once
(context daemons_rss_kib), so the claims read them beside the bare runtimes (a rule that picks the
best container may pick an engine entry only when it beats every bare runtime). Podman is in none
of the claim kinds: its instances are shown in the tables and charts, not picked by a rule.
A launcher's dims (runtime:, net:) are part of its name, not of the measurement
(LAUNCHER_DIMS): native's counterpart of `throughput/docker/runtime:runc/net:host/mode:net` is
`throughput/native/mode:net`.
Confinement profiles: a bundle runtime runs with Docker's defaults (DEFAULT_PROFILE, the plain
name `cvrun`) and, when asked, with other profiles (`cvrun/profile:spec-default`); only the
default profile's entries are the claims' containers, the others are shown beside them.
"""
from . import results as R

# OCI runtimes driven bare through their CLI: the "container" of every claim. The order is the
# order of the container/container ratios in the report.
CONTAINERS = ("cvrun", "crun", "runc", "runsc", "docker", "containerd")
# Launchers that boot the image as a virtual machine (one slot per kernel profile).
VMS = ("libvirt", "qemu")
# Chart colours are taken in this order (matplotlib's default cycle); others get a stable one after.
CHART_ORDER = ["native", "cvrun", "crun", "runc", "runsc", "libvirt", "qemu", "docker", "containerd"]
# Dims that name a variant of the launcher rather than the measurement.
LAUNCHER_DIMS = ("runtime", "net")


# The confinement profile the claims read (image/confinement.h's kDefaultConfinement): what
# `docker run` gives a container.
DEFAULT_PROFILE = "docker-default"


def launcher(key):
    """'startup/libvirt/kernel:minimal' -> 'libvirt'. A bundle runtime under a profile other than
    the default keeps it: 'startup/cvrun/profile:spec-default' -> 'cvrun/profile:spec-default',
    which is in no claim kind (CONTAINERS names the default profile's entries)."""
    _, name, dims = R.parse_name(key)
    p = dims.get("profile", DEFAULT_PROFILE)
    return name if p == DEFAULT_PROFILE else f"{name}/profile:{p}"


def label(key):
    """'startup/libvirt/kernel:minimal' -> 'libvirt (minimal)'."""
    return R.short_label(key)


def profile(key):
    """'startup/cvrun/profile:spec-default' -> 'spec-default'; 'startup/cvrun' -> DEFAULT_PROFILE."""
    return R.parse_name(key)[2].get("profile", DEFAULT_PROFILE)


def is_container(key):
    """A bare OCI runtime's entry under the default confinement profile."""
    return launcher(key) in CONTAINERS


def is_vm(key):
    return launcher(key) in VMS
