// Guest kernels for the VM side of the image. Two profiles:
//   distro  — Debian's linux-image-*-cloud-amd64, fetched with `apt-get download` and unpacked
//             with `dpkg -x` into the cache (the host is not changed); raw vmlinux extracted from
//             the bzImage; virtio drivers are modules loaded by the initramfs in dependency order.
//   minimal — built from Debian's linux-source package with the project's own configuration
//             fragment (image/kernel/), everything the workload needs built in.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::image {

struct GuestKernel {
  std::string profile;   // "distro" or "minimal"
  std::string version;   // kernel release, e.g. "6.1.0-28-cloud-amd64"
  std::string vmlinux;   // uncompressed ELF kernel that QEMU boots directly (PVH entry)
  std::string bzimage;   // the compressed image, where there is one (for comparison)
  std::string modules_dir;           // host directory holding the .ko files; empty if all built in
  std::vector<std::string> modules;  // paths relative to modules_dir, in load order
  std::string cmdline;   // the profile's own extra kernel command line
};

// Progress lines for long steps (downloads, kernel builds), printed by the caller.
using ProgressFn = std::function<void(const std::string&)>;

// Fetches (once, cached) Debian's cloud kernel.
Result<GuestKernel> PrepareDistroKernel(const std::string& cache_dir, const ProgressFn& progress);
// Builds (once, cached by a hash of the configuration and the source version) the minimal kernel.
Result<GuestKernel> PrepareMinimalKernel(const std::string& cache_dir, const ProgressFn& progress);
// By profile name; an error names an unknown profile.
Result<GuestKernel> PrepareGuestKernel(const std::string& profile, const std::string& cache_dir,
                                       const ProgressFn& progress);

}  // namespace cvb::image
