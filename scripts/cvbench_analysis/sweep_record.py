"""What scripts/sweep recorded beside a run (sweep.json): its scales, what it left out and why,
and its wall time, as the report words them."""
import json
import os


def sweep_record(run_dir):
    """scripts/sweep's sweep.json of the run ({} when the run was not a sweep)."""
    try:
        with open(os.path.join(run_dir, "sweep.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def sweep_scale(scales, key):
    """The value of KEY=VALUE in sweep.json's "scales" string (None when absent)."""
    for item in scales.split():
        k, _, v = item.partition("=")
        if k == key:
            return v
    return None


def throughput_skip_notes(scales):
    """Why scripts/sweep left launchers out of throughput (from sweep.json's scales)."""
    skipped = sweep_scale(scales, "throughput_skipped")
    if skipped is None and sweep_scale(scales, "throughput_launchers") == "all-but-podman":
        skipped = "podman/.*"  # sweep.json of runs before the key was renamed
    if not skipped:
        return []
    notes = []
    if "podman" in skipped:
        notes.append("The sweep leaves podman out of throughput: inside the container the work is its "
                     "runtime's (crun or cvrun, both measured bare), and conmon is off the data path; "
                     "podman's own costs are in startup, density and scale-out.")
    if "libvirt" in skipped:
        notes.append("This sweep (--quick) leaves libvirt out of throughput: its guest runs the same "
                     "QEMU and kernel as the qemu launcher's, and no verdict reads VM throughput.")
    return [line for note in notes for line in ("", note)]  # a paragraph each


def kernels_note(scales):
    kernels = sweep_scale(scales, "kernels")
    if not kernels or set(kernels.split(",")) >= {"distro", "minimal"}:
        return []
    return ["", f"VMs ran the {kernels} kernel profile only in this sweep (--quick), so the profiles "
            "are not compared and every VM figure is that profile's."]


def sweep_timing_line(run_dir):
    rec = sweep_record(run_dir)
    if not rec:
        return "No sweep.json: this run was not made by scripts/sweep, so its wall time is not recorded."
    steps = ", ".join(f"{s['step']} {s['wall_s'] // 60}m{s['wall_s'] % 60:02d}s"
                      + ("" if s.get("exit") in (0, None) else f" (exit {s['exit']})")
                      for s in rec.get("steps", []))
    total = rec.get("wall_s", 0)
    return (f"Wall time of the sweep (sweep.json): {total // 60}m{total % 60:02d}s from "
            f"{rec.get('started_utc', '?')}; {steps}; load average {' '.join(rec.get('loadavg_start', []))} "
            f"at the start, {' '.join(rec.get('loadavg_now', []))} at the last step.")
