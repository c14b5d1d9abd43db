"""scripts/containerd-start and scripts/dockerd-start for real, on an instance of the test's own
with Docker's default bridge and iptables on (the benchmark instance's setting): idempotent
start, --check, a runtime added and removed by reload, a published port reached through the
bridge's address (DNAT), --network host, crun under the daemons (the host condition), and --stop
--purge leaving iptables, ip_forward, interfaces, directories and processes as they were.

Run as: /usr/bin/python3 tests/engine_daemons_test.py <source dir>. Exit 77 (skip) with the
reason when not root or when docker.io/containerd are not installed.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
SCRIPTS = os.path.join(SRC, "scripts")
DOCKER = "/usr/bin/docker"
PID = os.getpid()
NAME = f"cvbit-scripts-{PID}"
BRIDGE = f"cvbsc{PID % 100000}"
THIRD = 128 + (PID + 7) % 120
GW = f"10.214.{THIRD}.1"
SUBNET = f"{GW}/24"
SOCK = f"/run/{NAME}-docker/docker.sock"


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def run(*argv, check=True, timeout=120, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv} exited {r.returncode}: {r.stderr}{r.stdout}")
    return r


def docker(*args, check=True):
    return run(DOCKER, "-H", f"unix://{SOCK}", *args, check=check)


def iptables_rules():
    """The rules of the filter and nat tables (no counters, no comments)."""
    out = []
    for table in ("filter", "nat"):
        r = run("iptables", "-t", table, "-S", check=False)
        out += [f"{table} {line}" for line in r.stdout.splitlines()]
    return sorted(out)


def leftovers(before):
    """What differs from the host as it was before the instance started."""
    left = []
    rules = iptables_rules()
    left += [f"iptables: {r}" for r in rules if r not in before["rules"]]
    left += [f"iptables removed: {r}" for r in before["rules"] if r not in rules]
    if read("/proc/sys/net/ipv4/ip_forward") != before["ip_forward"]:
        left.append("ip_forward changed")
    if os.path.exists(f"/sys/class/net/{BRIDGE}"):
        left.append(f"bridge {BRIDGE}")
    for path in (f"/run/{NAME}-docker", f"/run/{NAME}-containerd", f"/var/lib/{NAME}"):
        if os.path.exists(path):
            left.append(f"directory {path}")
    if not before["run_containerd"] and os.path.exists("/run/containerd"):
        left.append("directory /run/containerd")
    if not before["run_docker"] and os.path.exists("/run/docker"):
        left.append("directory /run/docker")
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = read(f"/proc/{pid}/cmdline", "rb")
        except OSError:
            continue
        if NAME.encode() in cmdline:
            left.append(f"process {pid}: {cmdline[:80]!r}")
    for hierarchy in os.listdir("/sys/fs/cgroup"):
        if os.path.isdir(f"/sys/fs/cgroup/{hierarchy}/{NAME}-docker"):
            left.append(f"cgroup /sys/fs/cgroup/{hierarchy}/{NAME}-docker")
    return left


class EngineDaemons(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.before = {
            "rules": iptables_rules(),
            "ip_forward": read("/proc/sys/net/ipv4/ip_forward"),
            "run_containerd": os.path.exists("/run/containerd"),
            "run_docker": os.path.exists("/run/docker"),
        }
        cls.work = tempfile.mkdtemp(prefix=f"cvbit-scripts-{PID}-")
        rootfs = os.path.join(cls.work, "rootfs")
        for d in ("bin", "proc", "dev", "sys", "tmp", "etc", "www"):
            os.makedirs(os.path.join(rootfs, d))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin/busybox"))
        for applet in ("sh", "cat", "httpd", "sleep", "true"):
            os.symlink("busybox", os.path.join(rootfs, "bin", applet))
        with open(os.path.join(rootfs, "www/index.html"), "w") as f:
            f.write("published-through-the-bridge\n")
        cls.archive = os.path.join(cls.work, "image.tar")
        cls.image = f"localhost/cvbit-scripts:{PID}"
        run(os.path.join(SCRIPTS, "oci-archive"), rootfs, cls.image, cls.archive)
        cls.start = run(os.path.join(SCRIPTS, "dockerd-start"), "--name", NAME, "--bridge", BRIDGE,
                        "--subnet", SUBNET, "--iptables", "on")

    @classmethod
    def tearDownClass(cls):
        run(os.path.join(SCRIPTS, "containerd-start"), "--name", NAME, "--stop", "--purge",
            check=False)
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_1_start_check_and_idempotence(self):
        self.assertIn(f"DOCKER_HOST=unix://{SOCK}", self.start.stderr)
        check = run(os.path.join(SCRIPTS, "dockerd-start"), "--name", NAME, "--check").stdout
        self.assertIn("storage driver overlay2", check)
        self.assertIn("cgroup driver cgroupfs", check)
        self.assertIn(f"bridge {BRIDGE} {SUBNET}, iptables on", check)
        self.assertIn("host condition:", check)
        again = run(os.path.join(SCRIPTS, "dockerd-start"), "--name", NAME, "--bridge", BRIDGE,
                    "--subnet", SUBNET, "--iptables", "on")
        self.assertIn("already running", again.stderr)
        self.assertNotEqual(
            run(os.path.join(SCRIPTS, "dockerd-start"), "--name", "cvbit-absent", "--check",
                check=False).returncode, 0)

    def test_2_runtime_added_and_removed_without_restart(self):
        pid = read(f"/run/{NAME}-docker/docker.pid").strip()
        r = run(os.path.join(SCRIPTS, "dockerd-start"), "--name", NAME, "--bridge", BRIDGE,
                "--subnet", SUBNET, "--runtime", "runc-again=/usr/sbin/runc")
        self.assertIn("reloaded", r.stderr)
        self.assertIn("runc-again", docker("info", "--format", "{{json .Runtimes}}").stdout)
        run(os.path.join(SCRIPTS, "dockerd-start"), "--name", NAME, "--bridge", BRIDGE,
            "--subnet", SUBNET, "--remove-runtime", "runc-again")
        self.assertNotIn("runc-again", docker("info", "--format", "{{json .Runtimes}}").stdout)
        self.assertEqual(read(f"/run/{NAME}-docker/docker.pid").strip(), pid,
                         "a runtime change restarted dockerd")

    def test_3_published_port_and_host_network(self):
        docker("load", "-i", self.archive)
        cid = docker("run", "-d", "-p", "18080:80", self.image, "/bin/httpd", "-f", "-p", "80",
                     "-h", "/www").stdout.strip()
        try:
            nat = run("iptables", "-t", "nat", "-S", "DOCKER").stdout
            self.assertIn(f"-d {GW}/32 ! -i {BRIDGE} -p tcp -m tcp --dport 18080 -j DNAT", nat)
            body = None
            for _ in range(50):
                try:
                    # No proxy from the environment: the address is the bridge's own.
                    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                    with opener.open(f"http://{GW}:18080/", timeout=2) as response:
                        body = response.read().decode()
                    break
                except OSError:
                    time.sleep(0.1)
            self.assertEqual(body, "published-through-the-bridge\n")
        finally:
            docker("rm", "-f", cid)
        host = docker("run", "--rm", "--network", "host", self.image, "/bin/cat",
                      "/proc/net/dev").stdout
        self.assertIn(BRIDGE, host, "--network host does not show the host's interfaces")

    def test_4_crun_runs_under_the_daemons(self):
        if not os.path.exists("/usr/bin/crun"):
            self.skipTest("crun is not installed")
        r = docker("run", "--rm", "--runtime", "crun", self.image, "/bin/true", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_5_stop_leaves_the_host_as_it_was(self):
        docker("rmi", "-f", self.image)
        stop = run(os.path.join(SCRIPTS, "containerd-start"), "--name", NAME, "--stop", "--purge")
        left = leftovers(self.before)
        self.assertEqual(left, [], f"left after --stop --purge: {left}; the scripts said: {stop.stderr}")
        # The check can fail: a rule naming the bridge, left on purpose, is reported.
        run("iptables", "-t", "filter", "-A", "FORWARD", "-o", BRIDGE, "-j", "ACCEPT")
        try:
            self.assertEqual(leftovers(self.before),
                             [f"iptables: filter -A FORWARD -o {BRIDGE} -j ACCEPT"])
        finally:
            run("iptables", "-t", "filter", "-D", "FORWARD", "-o", BRIDGE, "-j", "ACCEPT")


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: needs root (daemons, iptables, bridges)")
        sys.exit(77)
    for program in ("dockerd", "containerd", "iptables"):
        if shutil.which(program) is None:
            print(f"skipped: {program} is not installed (scripts/setup installs docker.io and containerd)")
            sys.exit(77)
    if not os.path.exists(DOCKER):
        print(f"skipped: {DOCKER} is not installed (docker.io)")
        sys.exit(77)
    sys.argv = sys.argv[:1]
    unittest.main(verbosity=2)
