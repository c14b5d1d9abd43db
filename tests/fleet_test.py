#!/usr/bin/python3
"""scripts/fleet for real, on this machine: a two-host fleet through Ansible, plus one dead host.

  tests/fleet_test.py SOURCE_DIR        (ctest: fleet_test, labels root integration)

Hosts of the inventory it writes:
  local     this machine, ansible_connection=local;
  nshost    this machine again, reached over SSH: a network namespace (fleet-<pid>) with its own
            sshd (openssh-server; config, host key, authorized key, pid file all in a temp dir),
            joined to the host by a veth pair on a private /30 in 169.254.0.0/16 that the test
            makes; Ansible logs in with a key made here, host key checking off for it;
  deadhost  the same address on a port where nothing listens: must be reported failed, with
            Ansible's reason, while the two others land.
Both live hosts run the same checkout (cvbench_sync=false): a short sweep (startup suite, native
and cvrun, 3 repetitions), one after the other since they are the same machine (the sweep lock).
local runs the project's scripts/setup and scripts/build first; nshost, the same checkout, skips
them (cvbench_prepare=false) to keep the test short.
The merged report must show both hosts side by side. Everything made here is removed in a
finally block (also on SIGTERM), and the test then checks that no namespace, veth, sshd or key is
left. Skips (exit 77) with the reason when not root or ansible/sshd are not installed.
"""
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77


def sh(*cmd, check=True, **kw):
    r = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def used_networks():
    out = sh("ip", "-o", "-4", "addr", "show").stdout
    return [ipaddress.ip_interface(l.split()[3]).network for l in out.splitlines() if len(l.split()) > 3]


def pick_subnet():
    """A /30 in 169.254.0.0/16 that no interface here uses."""
    used = used_networks()
    for _ in range(100):
        net = ipaddress.ip_network(f"169.254.{random.randint(1, 254)}.{random.randrange(0, 256, 4)}/30")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free /30 in 169.254.0.0/16")


class Fail(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Fail(msg)


def main():
    src = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    if os.geteuid() != 0:
        print("SKIPPED: needs root (network namespace, veth, sshd)")
        return SKIP
    missing = [p for p in ("ansible-playbook", "ansible-inventory", "ssh", "ssh-keygen", "ip", "flock", "nsenter")
               if not shutil.which(p)] + [p for p in ("/usr/sbin/sshd",) if not os.path.exists(p)]
    if missing:
        print(f"SKIPPED: not installed: {', '.join(missing)} (scripts/setup installs ansible-core and openssh-server)")
        return SKIP
    if not os.path.exists(os.path.join(src, "build", "bin", "cvbench")):
        print(f"SKIPPED: {src}/build/bin/cvbench is not built (scripts/build)")
        return SKIP

    pid = os.getpid()
    ns = f"fleet-{pid}"
    veth_host, veth_ns = f"cvbfh{pid % 100000}", f"cvbfn{pid % 100000}"
    tmp = tempfile.mkdtemp(prefix="cvb-fleet-test-")
    sshd = None
    fleet = None
    made_run_sshd = False
    made = []  # what to check is gone afterwards

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_term)
    started = time.monotonic()
    status = 1
    try:
        net = pick_subnet()
        host_ip, ns_ip = [str(a) for a in net.hosts()]
        sh("ip", "netns", "add", ns)
        made.append(("netns", ns))
        sh("ip", "link", "add", veth_host, "type", "veth", "peer", "name", veth_ns)
        made.append(("link", veth_host))
        sh("ip", "link", "set", veth_ns, "netns", ns)
        sh("ip", "addr", "add", f"{host_ip}/30", "dev", veth_host)
        sh("ip", "link", "set", veth_host, "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{ns_ip}/30", "dev", veth_ns)
        sh("ip", "netns", "exec", ns, "ip", "link", "set", veth_ns, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{tmp}/host_key")
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{tmp}/client_key")
        shutil.copy(f"{tmp}/client_key.pub", f"{tmp}/authorized_keys")
        with open(f"{tmp}/sshd_config", "w") as f:
            f.write(f"""ListenAddress {ns_ip}
Port 22
HostKey {tmp}/host_key
PidFile {tmp}/sshd.pid
AuthorizedKeysFile {tmp}/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
Subsystem sftp /usr/lib/openssh/sftp-server
""")
        if not os.path.isdir("/run/sshd"):  # sshd's privilege separation directory
            os.makedirs("/run/sshd", mode=0o755)
            made_run_sshd = True
        sshd_log = open(f"{tmp}/sshd.log", "w")
        # nsenter, not `ip netns exec`: that one also makes a mount namespace with a fresh /sys
        # (no cgroup mounts under it), and the "host" would not be this machine any more.
        sshd = subprocess.Popen(["nsenter", f"--net=/run/netns/{ns}", "/usr/sbin/sshd", "-D", "-e", "-f",
                                 f"{tmp}/sshd_config"],
                                stdout=sshd_log, stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection((ns_ip, 22), timeout=0.5).close()
                break
            except OSError:
                expect(sshd.poll() is None, f"sshd exited {sshd.returncode}: {open(f'{tmp}/sshd.log').read()}")
                time.sleep(0.1)
        else:
            raise Fail("sshd in the namespace does not answer")

        common = (f"ansible_python_interpreter=/usr/bin/python3 cvbench_sync=false cvbench_dir={src} "
                  f"cvbench_lock={tmp}/sweep.lock")
        ssh_opts = ("ansible_user=root ansible_ssh_private_key_file={k} "
                    "ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                    "-o ConnectTimeout=5' ansible_ssh_args='-o ControlMaster=no -o ControlPersist=no'"
                    ).format(k=f"{tmp}/client_key")
        with open(f"{tmp}/inventory.ini", "w") as f:
            f.write(f"""[cvbench]
local ansible_connection=local {common} cvbench_work={tmp}/work-local
nshost ansible_host={ns_ip} {ssh_opts} {common} cvbench_work={tmp}/work-ns cvbench_prepare=false
deadhost ansible_host={ns_ip} ansible_port=2 {ssh_opts} {common} cvbench_work={tmp}/work-dead
""")
        env = dict(os.environ, ANSIBLE_HOME=f"{tmp}/ansible-home", ANSIBLE_LOCAL_TEMP=f"{tmp}/ansible-local",
                   ANSIBLE_REMOTE_TEMP=f"{tmp}/ansible-remote", ANSIBLE_HOST_KEY_CHECKING="False",
                   ANSIBLE_SSH_CONTROL_PATH_DIR=f"{tmp}/ansible-cp", ANSIBLE_PIPELINING="True")
        out = f"{tmp}/fleet-run"
        cmd = ["/usr/bin/python3", f"{src}/scripts/fleet", f"{tmp}/inventory.ini", "--out", out,
               "--suites", "startup", "--launchers", "native,cvrun", "--repetitions", "3", "--no-image-inspect"]
        print("+", " ".join(cmd), flush=True)
        t0 = time.monotonic()
        # Its own process group: on a timeout, ansible-playbook and the sweeps under it go too.
        fleet = subprocess.Popen(cmd, env=env, start_new_session=True)
        try:
            fleet.wait(timeout=400)
        except subprocess.TimeoutExpired:
            os.killpg(fleet.pid, signal.SIGKILL)
            fleet.wait()
            raise
        r = fleet
        print(f"scripts/fleet exited {r.returncode} after {time.monotonic() - t0:.1f} s", flush=True)

        # A dead host makes the fleet exit 3, and the others still land.
        expect(r.returncode == 3, f"scripts/fleet exit {r.returncode}, expected 3 (one host failed)")
        with open(f"{out}/fleet.json") as f:
            fleet_json = json.load(f)
        hosts = fleet_json["hosts"]
        expect(sorted(hosts) == ["deadhost", "local", "nshost"], f"hosts {sorted(hosts)}")
        for h in ("local", "nshost"):
            expect(hosts[h]["status"] == "ok", f"{h}: {hosts[h]}")
            expect(hosts[h]["gate"]["verdict"] == "not gated", f"{h} gate {hosts[h]['gate']}")
            with open(f"{out}/hosts/{h}/startup.json") as f:
                doc = json.load(f)
            reps = {}
            for b in doc["benchmarks"]:
                if b.get("run_type") == "iteration" and not b.get("error_occurred"):
                    reps[b["run_name"]] = reps.get(b["run_name"], 0) + 1
            expect(reps == {"startup/native": 3, "startup/cvrun": 3}, f"{h}: repetitions {reps}")
            with open(f"{out}/hosts/{h}/host") as f:
                expect(f.read().strip() == h, f"{h}: host file")
            expect(os.path.exists(f"{out}/hosts/{h}/REPORT.md"), f"{h}: no REPORT.md from its sweep")
        dead = hosts["deadhost"]
        expect(dead["status"] == "failed" and "UNREACHABLE" in dead["reason"], f"deadhost: {dead}")
        with open(f"{out}/FLEET.md") as f:
            md = f.read()
        print(md)
        expect("| local | ok |" in md and "| nshost | ok |" in md, "FLEET.md lacks a row per host")
        expect("| deadhost | **failed**: UNREACHABLE" in md, "FLEET.md does not name the dead host's reason")
        expect("| entry | local | nshost |" in md, "FLEET.md has no hosts-side-by-side table")
        expect("| cvrun / native |" in md, "FLEET.md has no per-host ratio")
        for chart in ("fleet_startup.png", "fleet_ratios.png"):
            expect(os.path.getsize(f"{out}/{chart}") > 1000, f"{chart} missing")
        with open(f"{tmp}/sshd.log") as f:
            expect("Accepted publickey for root" in f.read(), "nshost was not reached over SSH")
        # Nothing of the hosts' working copies is left on them.
        for w in ("work-local", "work-ns"):
            left = [os.path.join(d, x) for d, _, fs in os.walk(f"{tmp}/{w}/runs") for x in fs]
            expect(not left, f"{w}: left on the host: {left}")
        print(f"fleet test: passed ({time.monotonic() - started:.0f} s)")
        status = 0
    except (Fail, RuntimeError, subprocess.TimeoutExpired, KeyboardInterrupt) as e:
        print(f"fleet test: FAILED: {e}")
        status = 1
    finally:
        keep = os.environ.get("CVB_FLEET_TEST_KEEP")  # debugging: a copy of the fleet run
        if keep and os.path.isdir(f"{tmp}/fleet-run"):
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(f"{tmp}/fleet-run", keep)
        # Every process in the namespace (sshd's sessions outlive the listener) and under the
        # fleet's process group, then the listener.
        try:
            ns_inode = os.stat(f"/run/netns/{ns}").st_ino
        except OSError:
            ns_inode = None
        for p in os.listdir("/proc"):
            if not p.isdigit() or int(p) == os.getpid():
                continue
            try:
                if ns_inode is not None and os.stat(f"/proc/{p}/ns/net").st_ino == ns_inode:
                    os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass
        if fleet is not None and fleet.poll() is None:
            os.killpg(fleet.pid, signal.SIGKILL)
            fleet.wait()
        if sshd is not None:
            sshd.terminate()
            try:
                sshd.wait(10)
            except subprocess.TimeoutExpired:
                sshd.kill()
                sshd.wait()
        sh("ip", "netns", "del", ns, check=False)  # takes the namespace's end of the veth pair along
        sh("ip", "link", "del", veth_host, check=False)
        if made_run_sshd:
            shutil.rmtree("/run/sshd", ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    # Leftovers are failures.
    left = []
    if ns in sh("ip", "netns", "list").stdout.split():
        left.append(f"netns {ns}")
    if sh("ip", "link", "show", veth_host, check=False).returncode == 0:
        left.append(f"link {veth_host}")
    if sshd is not None and os.path.exists(f"/proc/{sshd.pid}"):
        left.append(f"sshd {sshd.pid}")
    if sh("pgrep", "-f", f"{tmp}/sshd_config", check=False).stdout.strip():
        left.append("an sshd with the test's config")
    if os.path.exists(tmp):
        left.append(tmp)
    if left:
        print(f"fleet test: FAILED: left behind: {', '.join(left)}")
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
