"""What the site shows, read from the history database (history/db.py): run directories with their
conditions, hosts, entries, and each entry's series across commits on one host (never pooled).

"Typical" is results.typical (the trimmed geometric mean every command uses); the spread is the
10th-90th percentile of the run's samples.
"""
import json
import re
from dataclasses import dataclass, field

from .. import results as R
from ..claims.native import NATIVE_FIGURES

# The counter an entry's series follows, by suite (the first one the entry has).
MAIN_COUNTERS = {"startup": ["real_time"], "density": ["cost_mib", "pss_mib"],
                 "scaleout": ["all_ready_ms"], "isolation": ["real_time"]}


@dataclass
class RunDir:
    """One run directory: a row per suite file in the database, one context per suite."""
    path: str
    suites: dict = field(default_factory=dict)   # suite -> runs row (sqlite3.Row)

    @property
    def first(self):
        return self.suites[sorted(self.suites, key=lambda s: self.suites[s]["date_utc"])[0]]

    @property
    def host(self):
        return self.first["host"]

    @property
    def date(self):
        return min(r["date_utc"] for r in self.suites.values())

    @property
    def shas(self):
        return sorted({r["git_sha"][:7] for r in self.suites.values()})

    @property
    def kind(self):
        """'gate', 'fleet' or 'sweep' (the name tells: gate-*, fleet-*/hosts/*)."""
        if self.first["fleet"]:
            return "fleet"
        return "gate" if self.path.split("/")[-1].startswith("gate-") else "sweep"


def safe_name(text):
    """A file name for an entry, run or host: no '/', ':' or spaces (a ':' would read as a URL
    scheme in a relative link)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def run_dirs(db):
    """[RunDir] oldest first."""
    out = {}
    for r in db.execute("SELECT * FROM runs ORDER BY date_utc, path, suite"):
        out.setdefault(r["path"], RunDir(r["path"])).suites[r["suite"]] = r
    return sorted(out.values(), key=lambda d: (d.date, d.path))


def hosts(db):
    """{host: [RunDir]} (oldest first)."""
    out = {}
    for d in run_dirs(db):
        out.setdefault(d.host, []).append(d)
    return out


def natural_key(text):
    """'density/cvrun/n:16' sorts after 'density/cvrun/n:4' (numbers compared as numbers)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text)]


def entries(db):
    """{suite: [entry names]} of every entry in the database, in natural order."""
    out = {}
    for (suite, entry) in db.execute("SELECT DISTINCT suite, entry FROM entries ORDER BY suite, entry"):
        out.setdefault(suite, []).append(entry)
    return {s: sorted(v, key=natural_key) for s, v in out.items()}


def main_counter(db, entry):
    """The counter an entry's page follows (see MAIN_COUNTERS; throughput: its mode's first figure)."""
    suite, _, dims = R.parse_name(entry)
    wanted = list(MAIN_COUNTERS.get(suite, []))
    if suite == "throughput":
        wanted = list(NATIVE_FIGURES.get(dims.get("mode", ""), ())) + ["real_time"]
    have = {c for (c,) in db.execute(
        "SELECT DISTINCT s.counter FROM samples s JOIN entries e ON s.entry_id = e.id WHERE e.entry = ?",
        (entry,))}
    for c in wanted + ["real_time"]:
        if c in have:
            return c
    return sorted(have)[0] if have else "real_time"


@dataclass
class Point:
    """One run's reading of an entry's counter."""
    run: object                  # runs row of the entry's suite file
    values: list
    unit: str
    error: str = None

    @property
    def n(self):
        return len(self.values)

    @property
    def typical(self):
        return R.typical(self.values)

    @property
    def spread(self):
        """(median, p10, p90)."""
        med, p10, p90, _ = R.spread(self.values)
        return med, p10, p90


def series(db, entry, counter):
    """{host: [Point]} of an entry's counter, oldest run first, one list per host."""
    out = {}
    rows = db.execute(
        "SELECT r.*, e.id AS entry_id, e.error AS error FROM entries e JOIN runs r ON e.run_id = r.id "
        "WHERE e.entry = ? ORDER BY r.date_utc, r.path", (entry,))
    for r in rows:
        vals = [v for (v,) in db.execute("SELECT value FROM samples WHERE entry_id = ? AND counter = ? "
                                         "ORDER BY repetition", (r["entry_id"], counter))]
        unit = db.execute("SELECT unit FROM samples WHERE entry_id = ? AND counter = ? LIMIT 1",
                          (r["entry_id"], counter)).fetchone()
        out.setdefault(r["host"], []).append(Point(r, vals, unit[0] if unit else "", r["error"]))
    return out


def counters_of(db, run_id, entry):
    """{counter: (unit, [values])} of one entry in one suite file."""
    out = {}
    for c, v, u in db.execute(
            "SELECT s.counter, s.value, s.unit FROM samples s JOIN entries e ON s.entry_id = e.id "
            "WHERE e.run_id = ? AND e.entry = ? ORDER BY s.counter, s.repetition", (run_id, entry)):
        out.setdefault(c, (u, []))[1].append(v)
    return out


def run_entries(db, run_id):
    """[(entry, error)] of one suite file."""
    return list(db.execute("SELECT entry, error FROM entries WHERE run_id = ? ORDER BY entry", (run_id,)))


def samples(db, run_ids, counter, higher=False):
    """{suite: {entry: [values]}} of one counter over a run directory's suite files: the shape
    scripts/compare's samples() gives (rates as cost, 1/x, when higher is better)."""
    out = {}
    for run_id in run_ids:
        for entry, suite, v in db.execute(
                "SELECT e.entry, e.suite, s.value FROM samples s JOIN entries e ON s.entry_id = e.id "
                "WHERE e.run_id = ? AND s.counter = ? ORDER BY e.entry, s.repetition", (run_id, counter)):
            if higher:
                if v <= 0:
                    continue
                v = 1.0 / v
            out.setdefault(suite, {}).setdefault(entry, []).append(v)
    return out


def density_series(db, run_id, launcher):
    """{n: [{"cost_mib": v} or {"pss_mib": v}, ...]} of density/<launcher>/n:N in one suite file:
    the shape results.density_fit and the density gate read."""
    out = {}
    for entry, dims, counter, v in db.execute(
            "SELECT e.entry, e.dims, s.counter, s.value FROM samples s JOIN entries e ON s.entry_id = e.id "
            "WHERE e.run_id = ? AND e.launcher = ? AND s.counter IN ('cost_mib', 'pss_mib') "
            "ORDER BY e.entry, s.repetition, s.counter", (run_id, launcher)):
        d = json.loads(dims)
        if set(d) != {"n"}:
            continue
        reps = out.setdefault(int(d["n"]), [])
        if not reps or counter in reps[-1]:
            reps.append({})
        reps[-1][counter] = v
    return out
