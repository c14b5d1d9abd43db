"""Claim 8: "a containerized app runs anywhere".

Rule: holds when the same bundle (one image hash for the whole run), unmodified, completed every
entry of every suite on every container runtime of the run; partly when some runtimes failed an
entry; does not hold when none completed everything or the image differed between suites. A
runtime that lacks a mode on this host (the launcher refused the request before launching:
"<launcher> cannot run mode <m>", bench/src/throughput_suite.cc) is listed apart: it did not fail
the bundle, and it is not counted as completing that entry either.
"""
from .. import results as R
from .. import verdicts as V
from ..launchers import CONTAINERS, launcher

TEXT = "A containerized app runs anywhere"
CHARTS = []
# The throughput suite's words when a launcher refuses a mode before launching anything.
LACKS_MODE = " cannot run mode "


def lacks_mode(message):
    return LACKS_MODE in message


def evaluate(run):
    hashes = {s: ctx.get("image_hash") for s, (ctx, _, _) in run.suites.items() if ctx.get("image_hash")}
    per_launcher = {}
    lacking = {}  # runtimes that lack a mode on this host: {launcher: {entry: message}}
    for suite in run.suites:
        for key in run.groups(suite):
            if launcher(key) in CONTAINERS:
                per_launcher.setdefault(launcher(key), {})
        for key, msg in run.errors(suite).items():
            if launcher(key) in CONTAINERS:
                if lacks_mode(msg):
                    lacking.setdefault(launcher(key), {})[R.base_name(key)] = msg
                    per_launcher.setdefault(launcher(key), {})
                else:
                    per_launcher.setdefault(launcher(key), {})[R.base_name(key)] = msg
    if not per_launcher:
        return V.not_tested("no container launcher ran", ", ".join(run.suites))
    good = sorted(l for l, failed in per_launcher.items() if not failed and l not in lacking)
    bad = sorted(l for l, failed in per_launcher.items() if failed)
    short = sorted(l for l in lacking if l not in bad)
    same_image = len(set(hashes.values())) <= 1
    if not same_image or not (good or short):
        outcome = V.DOES_NOT_HOLD
    else:
        outcome = V.PARTLY if bad or short else V.HOLDS
    numbers = (f"image {', '.join(sorted(set(hashes.values()))) or '?'} in "
               f"{'every suite' if same_image else 'different suites'}; completed every entry: "
               f"{', '.join(good) or 'none'}"
               + ("; failed: " + "; ".join(
                   f"{l} ({', '.join(f'{k}: {m[:70]}' for k, m in list(per_launcher[l].items())[:3])})"
                   for l in bad) if bad else "")
               + ("; lacking a mode on this host (not a failure of the bundle): " + "; ".join(
                   f"{l} ({', '.join(f'{k}: {m[:90]}' for k, m in list(entries.items())[:3])})"
                   for l, entries in sorted(lacking.items())) if lacking else ""))
    headline = V.Headline(
        "container runtimes that completed every entry with the one bundle",
        text=(f"{len(good)} of {len(per_launcher)} container runtimes completed every entry"
              + (f" (failed an entry: {', '.join(bad)})" if bad else "")
              + (f" (lacks a mode on this host: {', '.join(sorted(lacking))})" if lacking else "")
              + ("" if same_image else "; the image differed between suites")))
    return V.Verdict(
        outcome,
        "holds when the same bundle (one image hash for the whole run), unmodified, completed every entry "
        "of every suite on every container runtime of the run; partly when some runtimes failed an entry; "
        "does not hold when none completed everything or the image differed between suites. A runtime "
        "that lacks a mode on this host (refused before launching) is listed apart, neither failed nor "
        "complete for that entry",
        numbers, "every suite's entries and errors; image_hash in the context",
        "one host: across hosts needs a fleet run", headline=headline)
