"""The docker/ launchers for real: a short `cvbench run` of startup and density over
docker/runtime:runc, docker/runtime:cvrun and containerd/runtime:cvrun on daemons of the test's
own (--param engine_name), then what the results say (READY reached, the engine's context keys, each container
counted with its shim, dockerd and containerd reported once as a context key) and what is left
(containers, images, shims, cgroups, bridges, daemons after --stop --purge); a SIGKILLed cvbench's
containers, image and namespace are removed by the next cvbench's leftover reaper. The leftover check is
seen to fail once: a container and an image made behind cvbench's back are reported.

Run as: /usr/bin/python3 tests/docker_launchers_test.py <source dir> <build dir>. Exit 77 (skip)
with the reason when not root, or when docker.io/containerd or the build are missing.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(SRC, "build"))
CVBENCH = os.path.join(BUILD, "bin", "cvbench")
SCRIPTS = os.path.join(SRC, "scripts")
DOCKER = "/usr/bin/docker"
PID = os.getpid()
NAME = f"cvbit-dl-{PID}"
SOCK = f"/run/{NAME}-docker/docker.sock"
DOCKER_LAUNCHERS = ("docker/runtime:runc", "docker/runtime:cvrun")
# containerd without Docker, over cvrun: the same daemon's containerd, another namespace.
LAUNCHERS = DOCKER_LAUNCHERS + ("containerd/runtime:cvrun",)


def run(*argv, check=True, timeout=300, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv} exited {r.returncode}: {r.stderr[-2000:]}{r.stdout[-2000:]}")
    return r


def docker(*args, check=True):
    return run(DOCKER, "-H", f"unix://{SOCK}", *args, check=check)


def shims():
    """containerd-shim-runc-v2 processes of this test's containerd."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"containerd-shim" in cmd and f"/run/{NAME}-containerd".encode() in cmd:
            out.append(pid)
    return out


def engine_leftovers():
    """What cvbench left in the running daemons and on the host while they run: Docker's
    containers and images, containerd namespaces of the containerd/ launchers (cvb-<rt>-<pid>),
    shims, cgroups under dockerd's parent and the launchers' ctr cgroups."""
    left = [f"container {line}" for line in docker("ps", "-a", "--format", "{{.Names}}").stdout.split()]
    left += [f"image {line}" for line in
             docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()]
    left += [f"shim {pid}" for pid in shims()]
    ctr = ["ctr", "-a", f"/run/{NAME}-containerd/containerd.sock"]
    namespaces = run(*ctr, "namespaces", "ls", "-q").stdout.split()
    left += [f"containerd namespace {ns}" for ns in namespaces if ns.startswith("cvb-")]
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        parent = f"/sys/fs/cgroup/{hierarchy}/{NAME}-docker"
        if os.path.isdir(parent):
            left += [f"cgroup {parent}/{d}" for d in os.listdir(parent)
                     if os.path.isdir(os.path.join(parent, d))]
        try:
            left += [f"cgroup /sys/fs/cgroup/{hierarchy}/{d}"
                     for d in os.listdir(f"/sys/fs/cgroup/{hierarchy}") if d.startswith("cvb-cvrun-")]
        except OSError:
            pass
    return left


def host_leftovers(before_links):
    """What stays on the host after the daemons were stopped and purged."""
    left = []
    links = set(os.listdir("/sys/class/net"))
    left += [f"interface {i}" for i in sorted(links - before_links)]
    for path in (f"/run/{NAME}-docker", f"/run/{NAME}-containerd", f"/var/lib/{NAME}"):
        if os.path.exists(path):
            left.append(f"directory {path}")
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        if os.path.isdir(f"/sys/fs/cgroup/{hierarchy}/{NAME}-docker"):
            left.append(f"cgroup /sys/fs/cgroup/{hierarchy}/{NAME}-docker")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if NAME.encode() in f.read():
                    left.append(f"process {pid}")
        except OSError:
            pass
    return left


def medians(path):
    with open(path) as f:
        data = json.load(f)
    return data, {b["run_name"] if "run_name" in b else b["name"]: b for b in data["benchmarks"]
                  if b.get("aggregate_name") == "median"}


class DockerLaunchers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.links = set(os.listdir("/sys/class/net"))
        cls.out = tempfile.mkdtemp(prefix=f"cvbit-dl-{PID}-")
        os.rmdir(cls.out)  # cvbench makes its own output directory
        cls.result = run(CVBENCH, "run", "--suite", "startup,density", "--launchers", ",".join(LAUNCHERS),
                      "--repetitions", "2", "--no-warmup", "--out", cls.out,
                      "--param", f"engine_name={NAME}", "--param", "density_n=1,3",
                      "--param", "density_repetitions=1", check=False)

    @classmethod
    def tearDownClass(cls):
        run(os.path.join(SCRIPTS, "containerd-start"), "--name", NAME, "--stop", "--purge", check=False)
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_1_the_run_succeeds(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr[-3000:])

    def test_2_startup_reaches_ready_with_the_engine_context(self):
        data, med = medians(os.path.join(self.out, "startup.json"))
        ctx = data["context"]
        for launcher in LAUNCHERS:
            entry = med.get(f"startup/{launcher}")
            self.assertIsNotNone(entry, f"no startup median for {launcher}: {sorted(med)}")
            self.assertGreater(entry["ready_ms"], 0)
            self.assertGreaterEqual(entry["ready_ms"], entry["start_ms"])
            for key in ("version", "runtime", "storage_driver", "cgroup_driver", "network",
                        "daemons_rss_kib", "host_condition"):
                self.assertIn(f"launcher.{launcher}.{key}", ctx)
            self.assertGreater(int(ctx[f"launcher.{launcher}.daemons_rss_kib"].split()[0]), 10000)
            if launcher in DOCKER_LAUNCHERS:
                self.assertGreater(entry["ready_in_log_ms"], 0)
                self.assertIn(f"launcher.{launcher}.containerd", ctx)
                self.assertTrue(ctx[f"launcher.{launcher}.version"].startswith("dockerd "))
                self.assertNotEqual(ctx[f"launcher.{launcher}.storage_driver"], "unknown")
        self.assertIn("/cvrun", ctx["launcher.docker/runtime:cvrun.runtime"])
        self.assertTrue(ctx["launcher.docker/runtime:runc.runtime"].startswith("runc ("))

    def test_3_density_counts_each_container_with_its_shim(self):
        with open(os.path.join(self.out, "density.json")) as f:
            data = json.load(f)
        seen = 0
        for b in data["benchmarks"]:
            if b.get("run_type") == "aggregate" or "host_processes" not in b:
                continue
            seen += 1
            # the workload (one process) and its containerd-shim-runc-v2, per container
            self.assertEqual(b["host_processes"], 2 * b["n"], b["name"])
        self.assertGreaterEqual(seen, 6)

    def test_4_nothing_is_left_in_the_engine(self):
        self.assertEqual(engine_leftovers(), [])

    def test_5_the_leftover_check_sees_what_is_left(self):
        # A container and an image made behind cvbench's back must be reported, then go.
        empty = tempfile.NamedTemporaryFile(suffix=".tar", delete=False)
        try:
            subprocess.run(["tar", "-cf", empty.name, "--files-from", "/dev/null"], check=True)
            docker("import", empty.name, "localhost/cvbit-leak:1")
            docker("create", "--name", "cvbit-leak", "localhost/cvbit-leak:1", "/x")
            left = engine_leftovers()
            self.assertIn("container cvbit-leak", left)
            self.assertIn("image localhost/cvbit-leak:1", left)
        finally:
            docker("rm", "-f", "cvbit-leak", check=False)
            docker("rmi", "-f", "localhost/cvbit-leak:1", check=False)
            os.unlink(empty.name)
        self.assertEqual(engine_leftovers(), [])

    def test_6_a_killed_cvbench_is_reaped_by_the_next(self):
        # density at N = 4 over Docker and containerd, SIGKILLed once containers run; the next
        # cvbench's leftover reaper removes its containers, image tag and containerd namespace.
        out = self.out + "-killed"
        victim = subprocess.Popen(
            [CVBENCH, "run", "--suite", "density", "--launchers",
             "docker/runtime:runc,containerd/runtime:cvrun", "--repetitions", "1", "--no-warmup",
             "--out", out, "--param", f"engine_name={NAME}", "--param", "density_n=4",
             "--param", "density_repetitions=1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not [x for x in engine_leftovers()
                                                       if x.startswith("container cvb-docker-")]:
                time.sleep(0.2)
            self.assertTrue(engine_leftovers(), "the killed cvbench had started nothing")
        finally:
            victim.kill()
            victim.wait()
            shutil.rmtree(out, ignore_errors=True)
        self.assertNotEqual(engine_leftovers(), [])
        reaper_out = self.out + "-reaper"
        r = run(CVBENCH, "run", "--suite", "startup", "--launchers", "null", "--repetitions", "1",
                "--no-warmup", "--out", reaper_out)
        shutil.rmtree(reaper_out, ignore_errors=True)
        self.assertIn(f"leftover of a dead sweep: cvbench {victim.pid}: removed docker", r.stderr)
        self.assertEqual(engine_leftovers(), [], r.stderr[-3000:])

    def test_7_stop_purge_leaves_nothing(self):
        run(os.path.join(SCRIPTS, "containerd-start"), "--name", NAME, "--stop", "--purge")
        self.assertEqual(host_leftovers(self.links), [])


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: needs root (daemons, cgroups, bridges)")
        sys.exit(77)
    for program in ("dockerd", "containerd", "containerd-shim-runc-v2", "runc"):
        if shutil.which(program) is None:
            print(f"skipped: {program} is not installed (scripts/setup installs docker.io and containerd)")
            sys.exit(77)
    if not os.path.exists(DOCKER):
        print(f"skipped: {DOCKER} is not installed (docker.io)")
        sys.exit(77)
    if not os.path.exists(CVBENCH) or not os.path.exists(os.path.join(BUILD, "bin", "cvrun")):
        print(f"skipped: {CVBENCH} or cvrun not built (scripts/build)")
        sys.exit(77)
    sys.argv = sys.argv[:1]
    unittest.main(verbosity=2)
