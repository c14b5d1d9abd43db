"""Reading cvbench result files (Google Benchmark JSON) for plots, reports and comparisons."""
import json
import os
import statistics


def load(path):
    """One <suite>.json: (context dict, list of iteration entries, list of errored entries)."""
    with open(path) as f:
        data = json.load(f)
    iterations, errors = [], []
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            errors.append(b)
        elif b.get("run_type") == "iteration":
            iterations.append(b)
    return data.get("context", {}), iterations, errors


def load_run(run_dir):
    """All suites of a run directory: {suite: (context, iterations, errors)}."""
    out = {}
    for name in sorted(os.listdir(run_dir)):
        if name.endswith(".json") and not name.startswith("compare"):
            out[name[:-5]] = load(os.path.join(run_dir, name))
    return out


def by_name(entries):
    """{entry name: [entries]} keeping first-seen order."""
    groups = {}
    for e in entries:
        groups.setdefault(e["name"], []).append(e)
    return groups


def launcher_of(name):
    """'startup/libvirt/kernel:minimal' -> 'libvirt/kernel:minimal'."""
    return name.split("/", 1)[1] if "/" in name else name


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values):
    """(median, p10, p90, stdev) of a sample."""
    if not values:
        return (float("nan"),) * 4
    s = sorted(values)
    def q(p):
        i = (len(s) - 1) * p
        lo, hi = int(i), min(int(i) + 1, len(s) - 1)
        return s[lo] + (s[hi] - s[lo]) * (i - lo)
    sd = statistics.stdev(s) if len(s) > 1 else 0.0
    return statistics.median(s), q(0.1), q(0.9), sd


def caption(context):
    """One line of conditions for every chart."""
    accel = context.get("accelerator", "?")
    return (f"{context.get('date_utc', context.get('date', '?'))[:16]}  git {context.get('git_sha', '?')[:7]}"
            f"{' (dirty)' if context.get('git_dirty') == 'yes' else ''}  kernel {context.get('kernel', '?')}  "
            f"{context.get('cpu_model', '?')} x{context.get('cpus_online', '?')}  cgroups {context.get('cgroup_mode', '?')}  "
            f"VMs: {accel.split(':')[0].upper()}  reps {context.get('repetitions', '?')}")
