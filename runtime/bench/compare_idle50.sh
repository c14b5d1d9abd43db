#!/bin/bash
# Starts N idle containers one after another (create + start each), then deletes them, per
# runtime (cvrun, crun, runc), in one private mount namespace without /sys/fs/cgroup/unified.
# Usage: compare_idle50.sh <cvrun binary> <bundle dir whose process idles> [N]
set -euo pipefail
CVRUN=${1:?cvrun binary}
BUNDLE=${2:?bundle}
N=${3:-50}
exec unshare -m --propagation private bash -s "$CVRUN" "$BUNDLE" "$N" <<'INNER'
set -euo pipefail
umount /sys/fs/cgroup/unified 2>/dev/null || true
python3 - "$@" <<'PY'
import ctypes, os, subprocess, sys, time
cvrun, bundle, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: we reap the inits
for name, binary in (("cvrun", cvrun), ("crun", "crun"), ("runc", "runc")):
    root = f"/run/cvb-idle-{name}"
    ids = [f"cvb-idle-{name}-{i}" for i in range(n)]
    t0 = time.monotonic()
    for cid in ids:
        subprocess.run([binary, "--root", root, "create", "--bundle", bundle, cid], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        subprocess.run([binary, "--root", root, "start", cid], check=True)
    t1 = time.monotonic()
    for cid in ids:
        subprocess.run([binary, "--root", root, "delete", "--force", cid], check=True)
    t2 = time.monotonic()
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0: break
        except ChildProcessError:
            break
    try:
        os.rmdir(root)
    except OSError:
        pass
    print(f"{name:6s} start {n}: {t1 - t0:6.2f} s   delete {n}: {t2 - t1:6.2f} s")
PY
INNER
