"""Exports of cvbench runs for the tools performance teams already run.

  scripts/export bmf     RUN_DIR... [-o DIR]   Bencher Metric Format, one file per host (testbed)
  scripts/export perfkit RUN_DIR... [-o FILE]  PerfKit Benchmarker samples, newline-delimited JSON
  scripts/export csv     RUN_DIR... [-o FILE]  one row per raw sample, every dimension a column

A RUN_DIR may be a single run or a fleet run (scripts/fleet: one run per host under hosts/) or
results/ itself (every committed run). Default output: RUN_DIR/export/ for one RUN_DIR, else
./export/. Errored entries have no number to export: they are named on stderr, never dropped
silently.

Bencher Metric Format (https://bencher.dev/docs/reference/bencher-metric-format): an object
{benchmark: {measure: {value, lower_value, upper_value}}}. Benchmark = the entry
(startup/cvrun, throughput/crun/mode:cpu ...), one measure per counter (every counter, not only
real_time; the unit is in the measure's name when the counter's name lacks it), value = median
of the repetitions, lower_value/upper_value = their 10th/90th percentiles. BMF has no field for
the testbed: it is given to `bencher run --testbed`, so each host gets its own file and the
command to upload it is printed.

PerfKit Benchmarker samples (its NewlineDelimitedJSONPublisher, the format `bq load` takes):
one JSON object per line with metric, value, unit, timestamp, test, labels ("|key:value|"
joined by commas: host, CPU, kernel, cgroups, accelerator, git sha, launcher, entry,
repetition...), product_name, official, owner, run_uri, sample_uri. One sample per raw
measurement (every repetition of every counter).
"""
import argparse
import calendar
import csv
import json
import os
import sys
import time
import uuid

from . import results as R

# Deterministic ids: exporting the same run twice gives the same run_uri/sample_uri.
_NAMESPACE = uuid.UUID("5d0b3c4e-8f6a-4b9e-9a51-7c2f1e0d4a11")
CSV_FIELDS = ["host", "run", "date_utc", "git_sha", "git_dirty", "kernel", "cpu_model", "cpus",
              "cgroup_mode", "accelerator", "suite", "launcher", "entry", "dims",
              "repetition_index", "counter", "value", "unit"]


class Sample:
    """One raw measurement with all its dimensions."""
    __slots__ = ("run", "entry", "repetition", "counter", "value", "unit")

    def __init__(self, run, entry, repetition, counter, value, unit):
        self.run, self.entry, self.repetition = run, entry, repetition
        self.counter, self.value, self.unit = counter, value, unit


class Run:
    """A run directory read once: its dimensions and its samples."""

    def __init__(self, run_dir):
        self.dir = run_dir
        self.suites = R.load_run(run_dir)
        ctx = R.run_context(self.suites)
        self.context = ctx
        self.host = R.run_host(run_dir, ctx)
        self.name = os.path.basename(os.path.normpath(run_dir))
        self.date_utc = str(ctx.get("date_utc", ctx.get("date", "")))
        self.errors = {}
        self.samples = []
        for suite, (_, iterations, errors) in self.suites.items():
            self.errors.update(R.errors_by_key(errors))
            seen = {}
            for e in iterations:
                # Older files lack repetition_index: then the entry's position among its peers.
                rep = e.get("repetition_index", seen.get(e["key"], 0))
                seen[e["key"]] = seen.get(e["key"], 0) + 1
                unit_of_time = e.get("time_unit", "ms")
                for counter, value in R.counters(e).items():
                    self.samples.append(Sample(self, e["key"], rep, counter, value,
                                               R.counter_unit(counter, unit_of_time)))

    def dimensions(self):
        c = self.context
        return {"host": self.host, "run": self.name, "date_utc": self.date_utc,
                "git_sha": str(c.get("git_sha", "unknown")), "git_dirty": str(c.get("git_dirty", "?")),
                "kernel": str(c.get("kernel", "?")), "cpu_model": str(c.get("cpu_model", "?")),
                "cpus": str(c.get("cpus_online", c.get("num_cpus", "?"))),
                "cgroup_mode": str(c.get("cgroup_mode", "?")), "accelerator": R.accelerator(c)}

    def epoch(self):
        for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00"):
            try:
                return float(calendar.timegm(time.strptime(self.date_utc, fmt)))
            except ValueError:
                pass
        return 0.0


def measure_name(counter, unit):
    """BMF measure: the counter, with its unit appended when the name does not carry it."""
    if counter in ("real_time", "cpu_time"):
        return f"{counter}_{unit}"
    return counter


def bmf(run):
    """The BMF document of one run: {entry: {measure: {value, lower_value, upper_value}}}."""
    grouped = {}
    for s in run.samples:
        grouped.setdefault(s.entry, {}).setdefault((s.counter, s.unit), []).append(s.value)
    doc = {}
    for entry, per_counter in grouped.items():
        measures = {}
        for (counter, unit), vals in per_counter.items():
            med, p10, p90, _ = R.spread(vals)
            measures[measure_name(counter, unit)] = {"value": med, "lower_value": min(p10, med),
                                                     "upper_value": max(p90, med)}
        doc[entry] = measures
    return doc


def _label(value):
    # PerfKit splits labels on '|,|' and each on the first ':': keep '|' out of values.
    return str(value).replace("|", "/").replace("\n", " ")


def perfkit_samples(run):
    """PerfKit sample dicts of one run, one per raw measurement."""
    dims = run.dimensions()
    run_uri = str(uuid.uuid5(_NAMESPACE, f"{dims['host']}/{run.name}/{run.date_utc}"))
    when = run.epoch()
    out = []
    for s in run.samples:
        suite, launcher, entry_dims = R.parse_name(s.entry)
        labels = dict(dims)
        labels.update({"suite": suite, "launcher": launcher, "entry": s.entry,
                       "repetition_index": s.repetition,
                       "repetitions": run.context.get("repetitions", "?")})
        labels.update({f"dim_{k}": v for k, v in entry_dims.items()})
        out.append({
            "metric": s.counter, "value": s.value, "unit": s.unit, "timestamp": when,
            "test": f"cvbench_{suite}",
            "labels": ",".join(f"|{k}:{_label(v)}|" for k, v in labels.items()),
            "product_name": "cvbench", "official": False, "owner": "cvbench",
            "run_uri": run_uri,
            "sample_uri": str(uuid.uuid5(_NAMESPACE, f"{run_uri}/{s.entry}/{s.repetition}/{s.counter}")),
        })
    return out


def csv_rows(run):
    dims = run.dimensions()
    for s in run.samples:
        suite, launcher, entry_dims = R.parse_name(s.entry)
        row = dict(dims)
        row.update({"suite": suite, "launcher": launcher, "entry": s.entry,
                    "dims": ";".join(f"{k}={v}" for k, v in entry_dims.items()),
                    "repetition_index": s.repetition, "counter": s.counter,
                    "value": repr(s.value), "unit": s.unit})
        yield row


def load_runs(paths):
    runs = []
    for p in paths:
        if not os.path.isdir(p):
            raise SystemExit(f"export: {p}: not a directory")
        dirs = R.run_dirs(p)
        if not dirs:
            raise SystemExit(f"export: {p}: no <suite>.json in it or below it")
        runs.extend(Run(d) for d in dirs)
    for r in runs:
        for entry, msg in sorted(r.errors.items()):
            print(f"export: {r.host} {r.name}: {entry} failed, not exported: {msg}", file=sys.stderr)
    return [r for r in runs if r.samples]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/export", description=__doc__.split("\n\n")[0])
    ap.add_argument("format", choices=["bmf", "perfkit", "csv"])
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("-o", "--out", help="output directory (bmf) or file (perfkit, csv)")
    args = ap.parse_args(argv)
    runs = load_runs(args.runs)
    if not runs:
        print("export: no samples in the given runs", file=sys.stderr)
        return 1
    default_dir = os.path.join(args.runs[0], "export") if len(args.runs) == 1 else "export"

    if args.format == "bmf":
        out_dir = args.out or default_dir
        os.makedirs(out_dir, exist_ok=True)
        by_host = {}
        for r in runs:
            by_host.setdefault(r.host, []).append(r)
        for host, host_runs in sorted(by_host.items()):
            for r in host_runs:
                suffix = "" if len(host_runs) == 1 else f"-{r.name}"
                path = os.path.join(out_dir, f"bmf-{host}{suffix}.json")
                with open(path, "w") as f:
                    json.dump(bmf(r), f, indent=1)
                sha = str(r.context.get("git_sha", ""))[:12]
                print(f"{path}  (upload: bencher run --testbed {host} --hash {sha} --adapter json "
                      f"--file {path})")
        return 0

    if args.format == "perfkit":
        path = args.out or os.path.join(default_dir, "perfkit.ndjson")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        n = 0
        with open(path, "w") as f:
            for r in runs:
                for s in perfkit_samples(r):
                    f.write(json.dumps(s) + "\n")
                    n += 1
        print(f"{path}  ({n} samples from {len(runs)} runs)")
        return 0

    path = args.out or os.path.join(default_dir, "samples.csv")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    n = 0
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)  # RFC 4180: CRLF records, quoted as needed
        w.writeheader()
        for r in runs:
            for row in csv_rows(r):
                w.writerow(row)
                n += 1
    print(f"{path}  ({n} rows from {len(runs)} runs)")
    return 0

