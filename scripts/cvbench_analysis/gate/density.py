"""The density gate (scripts/compare, run by scripts/check-regression): cvrun's host memory per
additional idle container against crun's, both fitted in the same smoke run.

Each launcher's cost_mib (user PSS + kernel-side growth, bench/src/density_cost.h) is fitted over
N (results.density_fit: least squares, slope = MiB per additional instance). The gated figure
is the ratio of the two slopes, R = cvrun / crun, with a 95% interval from the two fits' standard
errors (delta method on log R, Student's t with the smaller fit's degrees of freedom; unbounded
when crun's slope interval reaches 0). Rules:

  rule (within the new run, no baseline needed): FAILED when the interval's lower end is above
    LIMIT (1.2): cvrun costs more than 1.2x crun per instance with 95% confidence. The upper end
    above LIMIT with the lower end below it is printed as NOT DECIDED (the run is too noisy to
    tell), not as a pass.
  regression (against the baseline's density.json, when it has one): REGRESSION when the new
    interval's lower end is above the baseline's ratio x (1 + tolerance). A baseline without
    density.json is printed as NOT IN BASELINE (re-record), never passed silently.
"""
import math

from .. import results

LIMIT = 1.2
NUM, DEN = "cvrun", "crun"


def series(suites, launcher):
    """{n: [entries]} of density/<launcher> in a loaded run (results.load_run), or {}."""
    if "density" not in suites:
        return {}
    return results.density_series(suites["density"][1]).get(f"density/{launcher}", {})


def slope_ratio(num_series, den_series):
    """{"ratio", "lo", "hi", "num", "den"} (num/den: the fits) or None when either side has fewer
    than two N or a slope <= 0."""
    from scipy import stats  # Debian's python3-scipy (scripts/setup)
    fn, fd = results.density_fit(num_series), results.density_fit(den_series)
    if not fn or not fd or fn["slope"] <= 0 or fd["slope"] <= 0:
        return None
    out = {"ratio": fn["slope"] / fd["slope"], "num": fn, "den": fd,
           "lo": 0.0, "hi": float("inf")}
    dof = min(fn["points"], fd["points"]) - 2
    if dof < 1 or not all(math.isfinite(f["ci95"]) for f in (fn, fd)):
        return out  # two points each: a line, no interval
    # Standard errors back from the fits' t-intervals.
    se = [f["ci95"] / stats.t.ppf(0.975, f["points"] - 2) for f in (fn, fd)]
    if fd["slope"] - fd["ci95"] <= 0:
        return out  # crun's slope may be 0: the ratio is unbounded
    se_log = math.hypot(se[0] / fn["slope"], se[1] / fd["slope"])
    t = stats.t.ppf(0.975, dof)
    out["lo"], out["hi"] = out["ratio"] * math.exp(-t * se_log), out["ratio"] * math.exp(t * se_log)
    return out


def fmt_ratio(r):
    return f"{r['ratio']:.3f} [{r['lo']:.3f}, {r['hi']:.3g}]"


def check(base_suites, new_suites, tolerance, require=False, unavailable=(), limit=LIMIT):
    """(lines to print, broken rules [(what, why)], regression bool, row for compare's JSON)."""
    label = f"density:{NUM}/{DEN}:fit_slope_mib"
    lines = [f"\nDensity: {NUM}/{DEN} fitted slope of cost_mib over N (MiB per additional idle "
             f"instance), 95% interval; rule: FAILED when its lower end > {limit:g}; REGRESSION when "
             f"its lower end > the baseline's ratio x {1 + tolerance:.3g}"]
    row = {"gate": label, "limit": limit}
    missing = sorted({NUM, DEN} & set(unavailable))
    if missing:
        row["verdict"] = f"SKIPPED: {', '.join(missing)} not installed on this host"
        lines.append(f"  {label:<56} {row['verdict']}")
        return lines, [], False, row
    new = slope_ratio(series(new_suites, NUM), series(new_suites, DEN))
    if new is None:
        errs = failed_entries(new_suites)
        why = ("not measured in NEW (density.json needs cvrun and crun entries at two or more N "
               "with cost_mib > 0)" + (": " + "; ".join(f"{k}: {m[:100]}" for k, m in errs.items())
                                      if errs else ""))
        row["verdict"] = "NOT MEASURED"
        lines.append(f"  {label:<56} NOT MEASURED in NEW")
        return lines, ([(label, why)] if require or errs else []), False, row
    row.update(new_ratio=new["ratio"], new_ci=[new["lo"], new["hi"]],
               slopes={NUM: [new["num"]["slope"], new["num"]["ci95"]],
                       DEN: [new["den"]["slope"], new["den"]["ci95"]]})
    lines.append(f"  slopes in NEW: {NUM} {new['num']['slope']:.3f} ± {new['num']['ci95']:.3f} MiB, "
                 f"{DEN} {new['den']['slope']:.3f} ± {new['den']['ci95']:.3f} MiB "
                 f"({new['num']['points']} and {new['den']['points']} points, N = "
                 f"{','.join(str(n) for n in new['num']['ns'])})")
    broken = []
    if new["lo"] > limit:
        verdict = f"FAILED: {NUM} costs more than {limit:g}x {DEN} per instance"
        broken.append((label, f"{NUM}/{DEN} slope ratio {fmt_ratio(new)}: lower end > {limit:g}"))
    elif new["hi"] <= limit:
        verdict = "ok"
    else:
        verdict = f"NOT DECIDED: the interval straddles {limit:g} (too noisy to tell)"
    lines.append(f"  {'rule: ' + NUM + '/' + DEN + ' in NEW':<56} {fmt_ratio(new):>24}  {verdict}")
    row["rule_verdict"] = verdict
    regression = False
    base = slope_ratio(series(base_suites, NUM), series(base_suites, DEN))
    if base is None:
        row["verdict"] = "NOT IN BASELINE: not gated against it (re-record: scripts/check-regression --record)"
        lines.append(f"  {'vs baseline':<56} {row['verdict']}")
    else:
        row["base_ratio"] = base["ratio"]
        bound = base["ratio"] * (1 + tolerance)
        regression = new["lo"] > bound
        row["verdict"] = "REGRESSION" if regression else "ok"
        lines.append(f"  {'vs baseline: ' + NUM + '/' + DEN:<56} {base['ratio']:>9.3f} -> "
                     f"{fmt_ratio(new)}  {row['verdict']} (bound {bound:.3f})")
    return lines, broken, regression, row


def failed_entries(suites):
    """{entry: first error message} of the density entries of NUM and DEN that failed."""
    out = {}
    for b in suites.get("density", ({}, [], []))[2]:
        if results.parse_name(b["key"])[1] in (NUM, DEN):
            out.setdefault(b["key"], b.get("error_message", ""))
    return out


def inject(suites, launcher, factor):
    """Multiplies launcher's density cost (cost_mib, user_mib, kernel_mib) in a loaded run by
    factor: the way to show the gate fails when cvrun's per-instance cost grows. Returns how many
    entries changed."""
    changed = 0
    for b in suites.get("density", ({}, [], []))[1]:
        if results.parse_name(b["key"])[1] != launcher:
            continue
        for k in ("cost_mib", "user_mib", "kernel_mib"):
            if isinstance(b.get(k), (int, float)):
                b[k] = b[k] * factor
        changed += 1
    return changed
