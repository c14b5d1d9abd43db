#!/usr/bin/python3
"""A daemon killed in the middle of a run: the entry in flight fails with the daemon's error (or
finishes without it), the next repetitions wait for the daemon (a bounded wait, stated in the
launcher's daemon_wait_ms) and succeed once it is back, and nothing is left behind.

For each daemon this host runs (libvirtd; dockerd and containerd when their launchers exist):
`cvbench run --suite startup` of its launcher with REPS repetitions; when the progress line of
repetition 2 appears (printed just before the launch), the daemon is SIGKILLed, and started again
DOWN_S seconds later with its start script. Then:
  - cvbench exits 0 or 1 (a failed repetition is a result), never hangs or dies;
  - every repetition is recorded: ok, or failed with a message naming the daemon's API;
  - the repetitions after the restart succeed (at least the last two);
  - nothing of the run is left: no QEMU or container named after cvbench's pid, no work dir.
dockerd and containerd run as an instance of the test's own (cvbit-fault-<pid>), started before
their case and stopped and purged at the end.
Exit 77 (skipped, reason printed) without root, without the daemon, or without build/bin/cvbench.

Usage: daemon_fault_test.py SOURCE_DIR  (CVB_DAEMON_FAULT_ONLY=dockerd,containerd: those cases only)
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
REPS = 6
DOWN_S = 3


def pid_of(pidfile, comm):
    try:
        pid = int(open(pidfile).read().strip())
        if open(f"/proc/{pid}/comm").read().strip() == comm:
            return pid
    except (OSError, ValueError):
        pass
    return None


DAEMONS = {
    "libvirtd": {
        "launcher": "libvirt",
        "args": ["--kernel", "distro", "--timeout", "120"],
        "pid": lambda: pid_of("/run/libvirtd.pid", "libvirtd"),
        "start": ["scripts/libvirtd-start"],
        "api": re.compile(r"libvirt|virDomain|virConnect|End of file|Cannot recv|connection", re.I),
        # What the run may leave: QEMU processes named after cvbench's pid.
        "leftover": lambda pid: [p for p in os.listdir("/proc") if p.isdigit()
                                 and f"cvb-libvirt-{pid}-" in _cmdline(p)],
    },
}


# The Docker and containerd launchers run on an instance of this test's own (engine_name), with
# the bridge and subnet the launcher gives a name other than cvbench's (docker.cc
# EngineBridgeFor: FNV-1a of the name), so that the restart below starts it as Prepare did.
ENGINE = f"cvbit-fault-{os.getpid()}"


def _engine_bridge(name):
    h = 2166136261
    for c in name.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    tail = "".join(c for c in name if c.isalnum())[:10]
    return f"cvbd-{tail}", f"10.214.{1 + h % 126}.1/24"


def _engine_leftovers(pid):
    """Containers, image tags and containerd namespaces named after cvbench pid, and shims."""
    left = []
    sock = f"/run/{ENGINE}-docker/docker.sock"
    if os.path.exists(sock):
        r = subprocess.run(["/usr/bin/docker", "-H", f"unix://{sock}", "ps", "-a", "--format",
                            "{{.Names}}"], capture_output=True, text=True, timeout=60)
        left += [n for n in r.stdout.split() if f"-{pid}-" in n]
        r = subprocess.run(["/usr/bin/docker", "-H", f"unix://{sock}", "images", "--format",
                            "{{.Repository}}"], capture_output=True, text=True, timeout=60)
        left += [n for n in r.stdout.split() if n.endswith(f"-{pid}")]
    csock = f"/run/{ENGINE}-containerd/containerd.sock"
    if os.path.exists(csock):
        r = subprocess.run(["ctr", "-a", csock, "namespaces", "ls", "-q"], capture_output=True,
                           text=True, timeout=60)
        left += [f"namespace {n}" for n in r.stdout.split() if n.endswith(f"-{pid}")]
    return left


BRIDGE, SUBNET = _engine_bridge(ENGINE)
ENGINE_DAEMONS = {
    "dockerd": {
        "launcher": "docker/runtime:runc",
        "args": ["--param", f"engine_name={ENGINE}", "--param", "daemon_wait_ms=30000"],
        "pid": lambda: pid_of(f"/run/{ENGINE}-docker/docker.pid", "dockerd"),
        "prepare": ["scripts/dockerd-start", "--name", ENGINE, "--bridge", BRIDGE, "--subnet", SUBNET],
        "start": ["scripts/dockerd-start", "--name", ENGINE, "--bridge", BRIDGE, "--subnet", SUBNET],
        "api": re.compile(r"docker|dockerd|daemon|connect|socket", re.I),
        "leftover": _engine_leftovers,
    },
    "containerd": {
        "launcher": "containerd/runtime:runc",
        "args": ["--param", f"engine_name={ENGINE}", "--param", "daemon_wait_ms=30000"],
        "pid": lambda: pid_of(f"/run/{ENGINE}-containerd/containerd.pid", "containerd"),
        "prepare": ["scripts/containerd-start", "--name", ENGINE],
        "start": ["scripts/containerd-start", "--name", ENGINE],
        "api": re.compile(r"ctr|containerd|connect|socket|unavailable", re.I),
        "leftover": _engine_leftovers,
    },
}


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def run_case(src, name, d, work):
    out = os.path.join(work, name)
    cmd = [os.path.join(src, "build/bin/cvbench"), "run", "--suite", "startup", "--launchers",
           d["launcher"], "--repetitions", str(REPS), "--no-warmup", "--out", out] + d["args"]
    p = subprocess.Popen(cmd, cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = []
    killed = {}

    def watch():
        for line in p.stderr:
            log.append(line)
            if not killed and re.match(rf"\[2/{REPS}\]", line):
                daemon_pid = d["pid"]()
                if daemon_pid:
                    os.kill(daemon_pid, signal.SIGKILL)
                    killed["at"] = time.monotonic()

    t = threading.Thread(target=watch)
    t.start()
    while not killed and p.poll() is None:
        time.sleep(0.05)
    if killed:
        time.sleep(DOWN_S)
        subprocess.run(d["start"], cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rc = p.wait(timeout=600)
    t.join()
    failures = []
    if not killed:
        return [f"{name}: the daemon was not killed (no progress line, or no pid): {''.join(log)[-1500:]}"]
    if rc not in (0, 1):
        failures.append(f"{name}: cvbench exited {rc}: {''.join(log)[-2000:]}")
    try:
        with open(os.path.join(out, "startup.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return failures + [f"{name}: no readable startup.json: {e}"]
    reps = [b for b in doc["benchmarks"] if b.get("run_type") == "iteration"]
    if len(reps) != REPS:
        failures.append(f"{name}: {len(reps)} of {REPS} repetitions recorded")
    for b in reps:
        msg = b.get("error_message", "")
        if b.get("error_occurred") and not d["api"].search(msg):
            failures.append(f"{name}: repetition {b['repetition_index']} failed without naming the "
                            f"daemon: {msg}")
    for b in reps[-2:]:
        if b.get("error_occurred"):
            failures.append(f"{name}: repetition {b['repetition_index']} after the restart failed: "
                            f"{b.get('error_message')}")
    errored = [b["repetition_index"] for b in reps if b.get("error_occurred")]
    print(f"daemon_fault_test: {name}: killed during repetition 2, back after {DOWN_S} s; "
          f"cvbench exit {rc}; failed repetitions {errored or 'none'}")
    left = d["leftover"](p.pid)
    if left:
        failures.append(f"{name}: left behind: processes {left}")
    if os.path.exists(f"/run/cvbench/{p.pid}"):
        failures.append(f"{name}: left behind: /run/cvbench/{p.pid}")
    return failures


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    src = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("SKIPPED: daemon_fault_test needs root")
        return SKIP
    if not os.access(os.path.join(src, "build/bin/cvbench"), os.X_OK):
        print("SKIPPED: build/bin/cvbench is not built")
        return SKIP
    work = tempfile.mkdtemp(prefix="cvb-daemon-fault-")
    failures, ran = [], 0
    try:
        cases = dict(DAEMONS)
        if shutil.which("dockerd") and shutil.which("containerd") and os.path.exists("/usr/bin/docker"):
            cases.update(ENGINE_DAEMONS)
        else:
            print("daemon_fault_test: docker.io/containerd not installed: their cases are skipped")
        only = [n for n in os.environ.get("CVB_DAEMON_FAULT_ONLY", "").split(",") if n]
        for name, d in cases.items():
            if only and name not in only:
                continue
            if "prepare" in d:
                subprocess.run(d["prepare"], cwd=src, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=180)
            if not d["pid"]():
                print(f"daemon_fault_test: {name} is not running here: its case is skipped")
                continue
            ran += 1
            failures += run_case(src, name, d, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if ENGINE_DAEMONS["containerd"]["pid"]() or os.path.exists(f"/run/{ENGINE}-containerd"):
            subprocess.run(["scripts/containerd-start", "--name", ENGINE, "--stop", "--purge"],
                           cwd=src, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=180)
    if not ran:
        print("SKIPPED: no daemon this test knows runs here")
        return SKIP
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("daemon_fault_test: every daemon killed mid-run: entries failed with its error or "
          "finished, later ones succeeded once it was back, nothing left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
