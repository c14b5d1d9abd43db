#!/usr/bin/python3
"""Boot-to-ready and QEMU memory of guest kernels, side by side (issue 7's measurement).

A stand-alone reproduction tool, not part of the suite: `cvbench run --kernel distro,minimal` is
where the numbers belong once the VM launchers take a kernel profile. Each run starts QEMU (TCG,
microvm, acpi=off, 1 vCPU by default) with the kernel and a tiny busybox initramfs whose /init
prints a ready line; launch-to-ready is the host time from spawning QEMU to that line on the
serial console. QEMU's PSS is read from /proc/<pid>/smaps_rollup a moment after ready. Kernels
are interleaved run by run so that drift in the host's load hits all of them alike.

  bench_boot.py --kernel minimal=<vmlinux>:"noapictimer no_timer_check reboot=t" \
                --kernel distro=<vmlinux>:"cryptomgr.notests reboot=t" --runs 20
"""
import argparse
import os
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

READY = b"CVB-BENCH-READY"
INIT = b"""#!/bin/busybox sh
echo CVB-BENCH-READY
exec /bin/busybox sleep 3600
"""


def newc(entries):
    """An uncompressed newc cpio archive from (name, mode, data, rdev_major, rdev_minor)."""
    out = bytearray()
    for ino, (name, mode, data, rmaj, rmin) in enumerate(entries + [("TRAILER!!!", 0, b"", 0, 0)], 1):
        nlink = 2 if mode & 0o040000 else 1
        fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmaj, rmin, len(name) + 1, 0)
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        out += b"\0" * (-len(out) % 4) + data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def make_initramfs(path, busybox):
    with open(busybox, "rb") as f:
        bb = f.read()
    entries = [(d, 0o040755, b"", 0, 0) for d in ("bin", "dev", "proc", "sys")]
    entries += [("dev/console", 0o020600, b"", 5, 1), ("bin/busybox", 0o100755, bb, 0, 0),
                ("init", 0o100755, INIT, 0, 0)]
    with open(path, "wb") as f:
        f.write(newc(entries))


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def boot_once(args, vmlinux, cmdline, initrd):
    argv = ["qemu-system-x86_64", "-M", args.machine, "-accel", "tcg", "-m", str(args.mem),
            "-smp", str(args.smp), "-nographic", "-no-reboot", "-no-user-config",
            "-kernel", vmlinux, "-initrd", initrd,
            "-append", f"console=ttyS0 panic=-1 {cmdline}".strip()] + args.qemu_arg
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    buf = b""
    ready = None
    try:
        deadline = start + args.timeout
        while ready is None and time.monotonic() < deadline:
            r, _, _ = select.select([proc.stdout], [], [], 0.05)
            if r:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                if READY in buf:
                    ready = time.monotonic() - start
        pss = None
        if ready is not None:
            time.sleep(args.settle)
            pss = pss_kib(proc.pid) / 1024
        return ready, pss, buf
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--kernel", action="append", required=True,
                   help="NAME=VMLINUX[:CMDLINE] (repeatable)")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--mem", type=int, default=128)
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--machine", default="microvm,acpi=off")
    p.add_argument("--qemu-arg", action="append", default=[],
                   help="extra QEMU argument (repeatable), e.g. --qemu-arg=-cpu --qemu-arg=max")
    p.add_argument("--busybox", default="/bin/busybox")
    p.add_argument("--settle", type=float, default=0.5, help="seconds after ready before PSS")
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args()

    kernels = []
    for spec in args.kernel:
        name, rest = spec.split("=", 1)
        vmlinux, _, cmdline = rest.partition(":")
        kernels.append((name, vmlinux, cmdline))
    with tempfile.TemporaryDirectory(prefix="cvb-bench-boot-") as tmp:
        initrd = os.path.join(tmp, "initramfs.cpio")
        make_initramfs(initrd, args.busybox)
        results = {name: ([], []) for name, _, _ in kernels}
        failures = {name: 0 for name, _, _ in kernels}
        for i in range(args.runs):
            for name, vmlinux, cmdline in kernels:
                ready, pss, console = boot_once(args, vmlinux, cmdline, initrd)
                if ready is None:
                    failures[name] += 1
                    sys.stderr.write(f"{name}: run {i}: no ready line; console tail:\n"
                                     f"{console[-600:].decode(errors='replace')}\n")
                    continue
                results[name][0].append(ready)
                results[name][1].append(pss)
    print(f"# machine={args.machine} accel=tcg mem={args.mem}MiB smp={args.smp} runs={args.runs} "
          f"extra={' '.join(args.qemu_arg)} loadavg={os.getloadavg()[0]:.1f}")
    print(f"{'kernel':10} {'ready_median_s':>14} {'min':>6} {'max':>6} {'pss_median_MiB':>15} "
          f"{'failed':>6}")
    for name, _, _ in kernels:
        ready, pss = results[name]
        if not ready:
            print(f"{name:10} {'-':>14} {'-':>6} {'-':>6} {'-':>15} {failures[name]:>6}")
            continue
        print(f"{name:10} {statistics.median(ready):14.3f} {min(ready):6.3f} {max(ready):6.3f} "
              f"{statistics.median(pss):15.1f} {failures[name]:>6}")
    if len(kernels) == 2 and all(results[n][0] for n, _, _ in kernels):
        a, b = (statistics.median(results[n][0]) for n, _, _ in kernels)
        print(f"# ratio {kernels[0][0]}/{kernels[1][0]} launch-to-ready: {a / b:.2f}")


if __name__ == "__main__":
    main()
