"""A cvbench sweep on every host of an Ansible inventory, merged into one fleet run.

  scripts/fleet INVENTORY [--out DIR] [--forks N] [--limit PATTERN] [--record-baselines]
                [sweep options: --suites S1,S2 --launchers L1,L2 --quick --repetitions N
                 --no-image-inspect]

What it does (fleet/playbook.yml on ansible-core, from Debian):
 1. packs the checkout's commit (HEAD; a dirty tree is warned about: hosts get the commit) as a
    git bundle;
 2. on every host in parallel: checks that commit out (unless cvbench_sync=false), runs the
    project's scripts/setup, then scripts/sweep, both under a lock on the host (one sweep per
    machine at a time), and fetches the run directory;
 3. writes one fleet run (default results/fleet-<date>-<sha>/): hosts/<host>/ per host (its JSON,
    charts, REPORT.md, sweep.log), FLEET.md with a row per host, every entry with the hosts side
    by side, the within-run ratios per host, charts (fleet_<suite>.png, fleet_ratios.png) and
    fleet.json;
 4. gates each host against that host's own baseline (results/baselines/<host>: a file naming a
    run directory under results/, checked in the history database to be that host's run;
    --record-baselines points them at this fleet run). Hosts are never pooled.

A host that fails (unreachable, setup or sweep failing) is reported with its reason; the others
still land. Exit: 0 all hosts ran and no gate failed; 1 a host's gate found a regression; 3 a
host failed (the rest is written); 2 bad input (no inventory, no ansible-playbook, bad option).
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time

from .history import db as H
from . import results as R

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"
RATIOS = [("cvrun", "crun"), ("cvrun", "native"), ("crun", "native"), ("runc", "crun"),
          ("runsc", "crun"), ("libvirt/kernel:minimal", "crun"), ("qemu/kernel:minimal", "crun"),
          ("libvirt/kernel:distro", "qemu/kernel:distro"), ("libvirt/kernel:minimal", "qemu/kernel:minimal")]


def say(msg):
    print(f"fleet: {msg}", file=sys.stderr, flush=True)


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True)


def inventory_hosts(inventory, limit=None):
    """The inventory's host names, as Ansible reads them."""
    cmd = ["ansible-inventory", "-i", inventory, "--list"]
    if limit:
        cmd += ["--limit", limit]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"fleet: cannot read inventory {inventory}: {r.stderr.strip()[-500:]}")
    data = json.loads(r.stdout)
    hosts = []

    def walk(group):
        g = data.get(group, {})
        for h in g.get("hosts", []):
            if h not in hosts:
                hosts.append(h)
        for c in g.get("children", []):
            walk(c)
    walk("all")
    return hosts


def failure_reason(hosts_dir, host, ansible_log):
    """Why a host produced no run: the playbook's record, the sweep log's tail, or Ansible's
    own message (unreachable hosts never reach the playbook's rescue)."""
    parts = []
    rec = os.path.join(hosts_dir, f"{host}.failed")
    if os.path.exists(rec):
        try:
            with open(rec) as f:
                d = json.load(f)
            parts.append(f"task '{d.get('task')}' failed" + (f" (rc {d['rc']})" if d.get("rc") is not None else "")
                         + (f": {d['msg']}" if d.get("msg") else ""))
            if d.get("stderr"):
                parts.append(d["stderr"].strip().splitlines()[-1][:300])
        except (ValueError, OSError, IndexError):
            parts.append("the playbook recorded a failure")
    log = os.path.join(hosts_dir, f"{host}.sweep.log")
    if not os.path.exists(log) and os.path.exists(os.path.join(hosts_dir, host, "sweep.log")):
        parts.append("the sweep wrote no results")
        log = os.path.join(hosts_dir, host, "sweep.log")
    if os.path.exists(log):
        with open(log, errors="replace") as f:
            tail = [l.strip() for l in f.read().splitlines() if l.strip()][-3:]
        if tail:
            parts.append("sweep.log: " + " / ".join(tail)[:400])
    if not parts:
        pat = re.compile(r"^(fatal|failed): \[" + re.escape(host) + r"\].*?(UNREACHABLE!|FAILED!)? => (.*)$")
        for line in ansible_log.splitlines():
            m = pat.match(re.sub(r"^\[\s*[0-9.]+s\] ", "", line).strip())
            if m:
                try:
                    msg = json.loads(m.group(3)).get("msg", m.group(3))
                except ValueError:
                    msg = m.group(3)
                parts.append(f"{m.group(2) or 'failed'} {str(msg).strip()[:300]}".strip())
        if not parts:
            parts.append("no run came back and Ansible gave no reason (see ansible.log)")
    return "; ".join(parts)


def unpack(tgz, dest):
    """Unpacks a host's run into dest: regular files and directories only, every path inside
    dest (a host's archive is not trusted to stay in its directory: no links, devices, absolute
    paths or '..')."""
    os.makedirs(dest, exist_ok=True)
    root = os.path.realpath(dest)
    with tarfile.open(tgz) as t:
        members = []
        for m in t.getmembers():
            target = os.path.realpath(os.path.join(root, m.name))
            if not (m.isfile() or m.isdir()) or os.path.isabs(m.name) or ".." in m.name.split("/") \
                    or not (target == root or target.startswith(root + os.sep)):
                raise ValueError(f"{os.path.basename(tgz)}: refusing archive member {m.name!r}")
            m.mode = 0o755 if m.isdir() else 0o644
            m.uid = m.gid = 0
            members.append(m)
        t.extractall(root, members=members)
    os.unlink(tgz)


# --- gate per host --------------------------------------------------------------------------

def baseline_of(results, host):
    """(run dir, None) of the host's own baseline, or (None, why not)."""
    f = os.path.join(results, "baselines", host)
    if not os.path.exists(f):
        return None, f"no baseline for this host (results/baselines/{host}; --record-baselines records one)"
    with open(f) as fh:
        lines = [l.strip() for l in fh if l.strip() and not l.startswith("#")]
    if not lines:
        return None, f"results/baselines/{host} names no run"
    run = os.path.normpath(os.path.join(results, lines[0]))
    if not os.path.isdir(run):
        return None, f"results/baselines/{host} names {lines[0]}, which is not a run directory"
    # The history database knows whose run it is: a baseline from another host is refused.
    db = H.open_db(results, quiet=True)
    rel = os.path.relpath(run, results)
    owners = {r[0] for r in db.execute("SELECT host FROM runs WHERE path = ?", (rel,))}
    db.close()
    if owners and owners != {host}:
        return None, f"results/baselines/{host} names {rel}, a run of host {', '.join(sorted(owners))}: never pooled"
    return run, None


def gate(results, host, run_dir):
    base, why = baseline_of(results, host)
    if base is None:
        return {"verdict": "not gated", "why": why}
    r = subprocess.run([PY, os.path.join(ROOT, "scripts", "compare"), base, run_dir, "--json",
                        os.path.join(run_dir, "compare.json")], capture_output=True, text=True)
    with open(os.path.join(run_dir, "gate.txt"), "w") as f:
        f.write(r.stdout + r.stderr)
    verdict = {0: "pass", 1: "REGRESSION", 2: "nothing comparable"}.get(r.returncode, f"error {r.returncode}")
    return {"verdict": verdict, "baseline": os.path.relpath(base, results),
            "why": f"scripts/compare {os.path.relpath(base, results)} hosts/{host} exited {r.returncode}"
                   " (ratios within each run; see gate.txt)"}


# --- the cross-host report --------------------------------------------------------------------

def host_rows(out, hosts, status):
    """Per host: its conditions and per-suite typical values, read through a history database of
    the fleet run (a temporary one: the fleet run itself stays plain JSON)."""
    with tempfile.TemporaryDirectory(prefix="cvb-fleet-db-") as tmp:
        db = H.open_db(out, os.path.join(tmp, "fleet.sqlite"), quiet=True)
        rows = {}
        for r in H.runs(db):
            host = r["host"]
            if host not in status or status[host]["status"] != "ok":
                continue
            d = rows.setdefault(host, {"conditions": dict(r), "suites": {}, "spread": {}})
            d["suites"][r["suite"]] = H.typicals(db, r["id"], r["suite"])
            u = db.execute("SELECT s.unit FROM samples s JOIN entries e ON s.entry_id = e.id WHERE e.run_id = ? "
                           "AND s.counter = 'real_time' LIMIT 1", (r["id"],)).fetchone()
            d.setdefault("units", {})[r["suite"]] = u[0] if u else "?"
            for (variant,) in db.execute("SELECT DISTINCT variant FROM entries WHERE run_id = ?", (r["id"],)):
                vals = H.entry_values(db, r["id"], variant, r["suite"])
                if vals:
                    _, p10, p90, _ = R.spread(vals)
                    d["spread"][f"{r['suite']}/{variant}"] = (p10, p90, len(vals))
            errs = [dict(e) for e in db.execute("SELECT entry, error FROM entries WHERE run_id = ? AND error IS NOT NULL",
                                               (r["id"],))]
            d.setdefault("errors", []).extend(errs)
        db.close()
    return rows


def fmt(v):
    return "-" if v is None or v != v else f"{v:.4g}"


def write_report(out, meta, hosts, status, rows):
    suites = sorted({s for d in rows.values() for s in d["suites"]})
    ratios = {}
    for h, d in rows.items():
        typ = d["suites"].get("startup", {})
        for num, den in RATIOS:
            if num in typ and den in typ and typ[den] > 0:
                ratios.setdefault(f"{num} / {den}", {})[h] = typ[num] / typ[den]
    md = [f"# Fleet run {meta['run']}", "",
          f"`scripts/fleet {' '.join(meta['argv'])}` at git {meta['git_sha'][:10]}"
          f"{' (controller tree dirty: hosts ran the commit)' if meta['controller_dirty'] else ''}, "
          f"{meta['date_utc']}. {len(hosts)} hosts, {sum(1 for h in hosts if status[h]['status'] == 'ok')} ran. "
          "Each host's numbers come from its own run; ratios are taken within one host's run, and "
          "each host is gated only against its own baseline: hosts are never pooled. Absolute times "
          "across hosts compare machines, not software.", "",
          "## Hosts", "",
          "| host | status | CPU | kernel | cgroups | VMs | git | reps | gate | run |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for h in hosts:
        st = status[h]
        if st["status"] != "ok":
            md.append(f"| {h} | **failed**: {st['reason']} | - | - | - | - | - | - | - | - |")
            continue
        c = rows.get(h, {}).get("conditions", {})
        g = st.get("gate", {})
        report = f"[report](hosts/{h}/REPORT.md)" if os.path.exists(os.path.join(out, "hosts", h, "REPORT.md")) else ""
        md.append(f"| {h} | ok | {c.get('cpu_model', '?')} x{c.get('cpus', '?')} | {c.get('kernel', '?')} "
                  f"| {c.get('cgroup_mode', '?')} | {c.get('accelerator', '?')} | {str(c.get('git_sha', '?'))[:7]} "
                  f"| {c.get('repetitions', '?')} | {g.get('verdict', '-')}: {g.get('why', '')} "
                  f"| [hosts/{h}](hosts/{h}/) {report} |")
    ok_hosts = [h for h in hosts if h in rows]
    for suite in suites:
        variants = []
        for h in ok_hosts:
            variants += [v for v in rows[h]["suites"].get(suite, {}) if v not in variants]
        if not variants:
            continue
        md += ["", f"## {suite}: typical time per entry, hosts side by side", "",
               f"Typical `real_time` (geometric mean of the middle 60% of the repetitions) with the "
               f"10th-90th percentile range, in {next((rows[h].get('units', {}).get(suite) for h in ok_hosts if rows[h].get('units', {}).get(suite)), '?')}.", "",
               "| entry | " + " | ".join(ok_hosts) + " |", "|---|" + "---|" * len(ok_hosts)]
        for v in variants:
            cells = []
            for h in ok_hosts:
                t = rows[h]["suites"].get(suite, {}).get(v)
                sp = rows[h]["spread"].get(f"{suite}/{v}")
                cells.append("-" if t is None else f"{fmt(t)} ({fmt(sp[0])}-{fmt(sp[1])}, n={sp[2]})")
            md.append(f"| {suite}/{v} | " + " | ".join(cells) + " |")
        md += ["", f"![{suite}](fleet_{suite}.png)"]
    if ratios:
        md += ["", "## Within-run startup ratios per host", "",
               "| ratio | " + " | ".join(ok_hosts) + " |", "|---|" + "---|" * len(ok_hosts)]
        for name, per in ratios.items():
            md.append(f"| {name} | " + " | ".join(f"{per[h]:.3f}" if h in per else "-" for h in ok_hosts) + " |")
        md += ["", "![ratios](fleet_ratios.png)"]
    errs = [(h, e) for h in ok_hosts for e in rows[h].get("errors", [])]
    if errs:
        md += ["", "## Entries that failed on a host", ""] + [f"- {h}: `{e['entry']}`: {e['error']}" for h, e in errs]
    md += ["", "Exports: `scripts/export bmf|perfkit|csv " + meta["run_dir_rel"] + "`; history: "
           "`scripts/history latest`, `scripts/history ratio cvrun crun`."]
    with open(os.path.join(out, "FLEET.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    return suites, ratios


def draw(out, meta, rows, suites, ratios):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    hosts = list(rows)
    caption = textwrap.fill(f"fleet run {meta['run']}, git {meta['git_sha'][:7]}; " + "; ".join(
        f"{h}: {d['conditions'].get('cpu_model', '?')} x{d['conditions'].get('cpus', '?')}, kernel "
        f"{d['conditions'].get('kernel', '?')}, cgroups {d['conditions'].get('cgroup_mode', '?')}, VMs "
        f"{d['conditions'].get('accelerator', '?')}, reps {d['conditions'].get('repetitions', '?')}"
        for h, d in rows.items()), 160)
    for suite in suites:
        variants = []
        for h in hosts:
            variants += [v for v in rows[h]["suites"].get(suite, {}) if v not in variants]
        if not variants:
            continue
        fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(variants) * len(hosts) + 3), 4.2))
        width = 0.8 / len(hosts)
        x = np.arange(len(variants))
        for i, h in enumerate(hosts):
            ys, lo, hi = [], [], []
            for v in variants:
                t = rows[h]["suites"].get(suite, {}).get(v, float("nan"))
                sp = rows[h]["spread"].get(f"{suite}/{v}", (t, t, 0))
                ys.append(t)
                lo.append(max(0.0, t - sp[0]) if t == t else 0)
                hi.append(max(0.0, sp[1] - t) if t == t else 0)
            ax.bar(x + (i - (len(hosts) - 1) / 2) * width, ys, width, yerr=[lo, hi], capsize=2, label=h)
        ax.set_xticks(x)
        ax.set_xticklabels(variants, rotation=30, ha="right", fontsize=8)
        ax.set_yscale("log")
        unit = next((rows[h].get("units", {}).get(suite) for h in hosts if rows[h].get("units", {}).get(suite)), "?")
        ax.set_ylabel(f"{suite}: typical real_time ({unit}, log), bars p10-p90")
        ax.set_title(f"{suite}: hosts side by side per entry", fontsize=10)
        ax.legend(fontsize=8, title="host")
        ax.grid(alpha=0.3, axis="y", which="both")
        fig.text(0.01, -0.02, caption, fontsize=6, va="top")
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out, f"fleet_{suite}.{ext}"), dpi=130, bbox_inches="tight")
        plt.close(fig)
    if ratios:
        names = list(ratios)
        fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(names) * len(hosts) + 3), 4.2))
        width = 0.8 / len(hosts)
        x = np.arange(len(names))
        for i, h in enumerate(hosts):
            ax.bar(x + (i - (len(hosts) - 1) / 2) * width, [ratios[n].get(h, float("nan")) for n in names],
                   width, label=h)
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("within-run ratio of typical startup (log)")
        ax.set_title("Startup ratios per host (each measured within that host's run)", fontsize=10)
        ax.legend(fontsize=8, title="host")
        ax.grid(alpha=0.3, axis="y", which="both")
        fig.text(0.01, -0.02, caption, fontsize=6, va="top")
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out, f"fleet_ratios.{ext}"), dpi=130, bbox_inches="tight")
        plt.close(fig)


def merge(out, meta, hosts, ansible_log, results, record_baselines=False):
    """Unpack what came back, gate each host, write fleet.json, FLEET.md and the charts."""
    hosts_dir = os.path.join(out, "hosts")
    status = {}
    for h in hosts:
        tgz = os.path.join(hosts_dir, f"{h}.tgz")
        run = os.path.join(hosts_dir, h)
        refused = None
        if os.path.exists(tgz):
            try:
                unpack(tgz, run)
            except (ValueError, tarfile.TarError, OSError) as e:
                refused = str(e)
        if refused:
            status[h] = {"status": "failed", "reason": f"its run could not be unpacked: {refused}"}
        elif os.path.isdir(run) and R.load_run(run):
            status[h] = {"status": "ok", "run": f"hosts/{h}"}
            with open(os.path.join(run, "host"), "w") as f:  # the inventory name is the host's name here
                f.write(h + "\n")
        else:
            status[h] = {"status": "failed", "reason": failure_reason(hosts_dir, h, ansible_log)}
    if record_baselines:
        os.makedirs(os.path.join(results, "baselines"), exist_ok=True)
        for h, st in status.items():
            if st["status"] == "ok":
                with open(os.path.join(results, "baselines", h), "w") as f:
                    f.write(f"# The run scripts/fleet gates host {h} against (written by --record-baselines).\n"
                            f"{os.path.relpath(os.path.join(out, 'hosts', h), results)}\n")
                say(f"baseline of {h}: results/baselines/{h} -> {os.path.relpath(os.path.join(out, 'hosts', h), results)}")
    for h, st in status.items():
        if st["status"] == "ok":
            st["gate"] = gate(results, h, os.path.join(out, st["run"]))
    rows = host_rows(out, hosts, status)
    suites, ratios = write_report(out, meta, hosts, status, rows)
    if rows:
        draw(out, meta, rows, suites, ratios)
    with open(os.path.join(out, "fleet.json"), "w") as f:
        json.dump(dict(meta, hosts=status, ratios=ratios), f, indent=1)
    return status


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/fleet", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inventory")
    ap.add_argument("--out", help="fleet run directory (default results/fleet-<date>-<sha>)")
    ap.add_argument("--forks", type=int, default=10, help="hosts prepared and swept at once")
    ap.add_argument("--limit", help="Ansible host pattern")
    ap.add_argument("--record-baselines", action="store_true",
                    help="point results/baselines/<host> at this run's host runs")
    ap.add_argument("--suites")
    ap.add_argument("--launchers")
    ap.add_argument("--repetitions", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-image-inspect", action="store_true", help="sweep --no-image-inspect")
    a = ap.parse_args(argv)
    if not os.path.exists(a.inventory):
        print(f"fleet: inventory {a.inventory}: no such file", file=sys.stderr)
        return 2
    if not shutil.which("ansible-playbook"):
        print("fleet: ansible-playbook not found (scripts/setup installs ansible-core)", file=sys.stderr)
        return 2
    if a.repetitions is not None and a.repetitions < 1:
        print("fleet: --repetitions must be at least 1", file=sys.stderr)
        return 2
    sweep_args = []
    if a.quick:
        sweep_args.append("--quick")
    if a.no_image_inspect:
        sweep_args.append("--no-image-inspect")
    for opt in ("suites", "launchers", "repetitions"):
        v = getattr(a, opt)
        if v is not None:
            sweep_args += [f"--{opt}", str(v)]

    sha = git("rev-parse", "HEAD").stdout.strip()
    if not sha:
        print(f"fleet: {ROOT} is not a git checkout: the fleet runs a commit", file=sys.stderr)
        return 2
    dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
    if dirty:
        say("WARNING: the checkout has uncommitted changes; synced hosts run the commit " + sha[:10])
    now = datetime.datetime.now(datetime.timezone.utc)
    results = os.path.join(ROOT, "results")
    out = os.path.abspath(a.out or os.path.join(results, f"fleet-{now:%Y-%m-%d-%H%M}-{sha[:7]}"))
    if os.path.exists(out) and os.listdir(out):
        print(f"fleet: {out} exists and is not empty", file=sys.stderr)
        return 2
    hosts = inventory_hosts(a.inventory, a.limit)
    if not hosts:
        print(f"fleet: inventory {a.inventory} has no hosts", file=sys.stderr)
        return 2
    os.makedirs(os.path.join(out, "hosts"), exist_ok=True)
    run_name = os.path.basename(out)
    rel = os.path.relpath(out, ROOT)
    meta = {"run": run_name, "run_dir_rel": out if rel.startswith("..") else rel, "git_sha": sha, "controller_dirty": dirty,
            "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "inventory": os.path.abspath(a.inventory),
            "argv": [a.inventory] + (argv if argv is not None else sys.argv[1:])[1:], "sweep_args": sweep_args,
            "host_names": hosts}
    say(f"{len(hosts)} hosts ({', '.join(hosts)}), sweep {' '.join(sweep_args) or '(defaults)'} -> {out}")

    with tempfile.TemporaryDirectory(prefix="cvb-fleet-") as tmp:
        bundle = os.path.join(tmp, "cvbench.bundle")
        r = git("bundle", "create", bundle, "HEAD")
        if r.returncode != 0:
            print(f"fleet: git bundle failed: {r.stderr.strip()}", file=sys.stderr)
            return 2
        extra = {"fleet_run": run_name, "fleet_out": out, "fleet_sha": sha, "fleet_bundle": bundle,
                 "fleet_checkout": ROOT, "fleet_sweep_args": sweep_args}
        with open(os.path.join(tmp, "vars.json"), "w") as f:
            json.dump(extra, f)
        cmd = ["ansible-playbook", "-i", a.inventory, "--forks", str(a.forks), "-e", f"@{tmp}/vars.json",
               os.path.join(ROOT, "fleet", "playbook.yml")]
        if a.limit:
            cmd += ["--limit", a.limit]
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
        # One SSH login per task instead of several (modules piped to python's stdin), and a
        # keep-alive for a sweep that prints nothing for an hour; the user's settings win.
        env.setdefault("ANSIBLE_PIPELINING", "True")
        env.setdefault("ANSIBLE_SSH_ARGS", "-C -o ControlMaster=auto -o ControlPersist=60s "
                                           "-o ServerAliveInterval=30 -o ServerAliveCountMax=10")
        log_lines = []
        t0 = time.monotonic()
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as p:
            for line in p.stdout:
                log_lines.append(f"[{time.monotonic() - t0:6.1f}s] {line}")
                if line.startswith(("TASK", "PLAY", "fatal", "failed", "ok:", "changed:", "skipping")):
                    sys.stderr.write(f"  [{time.monotonic() - t0:6.1f}s] {line}")
        ansible_log = "".join(log_lines)
        with open(os.path.join(out, "ansible.log"), "w") as f:
            f.write(ansible_log)
        say(f"ansible-playbook exited {p.returncode}")

    status = merge(out, meta, hosts, ansible_log, results, a.record_baselines)
    for h in hosts:
        st = status[h]
        if st["status"] == "ok":
            say(f"{h}: ok, gate {st['gate']['verdict']} ({st['gate']['why']})")
        else:
            say(f"{h}: FAILED: {st['reason']}")
    say(f"fleet run in {out} (FLEET.md)")
    if any(st["status"] != "ok" for st in status.values()):
        return 3
    if any(st.get("gate", {}).get("verdict") == "REGRESSION" for st in status.values()):
        return 1
    return 0

