"""A/B comparison of two cvbench runs, and the regression gate.

  scripts/compare BASELINE NEW [--threshold 0.25] [--tolerance T] [--alpha 0.05]
                  [--gates SUITE:NUM/DEN:METRIC[:higher],...] [--info-pairs NUM/DEN,...]
                  [--inject-slowdown LAUNCHER=FACTOR ...] [--gate-absolute] [--json OUT]
                  [--require] [--unavailable LAUNCHER,...] [--harness-limit 0.01]

BASELINE and NEW are run directories (<suite>.json files). BASELINE may also be a small text file
(results/baseline) whose first non-comment line names the run directory, relative to the file.

Three sections:
- The gate: ratios measured within one run (for example cvrun's startup over crun's, both
  measured in the same interleaved sweep), compared between the runs. Absolute times on a shared,
  noisy machine drift from run to run by far more than 25%; a ratio within one run cancels most of
  that drift. Each gate is SUITE:NUM/DEN:METRIC (DEFAULT_GATES: startup launch-to-exit and
  teardown cvrun/crun, libvirt/qemu startup, throughput cvrun/native cpu and mem). A metric marked
  `higher` (a rate) is gated on its inverse, the cost per unit, so that for every gate a larger
  ratio is worse. For each gate present in both runs: the ratio of typicals in each run, its
  relative change, a two-sided Mann-Whitney U test on NUM's samples divided by the typical of DEN
  in the same run (baseline vs new), and a bootstrap 95% interval of the change. A regression is a
  ratio that grew by more than the tolerance with p < alpha; an improvement the same downwards.
- The rules a run must keep to be gated at all (status 3 when NEW breaks one): every entry of a
  gate has at least MIN_SAMPLES samples; at most 1% of its repetitions errored (MAX_ERROR_FRACTION);
  when NEW has startup/null (a launcher that starts nothing: the harness's own bookkeeping per
  launch), null's typical is below --harness-limit (1%) of native's, the smallest startup figure.
  With --require every gate and the harness figure must be in NEW (and in BASELINE; a gate the
  baseline lacks is printed as NOT IN BASELINE, not passed silently), except gates whose launcher
  is in --unavailable (not installed on this host), which are printed as SKIPPED.
- Absolute A/B per entry (median change and Mann-Whitney U p), for information only unless
  --gate-absolute.

--threshold is the slowdown the gate must catch (default 0.25 = 25%). The decision boundary, the
tolerance, defaults to half of it (12.5%): midway between "no change" and the slowdown to catch.
On the shared 2-core machines, with the smoke sweep at high CPU and I/O priority (as
scripts/check-regression runs it), clean runs of 300 repetitions moved cvrun/crun by at most 7.5%
and every 25% slowdown injected into them showed as +16% or more (docs/gate.md,
"scripts/check-regression").

--inject-slowdown LAUNCHER=FACTOR makes that launcher's entries in NEW FACTOR times slower before
any test (real_time and every *_ms counter multiplied, every *_per_s rate divided): the way to
prove the gate can fail without touching the benchmark itself. LAUNCHER may carry dims
(libvirt/kernel:minimal) or be a bare launcher name.

Exit status: 0 no gated regression; 1 a gated regression; 2 bad input or nothing comparable;
3 NEW breaks a rule above (errored repetitions, too few samples, harness overhead, a required gate
missing), the reasons printed.
"""
import argparse
import json
import math
import os
import sys
import zlib

from .. import results
from . import density as density_gate

# SUITE:NUM/DEN:METRIC[:higher]. Throughput's figures are rates (higher is better).
DEFAULT_GATES = ("startup:cvrun/crun:real_time,startup:cvrun/crun:teardown_ms,"
                 "startup:libvirt/qemu:real_time,"
                 "throughput:cvrun/native:int_ops_per_s:higher,"
                 "throughput:cvrun/native:triad_gb_per_s:higher")
# Gates a full gate run must have (scripts/check-regression passes --require): all of the above
# but libvirt/qemu, which needs VMs the smoke sweep does not run.
REQUIRED_GATES = ("startup:cvrun/crun:real_time", "startup:cvrun/crun:teardown_ms",
                  "throughput:cvrun/native:int_ops_per_s:higher",
                  "throughput:cvrun/native:triad_gb_per_s:higher")
MAX_ERROR_FRACTION = 0.01
HARNESS_LIMIT = 0.01
# Shown, not gated: native's ~1 ms launch is mostly scheduler latency, so X/native moves with
# the host's load by far more than 25% between clean runs (see docs/gate.md).
DEFAULT_INFO_PAIRS = "cvrun/native,crun/native,runc/crun"
MIN_SAMPLES = 5
BOOTSTRAP = 2000


def resolve_run(path):
    """A run directory, or a file naming one (results/baseline)."""
    if os.path.isdir(path):
        return os.path.realpath(path)
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    target = line if os.path.isabs(line) else os.path.join(os.path.dirname(path), line)
                    if os.path.isdir(target):
                        return os.path.realpath(target)
                    raise SystemExit(f"compare: {path} names {line}, which is not a directory")
        raise SystemExit(f"compare: {path} names no run directory")
    raise SystemExit(f"compare: {path}: no such run directory")


def launcher_matches(spec, key):
    """Does --inject-slowdown's LAUNCHER (cvrun, or libvirt/kernel:minimal) name this entry?"""
    launcher = results.launcher_of(key)
    return launcher == spec or launcher.split("/", 1)[0] == spec


def inject(suites, specs):
    """Scale the times of matching entries in place: {suite: (ctx, iterations, errors)}."""
    hit = {spec: 0 for spec in specs}
    for _, iterations, _ in suites.values():
        for e in iterations:
            for spec, factor in specs.items():
                if launcher_matches(spec, e["key"]):
                    hit[spec] += 1
                    for k, v in list(e.items()):
                        if not isinstance(v, (int, float)) or isinstance(v, bool):
                            continue
                        if k == "real_time" or k.endswith("_ms"):
                            e[k] = v * factor
                        elif k.endswith("_per_s"):
                            e[k] = v / factor
    return hit


def samples(suites, metric, higher=False):
    """{suite: {key: [values]}} of iteration samples of metric (as cost 1/x when higher is
    better), and {suite: {key: [error messages]}}."""
    out, errs = {}, {}
    for suite, (_, iterations, errors) in suites.items():
        groups = results.by_name(iterations)
        vals = {k: results.values(v, metric) for k, v in groups.items()}
        if higher:
            vals = {k: [1.0 / x for x in v if x > 0] for k, v in vals.items()}
        out[suite] = {k: v for k, v in vals.items() if v}
        errs[suite] = {}
        for e in errors:
            errs[suite].setdefault(e.get("key") or results.entry_key(e), []).append(
                e.get("error_message", "error"))
    return out, errs


def repetitions(suites):
    """{suite: {key: number of iteration entries}} (whatever their metrics)."""
    return {suite: {k: len(v) for k, v in results.by_name(iterations).items()}
            for suite, (_, iterations, _) in suites.items()}


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U p-value (scipy), or None when it cannot be computed."""
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:  # pragma: no cover - Debian's python3-scipy is a setup dependency
        return None
    if len(a) < 2 or len(b) < 2:
        return None
    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def med(v):
    """The location estimate used throughout: the 20%-trimmed geometric mean (see typical())."""
    return results.typical(v)


def _typicals(sample, rng, trim=0.2):
    """typical() of BOOTSTRAP resamples of sample, vectorized (numpy)."""
    import numpy as np
    logs = np.log(np.asarray([v for v in sample if v > 0], dtype=float))
    n = len(logs)
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    draws = np.sort(logs[idx], axis=1)
    k = int(n * trim)
    mid = draws[:, k:n - k] if n - 2 * k > 0 else draws
    return np.exp(mid.mean(axis=1))


def bootstrap_change(nb, db, nn, dn, seed):
    """95% interval of (typ(nn)/typ(dn)) / (typ(nb)/typ(db)) - 1, resampling each sample."""
    import numpy as np
    rng = np.random.default_rng(seed)
    t = [_typicals(s, rng) for s in (nb, db, nn, dn)]
    changes = (t[2] / t[3]) / (t[0] / t[1]) - 1
    lo, hi = np.quantile(changes, [0.025, 0.975])
    return float(lo), float(hi)


def split_dims(key):
    """'startup/libvirt/kernel:minimal' -> ('startup', 'libvirt', 'kernel:minimal')."""
    parts = key.split("/")
    return parts[0], parts[1] if len(parts) > 1 else "", "/".join(parts[2:])


def parse_gates(text):
    """'startup:cvrun/crun:real_time,throughput:cvrun/native:int_ops_per_s:higher' -> dicts."""
    gates = []
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split(":")
        num, sep, den = parts[1].partition("/") if len(parts) >= 3 else ("", "", "")
        if len(parts) not in (3, 4) or not sep or not num or not den or not parts[0] or not parts[2] \
                or (len(parts) == 4 and parts[3] not in ("higher", "lower")):
            raise SystemExit(f"compare: --gates wants SUITE:NUM/DEN:METRIC[:higher], got {item!r}")
        gates.append({"spec": item, "suite": parts[0], "num": num, "den": den, "metric": parts[2],
                      "higher": len(parts) == 4 and parts[3] == "higher"})
    return gates


def gate_keys(run, suite, num, den):
    """[(num_key, den_key)] of one run's samples: NUM's entries (any dims) with DEN's twin."""
    found = []
    for key in sorted(run.get(suite, {})):
        _, launcher, dims = split_dims(key)
        if launcher != num:
            continue
        den_key = "/".join(p for p in (suite, den, dims) if p)
        if den_key in run[suite]:
            found.append((key, den_key))
    return found


def gate_pairs(base, new, pairs, suites_wanted):
    """Every (suite, num_key, den_key) present with samples in both runs."""
    found = []
    for suite in sorted(set(base) & set(new)):
        if suites_wanted and suite not in suites_wanted:
            continue
        for num, den in pairs:
            for key, den_key in gate_keys(base, suite, num, den):
                if key in new.get(suite, {}) and den_key in new[suite]:
                    found.append((suite, key, den_key))
    return found


def ratio_test(base, new, suite, num_key, den_key, tolerance, alpha):
    nb, db = base[suite][num_key], base[suite][den_key]
    nn, dn = new[suite][num_key], new[suite][den_key]
    row = {"suite": suite, "num": num_key, "den": den_key,
           "n": [len(nb), len(db), len(nn), len(dn)]}
    if min(row["n"]) < MIN_SAMPLES:
        row.update(verdict="too few samples", change=float("nan"), p=None)
        return row
    rb, rn = med(nb) / med(db), med(nn) / med(dn)
    change = rn / rb - 1
    p = mann_whitney([x / med(db) for x in nb], [x / med(dn) for x in nn])
    lo, hi = bootstrap_change(nb, db, nn, dn, seed=zlib.crc32(f"{num_key}|{den_key}".encode()))
    significant = p is not None and p < alpha
    if change > tolerance and significant:
        verdict = "REGRESSION"
    elif change < -tolerance and significant:
        verdict = "improvement"
    elif significant:
        verdict = "changed, within tolerance"
    else:
        verdict = "no significant change"
    row.update(base_ratio=rb, new_ratio=rn, change=change, p=p, ci=[lo, hi], verdict=verdict)
    return row


def absolute_tests(base, new, threshold, alpha):
    rows = []
    for suite in sorted(set(base) & set(new)):
        for key in sorted(set(base[suite]) & set(new[suite])):
            a, b = base[suite][key], new[suite][key]
            change = med(b) / med(a) - 1 if med(a) else float("nan")
            p = mann_whitney(a, b)
            verdict = ""
            if p is not None and p < alpha and abs(change) > threshold:
                verdict = "slower" if change > 0 else "faster"
            rows.append({"key": key, "base_median": med(a), "new_median": med(b), "change": change,
                         "p": p, "n": [len(a), len(b)], "verdict": verdict})
    return rows


CONDITION_KEYS = ("git_sha", "date_utc", "accelerator", "kernel", "cpu_model", "cpus_online",
                  "cgroup_mode", "repetitions", "launchers", "priority")


def priority_of(run_dir):
    """How the sweep was scheduled: scripts/check-regression writes RUN_DIR/priority."""
    try:
        with open(os.path.join(run_dir, "priority")) as f:
            return f.read().strip() or "normal"
    except OSError:
        return "normal"


def conditions(ctx_b, ctx_n):
    lines, warnings = [], []
    for k in CONDITION_KEYS:
        vb, vn = str(ctx_b.get(k, "-")), str(ctx_n.get(k, "-"))
        if k == "git_sha":
            vb, vn = vb[:10] + (" dirty" if ctx_b.get("git_dirty") == "yes" else ""), \
                vn[:10] + (" dirty" if ctx_n.get("git_dirty") == "yes" else "")
        lines.append(f"  {k:<12} {vb[:38]:<40} {vn[:38]}")
        if k in ("accelerator", "kernel", "cpu_model", "cpus_online", "cgroup_mode", "priority") and vb != vn:
            warnings.append(f"{k} differs ({vb} vs {vn}): ratios may not be comparable")
    return lines, warnings


def clean_nan(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: clean_nan(v) for k, v in x.items()}
    if isinstance(x, list):
        return [clean_nan(v) for v in x]
    return x


def fmt_p(p):
    return "-" if p is None else (f"{p:.4f}" if p >= 1e-4 else f"{p:.1e}")


def parse_inject(items):
    specs = {}
    for item in items or []:
        name, sep, factor = item.partition("=")
        try:
            f = float(factor)
        except ValueError:
            f = float("nan")
        if not sep or not name or not (f > 0):
            raise SystemExit(f"compare: --inject-slowdown wants LAUNCHER=FACTOR (factor > 0), got {item!r}")
        specs[name] = f
    return specs


def parse_pairs(text):
    pairs = []
    for p in (text or "").split(","):
        if not p.strip():
            continue
        num, sep, den = p.strip().partition("/")
        if not sep or not num or not den:
            raise SystemExit(f"compare: pairs are NUM/DEN launcher names, got {p!r}")
        pairs.append((num, den))
    return pairs


def print_ratio_row(row):
    label = row.get("label") or f"{row['num']} / {results.launcher_of(row['den'])}"
    if row.get("base_ratio") is None:
        print(f"  {label:<56} {'':>9} {'':>9} {'':>8} {'':>15} {'':>8}  {row['verdict']} n={row['n']}")
        return
    ci = f"[{row['ci'][0]:+.0%},{row['ci'][1]:+.0%}]"
    print(f"  {label:<56} {row['base_ratio']:>9.3f} {row['new_ratio']:>9.3f} "
          f"{row['change']:>+8.1%} {ci:>15} {fmt_p(row['p']):>8}  {row['verdict']}")


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="scripts/compare",
        description="A/B of two cvbench runs; gates on within-run ratios (see the module doc).")
    ap.add_argument("baseline", help="baseline run directory, or a file naming one (results/baseline)")
    ap.add_argument("new", help="new run directory")
    ap.add_argument("--threshold", type=float, default=0.25,
                    help="the slowdown the gate must catch (fraction, default 0.25)")
    ap.add_argument("--tolerance", type=float, default=None,
                    help="decision boundary on a ratio's change (default threshold / 2)")
    ap.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    ap.add_argument("--gates", default=DEFAULT_GATES,
                    help=f"SUITE:NUM/DEN:METRIC[:higher],... to gate on (default {DEFAULT_GATES})")
    ap.add_argument("--info-pairs", default=DEFAULT_INFO_PAIRS,
                    help=f"startup pairs shown but not gated (default {DEFAULT_INFO_PAIRS})")
    ap.add_argument("--require", action="store_true",
                    help="every required gate and the harness figure must be in NEW (exit 3 if not)")
    ap.add_argument("--unavailable", default="",
                    help="launchers not installed on this host: their gates are SKIPPED, reason printed")
    ap.add_argument("--harness-limit", type=float, default=HARNESS_LIMIT,
                    help="largest null/native startup ratio allowed (default 0.01)")
    ap.add_argument("--inject-slowdown", action="append", metavar="LAUNCHER=FACTOR",
                    help="multiply LAUNCHER's times in NEW by FACTOR before testing (repeatable)")
    ap.add_argument("--inject-density", action="append", metavar="LAUNCHER=FACTOR",
                    help="multiply LAUNCHER's density cost in NEW by FACTOR (repeatable): shows the "
                         "density gate fails when cvrun's per-instance cost grows")
    ap.add_argument("--gate-absolute", action="store_true",
                    help="also fail on absolute slowdowns beyond the threshold (not on noisy hosts)")
    ap.add_argument("--json", metavar="OUT", help="write the comparison as JSON")
    ap.add_argument("--quiet", action="store_true", help="print only the ratios and the verdict")
    args = ap.parse_args(argv)

    tolerance = args.tolerance if args.tolerance is not None else 0.5 * args.threshold
    gates = parse_gates(args.gates)
    info_pairs = parse_pairs(args.info_pairs)
    inject_specs = parse_inject(args.inject_slowdown)
    unavailable = {u.strip() for u in (args.unavailable or "").split(",") if u.strip()}

    base_dir, new_dir = resolve_run(args.baseline), resolve_run(args.new)
    base_suites, new_suites = results.load_run(base_dir), results.load_run(new_dir)
    for d, s in ((base_dir, base_suites), (new_dir, new_suites)):
        if not s:
            print(f"compare: no <suite>.json in {d}", file=sys.stderr)
            return 2
    if inject_specs:
        for spec, n in inject(new_suites, inject_specs).items():
            if not n:
                print(f"compare: --inject-slowdown {spec}: no such launcher in {new_dir}", file=sys.stderr)
                return 2
    density_inject = parse_inject(args.inject_density)
    for spec, factor in density_inject.items():
        if not density_gate.inject(new_suites, spec, factor):
            print(f"compare: --inject-density {spec}: no density entries of it in {new_dir}", file=sys.stderr)
            return 2
    base_rt, _ = samples(base_suites, "real_time")
    new_rt, new_err = samples(new_suites, "real_time")
    new_reps = repetitions(new_suites)

    out = {"baseline": base_dir, "new": new_dir, "threshold": args.threshold,
           "tolerance": tolerance, "alpha": args.alpha, "gates_asked": [g["spec"] for g in gates],
           "injected": inject_specs, "unavailable": sorted(unavailable), "gate": [], "info": [],
           "absolute": [], "rules": [], "not_gated": [], "warnings": []}
    ctx_b, ctx_n = results.run_context(base_suites), results.run_context(new_suites)
    ctx_b, ctx_n = dict(ctx_b, priority=priority_of(base_dir)), dict(ctx_n, priority=priority_of(new_dir))
    cond_lines, warnings = conditions(ctx_b, ctx_n)
    out["warnings"] += warnings

    print(f"baseline: {base_dir}\nnew:      {new_dir}")
    if not args.quiet:
        print(f"  {'':<12} {'baseline':<40} new")
        print("\n".join(cond_lines))
    if inject_specs:
        print("INJECTED slowdown in NEW: " + ", ".join(f"{k} x{v:g}" for k, v in inject_specs.items()))

    header = (f"  {'ratio of typicals':<56} {'baseline':>9} {'new':>9} {'change':>8} {'95% CI':>15} "
              f"{'p':>8}  verdict")
    print(f"\nGate: within-run ratios of 'typicals' (geometric mean of the middle 60% of samples; a "
          f"rate is gated on its inverse, 1/x); REGRESSION = change > +{tolerance:.1%} with "
          f"Mann-Whitney U p < {args.alpha} (sized to catch a {args.threshold:.0%} slowdown)")
    print(header)
    broken = []  # rules NEW breaks: (what, why)
    checked_keys = set()  # (suite, key) of NEW taking part in a gate: their errors are counted
    for g in gates:
        base, _ = samples(base_suites, g["metric"], g["higher"])
        new, _ = samples(new_suites, g["metric"], g["higher"])
        label = f"{g['suite']}:{g['num']}/{g['den']}:{g['metric']}"
        missing_here = sorted({g["num"], g["den"]} & unavailable)
        new_pairs = gate_keys(new, g["suite"], g["num"], g["den"])
        for suite_key in new_reps.get(g["suite"], {}):
            if split_dims(suite_key)[1] in (g["num"], g["den"]):
                checked_keys.add((g["suite"], suite_key))
        for suite_key in new_err.get(g["suite"], {}):
            if split_dims(suite_key)[1] in (g["num"], g["den"]):
                checked_keys.add((g["suite"], suite_key))
        if missing_here:
            row = {"gate": g["spec"], "verdict": f"SKIPPED: {', '.join(missing_here)} not installed on this host"}
            out["not_gated"].append(row)
            print(f"  {label:<56} {row['verdict']}")
            continue
        if not new_pairs:
            failed = {k: m for k, m in new_err.get(g["suite"], {}).items()
                      if split_dims(k)[1] in (g["num"], g["den"])}
            if failed:
                why = "; ".join(f"{k} failed: {m[0][:100]}" for k, m in failed.items())
                broken.append((label, why))
                print(f"  {label:<56} FAILED in NEW: {why}")
            elif args.require and g["spec"] in REQUIRED_GATES:
                broken.append((label, f"not measured in NEW ({g['suite']}.json has no "
                                      f"{g['num']} and {g['den']} entries with {g['metric']})"))
                print(f"  {label:<56} NOT MEASURED in NEW")
            continue
        for num_key, den_key in new_pairs:
            rlabel = f"{num_key} / {results.launcher_of(den_key)} [{('1/' if g['higher'] else '') + g['metric']}]"
            if num_key not in base.get(g["suite"], {}) or den_key not in base.get(g["suite"], {}):
                row = {"gate": g["spec"], "num": num_key, "den": den_key,
                       "verdict": "NOT IN BASELINE: not gated (re-record: scripts/check-regression --record)"}
                out["not_gated"].append(row)
                out["warnings"].append(f"the baseline lacks {rlabel}: it is NOT gated until the baseline "
                                       f"is re-recorded (scripts/check-regression --record)")
                print(f"  {rlabel:<56} {row['verdict']}")
                continue
            row = ratio_test(base, new, g["suite"], num_key, den_key, tolerance, args.alpha)
            row.update(gated=True, gate=g["spec"], metric=g["metric"], label=rlabel)
            out["gate"].append(row)
            print_ratio_row(row)
            if row["verdict"] == "too few samples":
                broken.append((rlabel, f"too few samples {row['n']} (baseline NUM, DEN, new NUM, DEN; "
                                       f"at least {MIN_SAMPLES} each)"))
    if not out["gate"]:
        print("  (no gated ratio is present in both runs)")

    # The harness's own cost per launch against the smallest startup figure.
    null, native = new_rt.get("startup", {}).get("startup/null"), new_rt.get("startup", {}).get("startup/native")
    for k in ("startup/null", "startup/native"):
        if k in new_reps.get("startup", {}) or k in new_err.get("startup", {}):
            checked_keys.add(("startup", k))
    if null and native:
        overhead = med(null) / med(native)
        out["harness"] = {"null_ms": med(null), "native_ms": med(native), "fraction": overhead,
                          "limit": args.harness_limit, "n": [len(null), len(native)]}
        ok = overhead < args.harness_limit
        print(f"\nHarness overhead: null launcher (bookkeeping only) {med(null) * 1e3:.1f} us per launch = "
              f"{overhead:.3%} of native's launch-to-exit ({med(native):.3f} ms); limit "
              f"{args.harness_limit:.0%}: {'ok' if ok else 'TOO HIGH'}")
        if not ok:
            broken.append(("harness overhead", f"null/native = {overhead:.2%} >= {args.harness_limit:.0%}"))
    elif args.require:
        broken.append(("harness overhead", "not measured (NEW has no startup/null and startup/native)"))

    # Density: cvrun's fitted MiB per additional instance against crun's (density_gate).
    if density_inject:
        print("INJECTED density cost in NEW: " + ", ".join(f"{k} x{v:g}" for k, v in density_inject.items()))
    lines, d_broken, d_regression, d_row = density_gate.check(
        base_suites, new_suites, tolerance, require=args.require, unavailable=unavailable)
    print("\n".join(lines))
    broken += d_broken
    out["density"] = d_row
    if d_row.get("verdict", "").startswith("NOT IN BASELINE"):
        out["not_gated"].append(d_row)
        out["warnings"].append("the baseline lacks density.json: the density ratio is checked by its "
                               "rule only, NOT against the baseline, until it is re-recorded "
                               "(scripts/check-regression --record)")
    for k in list(new_reps.get("density", {})) + list(new_err.get("density", {})):
        if split_dims(k)[1] in (density_gate.NUM, density_gate.DEN):
            checked_keys.add(("density", k))

    # Errored repetitions of every entry that takes part in a gate.
    for suite, key in sorted(checked_keys):
        n_err = len(new_err.get(suite, {}).get(key, []))
        n_ok = new_reps.get(suite, {}).get(key, 0)
        total = n_err + n_ok
        if total and n_err / total > MAX_ERROR_FRACTION:
            first = new_err[suite][key][0][:120]
            broken.append((key, f"{n_err} of {total} repetitions errored ({n_err / total:.1%} > "
                                f"{MAX_ERROR_FRACTION:.0%}): {first}"))

    info = gate_pairs(base_rt, new_rt, info_pairs, {"startup"})
    if info:
        print("Shown, not gated (X/native follows the host's load; see docs/gate.md):")
        for suite, num_key, den_key in info:
            row = ratio_test(base_rt, new_rt, suite, num_key, den_key, tolerance, args.alpha)
            row["gated"] = False
            if row["verdict"] in ("REGRESSION", "improvement"):
                row["verdict"] = row["verdict"].lower() + " (not gated)"
            out["info"].append(row)
            print_ratio_row(row)

    if not args.quiet or args.gate_absolute:
        out["absolute"] = absolute_tests(base_rt, new_rt, args.threshold, args.alpha)
    if not args.quiet:
        print(f"\nAbsolute A/B of real_time typicals ({'GATED' if args.gate_absolute else 'information only'}: "
              f"absolute times drift between runs on a shared host; flag = p < {args.alpha} and "
              f"|change| > {args.threshold:.0%})")
        print(f"  {'entry':<42} {'baseline':>10} {'new':>10} {'change':>8} {'p':>8}  flag")
        for r in out["absolute"]:
            print(f"  {r['key']:<42} {r['base_median']:>10.3f} {r['new_median']:>10.3f} "
                  f"{r['change']:>+8.1%} {fmt_p(r['p']):>8}  {r['verdict']}")

    for w in out["warnings"]:
        print(f"warning: {w}")
    out["rules"] = [{"what": w, "why": y} for w, y in broken]
    for w, y in broken:
        print(f"RULE BROKEN: {w}: {y}")

    regressions = [r["label"] for r in out["gate"] if r["verdict"] == "REGRESSION"]
    if d_regression:
        regressions.append(d_row["gate"])
    if args.gate_absolute:
        regressions += [r["key"] for r in out["absolute"] if r["verdict"] == "slower"]
    improvements = [r["label"] for r in out["gate"] if r["verdict"] == "improvement"]
    if broken:
        status = 3
        print(f"\ncompare: NEW CANNOT PASS: {len(broken)} rule(s) broken: "
              + "; ".join(f"{w}: {y}" for w, y in broken), file=sys.stderr)
    elif not out["gate"]:
        status = 2
        print("\ncompare: NOTHING TO GATE: no gated ratio is present in both runs", file=sys.stderr)
    elif regressions:
        status = 1
        print(f"\ncompare: REGRESSION beyond tolerance: {', '.join(regressions)}", file=sys.stderr)
    else:
        status = 0
        extra = f"; improvement: {', '.join(improvements)}" if improvements else ""
        lacking = [r for r in out["not_gated"] if r["verdict"].startswith("NOT IN BASELINE")]
        if lacking:
            extra += f"; {len(lacking)} figure(s) NOT gated: the baseline lacks them (re-record)"
        print(f"\ncompare: OK, {len(out['gate'])} ratio(s) gated, no regression{extra}", file=sys.stderr)
    out["status"] = status
    if args.json:
        with open(args.json, "w") as f:
            json.dump(clean_nan(out), f, indent=1)
    return status

