"""scripts/site: a static HTML site of every committed run, from the history database.

  scripts/site [--results DIR] [--out DIR] [--db FILE]

Writes OUT (default RESULTS/site/, not committed):
  index.html                      hosts, run directories, every entry by suite, the gate's summary
  hosts/<host>.html               one host's runs and entries
  runs/<run>/index.html           a run: its conditions, its README.md and REPORT.md as HTML with
                                  their charts (copied beside the page; SVG where the run has it),
                                  its entries
  entries/<suite>/<entry>.html    an entry's series across commits, one table and chart per host
                                  (typical and p10-p90; hosts are never pooled), the gate's
                                  verdicts on it and the runs it flagged
  gate.html                       the regression gate over the history (website/gate_history.py)
Plain files with relative links: they open from disk (file://) with no server and no network.
The database (RESULTS/history.sqlite) is rebuilt from the committed JSON when that changed.
Exit: 0 built; 2 bad input (no results directory, an OUT that is not a site this built).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

from .. import markdown
from .. import results as R
from ..history import db as H
from . import charts, data, gate_history
from .pages import STYLE, esc, link, num, page, table

MARKER = ".cvbench-site"  # in OUT: a directory this command built (and may replace)


class Site:
    def __init__(self, db, results, out, generated):
        self.db, self.results, self.out, self.generated = db, results, out, generated
        self.runs = data.run_dirs(db)
        self.hosts = data.hosts(db)
        self.entries = data.entries(db)
        self.gate = gate_history.history(db)
        self.pages = 0
        self.charts = 0

    # --- where things are -----------------------------------------------------------------------

    @staticmethod
    def run_href(path):
        return f"runs/{data.safe_name(path)}/index.html"

    @staticmethod
    def entry_href(entry):
        suite = entry.split("/", 1)[0]
        return f"entries/{data.safe_name(suite)}/{data.safe_name(entry)}.html"

    @staticmethod
    def host_href(host):
        return f"hosts/{data.safe_name(host)}.html"

    def write(self, rel, title, body):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        root = "../" * rel.count("/")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page(title, body, root, self.generated))
        self.pages += 1

    # --- pages ------------------------------------------------------------------------------------

    def index(self):
        b = ["<h1>cvbench: every committed run</h1>",
             "<p>Generated from the history database, which holds every sample of every run "
             "committed under <code>results/</code>. A series never mixes hosts; ratios are taken "
             "within one run. Each run's claims report is on its page.</p>"]
        ref = self.reference()
        if ref:
            b.append(f"<p>The reference run: {link(self.run_href(ref), ref)} "
                     f"({link(self.run_href(ref) + '#the-claims', 'its claims at a glance')}).</p>")
        b.append('<h2 id="hosts">Hosts</h2>')
        rows = []
        for host, runs in sorted(self.hosts.items()):
            r = runs[-1].first
            rows.append([link(self.host_href(host), host), esc(f"{r['cpu_model']} x{r['cpus']}"),
                         esc(r["kernel"]), esc(r["cgroup_mode"]), esc(r["accelerator"]), str(len(runs)),
                         link(self.run_href(runs[-1].path), runs[-1].path)])
        b.append(table(["host", "CPU", "kernel", "cgroups", "VMs", "runs", "latest run"], rows, numeric=(5,)))
        b.append('<h2 id="runs">Runs</h2>')
        b.append(self.runs_table(self.runs))
        b.append('<h2 id="entries">Entries</h2>')
        b.append("<p class=\"note\">One page per entry: its series across commits, per host.</p>")
        for suite, names in sorted(self.entries.items()):
            b.append(f'<h3 id="suite-{esc(data.safe_name(suite))}">{esc(suite)} ({len(names)})</h3>')
            b.append("<p>" + ", ".join(link(self.entry_href(e), e.split("/", 1)[1]) for e in names) + "</p>")
        flagged = [g for rows_ in self.gate.values() for g in rows_ if g.regression]
        b.append('<h2 id="gate">Regression gate</h2>')
        b.append(f"<p>{len(flagged)} run(s) flagged by the gate over the history: "
                 f"{link('gate.html', 'the gate, run by run')}.</p>")
        self.write("index.html", "every committed run", "\n".join(b))

    def reference(self):
        try:
            with open(os.path.join(self.results, "reference")) as f:
                for line in f:
                    line = line.split("#", 1)[0].strip()
                    if line and any(d.path == line for d in self.runs):
                        return line
        except OSError:
            pass
        return None

    def runs_table(self, runs, root=""):
        rows = []
        for d in reversed(runs):
            f = d.first
            rows.append([esc(d.date[:16].replace("T", " ")), link(root + self.run_href(d.path), d.path),
                         link(root + self.host_href(d.host), d.host), esc(d.kind), esc(", ".join(d.shas)),
                         esc(", ".join(sorted(d.suites))), esc(f["priority"]), esc(f["repetitions"]),
                         "yes" if os.path.exists(os.path.join(self.results, d.path, "REPORT.md")) else ""])
        return table(["date (UTC)", "run", "host", "kind", "git", "suites", "priority", "reps", "report"], rows)

    def host_page(self, host, runs):
        b = [f"<h1>Host {esc(host)}</h1>"]
        r = runs[-1].first
        b.append(f"<p>{esc(r['cpu_model'])} x{esc(r['cpus'])}, kernel {esc(r['kernel'])}, cgroups "
                 f"{esc(r['cgroup_mode'])}, VMs {esc(r['accelerator'])} (latest run); hostname "
                 f"{esc(r['hostname'])}.</p>")
        b.append("<h2>Runs</h2>" + self.runs_table(runs, "../"))
        ids = [x["id"] for d in runs for x in d.suites.values()]
        q = ",".join("?" * len(ids))
        names = sorted((e for (e,) in self.db.execute(f"SELECT DISTINCT entry FROM entries WHERE run_id IN ({q})",
                                                      ids)), key=data.natural_key)
        b.append("<h2>Entries</h2><p>" + ", ".join(link("../" + self.entry_href(e), e) for e in names) + "</p>")
        self.write(self.host_href(host), f"host {host}", "\n".join(b))

    def run_page(self, d):
        rel = self.run_href(d.path)
        here = os.path.dirname(os.path.join(self.out, rel))
        os.makedirs(here, exist_ok=True)
        src = os.path.join(self.results, d.path)
        b = [f"<h1>Run {esc(d.path)}</h1>",
             f"<p>Host {link('../../' + self.host_href(d.host), d.host)}; {esc(d.kind)} run.</p>"]
        rows = [[esc(s), esc(r["date_utc"]), esc(r["git_sha"][:10] + (" dirty" if r["git_dirty"] == "yes" else "")),
                 esc(r["kernel"]), esc(r["accelerator"]), esc(r["repetitions"]), esc(r["priority"])]
                for s, r in sorted(d.suites.items())]
        b.append(table(["suite", "date (UTC)", "git", "kernel", "VMs", "reps", "priority"], rows))

        def asset(target):
            """A chart the report embeds: copied beside the page (the SVG when the run has one)."""
            if target.startswith(("#", "http:", "https:")) or "/" in target:
                return target
            stem, ext = os.path.splitext(target)
            for cand in ((stem + ".svg") if ext == ".png" else None, target):
                if cand and os.path.isfile(os.path.join(src, cand)):
                    shutil.copyfile(os.path.join(src, cand), os.path.join(here, cand))
                    return cand
            return target

        for name, title in (("README.md", "About this run"), ("REPORT.md", None)):
            p = os.path.join(src, name)
            if os.path.isfile(p):
                with open(p, encoding="utf-8") as f:
                    text = f.read()
                if title:
                    b.append(f'<h2 id="about-this-run">{title}</h2>')
                    text = text.split("\n", 1)[1] if text.startswith("# ") else text
                b.append(markdown.to_html(text, link=asset))
        if not os.path.isfile(os.path.join(src, "REPORT.md")):
            b.append("<h2>Charts</h2><p class=\"note\">No REPORT.md in this run (a gate run keeps only "
                     "its JSON and charts).</p>")
            for f in sorted(os.listdir(src)):
                if f.endswith(".png"):
                    b.append(f'<p><img src="{esc(asset(f))}" alt="{esc(f[:-4])}"></p>')
        b.append('<h2 id="entries">Entries</h2>')
        rows = []
        for s, r in sorted(d.suites.items()):
            for entry, error in data.run_entries(self.db, r["id"]):
                counter = data.main_counter(self.db, entry)
                vals = data.counters_of(self.db, r["id"], entry).get(counter, ("", []))
                rows.append([link("../../" + self.entry_href(entry), entry), esc(counter),
                             num(R.typical(vals[1])) if vals[1] else "-", str(len(vals[1])),
                             esc(vals[0]), esc((error or "")[:160])])
        b.append(table(["entry", "counter", "typical", "n", "unit", "error"], rows, numeric=(2, 3)))
        self.write(rel, f"run {d.path}", "\n".join(b))

    def entry_page(self, entry):
        rel = self.entry_href(entry)
        here = os.path.dirname(os.path.join(self.out, rel))
        os.makedirs(here, exist_ok=True)
        counter = data.main_counter(self.db, entry)
        per_host = data.series(self.db, entry, counter)
        b = [f"<h1>{esc(entry)}</h1>",
             f"<p>Counter <code>{esc(counter)}</code> across the committed runs, per host (a series "
             f"never mixes hosts). Typical: geometric mean of the middle 60% of the run's samples; "
             f"p10-p90: its spread. Other counters of the latest run are listed below.</p>"]
        for host, points in sorted(per_host.items()):
            gate_rows = [g for g in self.gate.get(host, []) if g.num == entry]
            # The chart and table mark the runs the gate flagged on the counter they show.
            flagged_runs = {g.run.path for g in gate_rows if g.regression and g.metric == counter}
            flagged = [i for i, p in enumerate(points) if p.run["path"] in flagged_runs]
            b.append(f'<h2 id="host-{esc(data.safe_name(host))}">Host {link("../../" + self.host_href(host), host)}</h2>')
            svg = f"{data.safe_name(entry)}--{data.safe_name(host)}.svg"
            unit = next((p.unit for p in points if p.unit), "")
            charts.series_svg(os.path.join(here, svg), f"{entry} {counter} on {host}", points, unit, host, flagged)
            self.charts += 1
            b.append(f'<p><img src="{esc(svg)}" alt="{esc(entry)} {esc(counter)} across runs on {esc(host)}"></p>')
            rows, classes = [], []
            for p in reversed(points):
                med, p10, p90 = p.spread
                r = p.run
                rows.append([esc(r["date_utc"][:16].replace("T", " ")), esc(r["git_sha"][:7]),
                             link("../../" + self.run_href(r["path"]), r["path"]), esc(r["priority"]),
                             str(p.n), num(p.typical), num(med), num(p10), num(p90), esc(p.unit),
                             esc((p.error or "")[:120] or ("" if p.n else f"no {counter} in this run"))
                             + (" <span class=\"verdict-bad\">flagged by the gate</span>"
                                                           if r["path"] in flagged_runs else "")])
                classes.append("regression" if r["path"] in flagged_runs else "")
            b.append(table(["date (UTC)", "git", "run", "priority", "n", "typical", "median", "p10", "p90",
                            "unit", "note"], rows, classes, numeric=(4, 5, 6, 7, 8)))
            if gate_rows:
                b.append("<h3>The regression gate on this entry</h3>" + self.gate_table(gate_rows, "../../"))
            latest = points[-1]
            cs = data.counters_of(self.db, latest.run["id"], entry)
            crow = []
            for c, (u, vals) in sorted(cs.items()):
                med, p10, p90, _ = R.spread(vals)
                crow.append([esc(c), esc(u), str(len(vals)), num(R.typical(vals)), num(med), num(p10), num(p90)])
            if crow:
                b.append(f"<h3>Every counter in the latest run ({esc(latest.run['path'])})</h3>")
                b.append(table(["counter", "unit", "n", "typical", "median", "p10", "p90"], crow,
                               numeric=(2, 3, 4, 5, 6)))
        self.write(rel, entry, "\n".join(b))

    def gate_table(self, rows, root):
        out, classes = [], []
        for g in reversed(rows):
            interval = f" [{num(g.lo)}, {num(g.hi)}]" if g.lo == g.lo else ""
            ci = (f" [{g.change_ci[0]:+.1%}, {g.change_ci[1]:+.1%}]" if g.change_ci else "")
            out.append([esc(g.run.date[:16].replace("T", " ")), link(root + self.run_href(g.run.path), g.run.path),
                        esc(g.gate), num(g.ratio) + interval,
                        link(root + self.run_href(g.base.path), g.base.path) if g.base else "-",
                        (f"{g.change:+.1%}" if g.change == g.change else "-") + ci,
                        num(g.p, 2) if g.p is not None else "-",
                        f'<span class="verdict-bad">{esc(g.verdict)}</span>' if g.regression else esc(g.verdict)])
            classes.append("regression" if g.regression else "")
        return table(["date (UTC)", "run", "gate", "ratio", "against", "change", "p", "verdict"], out, classes,
                     numeric=(3, 5, 6))

    def gate_page(self):
        b = ["<h1>The regression gate over the history</h1>",
             "<p>Each run's gated ratios (scripts/compare's default gates: cvrun/crun startup launch to "
             "exit and teardown, libvirt/qemu startup, cvrun/native throughput of cpu and mem as cost per "
             "unit; and the density gate, cvrun/crun fitted MiB per additional instance) and the gate's "
             f"verdict on each run against the previous run of the same host and priority: a "
             f"REGRESSION is a ratio grown by more than {gate_history.TOLERANCE:.1%} with p &lt; "
             f"{gate_history.ALPHA} (Mann-Whitney U); the density gate FAILS a run whose cvrun/crun "
             "interval lies above 1.2. Rows in red are runs the gate flags.</p>"]
        base = None
        try:
            with open(os.path.join(self.results, "baseline")) as f:
                base = [l.strip() for l in f if l.strip() and not l.startswith("#")][0]
        except (OSError, IndexError):
            pass
        if base:
            b.append(f"<p>The baseline scripts/check-regression compares against today: "
                     f"{link(self.run_href(base), base)} (<code>results/baseline</code>).</p>")
        for host, rows in sorted(self.gate.items()):
            b.append(f'<h2 id="host-{esc(data.safe_name(host))}">Host {link(self.host_href(host), host)}</h2>')
            b.append(self.gate_table(rows, "") if rows else "<p>No run of this host has a gated ratio.</p>")
        self.write("gate.html", "regression gate", "\n".join(b))

    def build(self):
        with open(os.path.join(self.out, "style.css"), "w") as f:
            f.write(STYLE)
        open(os.path.join(self.out, MARKER), "w").close()
        self.index()
        for host, runs in self.hosts.items():
            self.host_page(host, runs)
        for d in self.runs:
            self.run_page(d)
        for names in self.entries.values():
            for e in names:
                self.entry_page(e)
        self.gate_page()


def git_sha():
    try:
        r = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short",
                            "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/site", description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=H.DEFAULT_RESULTS, help="the results directory (default results/)")
    ap.add_argument("--out", help="where the site goes (default RESULTS/site)")
    ap.add_argument("--db", help="the history database (default RESULTS/history.sqlite)")
    a = ap.parse_args(argv)
    if not os.path.isdir(a.results):
        print(f"site: {a.results}: not a directory", file=sys.stderr)
        return 2
    out = os.path.abspath(a.out or os.path.join(a.results, "site"))
    if os.path.exists(out) and (not os.path.isdir(out) or
                                (os.listdir(out) and not os.path.exists(os.path.join(out, MARKER)))):
        print(f"site: {out} exists and is not a site scripts/site built (no {MARKER}); not replacing it",
              file=sys.stderr)
        return 2
    start = time.monotonic()
    db = H.open_db(a.results, a.db)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        site = Site(db, os.path.abspath(a.results), tmp,
                    f"Generated by scripts/site at git {git_sha()} from the history database of "
                    f"{os.path.abspath(a.results)} (rebuilt from the committed JSON).")
        site.build()
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed build leaves nothing behind
        raise
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    print(f"site: {site.pages} pages, {site.charts} series charts, {len(site.runs)} runs, "
          f"{sum(len(v) for v in site.entries.values())} entries in {time.monotonic() - start:.1f} s: "
          f"{os.path.join(out, 'index.html')}", file=sys.stderr)
    return 0
