#!/bin/bash
# Median wall time of `<runtime> run` of /bin/true, cvrun vs crun vs runc (and a bare `unshare` of
# the same namespaces as the floor), interleaved, in one
# private mount namespace without /sys/fs/cgroup/unified (crun 1.8 refuses hybrid hosts).
# Usage: compare_run.sh <cvrun binary> <bundle dir> [iterations]
# The bundle must have pid, mount, uts, ipc, network namespaces and a memory limit.
set -euo pipefail
CVRUN=${1:?cvrun binary}
BUNDLE=${2:?bundle}
N=${3:-50}
exec unshare -m --propagation private bash -s "$CVRUN" "$BUNDLE" "$N" <<'INNER'
set -euo pipefail
CVRUN=$1 BUNDLE=$2 N=$3
umount /sys/fs/cgroup/unified 2>/dev/null || true
python3 - "$CVRUN" "$BUNDLE" "$N" <<'PY'
import statistics, subprocess, sys, time
cvrun, bundle, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
runtimes = {"cvrun": cvrun, "crun": "crun", "runc": "runc"}
times = {k: [] for k in runtimes}
times["unshare"] = []  # the floor: the same namespaces, no rootfs, no cgroup
for i in range(n):
    t0 = time.monotonic()
    subprocess.run(["unshare", "--fork", "--pid", "--mount", "--net", "--uts", "--ipc", "/bin/true"])
    times["unshare"].append((time.monotonic() - t0) * 1000)
    for name, binary in runtimes.items():
        cid = f"cvb-bench-{name}-{i}"
        t0 = time.monotonic()
        r = subprocess.run([binary, "--root", f"/run/cvb-bench-{name}", "run", "--bundle", bundle, cid],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        dt = time.monotonic() - t0
        if r.returncode != 0:
            print(name, "failed:", r.stderr.decode().strip(), file=sys.stderr)
            subprocess.run([binary, "--root", f"/run/cvb-bench-{name}", "delete", "--force", cid],
                           stderr=subprocess.DEVNULL)
            continue
        times[name].append(dt * 1000)
import os
for name in runtimes:
    try:
        os.rmdir(f"/run/cvb-bench-{name}")
    except OSError:
        pass
for name, ts in times.items():
    if ts:
        print(f"{name:6s} n={len(ts):3d} median={statistics.median(ts):7.2f} ms  "
              f"p10={sorted(ts)[len(ts)//10]:7.2f}  p90={sorted(ts)[len(ts)*9//10]:7.2f}")
PY
INNER
