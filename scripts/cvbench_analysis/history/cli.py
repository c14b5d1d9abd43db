"""The common questions about cvbench's history, from the SQLite database of every run.

  scripts/history rebuild                       rebuild results/history.sqlite from the JSON
  scripts/history series ENTRY [--host H] [--counter C] [--over ENTRY2] [--last N] [--chart F]
        an entry's series across commits on one host (typical, median, p10-p90 per run);
        --over: the within-run ratio ENTRY/ENTRY2 instead (e.g. startup/cvrun --over startup/crun)
  scripts/history latest [--suite S] [--counter C]
        the latest run per host: conditions and typical value per launcher
  scripts/history ratio NUM DEN [--suite S] [--counter C] [--all] [--chart F]
        a within-run ratio (e.g. cvrun crun) across hosts: latest run per host, or every run
  scripts/history sql "SELECT ... FROM sample_view ..."
Common options: --results DIR (default results/), --db FILE (default DIR/history.sqlite).

"Typical" is the geometric mean of the middle 60% of the samples (as scripts/compare and
scripts/trend use); ratios are taken within one run, never across runs or hosts. The database is
rebuilt automatically when the committed run files changed.
"""
import argparse
import os
import sys

from . import db as H
from .. import results as R


def table(headers, rows):
    """A Markdown table (readable in a terminal, pastes into reports)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    print(line(headers))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print(line(r))


def fmt(v):
    return "-" if v != v else f"{v:.4g}"


def _hosts_with(db, entry):
    return [r[0] for r in db.execute("SELECT DISTINCT r.host FROM entries e JOIN runs r ON e.run_id = r.id "
                                     "WHERE e.entry = ? ORDER BY r.host", (entry,))]


def _savefig(fig, path):
    fig.savefig(path, dpi=130, bbox_inches="tight")
    if path.endswith(".png"):
        fig.savefig(path[:-4] + ".svg", bbox_inches="tight")
    print(f"history: chart {path}", file=sys.stderr)


def cmd_series(db, a):
    entry = R.base_name(a.entry)
    hosts = _hosts_with(db, entry)
    if not hosts:
        print(f"history: no run has entry {entry!r}", file=sys.stderr)
        return 2
    host = a.host
    if host is None:
        if len(hosts) > 1:
            print(f"history: {entry} ran on several hosts ({', '.join(hosts)}): pick one with --host "
                  "(series never mix hosts)", file=sys.stderr)
            return 2
        host = hosts[0]
    elif host not in hosts:
        print(f"history: host {host!r} has no {entry} (hosts with it: {', '.join(hosts)})", file=sys.stderr)
        return 2
    suite, _, _ = R.parse_name(entry)
    over = R.base_name(a.over) if a.over else None
    rows = []
    for run in H.runs(db, suite, host):
        e = db.execute("SELECT id, error FROM entries WHERE run_id = ? AND entry = ?", (run["id"], entry)).fetchone()
        if e is None:
            continue
        vals = [x[0] for x in db.execute("SELECT value FROM samples WHERE entry_id = ? AND counter = ?",
                                         (e["id"], a.counter))]
        unit = db.execute("SELECT unit FROM samples WHERE entry_id = ? AND counter = ? LIMIT 1",
                          (e["id"], a.counter)).fetchone()
        row = {"run": run, "n": len(vals), "typ": R.typical(vals), "unit": unit[0] if unit else "",
               "error": e["error"]}
        row["med"], row["p10"], row["p90"], _ = R.spread(vals)
        if over:
            d = db.execute("SELECT id FROM entries WHERE run_id = ? AND entry = ?", (run["id"], over)).fetchone()
            den = [x[0] for x in db.execute("SELECT value FROM samples WHERE entry_id = ? AND counter = ?",
                                            (d["id"], a.counter))] if d else []
            row["ratio"] = row["typ"] / R.typical(den) if den else float("nan")
        rows.append(row)
    if a.last:
        rows = rows[-a.last:]
    if not rows:
        print(f"history: no {entry} on {host}", file=sys.stderr)
        return 2
    unit = next((r["unit"] for r in rows if r["unit"]), "")
    what = f"{entry} / {over}" if over else f"{entry} {a.counter} ({unit})"
    print(f"{what} on host {host}, oldest first ({len(rows)} runs)\n")
    headers = ["date (UTC)", "git", "run", "n", "typical", "median", "p10", "p90"] + (["ratio"] if over else []) + ["note"]
    table(headers, [[r["run"]["date_utc"][:16], r["run"]["git_sha"][:7] + (" dirty" if r["run"]["git_dirty"] == "yes" else ""),
                     r["run"]["path"], r["n"], fmt(r["typ"]), fmt(r["med"]), fmt(r["p10"]), fmt(r["p90"])]
                    + ([fmt(r["ratio"])] if over else [])
                    + ["; ".join(x for x in ((r["error"] or "")[:60], "" if r["run"]["priority"] == "normal"
                                             else f"priority {r['run']['priority']}") if x)]
                    for r in rows])
    if a.chart:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows) + 3), 4))
        xs = list(range(len(rows)))
        if over:
            ax.plot(xs, [r["ratio"] for r in rows], marker="o")
            ax.set_ylabel(f"{entry} / {over} (typical {a.counter}, within each run)")
        else:
            ys = [r["typ"] for r in rows]
            lo = [max(0.0, y - r["p10"]) for y, r in zip(ys, rows)]
            hi = [max(0.0, r["p90"] - y) for y, r in zip(ys, rows)]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label="typical, bars p10-p90")
            ax.set_ylabel(f"{a.counter} ({unit})")
            ax.legend(fontsize=8)
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{r['run']['git_sha'][:7]}\n{r['run']['date_utc'][5:16].replace('T', ' ')}\nn={r['n']}"
                            for r in rows], fontsize=7)
        ax.set_title(f"{what} on {host}", fontsize=10)
        ax.grid(alpha=0.3)
        r0 = rows[-1]["run"]
        fig.text(0.01, -0.06, f"host {host}: {r0['cpu_model']} x{r0['cpus']}, kernel {r0['kernel']}, "
                 f"cgroups {r0['cgroup_mode']}, VMs {r0['accelerator']} (latest run's conditions)", fontsize=7)
        _savefig(fig, a.chart)
        plt.close(fig)
    return 0


def cmd_latest(db, a):
    latest = H.latest_per_host(db, a.suite)
    if not latest:
        print(f"history: no run of suite {a.suite}", file=sys.stderr)
        return 2
    variants = []
    per = {}
    for host, run in latest.items():
        per[host] = H.typicals(db, run["id"], a.suite, a.counter)
        variants += [v for v in per[host] if v not in variants]
    print(f"latest {a.suite} run per host: typical {a.counter}\n")
    # A partial run (stopped before its suite completed) says so beside its path.
    table(["host", "date (UTC)", "git", "run", "CPU", "kernel", "cgroups", "VMs", "reps"] + variants,
          [[h, r["date_utc"][:16], r["git_sha"][:7],
            r["path"] + ("" if r["state"] in (None, "complete") else f" ({r['state']})"),
            f"{r['cpu_model']} x{r['cpus']}", r["kernel"],
            r["cgroup_mode"], r["accelerator"], r["repetitions"]] + [fmt(per[h].get(v, float("nan"))) for v in variants]
           for h, r in sorted(latest.items())])
    return 0


def ratio_rows(db, num, den, suite="startup", counter="real_time", every=False):
    """[(run row, typical num, typical den, ratio)]: latest run per host, or every run."""
    rs = H.runs(db, suite) if every else [r for _, r in sorted(H.latest_per_host(db, suite).items())]
    out = []
    for r in rs:
        t = H.typicals(db, r["id"], suite, counter)
        if num in t and den in t and t[den] > 0:
            out.append((r, t[num], t[den], t[num] / t[den]))
    return out


def cmd_ratio(db, a):
    rows = ratio_rows(db, a.num, a.den, a.suite, a.counter, a.all)
    if not rows:
        print(f"history: no {a.suite} run has both {a.num} and {a.den}", file=sys.stderr)
        return 2
    print(f"{a.num} / {a.den}: typical {a.suite} {a.counter}, within each run "
          f"({'every run' if a.all else 'latest run per host'})\n")
    table(["host", "date (UTC)", "git", "run", "CPU", "kernel", "cgroups", "VMs", a.num, a.den, "ratio"],
          [[r["host"], r["date_utc"][:16], r["git_sha"][:7], r["path"], f"{r['cpu_model']} x{r['cpus']}",
            r["kernel"], r["cgroup_mode"], r["accelerator"], fmt(n), fmt(d), f"{q:.3f}"] for r, n, d, q in rows])
    if a.chart:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(max(5, 0.8 * len(rows) + 3), 3.8))
        labels = [f"{r['host']}\n{r['git_sha'][:7]} {r['date_utc'][5:10]}\n{r['cpu_model'][:18]}" for r, *_ in rows]
        ax.bar(range(len(rows)), [q for *_, q in rows], color="tab:blue")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(labels, fontsize=7)
        ax.set_ylabel(f"{a.num} / {a.den} (typical {a.counter})")
        ax.set_title(f"{a.num} / {a.den} per host, each ratio measured within one run", fontsize=10)
        for i, (*_, q) in enumerate(rows):
            ax.text(i, q, f"{q:.3f}", ha="center", va="bottom", fontsize=7)
        _savefig(fig, a.chart)
        plt.close(fig)
    return 0


def cmd_sql(db, a):
    try:
        cur = db.execute(a.query)
    except Exception as e:  # sqlite3.Error: a bad query is bad input, named
        print(f"history: sql: {e}", file=sys.stderr)
        return 2
    rows = cur.fetchall()
    table([d[0] for d in cur.description or []], [list(r) for r in rows])
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/history", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=H.DEFAULT_RESULTS)
    ap.add_argument("--db")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("rebuild")
    s = sub.add_parser("series")
    s.add_argument("entry")
    s.add_argument("--host")
    s.add_argument("--counter", default="real_time")
    s.add_argument("--over")
    s.add_argument("--last", type=int)
    s.add_argument("--chart")
    s = sub.add_parser("latest")
    s.add_argument("--suite", default="startup")
    s.add_argument("--counter", default="real_time")
    s = sub.add_parser("ratio")
    s.add_argument("num")
    s.add_argument("den")
    s.add_argument("--suite", default="startup")
    s.add_argument("--counter", default="real_time")
    s.add_argument("--all", action="store_true")
    s.add_argument("--chart")
    s = sub.add_parser("sql")
    s.add_argument("query")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.results):
        print(f"history: {a.results}: not a directory", file=sys.stderr)
        return 2
    if a.cmd == "rebuild":
        db_path = a.db or os.path.join(a.results, H.DB_NAME)
        dirs, files = H.rebuild(db_path, a.results)
        print(f"history: rebuilt {db_path}: {dirs} run directories, {files} suite files")
        return 0
    db = H.open_db(a.results, a.db)
    return {"series": cmd_series, "latest": cmd_latest, "ratio": cmd_ratio, "sql": cmd_sql}[a.cmd](db, a)

