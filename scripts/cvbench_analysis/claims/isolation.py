"""Claim 2: "isolated from the host unless configured otherwise", from the isolation suite.

isolation.json has one entry per launcher (isolation/<launcher>[/kernel:<p>]) whose counters are
the probe's checks (workload/include/cvb/workload/isolation.h): 1 = the host's marker is visible
or the action is allowed from inside, 0 = isolated or denied, -1 = not tested there.

claim2_verdict(run_suites) -> (verdict, rule, numbers) is self-contained: the report prints the
rule beside the verdict, and numbers holds every reading the verdict used. evaluate(run) is the
claim; a run without the isolation suite names cvrun's integration tests that check it instead
(ISOLATION_TESTS, verified against runtime/tests/integration_test.cc).
"""
import os
import re

from .. import launchers as L
from .. import results as R
from .. import verdicts as V
from ..run import failed_list

TEXT = "Isolated from the host unless configured otherwise"
CHARTS = []
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
INTEGRATION_TESTS = os.path.join(ROOT, "runtime", "tests", "integration_test.cc")

# (check, kind, what 1 means); kinds: host (a marker on the host or its identity), privilege (an
# action on the kernel the instance runs on), kernel (whether that kernel is the host's).
CHECKS = [
    ("host_process", "host", "a marker process of the host is visible"),
    ("host_hostname", "host", "the hostname is the host's"),
    ("host_interface", "host", "a marker interface of the host is visible"),
    ("host_fd", "host", "an fd the harness left open arrived"),
    ("host_file", "host", "a marker file in the host's /tmp is readable"),
    ("host_port", "host", "a port on the host's 127.0.0.1 accepts"),
    ("proc_sys_write", "privilege", "/proc/sys/kernel/hostname opens for writing"),
    ("sys_write", "privilege", "a /sys attribute opens for writing"),
    ("cap_sys_admin", "privilege", "CAP_SYS_ADMIN is effective"),
    ("no_seccomp", "privilege", "no seccomp filter"),
    ("device_open", "privilege", "a host char device opens (existing node or mknod)"),
    ("mount_tmpfs", "privilege", "a new tmpfs mounts"),
    ("host_kernel", "kernel", "the kernel is the host's (same boot_id)"),
]
PROBE_FIGURES = ["processes_visible", "fds_above_2", "interfaces_visible", "cap_eff_count",
           "host_port_accepted"]

RULE = ("Per launcher, a check counts when the native control (the probe as a host process) reads "
        "1 on it, which shows the check can see the host; a check native does not read as 1 is "
        "broken here and counts for no launcher. Host checks always count; privilege checks count "
        "only where the instance runs on the host's kernel (host_kernel 1, or unknown), since on "
        "its own kernel (a VM, gVisor's Sentry) the action reaches that kernel, not the host. "
        "Isolated: every counted check reads 0. Not isolated: any counted check reads 1. "
        "Inconclusive: a counted check was not tested (-1), varied between repetitions, or "
        "native did not run. Bundle runtimes are judged under the default confinement profile "
        "(docker-default: what `docker run` gives); entries under another profile "
        "(`<runtime>/profile:spec-default`) are shown beside them, not judged.")


def readings(suites):
    """{launcher label: {check or figure: value}} from isolation.json; mixed repetitions -> 'mixed'."""
    if "isolation" not in suites:
        return {}
    _, iterations, _ = suites["isolation"]
    out = {}
    for key, entries in R.by_name(iterations).items():
        row = {}
        for name in [c for c, _, _ in CHECKS] + PROBE_FIGURES:
            vals = {e[name] for e in entries if isinstance(e.get(name), (int, float))}
            if not vals:
                continue
            row[name] = vals.pop() if len(vals) == 1 else "mixed"
        row["_label"] = entries[-1].get("label", "")
        row["_repetitions"] = len(entries)
        out[R.launcher_of(key)] = row
    return out


def launcher_verdict(row, control):
    """(verdict, counted checks, visible checks, untested checks) of one launcher."""
    shares_kernel = row.get("host_kernel") != 0
    counted, visible, untested = [], [], []
    for check, kind, _ in CHECKS:
        if kind == "kernel" or control.get(check) != 1:
            continue
        if kind == "privilege" and not shares_kernel:
            continue
        counted.append(check)
        v = row.get(check)
        if v == 1:
            visible.append(check)
        elif v != 0:
            untested.append(check)
    if visible:
        verdict = "not isolated"
    elif untested or not counted:
        verdict = "inconclusive"
    else:
        verdict = "isolated"
    return verdict, counted, visible, untested


def claim2_verdict(suites):
    """(verdict, rule, numbers): numbers = {'readings': ..., 'launchers': {label: {...}},
    'broken_checks': [...]} with every figure the verdict rests on."""
    rows = readings(suites)
    numbers = {"readings": rows, "launchers": {}, "broken_checks": []}
    if not rows:
        return "Not tested (the isolation suite did not run)", RULE, numbers
    control = rows.get("native")
    if control is None:
        return "Inconclusive (no native control in this run)", RULE, numbers
    numbers["broken_checks"] = [c for c, kind, _ in CHECKS if kind != "kernel" and control.get(c) != 1]
    held, failed, unsure = [], [], []
    numbers["beside"] = {}
    for label, row in rows.items():
        if label == "native":
            continue
        verdict, counted, visible, untested = launcher_verdict(row, control)
        reading = {"verdict": verdict, "counted": counted, "visible": visible,
                   "untested": untested, "own_kernel": row.get("host_kernel") == 0}
        if L.profile("isolation/" + label) != L.DEFAULT_PROFILE:
            numbers["beside"][label] = reading
            continue
        numbers["launchers"][label] = reading
        if verdict == "isolated":
            held.append(label)
        elif verdict == "not isolated":
            failed.append(f"{label} ({', '.join(visible)})")
        else:
            unsure.append(f"{label} ({', '.join(untested) or 'no counted check'})")
    if not (held or failed or unsure):
        return "Not tested (only the native control ran)", RULE, numbers
    parts = []
    if held:
        parts.append("isolated: " + ", ".join(held))
    if failed:
        parts.append("not isolated: " + "; ".join(failed))
    if unsure:
        parts.append("inconclusive: " + "; ".join(unsure))
    head = ("Holds" if held and not failed and not unsure else
            "Does not hold" if failed and not held else
            "Inconclusive" if unsure and not held and not failed else "Partly")
    broken = numbers["broken_checks"]
    tail = f" (checks native did not read as visible, hence not counted: {', '.join(broken)})" if broken else ""
    return f"{head} — " + "; ".join(parts) + tail, RULE, numbers


def _cell(v, kind, own_kernel):
    if v is None:
        return "n/a"
    if v == "mixed":
        return "mixed"
    text = {1: "1", 0: "0", -1: "not tested"}.get(int(v), str(v)) if kind else f"{v:g}"
    if kind == "privilege" and own_kernel and v in (0, 1):
        text += " (own kernel)"
    return text


def table(suites):
    """Markdown: the checks as rows, one column per launcher (native first)."""
    rows = readings(suites)
    if not rows:
        return "The `isolation` suite did not run (no `isolation.json`).\n"
    labels = sorted(rows, key=lambda l: (l != "native", l))
    own = {l: rows[l].get("host_kernel") == 0 for l in labels}
    control = rows.get("native", {})
    out = ["| check (1 = visible/allowed, 0 = isolated/denied) | " + " | ".join(labels) + " |",
           "|---|" + "---|" * len(labels)]
    for check, kind, what in CHECKS:
        note = "" if kind == "kernel" or control.get(check) == 1 else " — native not 1: not counted"
        out.append(f"| `{check}`: {what}{note} | " +
                   " | ".join(_cell(rows[l].get(check), kind, own[l]) for l in labels) + " |")
    for fig in PROBE_FIGURES:
        out.append(f"| {fig} | " + " | ".join(_cell(rows[l].get(fig), None, False) for l in labels) + " |")
    verdict, _, numbers = claim2_verdict(suites)
    def verdict_cell(l):
        if l == "native":
            return "control"
        if l in numbers["beside"]:
            return f"({numbers['beside'][l]['verdict']}; beside, not judged)"
        return numbers["launchers"].get(l, {}).get("verdict", "?")
    out.append("| **verdict** | " + " | ".join(verdict_cell(l) for l in labels) + " |")
    out.append("")
    out.append("Why each reading (the probe's own words, from the entry's label):")
    out.append("")
    for l in labels:
        out.append(f"- {l}: `{rows[l].get('_label', '')}`")
    return "\n".join(out) + "\n"


# --- the claim ------------------------------------------------------------------------------------

# The runtime's integration tests that check isolation from inside a container (cvb-probe), with
# what each checks; the report verifies the names still exist in runtime/tests/integration_test.cc.
ISOLATION_TESTS = [
    ("Isolation.DefaultSpecSeesNothingOfTheHost",
     "default spec: PID 1 and the only process visible, own hostname, only `lo`, only fds 0-2 "
     "(a caller's leaked fd does not arrive), a host file and /work, /run/cvrun invisible, "
     "capabilities cut to CAP_AUDIT_WRITE/KILL/NET_BIND_SERVICE, no_new_privs, nofile 1024"),
    ("Isolation.ReadonlyRootMaskedAndReadonlyPaths",
     "read-only rootfs (EROFS), /proc/keys masked, /proc/sys read-only"),
    ("Isolation.SymlinksInTheRootfsCannotRedirectToTheHost",
     "symlinks in the image cannot redirect cwd, mounts or masks to the host"),
    ("Isolation.UserSeccompAndCapabilities",
     "configured: uid/gid 1000, bounding set CAP_KILL only, a seccomp filter denying O_CREAT"),
    ("Namespaces.UserAndCgroupNamespaces", "configured: user namespace with a uid map, cgroup namespace"),
    ("Namespaces.JoinANetworkNamespaceByPath", "configured: joining a given network namespace"),
    ("Limits.MemoryLimitKillsAnOverrun", "a 200 MiB allocation under the memory limit is OOM-killed"),
    ("Limits.PidsCpuAndSysctl", "pids, cpu shares/quota and a namespaced sysctl are applied"),
]


def evaluate_measured(run):
    """Claim 2 from the isolation suite: verdict, rule and numbers."""
    verdict, rule, numbers = claim2_verdict(run.suites)
    per = numbers["launchers"]
    comp = ("the isolation probe inside each instance, native as the control: " +
            "; ".join(f"{l}: {d['verdict']} ({len(d['counted']) - len(d['visible']) - len(d['untested'])}"
                      f"/{len(d['counted'])} counted checks isolated"
                      + (f"; visible: {', '.join(d['visible'])}" if d["visible"] else "") + ")"
                      for l, d in per.items()))
    seccomp = [l for l, d in per.items() if "no_seccomp" in d["visible"]]
    note = (f" no_seccomp reads 1 on {', '.join(seccomp)} under the default profile: the runtime "
            "installed no filter although the bundle asked for Docker's." if seccomp else "")
    beside = numbers.get("beside", {})
    if beside:
        note += (" Beside the verdict, under other confinement profiles: " +
                 "; ".join(f"{l}: {d['verdict']}" + (f" (visible: {', '.join(d['visible'])})"
                                                     if d["visible"] else "")
                           for l, d in beside.items()) +
                 " (spec-default: runc spec's bundle, no seccomp filter, 3 capabilities).")
    outcome = verdict.split(" — ", 1)[0]
    for o in (V.HOLDS, V.DOES_NOT_HOLD, V.PARTLY, V.INCONCLUSIVE, V.NOT_TESTED):
        if outcome.startswith(o):
            outcome = o
            break
    isolated = [l for l, d in per.items() if d["verdict"] == "isolated"]
    visible = sorted({c for d in per.values() for c in d["visible"]})
    headline = None if not per else V.Headline(
        "launchers isolated on every counted check",
        text=f"{len(isolated)} of {len(per)} launchers isolated on every counted check"
             + (f"; visible elsewhere: {', '.join(visible)}" if visible else ""))
    return V.Verdict(outcome, rule, f"{verdict}. {comp}", "isolation (probe checks per launcher)",
                     (note + " " + failed_list(run, "isolation")).strip(),
                     detail=table(run.suites), data=numbers, headline=headline)


def evaluate(run):
    if run.has("isolation"):
        return evaluate_measured(run)
    try:
        with open(INTEGRATION_TESTS) as f:
            text = f.read()
    except OSError:
        text = ""
    present = [t for t, _ in ISOLATION_TESTS if f"TEST({t.split('.')[0]}, {t.split('.')[1]})" in text]
    return V.not_tested(
        f"not measured in this run; {len(present)} integration tests of cvrun check it from inside a "
        f"container (`cvb-probe`), in `ctest -L integration`, not here: " + ", ".join(f"`{t}`" for t in present),
        "cvrun's integration tests (not a benchmark)",
        "covers cvrun only (crun, runc, runsc are not tested here)")


def integration_tests_section():
    """The report's table of cvrun's isolation integration tests, with their line numbers."""
    try:
        with open(INTEGRATION_TESTS) as f:
            text = f.read()
    except OSError:
        return "runtime/tests/integration_test.cc is not in this checkout.\n"
    lines = ["| test (runtime/tests/integration_test.cc) | what it checks |", "|---|---|"]
    for t, what in ISOLATION_TESTS:
        suite, name = t.split(".")
        m = re.search(rf"TEST\({suite}, {name}\)", text)
        where = f"line {text[:m.start()].count(chr(10)) + 1}" if m else "NOT FOUND in this checkout"
        lines.append(f"| `{t}` ({where}) | {what} |")
    lines.append("\nRun them: `cd build && ctest -L integration -R 'Isolation|Namespaces|Limits'` (as root).")
    return "\n".join(lines) + "\n"
