#!/usr/bin/python3
"""A sweep SIGKILLed at random points loses nothing, and `scripts/sweep --resume` completes it.

One clean sweep first (startup and density of native and cvrun, small N, through scripts/sweep with
--no-prepare), timed: its wall time T bounds the kill points. Then, TRIALS times: the same sweep
into a fresh directory, its whole process group (scripts/sweep, cvbench, the runtimes) SIGKILLed
at a random instant in (0, T); then
  - every *.json of the run parses, and every suite file holds whole repetitions only;
  - `scripts/sweep --resume DIR` completes the run (exit 0);
  - every repetition recorded before the kill is in the completed file byte for byte (the same
    JSON object, same position among the iterations);
  - the completed run has the clean run's entries one for one, each with all its repetitions,
    and its REPORT.md names the same entries as the clean run's;
  - nothing is left behind: no /run/cvbench/<pid> of a dead run, no cvb- cgroup.
Exit 77 (skipped, reason printed) without root or without build/bin/cvbench and cvrun.

Usage: resume_test.py SOURCE_DIR [TRIALS]   (CVB_RESUME_SEED=N fixes the kill points)
"""
import glob
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

SKIP = 77


def sweep_cmd(src, out):
    return [os.path.join(src, "scripts/sweep"), "--no-prepare", "--no-image-inspect", "--no-charts",
            "--suites", "startup,density", "--launchers", "native,cvrun", "--repetitions", "2",
            "--param", "density_n=1,2", "--param", "density_repetitions=1",
            "--param", "settle_ms=300", "--param", "drop_caches=0",
            "--out", out]


def run_sweep(argv, src, kill_after=None):
    """Runs a sweep in its own process group; SIGKILLs the group after kill_after seconds."""
    start = time.monotonic()
    p = subprocess.Popen(argv, cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True, text=True)
    if kill_after is None:
        _, err = p.communicate(timeout=900)
        return p.returncode, err, time.monotonic() - start
    try:
        p.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        # Containers' processes may have left the group: they are the resumed run's leftovers.
    p.wait()
    err = p.stderr.read()
    p.stderr.close()
    return p.returncode, err, time.monotonic() - start


def suite_files(run_dir):
    return sorted(f for f in glob.glob(os.path.join(run_dir, "*.json"))
                  if os.path.basename(f) not in ("sweep.json", "image_inspect.json"))


def iterations(doc):
    return [b for b in doc.get("benchmarks", []) if b.get("run_type") == "iteration"]


def entries(run_dir):
    """{entry: repetitions recorded} over the run's suite files."""
    out = {}
    for f in suite_files(run_dir):
        with open(f) as fh:
            doc = json.load(fh)
        for b in iterations(doc):
            out[b["name"]] = out.get(b["name"], 0) + 1
    return out


def report_entries(run_dir):
    """The entry names REPORT.md mentions (startup/..., density/...)."""
    with open(os.path.join(run_dir, "REPORT.md")) as f:
        text = f.read()
    return sorted(set(re.findall(r"\b(?:startup|density)/[A-Za-z0-9:/_.-]+", text)))


def check_parses(run_dir, failures, label):
    for f in glob.glob(os.path.join(run_dir, "*.json")):
        try:
            with open(f) as fh:
                doc = json.load(fh)
        except ValueError as e:
            failures.append(f"{label}: {f} does not parse after the kill: {e}")
            continue
        if f in suite_files(run_dir):
            for b in iterations(doc):
                if "repetition_index" not in b or "real_time" not in b:
                    failures.append(f"{label}: {f}: a repetition without its fields: {b}")


def leftovers():
    found = []
    for d in glob.glob("/run/cvbench/*"):
        pid = os.path.basename(d)
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            found.append(d)
    # cvb-<runtime>-<owner pid>-<k>: a cgroup whose owner is gone was left by a killed run.
    for d in glob.glob("/sys/fs/cgroup/*/cvb-*") + glob.glob("/sys/fs/cgroup/*/*/cvb-*"):
        m = re.match(r"cvb-[a-z]+-(\d+)-", os.path.basename(d))
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            found.append(d)
    return found


def trial(src, work, i, at, clean_entries, clean_report):
    """One kill at `at` seconds and its resume; the failures it found."""
    failures = []
    label = f"trial {i + 1}"
    run_dir = os.path.join(work, f"t{i + 1}")
    rc, err, took = run_sweep(sweep_cmd(src, run_dir), src, kill_after=at)
    killed = rc == -signal.SIGKILL
    check_parses(run_dir, failures, label)
    before = {}
    for f in suite_files(run_dir):
        with open(f) as fh:
            before[f] = [json.dumps(b, sort_keys=True) for b in iterations(json.load(fh))]
    kept = sum(len(v) for v in before.values())
    if not os.path.exists(os.path.join(run_dir, "sweep.json")):
        # Killed before the sweep wrote anything: there is nothing to resume; a new run into the
        # same directory is the way on.
        rc2, err2, _ = run_sweep(sweep_cmd(src, run_dir), src)
    else:
        rc2, err2, _ = run_sweep([os.path.join(src, "scripts/sweep"), "--resume", run_dir], src)
    print(f"resume_test: {label}: killed at {at:.1f} s ({'SIGKILL' if killed else f'exit {rc}'}),"
          f" {kept} repetitions kept; resumed: exit {rc2}", flush=True)
    if rc2 != 0:
        return failures + [f"{label}: the resumed sweep exited {rc2}: {err2[-2000:]}"]
    for f, kept_reps in before.items():
        with open(f) as fh:
            after = [json.dumps(b, sort_keys=True) for b in iterations(json.load(fh))]
        if after[:len(kept_reps)] != kept_reps:
            failures.append(f"{label}: {f}: repetitions recorded before the kill changed")
    for f in suite_files(run_dir):
        with open(f) as fh:
            state = json.load(fh).get("run", {}).get("state")
        if state != "complete":
            failures.append(f"{label}: {f} is {state} after --resume")
    got = entries(run_dir)
    if got != clean_entries:
        failures.append(f"{label}: entries {got} differ from the clean run's {clean_entries}")
    if report_entries(run_dir) != clean_report:
        failures.append(f"{label}: REPORT.md names {report_entries(run_dir)}, the clean run's "
                        f"{clean_report}")
    shutil.rmtree(run_dir, ignore_errors=True)
    return failures


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    src = os.path.abspath(sys.argv[1])
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if os.geteuid() != 0:
        print("SKIPPED: resume_test needs root (containers, cgroups)")
        return SKIP
    for b in ("cvbench", "cvrun"):
        if not os.access(os.path.join(src, "build/bin", b), os.X_OK):
            print(f"SKIPPED: build/bin/{b} is not built (scripts/build)")
            return SKIP
    seed = int(os.environ.get("CVB_RESUME_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"resume_test: {trials} kill points, seed {seed} (CVB_RESUME_SEED={seed} repeats them)")
    work = tempfile.mkdtemp(prefix="cvb-resume-test-")
    failures = []
    try:
        clean = os.path.join(work, "clean")
        rc, err, wall = run_sweep(sweep_cmd(src, clean), src)
        if rc != 0:
            print(f"FAILED: the clean sweep exited {rc}:\n{err[-3000:]}")
            return 1
        clean_entries = entries(clean)
        clean_report = report_entries(clean)
        print(f"resume_test: clean sweep {wall:.1f} s, {len(clean_entries)} entries, "
              f"{sum(clean_entries.values())} repetitions")
        points = [rng.uniform(0.2, wall) for _ in range(trials)]
        # Two trials at a time (2 cores; each sweep waits on settling and on its runtimes much of
        # the time): their cvbench runs never touch each other's instances, and a killed one's
        # leftovers are reaped by whichever cvbench starts next, as on any shared host.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for trial_failures in pool.map(lambda i: trial(src, work, i, points[i], clean_entries,
                                                           clean_report), range(trials)):
                failures += trial_failures
        # The last resumed run reaped the dead runs' leftovers; nothing of theirs may remain.
        left = leftovers()
        if left:
            failures.append(f"left behind: {left}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"resume_test: {trials} kills, every file parsed, every recorded repetition kept, "
          "every resumed run complete with the clean run's entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
