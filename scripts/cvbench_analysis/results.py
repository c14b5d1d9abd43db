"""Reading cvbench result files (Google Benchmark JSON) for plots, reports and comparisons.

A run directory holds <suite>.json files. Entries are named <suite>/<launcher>[/<dim>:<value>...]
(older builds append Google Benchmark's own /iterations:1/repeats:N/manual_time, stripped here).
Iteration entries are raw samples; aggregates (_mean, _median, ...) are recomputed from them when
needed, never trusted blindly; errored entries carry error_occurred and error_message.
"""
import json
import math
import os
import re
import statistics

# Google Benchmark's own name parts, which are not dimensions of ours.
_GB_PART = re.compile(r"^(iterations|repeats|threads|min_time|min_warmup_time|manual_time|real_time|"
                      r"process_time)(:.*)?$")
_AGGREGATES = ("mean", "median", "stddev", "cv", "min", "max")


def base_name(name):
    """'startup/cvrun/iterations:1/repeats:9/manual_time' -> 'startup/cvrun'."""
    return "/".join(p for p in name.split("/") if not _GB_PART.match(p))


def parse_name(name):
    """'density/cvrun/n:8' -> ('density', 'cvrun', {'n': '8'}). Dims keep their order."""
    parts = base_name(name).split("/")
    suite = parts[0]
    launcher = parts[1] if len(parts) > 1 else ""
    dims = {}
    for p in parts[2:]:
        k, _, v = p.partition(":")
        dims[k] = v
    return suite, launcher, dims


def entry_key(entry):
    """Normalized name of an entry (iteration, aggregate or error): its run's base name."""
    name = entry.get("run_name") or entry["name"]
    if entry.get("run_type") == "aggregate" and not entry.get("run_name"):
        for a in _AGGREGATES:
            if name.endswith("_" + a):
                name = name[: -len(a) - 1]
                break
    return base_name(name)


def load(path):
    """One <suite>.json: (context dict, list of iteration entries, list of errored entries).

    Every returned entry gets a 'key' (normalized name)."""
    with open(path) as f:
        data = json.load(f)
    iterations, errors = [], []
    for b in data.get("benchmarks", []):
        b["key"] = entry_key(b)
        if b.get("error_occurred"):
            errors.append(b)
        elif b.get("run_type", "iteration") == "iteration":
            iterations.append(b)
    return data.get("context", {}), iterations, errors


def load_run(run_dir):
    """All suites of a run directory: {suite: (context, iterations, errors)}."""
    out = {}
    for name in sorted(os.listdir(run_dir)):
        if not name.endswith(".json") or name.startswith(("compare", "index", ".")):
            continue
        if name in ("sweep.json", "image_inspect.json"):
            continue  # scripts/sweep's wall times and the image's sizes, not a suite's results
        try:
            out[name[:-5]] = load(os.path.join(run_dir, name))
        except (ValueError, OSError) as e:
            print(f"cvbresults: skipping {run_dir}/{name}: {e}")
    return out


def run_context(suites):
    """The context of a run: the first suite's, with repetitions etc. (all suites share a host)."""
    for ctx, _, _ in suites.values():
        if ctx:
            return ctx
    return {}


def by_name(entries):
    """{normalized entry name: [entries]} keeping first-seen order."""
    groups = {}
    for e in entries:
        groups.setdefault(e.get("key") or entry_key(e), []).append(e)
    return groups


def launcher_of(name):
    """'startup/libvirt/kernel:minimal' -> 'libvirt/kernel:minimal'."""
    name = base_name(name)
    return name.split("/", 1)[1] if "/" in name else name


def short_label(name):
    """'startup/libvirt/kernel:minimal' -> 'libvirt (minimal)'; 'startup/crun' -> 'crun'."""
    _, launcher, dims = parse_name(name)
    if not dims:
        return launcher
    return f"{launcher} ({', '.join(v if k == 'kernel' else f'{k}={v}' for k, v in dims.items())})"


def values(entries, field="real_time"):
    """The field of each entry that has it, as floats (NaN dropped)."""
    out = []
    for e in entries:
        v = e.get(field)
        if isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
            out.append(float(v))
    return out


def median(vals):
    return statistics.median(vals) if vals else float("nan")


def typical(vals, trim=0.2):
    """Geometric mean of the middle of a sample (trim each end): 'the typical time'.

    On a loaded host launch times have a long right tail (preemption); this estimate resists it
    like a median, and wastes fewer samples (its bootstrap spread on startup samples here was
    about 25% smaller than the median's)."""
    s = sorted(math.log(v) for v in vals if v > 0)
    if not s:
        return float("nan")
    k = int(len(s) * trim)
    mid = s[k:len(s) - k] or s
    return math.exp(sum(mid) / len(mid))


def quantile(vals, p):
    s = sorted(vals)
    if not s:
        return float("nan")
    i = (len(s) - 1) * p
    lo, hi = int(i), min(int(i) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (i - lo)


def spread(vals):
    """(median, p10, p90, stdev) of a sample."""
    if not vals:
        return (float("nan"),) * 4
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return statistics.median(vals), quantile(vals, 0.1), quantile(vals, 0.9), sd


def errors_by_key(errors):
    """{normalized name: first error message}."""
    out = {}
    for e in errors:
        out.setdefault(e.get("key") or entry_key(e), e.get("error_message", "error"))
    return out


def accelerator(context):
    """'KVM' or 'TCG' (or '?'), from context['accelerator']."""
    a = str(context.get("accelerator", "?"))
    return a.split(":")[0].strip().upper() or "?"


def caption(context):
    """One line of conditions for every chart."""
    date = str(context.get("date_utc", context.get("date", "?")))[:16].replace("T", " ")
    sha = str(context.get("git_sha", "?"))[:7]
    dirty = " (dirty)" if context.get("git_dirty") == "yes" else ""
    return (f"{date} UTC  git {sha}{dirty}  host kernel {context.get('kernel', '?')}  "
            f"{context.get('cpu_model', '?')} x{context.get('cpus_online', context.get('num_cpus', '?'))}  "
            f"cgroups {context.get('cgroup_mode', '?')}  VMs: {accelerator(context)}  "
            f"reps {context.get('repetitions', '?')}")


def density_series(iterations):
    """{'density/<launcher>[/kernel:x]': {n: [entries]}} from density/<launcher>/.../n:N entries."""
    series = {}
    for key, entries in by_name(iterations).items():
        suite, launcher, dims = parse_name(key)
        if "n" not in dims:
            continue
        base = "/".join([suite, launcher] + [f"{k}:{v}" for k, v in dims.items() if k != "n"])
        series.setdefault(base, {})[int(dims["n"])] = entries
    return series


def density_cost_field(per_n):
    """The field a density series is costed by: cost_mib (user PSS + kernel meminfo deltas) in
    runs that have it, pss_mib in older runs (their instances_per_gib came from PSS)."""
    for entries in per_n.values():
        if values(entries, "cost_mib"):
            return "cost_mib"
    return "pss_mib"


def density_fit(per_n, field=None):
    """Least squares field = fixed + slope * N over every sample of every N (scipy linregress).

    Returns {"slope", "ci95" (half-width of the 95% interval, Student's t), "fixed", "r2",
    "points", "ns"}, or None with fewer than two distinct N (a slope needs two)."""
    field = field or density_cost_field(per_n)
    xs, ys = [], []
    for n, entries in per_n.items():
        for v in values(entries, field):
            xs.append(float(n))
            ys.append(v)
    if len(set(xs)) < 2:
        return None
    from scipy import stats  # Debian's python3-scipy (scripts/setup)
    r = stats.linregress(xs, ys)
    ci = stats.t.ppf(0.975, len(xs) - 2) * r.stderr if len(xs) > 2 else float("inf")
    return {"slope": r.slope, "ci95": ci, "fixed": r.intercept, "r2": r.rvalue ** 2,
            "points": len(xs), "ns": sorted(set(int(x) for x in xs)), "field": field}


def density_figures(per_n):
    """(largest N, MiB per instance, instances per GiB), medians.

    MiB per instance is the marginal cost: the slope of the least-squares fit of cost_mib (user
    PSS + kernel-side meminfo growth) over N when two or more N ran; otherwise the median
    cost_mib / N at the largest N (older runs: PSS). The MemAvailable drop is a cross-check
    reported beside it, never mixed in."""
    ns = sorted((n for n in per_n if values(per_n[n], density_cost_field(per_n))), reverse=True)
    if not ns:
        return None, float("nan"), float("nan")
    fit = density_fit(per_n)
    if fit and fit["slope"] > 0:
        return ns[0], fit["slope"], 1024.0 / fit["slope"]
    field = density_cost_field(per_n)
    mib = median(values(per_n[ns[0]], field)) / ns[0]
    return ns[0], mib, 1024.0 / mib if mib > 0 else float("nan")



# --- every counter of an entry, with its unit (exports, history database) -----------------------

# Google Benchmark's bookkeeping fields: numbers, but not measurements.
_BOOKKEEPING = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
                "threads", "iterations"}
# Counter name endings and their units, most specific first.
_UNIT_SUFFIXES = [("_ratio_to_native", "ratio"), ("_gb_per_s", "GB/s"), ("_mb_per_s", "MB/s"),
                  ("_ops_per_s", "ops/s"), ("_per_s", "1/s"), ("_iops", "ops/s"),
                  ("_mups", "Mupdates/s"), ("_per_gib", "1/GiB"), ("_mib", "MiB"),
                  ("_bytes", "bytes"), ("_ms", "ms"), ("_us", "us"), ("_s", "s")]
_COUNTS = {"host_processes", "rr_count", "native_samples", "stream_rounds", "n", "parallel",
           "fit_points", "ksm_pages_sharing_delta", "ksm_pages_shared", "ksm_pages_sharing"}
_FLAGS = {"direct", "net_server_stopped", "settled", "dropped_caches", "ksm_run", "ksm_settled"}


def counter_unit(counter, time_unit="ms"):
    """The unit of a counter, from its name ('create_ms' -> 'ms'); real_time/cpu_time use the
    entry's time_unit. Unknown names are 'number' (never guessed)."""
    if counter in ("real_time", "cpu_time"):
        return time_unit or "ns"
    if counter.startswith("ready_at_ms_"):
        return "ms"
    if counter in _COUNTS:
        return "count"
    if counter in _FLAGS:
        return "flag"
    for suffix, unit in _UNIT_SUFFIXES:
        if counter.endswith(suffix):
            return unit
    return "number"


def counters(entry):
    """{counter: float} of one iteration entry: real_time, cpu_time and every user counter.

    Google Benchmark's bookkeeping and counters that repeat a dimension of the name (density's
    n, scale-out's parallel) are left out: they are parameters, not measurements."""
    _, _, dims = parse_name(entry.get("key") or entry_key(entry))
    out = {}
    for k, v in entry.items():
        if k in _BOOKKEEPING or k in dims or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if isinstance(v, float) and math.isnan(v):
            continue
        out[k] = float(v)
    return out


def run_host(run_dir, context):
    """The host a run belongs to: the name scripts/fleet gave it (file `host` in the run
    directory: the inventory name, which tells apart hosts that share a hostname), else the
    hostname the run recorded."""
    try:
        with open(os.path.join(run_dir, "host")) as f:
            name = f.read().strip()
            if name:
                return name
    except OSError:
        pass
    return str(context.get("hostname") or context.get("host_name") or "unknown")


def run_dirs(root):
    """Every run directory under root (a directory holding <suite>.json), root included; fleet
    runs hold one run directory per host under hosts/. Sorted by path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        # instances/: what each runtime was given (config.json ...), not results; export/: ours
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith((".", "tmp")) and d not in ("instances", "export"))
        if any(f.endswith(".json") and not f.startswith(("compare", "index", "fleet", "."))
               for f in filenames):
            found.append(dirpath)
    return sorted(found)
