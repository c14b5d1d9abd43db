// The image: one static workload program (cvb-workload) plus busybox-static, built once from one
// source and packed two ways: as an OCI bundle (a read-only rootfs + config.json) for every
// container runtime, and as a VM initramfs (see vm_artifacts.h). Images live in a cache keyed by
// the hash of their content, so a rebuilt workload makes a new image and an unchanged one is
// reused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "cvb/common/result.h"
#include "cvb/image/confinement.h"

namespace cvb::image {

// Where the image's content comes from. Empty fields are found automatically.
struct ImageSource {
  std::string workload_binary;  // default: cvb-workload beside the running executable
  std::string busybox;          // default: /bin/busybox (Debian's busybox-static)
  std::string cache_dir;        // default: CacheDir()
};

struct Image {
  std::string hash;          // content hash of workload + busybox + layout version
  std::string dir;           // <cache>/images/<hash>
  std::string rootfs;        // <dir>/rootfs: /bin/busybox, applet links, /bin/cvb-workload
  std::string workload_in_rootfs = "/bin/cvb-workload";
  std::string workload_binary;  // host path of the workload that was packed
  std::string busybox;          // host path of the busybox that was packed
};

// ${CVB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cvbench}
std::string CacheDir();
// Directory of the running executable (/proc/self/exe's parent).
std::string SelfExeDir();

// Builds the image into the cache unless an image with the same content is there already.
// Safe against concurrent builders (builds in a temporary directory, then renames).
Result<Image> BuildImage(const ImageSource& source = {});

struct BundleMount {
  std::string destination;
  std::string source;
  std::string type = "bind";
  std::vector<std::string> options = {"rbind", "rw"};
};

// What differs between bundles of one image.
struct BundleOptions {
  std::vector<std::string> args;  // full argv inside the container, e.g. {"/bin/cvb-workload", "ready"}
  std::vector<std::string> env = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin"};
  bool readonly_root = true;
  std::string hostname = "cvb";
  // Namespaces to create; default: pid, mount, uts, ipc, network.
  std::vector<std::string> namespaces = {"pid", "mount", "uts", "ipc", "network"};
  // Join this network namespace (a path such as /run/netns/x) instead of creating one.
  std::string netns_path;
  // linux.cgroupsPath; empty = let the runtime choose.
  std::string cgroups_path;
  // linux.resources.memory.limit; 0 = no limit.
  uint64_t memory_limit = 0;
  std::vector<BundleMount> extra_mounts;
  // linux.resources.cpu.cpus (a cpuset); empty = not set.
  std::string cpus;
  // Capabilities, no_new_privs, masked/read-only paths and seccomp (confinement.h); unset: the
  // spec-default profile (the bundle as it always was).
  std::optional<Confinement> confinement;
};

// The OCI runtime-spec 1.0 config.json for the image with these options. root.path is the
// image's absolute rootfs path, so one read-only rootfs serves every bundle.
nlohmann::json MakeOciConfig(const Image& image, const BundleOptions& options);
// Writes <dir>/config.json (creating dir); returns dir.
Result<std::string> WriteBundle(const std::string& dir, const Image& image,
                                const BundleOptions& options);

// Sizes for `cvbench image inspect` (the "lightweight" claim, measured).
struct ImageSizes {
  uint64_t rootfs_bytes = 0;    // apparent size of the rootfs files
  uint64_t workload_bytes = 0;
  uint64_t busybox_bytes = 0;
};
Result<ImageSizes> MeasureImage(const Image& image);

}  // namespace cvb::image
