"""The regression gate across the history: each run's gated ratios, and the gate's verdict on each
run against the previous run of the same host and priority (like with like: a 300-repetition gate
run at high priority is compared with the one before it, a reference sweep with the one before it).

The verdicts are scripts/compare's own (gate/compare.py ratio_test, its default gates, tolerance
half of its 25% threshold, alpha 0.05) and the density gate's (gate/density.py slope_ratio:
FAILED when the cvrun/crun slope ratio's interval lies above 1.2; REGRESSION when its lower end is
above the previous run's ratio x (1 + tolerance)), on samples read from the history database.
"""
from dataclasses import dataclass

from ..gate import compare as C
from ..gate import density as DG
from . import data

TOLERANCE = 0.5 * 0.25
ALPHA = 0.05


@dataclass
class GateRow:
    """One gated ratio in one run, and the verdict against the previous comparable run."""
    gate: str               # "startup:cvrun/crun:real_time"
    run: object             # data.RunDir
    num: str                # the numerator's entry (its page shows the row)
    ratio: float
    lo: float = float("nan")   # the ratio's 95% interval (the density gate's fit; ratio gates: none)
    hi: float = float("nan")
    base: object = None     # the RunDir compared against, or None (the first of its kind)
    change: float = float("nan")
    change_ci: tuple = ()   # the change's bootstrap 95% interval (ratio gates)
    p: float = None
    verdict: str = "first run of its kind: nothing to compare"
    metric: str = ""        # the counter the gate reads (real_time, teardown_ms, ...)

    @property
    def regression(self):
        return self.verdict.startswith(("REGRESSION", "FAILED"))


def _ratio_gates():
    return C.parse_gates(C.DEFAULT_GATES)


def _comparable(runs, i, has):
    """The latest run before runs[i] with the same priority (same host: runs is one host's) for
    which has(run) is true (it measured what is compared)."""
    for j in range(i - 1, -1, -1):
        if runs[j].first["priority"] == runs[i].first["priority"] and has(runs[j]):
            return runs[j]
    return None


def ratio_rows(db, runs):
    """[GateRow] of the ratio gates over one host's runs (oldest first)."""
    out = []
    gates = _ratio_gates()
    cache = {}

    def samples(d, metric, higher):
        key = (d.path, metric, higher)
        if key not in cache:
            cache[key] = data.samples(db, [r["id"] for r in d.suites.values()], metric, higher)
        return cache[key]

    for i, d in enumerate(runs):
        for g in gates:
            new = samples(d, g["metric"], g["higher"])
            for num_key, den_key in C.gate_keys(new, g["suite"], g["num"], g["den"]):
                nn, dn = new[g["suite"]][num_key], new[g["suite"]][den_key]
                if not nn or not dn:
                    continue
                row = GateRow(g["spec"], d, num_key, C.med(nn) / C.med(dn), metric=g["metric"])
                has = lambda r: {num_key, den_key} <= set(samples(r, g["metric"], g["higher"]).get(g["suite"], {}))  # noqa: E731,B023
                base = _comparable(runs, i, has)
                if base is not None:
                    old = samples(base, g["metric"], g["higher"])
                    t = C.ratio_test(old, new, g["suite"], num_key, den_key, TOLERANCE, ALPHA)
                    row.base, row.verdict = base, t["verdict"]
                    row.change, row.p = t.get("change", float("nan")), t.get("p")
                    row.change_ci = tuple(t.get("ci", ()))
                out.append(row)
    return out


def density_rows(db, runs):
    """[GateRow] of the density gate (cvrun/crun fitted slopes) over one host's runs."""
    out = []
    prev = {}
    for d in runs:
        r = d.suites.get("density")
        if r is None:
            continue
        new = DG.slope_ratio(data.density_series(db, r["id"], DG.NUM), data.density_series(db, r["id"], DG.DEN))
        if new is None:
            continue
        row = GateRow(f"density:{DG.NUM}/{DG.DEN}:fit_slope_mib", d, f"density/{DG.NUM}", new["ratio"],
                      new["lo"], new["hi"], metric="cost_mib")
        if new["lo"] > DG.LIMIT:
            row.verdict = f"FAILED: {DG.NUM} costs more than {DG.LIMIT:g}x {DG.DEN} per instance"
        else:
            verdicts = []
            if new["hi"] > DG.LIMIT:
                verdicts.append(f"NOT DECIDED: the interval straddles {DG.LIMIT:g}")
            base = prev.get(d.first["priority"])
            if base is not None:
                row.base = base[0]
                row.change = new["ratio"] / base[1] - 1
                bound = base[1] * (1 + TOLERANCE)
                verdicts.insert(0, "REGRESSION" if new["lo"] > bound else "ok")
            row.verdict = "; ".join(verdicts) or row.verdict
        prev[d.first["priority"]] = (d, new["ratio"])
        out.append(row)
    return out


def history(db):
    """{host: [GateRow]} for every host, ratio gates then the density gate, oldest run first."""
    return {host: ratio_rows(db, runs) + density_rows(db, runs)
            for host, runs in data.hosts(db).items()}
