"""Instance fingerprints: what each runtime did for the same bundle.

cvbench records one fingerprint per launcher per run in the context, as
fingerprint.<launcher>.<key> (launcher/include/cvb/launcher/fingerprint.h): the host's view of the
instance's process (no prefix) and the workload's own view (self.*). The report's section "What
each runtime did for the same bundle" is a table of them and, beside every startup ratio between
two container runtimes, which parts of their fingerprints differ.
"""
import math

from . import results as R
from .launchers import CONTAINERS, launcher
from .run import startup_medians


def fingerprints(ctx):
    """{launcher display name: {key: value}} from a run's context, in first-seen order."""
    out = {}
    for k, v in ctx.items():
        if not k.startswith("fingerprint.") or k.count(".") < 2:
            continue
        name, key = k[len("fingerprint."):].split(".", 1)
        out.setdefault(name, {})[key] = str(v)
    # The confinement profile each bundle runtime was given (launcher.<name>.profile, from
    # image/confinement.h), shown as one more row of what the instance got.
    for name, fp in out.items():
        if f"launcher.{name}.profile" in ctx:
            fp["profile"] = str(ctx[f"launcher.{name}.profile"])
    return out


def fp_base(name):
    """'libvirt/kernel:minimal' -> 'libvirt'."""
    return name.split("/", 1)[0]


def fp_host_view_is_workload(fp):
    """False where the host view is not the workload's own process (runsc's sandbox, a VM's
    machine): its unprefixed keys describe something else and are not compared."""
    hv = fp.get("host_view", "")
    return "workload" in hv and "sandbox" not in hv


def fp_label(key):
    """A short name for a differing key: devices, lo, cgroup devices, ns net, capabilities..."""
    self_ = key.startswith("self.")
    k = key[5:] if self_ else key
    if k.startswith("devices."):
        lab = "devices"
    elif k.startswith("net.") and k != "net.interfaces":
        lab = k[4:]
    elif k in ("net", "net.interfaces"):
        lab = "interfaces"
    elif k.startswith(("cap.", "cap_")):
        lab = "capabilities"
    elif k.startswith("seccomp"):
        lab = "seccomp"
    elif k.startswith(("cgroup.", "ns.", "limit.", "rlimit.")):
        lab = k.replace(".", " ", 1)
    elif k.startswith("rlimit_"):
        lab = "rlimit " + k[7:]
    else:
        lab = k
    return ("self: " + lab) if self_ else lab


def fingerprint_differences(fps, a, b):
    """Labels of the keys where launchers a and b differ: host-view keys only when both host
    views are the workload's process; self.* keys always. [] when alike; None when either has no
    fingerprint."""
    fa, fb = fps.get(a), fps.get(b)
    if not fa or not fb:
        return None
    host = fp_host_view_is_workload(fa) and fp_host_view_is_workload(fb)
    labels = []
    for k in sorted(set(fa) | set(fb)):
        if k == "host_view" or (not host and not k.startswith("self.")):
            continue
        if fa.get(k) != fb.get(k):
            lab = fp_label(k)
            if lab not in labels:
                labels.append(lab)
    return labels


def fingerprint_note(fps, a, b):
    """The note that goes next to a ratio a/b."""
    d = fingerprint_differences(fps, a, b)
    if d is None:
        return "no fingerprint recorded for " + " and ".join(x for x in (a, b) if not fps.get(x))
    if not d:
        return "fingerprints alike"
    return "fingerprints differ in: " + ", ".join(d)


def fingerprint_table(run):
    """Rows = fingerprint keys, columns = launchers; rows where container launchers differ are
    marked; keys alike for every launcher are listed once under the table."""
    fps = fingerprints(run.context)
    if not fps:
        return ("No instance fingerprint in this run's context (cvbench before the fingerprint, "
                "or every fingerprint launch failed).\n")
    order = [n for n in str(run.context.get("launchers", "")).split(",") if n in fps]
    names = order + [n for n in fps if n not in order]
    keys = sorted({k for fp in fps.values() for k in fp},
                  key=lambda k: (k.startswith("self."), k.startswith("vm."), k))
    # The claims' containers (default profile); other profiles are columns, not compared.
    cont = [n for n in names if launcher("fingerprint/" + n) in CONTAINERS]
    cell = lambda s: s.replace("|", "\\|")  # noqa: E731
    rows, same = [], []
    for k in keys:
        vals = [fps[n].get(k, "—") for n in names]
        if k != "host_view" and len(set(vals)) == 1:
            same.append(f"`{k}` = {vals[0]}")
            continue
        # Containers compared on this key: all of them for self.*, those whose host view is the
        # workload for the host's keys.
        cmp_ = [n for n in cont if k.startswith("self.") or fp_host_view_is_workload(fps[n])]
        cvals = {fps[n].get(k, "—") for n in cmp_}
        mark = "**≠**" if k != "host_view" and len(cmp_) > 1 and len(cvals) > 1 else ""
        row = [cell(fps[n].get(k, "—")) for n in names]
        if mark:
            # The minority values among the containers in bold.
            counts = {v: sum(fps[n].get(k, "—") == v for n in cmp_) for v in cvals}
            top = max(counts.values())
            row = [f"**{r}**" if n in cmp_ and counts.get(fps[n].get(k, "—"), top) < top else r
                   for n, r in zip(names, row)]
        rows.append(f"| {mark} | `{k}` | " + " | ".join(row) + " |")
    out = ["| ≠ | key | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)] + rows
    out.append("")
    out.append("**≠**: container launchers differ on this key (in bold: the values fewer of them "
               "have). Host-view keys (no prefix) are compared only between launchers whose host "
               "view is the workload's own process; `self.*` is what the workload reported from "
               "inside. `—`: not recorded for that launcher.")
    if same:
        out += ["", "Alike for every launcher: " + "; ".join(same) + "."]
    return "\n".join(out) + "\n"


def container_startup_ratios(run):
    """Startup median ratios between container launchers, each with its fingerprint note."""
    med = startup_medians(run)
    fps = fingerprints(run.context)
    by = {}
    for k, v in med.items():
        # The launcher's full name (docker/runtime:runc), as the fingerprints are keyed.
        if launcher(k) in CONTAINERS and not math.isnan(v):
            by[R.base_name(k).split("/", 1)[1]] = v
    names = sorted(by, key=lambda n: (CONTAINERS.index(fp_base(n)), n))
    if len(names) < 2:
        return "Fewer than two container launchers ran the startup suite: no ratio between them.\n"
    out = ["| ratio (startup, median launch to exit) | value | what each did |", "|---|---|---|"]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            out.append(f"| {a} / {b} | {by[a] / by[b]:.3f} | {fingerprint_note(fps, a, b)} |")
    return "\n".join(out) + "\n"


def fingerprint_section(run):
    return ("How each instance was configured for the same bundle, recorded once per launcher in "
            "this run (one untimed launch of the workload's `fingerprint` mode after the warm-up; "
            "context keys `fingerprint.<launcher>.<key>`). A ratio between two runtimes compares "
            "like with like only where their fingerprints are alike.\n\n" +
            container_startup_ratios(run) + "\n" + fingerprint_table(run))
