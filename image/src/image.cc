#include "cvb/image/image.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb::image {
namespace {

// Bump when the rootfs layout changes so cached images are rebuilt.
constexpr const char* kLayoutVersion = "rootfs-layout-1";

Result<void> CopyFile(const std::string& from, const std::string& to, int mode) {
  CVB_ASSIGN_OR_RETURN(std::string data, ReadFile(from));
  return WriteFile(to, data, mode);
}

Result<void> Symlink(const std::string& target, const std::string& link) {
  if (::symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST)
    return ErrnoError("symlink " + link);
  return Ok();
}

Result<void> PopulateRootfs(const std::string& rootfs, const ImageSource& src) {
  for (const char* d : {"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev",
                        "tmp", "run", "data", "root", "var", "var/tmp"})
    CVB_TRY(MakeDirs(rootfs + "/" + d));
  ::chmod((rootfs + "/tmp").c_str(), 01777);
  CVB_TRY(CopyFile(src.busybox, rootfs + "/bin/busybox", 0755));
  CVB_TRY(CopyFile(src.workload_binary, rootfs + "/bin/cvb-workload", 0755));
  // One link per applet, as `busybox --install -s` would make, but without running busybox in
  // the rootfs (it may be built for a foreign libc-free layout; --list is safe on the host).
  CVB_ASSIGN_OR_RETURN(std::string applets, RunChecked({src.busybox, "--list-full"}));
  for (const auto& path : Split(applets, '\n')) {
    std::string p = Trim(path);
    if (p.empty() || p == "bin/busybox") continue;
    std::string link = rootfs + "/" + p;
    if (PathExists(link)) continue;
    // Relative target so the link resolves inside any root.
    int depth = static_cast<int>(std::count(p.begin(), p.end(), '/'));
    std::string target;
    for (int i = 0; i < depth; ++i) target += "../";
    CVB_TRY(Symlink(target + "bin/busybox", link));
  }
  CVB_TRY(WriteFile(rootfs + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                            "nobody:x:65534:65534:nobody:/:/bin/false\n"));
  CVB_TRY(WriteFile(rootfs + "/etc/group", "root:x:0:\nnogroup:x:65534:\n"));
  CVB_TRY(WriteFile(rootfs + "/etc/hostname", "cvb\n"));
  CVB_TRY(WriteFile(rootfs + "/etc/hosts", "127.0.0.1 localhost\n"));
  return Ok();
}

uint64_t TreeBytes(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  uint64_t total = 0;
  DIR* d = ::opendir(path.c_str());
  if (!d) return 0;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    total += TreeBytes(path + "/" + e->d_name);
  }
  ::closedir(d);
  return total;
}

}  // namespace

std::string CacheDir() {
  if (const char* c = std::getenv("CVB_CACHE_DIR"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/cvbench";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.cache/cvbench";
}

std::string SelfExeDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

Result<Image> BuildImage(const ImageSource& source) {
  ImageSource src = source;
  if (src.workload_binary.empty()) src.workload_binary = SelfExeDir() + "/cvb-workload";
  if (src.busybox.empty()) src.busybox = "/bin/busybox";
  if (src.cache_dir.empty()) src.cache_dir = CacheDir();
  if (!PathExists(src.workload_binary))
    return Error{ENOENT, "image: workload binary " + src.workload_binary +
                             " (build it: cmake --build build --target cvb-workload)"};
  if (!PathExists(src.busybox))
    return Error{ENOENT, "image: busybox " + src.busybox + " (install busybox-static: scripts/setup)"};

  CVB_ASSIGN_OR_RETURN(std::string workload_hash, HashFile(src.workload_binary));
  CVB_ASSIGN_OR_RETURN(std::string busybox_hash, HashFile(src.busybox));
  Image image;
  image.hash = ContentHash(workload_hash + busybox_hash + kLayoutVersion);
  image.dir = src.cache_dir + "/images/" + image.hash;
  image.rootfs = image.dir + "/rootfs";
  image.workload_binary = src.workload_binary;
  image.busybox = src.busybox;
  if (PathExists(image.dir + "/complete")) return image;

  CVB_TRY(MakeDirs(src.cache_dir + "/images"));
  std::string tmp = image.dir + ".tmp." + std::to_string(::getpid());
  CVB_TRY(RemoveTree(tmp));
  auto built = [&]() -> Result<void> {
    CVB_TRY(MakeDirs(tmp + "/rootfs"));
    CVB_TRY(PopulateRootfs(tmp + "/rootfs", src));
    nlohmann::json manifest = {{"hash", image.hash},
                               {"workload", src.workload_binary},
                               {"workload_hash", workload_hash},
                               {"busybox", src.busybox},
                               {"busybox_hash", busybox_hash},
                               {"layout", kLayoutVersion}};
    CVB_TRY(WriteFile(tmp + "/manifest.json", manifest.dump(2) + "\n"));
    CVB_TRY(WriteFile(tmp + "/complete", ""));
    return Ok();
  }();
  if (!built) {
    (void)RemoveTree(tmp);
    return built.error().wrap("image: build " + image.dir);
  }
  if (::rename(tmp.c_str(), image.dir.c_str()) != 0) {
    int err = errno;
    (void)RemoveTree(tmp);
    // Another builder won the race with identical content.
    if ((err == EEXIST || err == ENOTEMPTY) && PathExists(image.dir + "/complete")) return image;
    return Error{err, "image: rename " + tmp + " to " + image.dir};
  }
  return image;
}

nlohmann::json MakeOciConfig(const Image& image, const BundleOptions& options) {
  using nlohmann::json;
  const Confinement confinement = options.confinement
                                      ? *options.confinement
                                      : LoadConfinement("spec-default").value();
  const json caps = confinement.capabilities;
  json namespaces = json::array();
  for (const auto& ns : options.namespaces) {
    json entry = {{"type", ns}};
    if (ns == "network" && !options.netns_path.empty()) entry["path"] = options.netns_path;
    namespaces.push_back(entry);
  }
  if (!options.netns_path.empty()) {
    bool has_net = false;
    for (const auto& ns : options.namespaces) has_net |= ns == "network";
    if (!has_net) namespaces.push_back({{"type", "network"}, {"path", options.netns_path}});
  }
  json mounts = json::array({
      {{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
      {{"destination", "/dev"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
      {{"destination", "/dev/pts"},
       {"type", "devpts"},
       {"source", "devpts"},
       {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
      {{"destination", "/dev/shm"},
       {"type", "tmpfs"},
       {"source", "shm"},
       {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
      {{"destination", "/dev/mqueue"},
       {"type", "mqueue"},
       {"source", "mqueue"},
       {"options", {"nosuid", "noexec", "nodev"}}},
      {{"destination", "/sys"},
       {"type", "sysfs"},
       {"source", "sysfs"},
       {"options", {"nosuid", "noexec", "nodev", "ro"}}},
      {{"destination", "/tmp"},
       {"type", "tmpfs"},
       {"source", "tmpfs"},
       {"options", {"nosuid", "nodev", "mode=1777", "size=65536k"}}},
  });
  for (const auto& m : options.extra_mounts)
    mounts.push_back({{"destination", m.destination},
                      {"type", m.type},
                      {"source", m.source},
                      {"options", m.options}});
  json linux_section = {
      {"namespaces", namespaces},
      {"maskedPaths", confinement.masked_paths},
      {"readonlyPaths", confinement.readonly_paths},
      {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
  };
  if (confinement.seccomp) linux_section["seccomp"] = *confinement.seccomp;
  if (!options.cpus.empty()) linux_section["resources"]["cpu"] = {{"cpus", options.cpus}};
  if (!options.cgroups_path.empty()) linux_section["cgroupsPath"] = options.cgroups_path;
  if (options.memory_limit)
    linux_section["resources"]["memory"] = {{"limit", options.memory_limit}};
  json config = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", options.args},
        {"env", options.env},
        {"cwd", "/"},
        {"capabilities",
         confinement.ambient
             ? json{{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}
             : json{{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", confinement.no_new_privileges}}},
      {"root", {{"path", image.rootfs}, {"readonly", options.readonly_root}}},
      {"hostname", options.hostname},
      {"mounts", mounts},
      {"linux", linux_section},
  };
  return config;
}

Result<std::string> WriteBundle(const std::string& dir, const Image& image,
                                const BundleOptions& options) {
  CVB_TRY(MakeDirs(dir));
  CVB_TRY(WriteFile(dir + "/config.json", MakeOciConfig(image, options).dump(2) + "\n"));
  return dir;
}

Result<ImageSizes> MeasureImage(const Image& image) {
  ImageSizes sizes;
  sizes.rootfs_bytes = TreeBytes(image.rootfs);
  sizes.workload_bytes = TreeBytes(image.rootfs + "/bin/cvb-workload");
  sizes.busybox_bytes = TreeBytes(image.rootfs + "/bin/busybox");
  if (sizes.rootfs_bytes == 0) return Failure("image: empty rootfs at " + image.rootfs);
  return sizes;
}

}  // namespace cvb::image
