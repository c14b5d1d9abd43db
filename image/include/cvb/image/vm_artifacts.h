// The VM edition of the image: a guest kernel (guest_kernel.h) plus an initramfs built from the
// SAME rootfs as the OCI bundle (busybox + /bin/cvb-workload), the kernel's virtio modules and a
// small /init. The guest's /init reads what to run from the kernel command line:
//   cvb.mode=<mode>            workload mode (default "ready")
//   cvb.args=<a>,<b>,...       workload arguments, comma separated (no spaces, commas or quotes)
//   cvb.ip=<addr>/<prefix>     configure eth0 (loads the virtio-net modules first)
//   cvb.gw=<addr>              default route (optional)
//   cvb.disk=<dev>             mount /dev/<dev> (ext4) at /data (loads virtio-blk first)
// The workload's stdout is the serial console, so its READY/RESULT/DONE lines reach the host
// there. When the workload exits, /init prints "cvb-init: exit status <n>" and does `reboot -f`
// (with reboot=t and on_reboot=destroy / -no-reboot, that ends the VM).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/image/guest_kernel.h"
#include "cvb/image/image.h"

namespace cvb::image {

// What goes into one initramfs besides the rootfs.
struct InitramfsSpec {
  std::string rootfs;       // host directory packed whole (the image's rootfs); may be empty
  GuestKernel kernel;       // its modules are packed under /lib/modules/cvb/
  std::string init_script;  // contents of /init; empty = DefaultInitScript()
};

// The /init every cvbench guest runs (a busybox sh script).
std::string DefaultInitScript();

// Writes an uncompressed newc cpio archive of the spec to out_path (atomically). Device node
// /dev/console is created inside the archive, so no root is needed on the host.
Result<void> WriteInitramfs(const InitramfsSpec& spec, const std::string& out_path);

// Builds (or finds in <cache_dir>/initramfs/<hash>.cpio) the initramfs for spec; the hash covers
// every packed byte, so a changed workload, kernel or init makes a new file.
Result<std::string> BuildInitramfs(const InitramfsSpec& spec, const std::string& cache_dir);

// A module's dependencies from its .modinfo "depends=" string (what modinfo -F depends prints),
// as module names. Empty for a module without dependencies.
Result<std::vector<std::string>> ModuleDepends(const std::string& ko_path);
// Orders modules (paths relative to dir, e.g. "kernel/drivers/virtio/virtio.ko") so that every
// module comes after the modules it depends on; a dependency missing from the list is an error.
Result<std::vector<std::string>> OrderModules(const std::string& dir,
                                              const std::vector<std::string>& modules);

// Everything a VM launcher boots.
struct VmArtifacts {
  GuestKernel kernel;
  std::string initramfs;      // path of the cpio archive
  uint64_t kernel_bytes = 0;  // size of the vmlinux QEMU loads
  uint64_t initramfs_bytes = 0;
};

// Guest kernel of the profile ("distro" or "minimal") + the default initramfs for image.
Result<VmArtifacts> PrepareVmArtifacts(const Image& image, const std::string& kernel_profile,
                                       const std::string& cache_dir, const ProgressFn& progress);

}  // namespace cvb::image
