"""Claim 7: "an image is a lightweight, stand-alone package".

Rule: holds when the OCI bundle's rootfs is smaller than what a VM needs to run the same workload
(its kernel + an initramfs holding the same rootfs) for every kernel profile; exact sizes from
`cvbench image inspect` (image_inspect.json), so no interval.
"""
from .. import verdicts as V
from ..run import image_inspect

TEXT = "An image is a lightweight, stand-alone package"
CHARTS = []


def evaluate(run):
    doc = image_inspect(run)
    if not doc:
        return V.not_tested("no image_inspect.json in the run directory (scripts/sweep saves "
                            "`cvbench image inspect` there)", "cvbench image inspect")
    bundle = doc.get("oci_bundle", {}).get("rootfs_bytes")
    vms = {p: v.get("kernel_bytes", 0) + v.get("initramfs_bytes", 0) for p, v in (doc.get("vm") or {}).items()}
    if not bundle or not vms:
        return V.not_tested("image_inspect.json lacks the bundle's size or any VM profile", "cvbench image inspect")
    ratios = {p: bundle / b for p, b in vms.items() if b > 0}
    mib = lambda b: f"{b / 2**20:.1f} MiB"  # noqa: E731
    parts = [f"{p}: kernel {mib(doc['vm'][p].get('kernel_bytes', 0))} + initramfs "
             f"{mib(doc['vm'][p].get('initramfs_bytes', 0))} = {mib(vms[p])} (bundle / VM = {ratios[p]:.2f})"
             for p in sorted(ratios)]
    largest = max(ratios, key=lambda p: ratios[p]) if ratios else None
    headline = None if largest is None else V.Headline(f"bundle / VM kernel + initramfs ({largest} kernel, the larger ratio; exact sizes)",
                          ratios[largest], ratios[largest], ratios[largest], (1.0,), "below",
                          f"bundle {mib(bundle)}, VM {mib(vms[largest])}")
    return V.Verdict(
        V.all_of([V.HOLDS if r < 1 else V.DOES_NOT_HOLD for r in ratios.values()]),
        "holds when the OCI bundle's rootfs (all a container needs besides the host kernel) is smaller "
        "than what a VM needs to run the same workload (its kernel + an initramfs holding the same "
        "rootfs) for every kernel profile; sizes are exact, so no interval",
        f"bundle rootfs {mib(bundle)} (workload {mib(doc['oci_bundle'].get('workload_bytes', 0))}, busybox "
        f"{mib(doc['oci_bundle'].get('busybox_bytes', 0))}); a VM needs — " + "; ".join(parts),
        "cvbench image inspect (image_inspect.json)",
        f"image {doc.get('hash', '?')}; 'stand-alone' is claim 8 (the same bundle on every runtime)",
        headline=headline)
