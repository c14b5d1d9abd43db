// The VM initramfs: the image's rootfs, the guest kernel's virtio modules and /init, packed as an
// uncompressed newc cpio archive by our own writer (uncompressed: decompressing in an emulated
// guest costs more than reading the bigger file; our own writer: device nodes and ownership come
// out right without root or a cpio binary, and the bytes are reproducible, so they can be hashed).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "cvb/common/file.h"
#include "cvb/image/vm_artifacts.h"

namespace cvb::image {
namespace {

// Bump when the archive layout or /init changes meaningfully (the hash covers the bytes anyway).
constexpr const char* kInitramfsLayout = "initramfs-1";

class CpioWriter {
 public:
  void Dir(const std::string& name, uint32_t mode = 0755) { Entry(name, S_IFDIR | mode, "", 0); }
  void File(const std::string& name, std::string_view data, uint32_t mode) {
    Entry(name, S_IFREG | mode, data, 0);
  }
  void Symlink(const std::string& name, const std::string& target) {
    Entry(name, S_IFLNK | 0777, target, 0);
  }
  void CharDev(const std::string& name, uint32_t mode, uint32_t major, uint32_t minor) {
    Entry(name, S_IFCHR | mode, "", (major << 8) | minor);
  }
  // Directories are created on demand so that every entry's parent exists in the archive.
  void Parents(const std::string& name) {
    for (size_t i = name.find('/'); i != std::string::npos; i = name.find('/', i + 1)) {
      std::string d = name.substr(0, i);
      if (!d.empty() && dirs_.insert(d).second) Dir(d);
    }
  }
  std::string Finish() {
    Entry("TRAILER!!!", 0, "", 0);
    return std::move(out_);
  }
  bool Has(const std::string& name) const { return names_.count(name) != 0; }

 private:
  void Entry(const std::string& name, uint32_t mode, std::string_view data, uint32_t rdev) {
    if (S_ISDIR(mode)) dirs_.insert(name);
    names_.insert(name);
    char hdr[111];
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
    // namesize, check. mtime 0 and sequential inodes keep the archive reproducible.
    std::snprintf(hdr, sizeof hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                  ++ino_, mode, 0u, 0u, S_ISDIR(mode) ? 2u : 1u, 0u,
                  static_cast<uint32_t>(data.size()), 0u, 0u, rdev >> 8, rdev & 0xff,
                  static_cast<uint32_t>(name.size() + 1), 0u);
    out_.append(hdr, 110);
    out_.append(name);
    out_.push_back('\0');
    Pad();
    out_.append(data);
    Pad();
  }
  void Pad() {
    while (out_.size() % 4) out_.push_back('\0');
  }

  std::string out_;
  uint32_t ino_ = 0;
  std::set<std::string> dirs_;
  std::set<std::string> names_;
};

// Packs the host directory root under prefix "" (archive names have no leading slash).
Result<void> PackTree(CpioWriter& w, const std::string& root, const std::string& rel) {
  std::string host = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(host.c_str());
  if (!d) return ErrnoError("opendir " + host);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
      names.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string name = rel.empty() ? n : rel + "/" + n;
    std::string path = root + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoError("stat " + path);
    if (S_ISDIR(st.st_mode)) {
      w.Dir(name, st.st_mode & 07777);
      CVB_TRY(PackTree(w, root, name));
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t len = ::readlink(path.c_str(), target, sizeof target);
      if (len < 0) return ErrnoError("readlink " + path);
      w.Symlink(name, std::string(target, static_cast<size_t>(len)));
    } else if (S_ISREG(st.st_mode)) {
      CVB_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
      w.File(name, data, st.st_mode & 07777);
    }
    // Sockets, fifos and device nodes in a rootfs directory are not image content: skipped.
  }
  return Ok();
}

std::string Basename(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::string ModuleName(const std::string& path) {
  std::string n = Basename(path);
  if (n.size() > 3 && n.compare(n.size() - 3, 3, ".ko") == 0) n.resize(n.size() - 3);
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

// The modules (basenames, in load order) that must be loaded for the driver named target: the
// target plus everything it needs, taken from the kernel's ordered list. Empty when the kernel
// does not ship the target as a module (it is built in).
Result<std::string> ModuleListFor(const GuestKernel& k, const std::vector<std::string>& targets) {
  std::map<std::string, std::string> path_of;
  for (const auto& m : k.modules) path_of[ModuleName(m)] = m;
  std::set<std::string> need;
  std::vector<std::string> todo(targets.begin(), targets.end());
  while (!todo.empty()) {
    std::string n = todo.back();
    todo.pop_back();
    auto it = path_of.find(n);
    if (it == path_of.end() || !need.insert(n).second) continue;
    CVB_ASSIGN_OR_RETURN(auto deps, ModuleDepends(k.modules_dir + "/" + it->second));
    for (const auto& d : deps) todo.push_back(d);
  }
  std::string out;
  for (const auto& m : k.modules) {
    if (need.count(ModuleName(m))) out += Basename(m) + "\n";
  }
  return out;
}

}  // namespace

std::string DefaultInitScript() {
  return R"(#!/bin/busybox sh
# cvbench guest init (image/src/initramfs.cc): runs the workload named on the kernel command line
# with its stdout on the console, then ends the VM.
B=/bin/busybox
# The first line on the console with a quiet kernel: the host's "first_line" mark is init start.
echo "cvb-init: started"
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev 2>/dev/null
mode=ready args= ip= gw= disk=
for w in $($B cat /proc/cmdline); do
  case "$w" in
    cvb.mode=*) mode="${w#cvb.mode=}" ;;
    cvb.args=*) args="${w#cvb.args=}" ;;
    cvb.ip=*) ip="${w#cvb.ip=}" ;;
    cvb.gw=*) gw="${w#cvb.gw=}" ;;
    cvb.disk=*) disk="${w#cvb.disk=}" ;;
  esac
done
load() {
  for m in $($B cat "/etc/cvb/modules-$1"); do $B insmod "/lib/modules/cvb/$m" 2>/dev/null; done
}
if [ -n "$ip" ]; then
  load net
  $B ip link set lo up
  if ! { $B ip addr add "$ip" dev eth0 && $B ip link set eth0 up; }; then
    echo "CVB ERROR msg=cvb-init: cannot configure eth0 with $ip"
  fi
  [ -n "$gw" ] && $B ip route add default via "$gw"
fi
if [ -n "$disk" ]; then
  load blk
  $B mkdir -p /data
  i=0
  while [ ! -b "/dev/$disk" ] && [ $i -lt 100 ]; do $B usleep 20000; i=$((i + 1)); done
  if ! $B mount -t ext4 "/dev/$disk" /data; then
    echo "CVB ERROR msg=cvb-init: cannot mount /dev/$disk on /data"
  fi
fi
set -f
old_ifs="$IFS"
IFS=,
set -- $args
IFS="$old_ifs"
/bin/cvb-workload "$mode" "$@"
rc=$?
echo "cvb-init: exit status $rc"
[ -n "$disk" ] && $B umount /data 2>/dev/null
$B sync
$B reboot -f
)";
}

Result<std::vector<std::string>> ModuleDepends(const std::string& ko_path) {
  CVB_ASSIGN_OR_RETURN(std::string data, ReadFile(ko_path));
  // .modinfo holds NUL-separated key=value strings; "depends=" is always present (maybe empty).
  static const std::string kKey = std::string("\0depends=", 9);
  size_t at = data.find(kKey);
  if (at == std::string::npos)
    return Failure(ko_path + ": no depends= in .modinfo (not a module?)");
  size_t start = at + kKey.size();
  size_t end = data.find('\0', start);
  if (end == std::string::npos) return Failure(ko_path + ": unterminated depends=");
  std::vector<std::string> deps;
  for (auto& d : Split(std::string_view(data).substr(start, end - start), ',')) {
    std::replace(d.begin(), d.end(), '-', '_');
    deps.push_back(d);
  }
  return deps;
}

Result<std::vector<std::string>> OrderModules(const std::string& dir,
                                              const std::vector<std::string>& modules) {
  std::map<std::string, std::string> path_of;
  std::map<std::string, std::vector<std::string>> deps_of;
  for (const auto& m : modules) {
    path_of[ModuleName(m)] = m;
    CVB_ASSIGN_OR_RETURN(deps_of[ModuleName(m)], ModuleDepends(dir + "/" + m));
  }
  std::vector<std::string> order;
  std::map<std::string, int> state;  // 0 new, 1 visiting, 2 done
  // Depth-first, dependencies first; visiting names in input order keeps the output stable.
  std::function<Result<void>(const std::string&)> visit =
      [&](const std::string& name) -> Result<void> {
    if (state[name] == 2) return Ok();
    if (state[name] == 1) return Failure("module dependency cycle at " + name);
    if (!path_of.count(name)) return Failure("module " + name + " is needed but not in the list");
    state[name] = 1;
    for (const auto& d : deps_of[name]) CVB_TRY(visit(d));
    state[name] = 2;
    order.push_back(path_of[name]);
    return Ok();
  };
  for (const auto& m : modules) CVB_TRY(visit(ModuleName(m)));
  return order;
}

namespace {

Result<std::string> ArchiveBytes(const InitramfsSpec& spec) {
  CpioWriter w;
  if (!spec.rootfs.empty()) CVB_TRY(PackTree(w, spec.rootfs, ""));
  for (const char* d :
       {"dev", "proc", "sys", "data", "etc", "etc/cvb", "lib", "lib/modules", "lib/modules/cvb"}) {
    if (!w.Has(d)) {
      w.Parents(std::string(d) + "/");
    }
  }
  // The kernel opens /dev/console for init before anything is mounted.
  if (!w.Has("dev/console")) w.CharDev("dev/console", 0600, 5, 1);
  for (const auto& m : spec.kernel.modules) {
    CVB_ASSIGN_OR_RETURN(std::string data, ReadFile(spec.kernel.modules_dir + "/" + m));
    w.File("lib/modules/cvb/" + Basename(m), data, 0644);
  }
  // virtio_pci is the transport of both devices on pc/q35.
  CVB_ASSIGN_OR_RETURN(std::string net, ModuleListFor(spec.kernel, {"virtio_pci", "virtio_net"}));
  CVB_ASSIGN_OR_RETURN(std::string blk, ModuleListFor(spec.kernel, {"virtio_pci", "virtio_blk"}));
  w.File("etc/cvb/modules-net", net, 0644);
  w.File("etc/cvb/modules-blk", blk, 0644);
  w.File("etc/cvb/layout", std::string(kInitramfsLayout) + "\n", 0644);
  w.File("init", spec.init_script.empty() ? DefaultInitScript() : spec.init_script, 0755);
  return w.Finish();
}

}  // namespace

Result<void> WriteInitramfs(const InitramfsSpec& spec, const std::string& out_path) {
  CVB_ASSIGN_OR_RETURN(std::string bytes, ArchiveBytes(spec));
  return WriteFileAtomic(out_path, bytes);
}

Result<std::string> BuildInitramfs(const InitramfsSpec& spec, const std::string& cache_dir) {
  CVB_ASSIGN_OR_RETURN(std::string bytes, ArchiveBytes(spec));
  std::string dir = cache_dir + "/initramfs";
  CVB_TRY(MakeDirs(dir));
  std::string path = dir + "/" + ContentHash(bytes) + ".cpio";
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) == bytes.size())
    return path;
  CVB_TRY(WriteFileAtomic(path, bytes));
  return path;
}

Result<VmArtifacts> PrepareVmArtifacts(const Image& image, const std::string& kernel_profile,
                                       const std::string& cache_dir, const ProgressFn& progress) {
  VmArtifacts a;
  CVB_ASSIGN_OR_RETURN(a.kernel, PrepareGuestKernel(kernel_profile, cache_dir, progress));
  InitramfsSpec spec;
  spec.rootfs = image.rootfs;
  spec.kernel = a.kernel;
  CVB_ASSIGN_OR_RETURN(a.initramfs, BuildInitramfs(spec, cache_dir));
  struct stat st;
  if (::stat(a.kernel.vmlinux.c_str(), &st) == 0)
    a.kernel_bytes = static_cast<uint64_t>(st.st_size);
  if (::stat(a.initramfs.c_str(), &st) == 0) a.initramfs_bytes = static_cast<uint64_t>(st.st_size);
  return a;
}

}  // namespace cvb::image
