"""The history database: every committed run (local or fleet) in one SQLite file.

The committed JSON stays the source of truth; the database (default results/history.sqlite, not
committed) is rebuilt from it whenever the run files change (a fingerprint of their paths, sizes
and mtimes is kept in the database), or on `scripts/history rebuild`.

Tables (sample_view joins them):
  runs(id, path, name, suite, host, hostname, cpu_model, cpus, kernel, cgroup_mode, accelerator,
       accelerator_detail, git_sha, git_dirty, date_utc, repetitions, priority, fleet, launchers,
       state, attempts)
       one row per <suite>.json of a run directory: each suite file carries its own context.
       host is the fleet's name for the host (file `host` in the run dir) else the hostname.
       state: complete or partial (cvbench's run record; files from before it: complete), attempts:
       1, or more when the suite was resumed.
  entries(id, run_id, entry, suite, launcher, variant, dims, error, planned, recorded)
       entry 'startup/libvirt/kernel:minimal': launcher 'libvirt', variant 'libvirt/kernel:minimal'
       (what ratios are taken between), dims JSON {"kernel": "minimal"}, error message or NULL;
       planned / recorded repetitions (a partial run's entries short of their plan, and entries it
       never started, have recorded < planned; NULL planned in files from before the run record).
  samples(entry_id, repetition, counter, value, unit)   the raw samples: every counter of every
       iteration entry.
"""
import hashlib
import json
import os
import sqlite3
import sys

from .. import completeness
from .. import results as R

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_RESULTS = os.path.join(ROOT, "results")
DB_NAME = "history.sqlite"
SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE runs(id INTEGER PRIMARY KEY, path TEXT, name TEXT, suite TEXT, host TEXT,
  hostname TEXT, cpu_model TEXT, cpus TEXT, kernel TEXT, cgroup_mode TEXT, accelerator TEXT,
  accelerator_detail TEXT, git_sha TEXT, git_dirty TEXT, date_utc TEXT, repetitions TEXT,
  priority TEXT, fleet TEXT, launchers TEXT, state TEXT, attempts INTEGER, UNIQUE(path, suite));
CREATE TABLE entries(id INTEGER PRIMARY KEY, run_id INTEGER REFERENCES runs(id), entry TEXT,
  suite TEXT, launcher TEXT, variant TEXT, dims TEXT, error TEXT, planned INTEGER,
  recorded INTEGER);
CREATE TABLE samples(entry_id INTEGER REFERENCES entries(id), repetition INTEGER, counter TEXT,
  value REAL, unit TEXT);
CREATE INDEX entries_by_name ON entries(entry, run_id);
CREATE INDEX samples_by_entry ON samples(entry_id, counter);
CREATE VIEW sample_view AS
  SELECT r.id AS run_id, r.path, r.name AS run, r.host, r.hostname, r.cpu_model, r.cpus, r.kernel,
         r.cgroup_mode, r.accelerator, r.git_sha, r.git_dirty, r.date_utc, r.priority, r.fleet,
         e.suite, e.launcher, e.variant, e.entry, e.dims, s.counter, s.repetition, s.value, s.unit
  FROM samples s JOIN entries e ON s.entry_id = e.id JOIN runs r ON e.run_id = r.id;
"""


def _suite_files(run_dir):
    return sorted(f for f in os.listdir(run_dir)
                  if f.endswith(".json") and not f.startswith(("compare", "index", "fleet", ".")))


def fingerprint(results):
    """What the database was built from: every run file's path, size and mtime."""
    h = hashlib.sha256(SCHEMA_VERSION.encode())
    for d in R.run_dirs(results):
        for f in _suite_files(d) + ["host", "priority"]:
            p = os.path.join(d, f)
            try:
                st = os.stat(p)
            except OSError:
                continue
            h.update(f"{os.path.relpath(p, results)} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _fleet_of(results, run_dir):
    """'fleet-2026-...' when run_dir is results/<fleet>/hosts/<host>, else ''."""
    rel = os.path.relpath(run_dir, results).split(os.sep)
    if len(rel) >= 3 and rel[-2] == "hosts":
        return "/".join(rel[:-2])
    if os.path.basename(os.path.dirname(run_dir)) == "hosts":
        return os.path.basename(os.path.dirname(os.path.dirname(run_dir)))
    return ""


def load_run_dir(db, results, run_dir):
    """Loads (or reloads) one run directory: a runs row per suite file, its entries and samples."""
    path = os.path.relpath(run_dir, results) if results else os.path.abspath(run_dir)
    try:
        with open(os.path.join(run_dir, "priority")) as f:
            priority = f.read().strip() or "normal"
    except OSError:
        priority = "normal"
    fleet = _fleet_of(results, run_dir)
    old = [r[0] for r in db.execute("SELECT id FROM runs WHERE path = ?", (path,))]
    for rid in old:
        db.execute("DELETE FROM samples WHERE entry_id IN (SELECT id FROM entries WHERE run_id = ?)", (rid,))
        db.execute("DELETE FROM entries WHERE run_id = ?", (rid,))
        db.execute("DELETE FROM runs WHERE id = ?", (rid,))
    n = 0
    for f in _suite_files(run_dir):
        try:
            ctx, iterations, errors = R.load(os.path.join(run_dir, f))
        except (ValueError, OSError) as e:
            print(f"history: skipping {run_dir}/{f}: {e}", file=sys.stderr)
            continue
        if not ctx and not iterations and not errors:
            continue  # not a suite's Google Benchmark file (image_inspect.json ...)
        suite = f[:-5]
        record = completeness.suite_record(os.path.join(run_dir, f))
        acc = str(ctx.get("accelerator", "?"))
        cur = db.execute(
            "INSERT INTO runs(path, name, suite, host, hostname, cpu_model, cpus, kernel, cgroup_mode,"
            " accelerator, accelerator_detail, git_sha, git_dirty, date_utc, repetitions, priority,"
            " fleet, launchers, state, attempts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (path, os.path.basename(os.path.normpath(run_dir)), suite, R.run_host(run_dir, ctx),
             str(ctx.get("hostname", ctx.get("host_name", "?"))), str(ctx.get("cpu_model", "?")),
             str(ctx.get("cpus_online", ctx.get("num_cpus", "?"))), str(ctx.get("kernel", "?")),
             str(ctx.get("cgroup_mode", "?")), R.accelerator(ctx), acc,
             str(ctx.get("git_sha", "unknown")), str(ctx.get("git_dirty", "?")),
             str(ctx.get("date_utc", ctx.get("date", "?"))), str(ctx.get("repetitions", "?")),
             priority, fleet, str(ctx.get("launchers", "")),
             record["state"] if record else "complete",
             max(1, len(record["attempts"])) if record else 1))
        run_id = cur.lastrowid
        entry_ids = {}

        def entry_id(key, error=None):
            if key not in entry_ids:
                s, launcher, dims = R.parse_name(key)
                entry_ids[key] = db.execute(
                    "INSERT INTO entries(run_id, entry, suite, launcher, variant, dims, error)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (run_id, key, s, launcher, R.launcher_of(key), json.dumps(dims), error)).lastrowid
            return entry_ids[key]

        rows = []
        seen = {}
        for e in iterations:
            key = e["key"]
            rep = e.get("repetition_index", seen.get(key, 0))
            seen[key] = seen.get(key, 0) + 1
            eid = entry_id(key)
            tu = e.get("time_unit", "ms")
            rows.extend((eid, rep, c, v, R.counter_unit(c, tu)) for c, v in R.counters(e).items())
        for key, msg in R.errors_by_key(errors).items():
            if key in entry_ids:
                db.execute("UPDATE entries SET error = ? WHERE id = ?", (msg, entry_ids[key]))
            else:
                entry_id(key, msg)
        if record:
            # Planned entries that never started are entries too: recorded 0 of planned.
            for key in record["planned"]:
                entry_id(key)
            for key, eid in entry_ids.items():
                db.execute("UPDATE entries SET planned = ?, recorded = ? WHERE id = ?",
                           (record["planned"].get(key), record["recorded"].get(key, 0), eid))
        db.executemany("INSERT INTO samples VALUES (?,?,?,?,?)", rows)
        n += 1
    return n


def rebuild(db_path, results):
    """Drops the database and loads every run directory under results/."""
    tmp = db_path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    db = sqlite3.connect(tmp)
    db.executescript(SCHEMA)
    dirs = R.run_dirs(results)
    files = sum(load_run_dir(db, results, d) for d in dirs)
    db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint(results),))
    db.execute("INSERT INTO meta VALUES ('results', ?)", (os.path.abspath(results),))
    db.commit()
    db.close()
    os.replace(tmp, db_path)  # readers never see a half-built database
    return len(dirs), files


def open_db(results=None, db_path=None, quiet=False):
    """The database for a results directory, rebuilt first when its run files changed."""
    results = results or DEFAULT_RESULTS
    db_path = db_path or os.path.join(results, DB_NAME)
    current = None
    if os.path.exists(db_path):
        try:
            with sqlite3.connect(db_path) as db:
                current = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        except sqlite3.DatabaseError:
            current = None
    if not current or current[0] != fingerprint(results):
        dirs, files = rebuild(db_path, results)
        if not quiet:
            print(f"history: built {db_path} from {dirs} run directories ({files} suite files) "
                  f"under {results}", file=sys.stderr)
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    return db


# --- queries shared by scripts/history, scripts/trend and scripts/fleet --------------------------

def entry_values(db, run_id, variant, suite="startup", counter="real_time"):
    """Raw samples of one launcher variant in one suite run."""
    return [r[0] for r in db.execute(
        "SELECT s.value FROM samples s JOIN entries e ON s.entry_id = e.id "
        "WHERE e.run_id = ? AND e.suite = ? AND e.variant = ? AND s.counter = ?",
        (run_id, suite, variant, counter))]


def typicals(db, run_id, suite="startup", counter="real_time"):
    """{variant: typical value} of one suite run (results.typical: trimmed geometric mean)."""
    out = {}
    for (variant,) in db.execute("SELECT DISTINCT variant FROM entries WHERE run_id = ? AND suite = ?",
                                 (run_id, suite)):
        vals = entry_values(db, run_id, variant, suite, counter)
        if vals:
            out[variant] = R.typical(vals)
    return out


def runs(db, suite=None, host=None):
    q, args = "SELECT * FROM runs WHERE 1=1", []
    if suite:
        q += " AND suite = ?"
        args.append(suite)
    if host:
        q += " AND host = ?"
        args.append(host)
    return list(db.execute(q + " ORDER BY date_utc, path", args))


def latest_per_host(db, suite="startup"):
    """{host: the latest run row of that suite}, by the run's date."""
    out = {}
    for r in runs(db, suite):
        out[r["host"]] = r
    return out
