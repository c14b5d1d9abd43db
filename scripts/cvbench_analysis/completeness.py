"""Whether a run is whole: each suite file's run record (cvbench's "run" object), entry by entry.

cvbench writes every repetition into its suite file as it finishes; a file whose run.state is
"partial" belongs to a run that was stopped (SIGKILL, Ctrl-C, a full disk) before its suite
completed, and `cvbench run --resume` / `scripts/sweep --resume` continues it. A resumed suite's
later repetitions ran interleaved among themselves, not with the earlier ones: the record's
attempts say when. Files written before cvbench kept a record (no "run" object) are taken as
complete, as they always were.
"""
import json
import os

from . import results as R


def suite_record(path):
    """The "run" object of one suite file, or None (an older file, or not a suite file)."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    run = doc.get("run")
    if not isinstance(run, dict):
        return None
    recorded = {}
    for b in doc.get("benchmarks", []):
        if b.get("run_type", "iteration") == "iteration":
            key = R.entry_key(b)
            recorded[key] = recorded.get(key, 0) + 1
    return {"state": run.get("state", "partial"),
            "planned": {p["name"]: p.get("repetitions", 0) for p in run.get("planned", [])},
            "recorded": recorded,
            "attempts": run.get("attempts", []),
            "finish_error": run.get("finish_error")}


def run_records(run_dir):
    """{suite: record} for every suite file of the run that has one."""
    out = {}
    for name in sorted(os.listdir(run_dir)):
        if not name.endswith(".json") or name in ("sweep.json", "image_inspect.json"):
            continue
        rec = suite_record(os.path.join(run_dir, name))
        if rec is not None:
            out[name[:-5]] = rec
    return out


def missing(record):
    """[(entry, recorded, planned)] of the entries short of their planned repetitions."""
    return [(name, record["recorded"].get(name, 0), planned)
            for name, planned in record["planned"].items()
            if record["recorded"].get(name, 0) < planned]


def is_partial(run_dir):
    return any(r["state"] != "complete" for r in run_records(run_dir).values())


def render(run_dir):
    """REPORT.md lines on the run's completeness ([] for a whole run never resumed)."""
    records = run_records(run_dir)
    lines = []
    partial = {s: r for s, r in records.items() if r["state"] != "complete"}
    if partial:
        lines += [f"**This run is partial**: {', '.join(sorted(partial))} stopped before "
                  f"{'its' if len(partial) == 1 else 'their'} last repetition (`scripts/sweep "
                  "--resume` continues it). Every verdict below reads only the repetitions that "
                  "finished; an entry short of its repetitions is listed here.", ""]
        for suite, rec in sorted(partial.items()):
            short = missing(rec)
            lines.append(f"- {suite}: {sum(rec['recorded'].values())} of "
                         f"{sum(rec['planned'].values())} planned repetitions recorded")
            for name, got, planned in short:
                lines.append(f"  - `{name}`: {got} of {planned}")
            note = rec["attempts"][-1].get("interrupted") if rec["attempts"] else None
            if note:
                lines.append(f"  - stopped {note}")
        lines.append("")
    resumed = {s: r for s, r in records.items() if len(r["attempts"]) > 1}
    if resumed:
        lines += ["Resumed suites: their repetitions after a resume ran interleaved among "
                  "themselves, not with the ones recorded before (each iteration names its "
                  "`attempt`).", ""]
        for suite, rec in sorted(resumed.items()):
            starts = ", ".join(a.get("started_utc", "?") for a in rec["attempts"][1:])
            lines.append(f"- {suite}: first run {rec['attempts'][0].get('started_utc', '?')}, "
                         f"resumed {starts}")
        lines.append("")
    for suite, rec in sorted(records.items()):
        if rec.get("finish_error"):
            lines += [f"- {suite}: its derived figures could not be computed: {rec['finish_error']}", ""]
    return lines
