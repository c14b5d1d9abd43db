"""The docker-default confinement profile is what `docker run` gives, checked against dockerd itself.

A dockerd of the test's own (scripts/dockerd-start, no bridge) runs a container with its
defaults; the config.json it handed runc is read from containerd's task directory. A one-entry
cvbench startup run over runc with the default profile records the config.json each instance got
(<out>/instances/runc/config.json). The two must agree on capabilities (each set), masked and
read-only paths, no_new_privs, and the seccomp filter: default action, architectures and every
(syscall, action, args, errno) the filter holds. And the check can fail: the spec-default profile's
bundle is compared the same way and must differ (capabilities, seccomp).

Run as: /usr/bin/python3 tests/docker_profile_test.py <source dir> <build bin dir>. Exit 77
(skip) with the reason when not root, without docker.io, or without the unpacked Docker sources.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(SRC, "build", "bin"))
SCRIPTS = os.path.join(SRC, "scripts")
DOCKER = "/usr/bin/docker"
NAME = f"cvbit-profile-{os.getpid()}"
SOCK = f"/run/{NAME}-docker/docker.sock"
DOCKER_SOURCES = "/var/lib/cvbench/pkg/golang-github-docker-docker-dev/DEBIAN/control"


def run(*argv, check=True, timeout=300):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"{argv} exited {r.returncode}: {r.stderr[-2000:]}{r.stdout[-2000:]}")
    return r


def docker(*args):
    return run(DOCKER, "-H", f"unix://{SOCK}", *args)


def confinement(config):
    """What a config.json confines its process with, in a form two runtimes' configs compare in."""
    seccomp = config["linux"].get("seccomp") or {}
    rules = set()
    for rule in seccomp.get("syscalls", []):
        for name in rule["names"]:
            rules.add((name, rule["action"], json.dumps(rule.get("args") or [], sort_keys=True),
                       rule.get("errnoRet")))
    caps = config["process"].get("capabilities", {})
    return {
        "no_new_privileges": bool(config["process"].get("noNewPrivileges")),
        "capabilities": {k: sorted(caps.get(k, [])) for k in ("bounding", "effective", "permitted", "ambient")},
        "masked_paths": sorted(config["linux"].get("maskedPaths", [])),
        "readonly_paths": sorted(config["linux"].get("readonlyPaths", [])),
        "seccomp_default": seccomp.get("defaultAction"),
        "seccomp_default_errno": seccomp.get("defaultErrnoRet"),
        "seccomp_architectures": seccomp.get("architectures"),
        "seccomp_rules": rules,
    }


def differences(a, b):
    out = []
    for key in a:
        if a[key] == b[key]:
            continue
        if key == "seccomp_rules":
            out.append(f"{key}: only dockerd's {sorted(a[key] - b[key])[:8]}, only cvbench's {sorted(b[key] - a[key])[:8]}")
        else:
            out.append(f"{key}: dockerd {a[key]}, cvbench {b[key]}")
    return out


class DockerDefaultProfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix=f"{NAME}-")
        rootfs = os.path.join(cls.work, "rootfs")
        for d in ("bin", "proc", "dev", "sys", "tmp", "etc"):
            os.makedirs(os.path.join(rootfs, d))
        shutil.copy("/bin/busybox", os.path.join(rootfs, "bin/busybox"))
        os.symlink("busybox", os.path.join(rootfs, "bin/sleep"))
        archive = os.path.join(cls.work, "image.tar")
        image = f"localhost/{NAME}:1"
        run(os.path.join(SCRIPTS, "oci-archive"), rootfs, image, archive)
        run(os.path.join(SCRIPTS, "dockerd-start"), "--name", NAME, "--no-bridge", "--iptables", "off")
        docker("load", "-i", archive)
        cid = docker("run", "-d", "--network", "none", image, "/bin/sleep", "120").stdout.strip()
        found = glob.glob(f"/run/{NAME}-containerd/io.containerd.runtime.v2.task/*/{cid}/config.json")
        if len(found) != 1:
            raise AssertionError(f"dockerd's bundle for {cid} not found (got {found})")
        with open(found[0]) as f:
            cls.dockerd = json.load(f)
        docker("rm", "-f", cid)
        cls.cvbench = {}
        for profile in ("docker-default", "spec-default"):
            out = os.path.join(cls.work, f"run-{profile}")
            run(os.path.join(BIN, "cvbench"), "run", "--suite", "startup", "--launchers", "runc",
                "--repetitions", "1", "--no-warmup", "--param", f"profile={profile}", "--out", out)
            configs = glob.glob(os.path.join(out, "instances", "*", "config.json"))
            if len(configs) != 1:
                raise AssertionError(f"cvbench's {profile} run recorded {configs}, expected one config.json")
            with open(configs[0]) as f:
                cls.cvbench[profile] = json.load(f)

    @classmethod
    def tearDownClass(cls):
        run(os.path.join(SCRIPTS, "containerd-start"), "--name", NAME, "--stop", "--purge", check=False)
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_docker_default_is_what_dockerd_gives(self):
        want = confinement(self.dockerd)
        self.assertEqual(len(want["capabilities"]["bounding"]), 14, "dockerd's default capability set changed?")
        self.assertGreater(len(want["seccomp_rules"]), 300)
        self.assertEqual(differences(want, confinement(self.cvbench["docker-default"])), [])

    def test_the_comparison_can_fail(self):
        diff = differences(confinement(self.dockerd), confinement(self.cvbench["spec-default"]))
        kinds = {d.split(":")[0] for d in diff}
        self.assertIn("capabilities", kinds)
        self.assertIn("seccomp_rules", kinds)
        self.assertIn("no_new_privileges", kinds)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: needs root (dockerd, runc)")
        sys.exit(77)
    if shutil.which("dockerd") is None or shutil.which("containerd") is None or not os.path.exists(DOCKER):
        print("skipped: docker.io/containerd are not installed (scripts/setup installs them)")
        sys.exit(77)
    if not os.path.exists(DOCKER_SOURCES):
        print(f"skipped: {DOCKER_SOURCES} absent: Docker's sources are not unpacked (scripts/setup)")
        sys.exit(77)
    sys.argv = sys.argv[:1]
    unittest.main(verbosity=2)
