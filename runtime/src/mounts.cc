#include "mounts.h"

#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <string_view>

#include "cvb/common/file.h"

namespace cvb::runtime {
namespace {

struct FlagOption {
  const char* name;
  unsigned long flag;
  bool clear;
};

constexpr FlagOption kFlagOptions[] = {
    {"defaults", 0, false},
    {"ro", MS_RDONLY, false},
    {"rw", MS_RDONLY, true},
    {"suid", MS_NOSUID, true},
    {"nosuid", MS_NOSUID, false},
    {"dev", MS_NODEV, true},
    {"nodev", MS_NODEV, false},
    {"exec", MS_NOEXEC, true},
    {"noexec", MS_NOEXEC, false},
    {"sync", MS_SYNCHRONOUS, false},
    {"async", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, false},
    {"mand", MS_MANDLOCK, false},
    {"nomand", MS_MANDLOCK, true},
    {"atime", MS_NOATIME, true},
    {"noatime", MS_NOATIME, false},
    {"diratime", MS_NODIRATIME, true},
    {"nodiratime", MS_NODIRATIME, false},
    {"relatime", MS_RELATIME, false},
    {"norelatime", MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, false},
    {"nostrictatime", MS_STRICTATIME, true},
    {"silent", MS_SILENT, false},
    {"nosymfollow", MS_NOSYMFOLLOW, false},
    {"symfollow", MS_NOSYMFOLLOW, true},
};

struct PropagationOption {
  const char* name;
  unsigned long flags;
};

constexpr PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// Recursive mount attributes (crun's r* options), set with mount_setattr(AT_RECURSIVE).
struct RecursiveOption {
  const char* name;
  uint64_t attr;
  bool clear;
};

constexpr RecursiveOption kRecursive[] = {
    {"rro", MOUNT_ATTR_RDONLY, false},
    {"rrw", MOUNT_ATTR_RDONLY, true},
    {"rnosuid", MOUNT_ATTR_NOSUID, false},
    {"rsuid", MOUNT_ATTR_NOSUID, true},
    {"rnodev", MOUNT_ATTR_NODEV, false},
    {"rdev", MOUNT_ATTR_NODEV, true},
    {"rnoexec", MOUNT_ATTR_NOEXEC, false},
    {"rexec", MOUNT_ATTR_NOEXEC, true},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, false},
    {"rdiratime", MOUNT_ATTR_NODIRATIME, true},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, false},
    {"rsymfollow", MOUNT_ATTR_NOSYMFOLLOW, true},
};

constexpr std::string_view kRecursiveAtime[] = {"rnoatime",  "rstrictatime",   "rrelatime",
                                                "ratime",    "rnostrictatime", "rnorelatime"};

// Options engines pass that change nothing here.
constexpr const char* kIgnored[] = {"tmpcopyup", "notmpcopyup", "copy-symlink", "z",          "Z",
                                    "U",         "nocopyup",    "copyup",       "private-dev"};
// Options cvrun cannot apply: refused (PlanMounts names the mount).
constexpr const char* kUnsupported[] = {"idmap", "ridmap"};

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

}  // namespace

MountOptions ParseMountOptions(const std::vector<std::string>& options) {
  MountOptions out;
  for (const auto& opt : options) {
    if (opt == "bind" || opt == "rbind") {
      out.bind = true;
      out.recursive |= opt == "rbind";
      continue;
    }
    bool handled = false;
    for (const auto& f : kFlagOptions) {
      if (opt != f.name) continue;
      if (f.clear) out.flags &= ~f.flag;
      else out.flags |= f.flag;
      handled = true;
    }
    for (const auto& p : kPropagation) {
      if (opt != p.name) continue;
      out.propagation = p.flags;
      handled = true;
    }
    for (const auto& r : kRecursive) {
      if (opt != r.name) continue;
      if (r.clear)
        out.rec_attr_set &= ~r.attr, out.rec_attr_clr |= r.attr;
      else
        out.rec_attr_set |= r.attr, out.rec_attr_clr &= ~r.attr;
      handled = true;
    }
    // Recursive atime options: one atime mode, the mask cleared first.
    if (std::find(std::begin(kRecursiveAtime), std::end(kRecursiveAtime), opt) !=
        std::end(kRecursiveAtime)) {
      out.rec_attr_set &= ~static_cast<uint64_t>(MOUNT_ATTR__ATIME);
      out.rec_attr_clr |= MOUNT_ATTR__ATIME;
      if (opt == "rnoatime") out.rec_attr_set |= MOUNT_ATTR_NOATIME;
      if (opt == "rstrictatime") out.rec_attr_set |= MOUNT_ATTR_STRICTATIME;
      handled = true;
    }
    for (const char* ignored : kIgnored) handled |= opt == ignored;
    for (const char* unsupported : kUnsupported)
      if (opt == unsupported) out.unsupported.push_back(opt), handled = true;
    if (handled) continue;
    if (!out.data.empty()) out.data += ",";
    out.data += opt;
  }
  if (out.bind) {
    // A bind mount ignores these flags: they are set afterwards with mount_setattr, which also
    // keeps flags that are locked in a user namespace.
    if (out.flags & MS_RDONLY) out.attr_set |= MOUNT_ATTR_RDONLY;
    if (out.flags & MS_NOSUID) out.attr_set |= MOUNT_ATTR_NOSUID;
    if (out.flags & MS_NODEV) out.attr_set |= MOUNT_ATTR_NODEV;
    if (out.flags & MS_NOEXEC) out.attr_set |= MOUNT_ATTR_NOEXEC;
    if (out.flags & MS_NODIRATIME) out.attr_set |= MOUNT_ATTR_NODIRATIME;
    if (out.flags & MS_NOSYMFOLLOW) out.attr_set |= MOUNT_ATTR_NOSYMFOLLOW;
    // The atime mode is one value under MOUNT_ATTR__ATIME: setting it means clearing the mask
    // too, or mount_setattr fails with EINVAL. Relatime is the value 0.
    if (out.flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
      out.attr_clr |= MOUNT_ATTR__ATIME;
      if (out.flags & MS_NOATIME)
        out.attr_set |= MOUNT_ATTR_NOATIME;
      else if (out.flags & MS_STRICTATIME)
        out.attr_set |= MOUNT_ATTR_STRICTATIME;
    }
    out.flags = MS_BIND | (out.recursive ? MS_REC : 0);
  }
  return out;
}

std::vector<std::string> AppliedMountOptions() {
  std::vector<std::string> out = {"bind", "rbind"};
  for (const auto& f : kFlagOptions) out.push_back(f.name);
  for (const auto& p : kPropagation) out.push_back(p.name);
  for (const auto& r : kRecursive) out.push_back(r.name);
  for (auto a : kRecursiveAtime) out.emplace_back(a);
  return out;
}

MountOptionKind ClassifyMountOption(const std::string& option) {
  for (const char* u : kUnsupported)
    if (option == u) return MountOptionKind::kRefused;
  for (const char* i : kIgnored)
    if (option == i) return MountOptionKind::kIgnored;
  for (const auto& a : AppliedMountOptions())
    if (option == a) return MountOptionKind::kApplied;
  return MountOptionKind::kData;
}

std::string RelativeInRoot(const std::string& path) {
  std::string out;
  for (const auto& part : Split(path, '/')) {
    if (part == ".") continue;
    if (!out.empty()) out += "/";
    out += part;
  }
  return out;
}

Result<std::vector<PlannedMount>> PlanMounts(const Spec& spec) {
  std::vector<PlannedMount> plan;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    std::string where = "mounts[" + std::to_string(i) + "]";
    PlannedMount p;
    p.spec_index = i;
    p.options = ParseMountOptions(m.options);
    if (m.type == "bind") p.options = ParseMountOptions([&] {
        auto o = m.options;
        bool has = false;
        for (const auto& x : o) has |= x == "bind" || x == "rbind";
        if (!has) o.push_back("bind");
        return o;
      }());
    if (!p.options.unsupported.empty())
      return Failure(where + ".options: \"" + p.options.unsupported[0] +
                     "\" (id-mapped mounts) is not supported by cvrun");
    p.destination = "/" + RelativeInRoot(m.destination);
    p.dest_rel = RelativeInRoot(m.destination);
    if (p.dest_rel.empty()) return Failure(where + ".destination: cannot mount over the root");
    p.source = m.source;
    p.data = p.options.data;
    if (p.options.bind) {
      struct stat st;
      if (::stat(m.source.c_str(), &st) != 0)
        return Error{errno, where + ".source: bind source " + m.source};
      p.source_is_dir = S_ISDIR(st.st_mode);
    } else {
      p.fstype = m.type;
      p.cgroup = m.type == "cgroup" || m.type == "cgroup2";
      if (p.source.empty()) p.source = p.fstype;
      p.dev_tmpfs = p.destination == "/dev" && m.type == "tmpfs";
    }
    plan.push_back(std::move(p));
  }
  return plan;
}

std::vector<ChildMount> ToChildMounts(const std::vector<PlannedMount>& planned) {
  std::vector<ChildMount> out;
  out.reserve(planned.size());
  for (const auto& p : planned) {
    ChildMount c{};
    c.kind = p.kind;
    c.source = p.source.c_str();
    c.fstype = p.options.bind ? nullptr : p.fstype.c_str();
    c.data = p.data.empty() ? nullptr : p.data.c_str();
    c.dest_rel = p.dest_rel.c_str();
    c.flags = p.options.flags;
    c.propagation = p.options.propagation;
    c.attr_set = p.options.attr_set;
    c.attr_clr = p.options.attr_clr;
    c.rec_attr_set = p.options.rec_attr_set;
    c.rec_attr_clr = p.options.rec_attr_clr;
    c.bind = p.options.bind;
    c.recursive = p.options.recursive;
    c.source_is_dir = p.source_is_dir;
    c.dev_tmpfs = p.dev_tmpfs;
    out.push_back(c);
  }
  return out;
}

std::vector<PlannedDevice> PlanDevices(const Spec& spec) {
  std::vector<PlannedDevice> out;
  auto add = [&](const std::string& name, mode_t mode, unsigned maj, unsigned min) {
    out.push_back({name, "dev", name, mode, makedev(maj, min), 0, 0, "/dev/" + name});
  };
  add("null", S_IFCHR | 0666, 1, 3);
  add("zero", S_IFCHR | 0666, 1, 5);
  add("full", S_IFCHR | 0666, 1, 7);
  add("random", S_IFCHR | 0666, 1, 8);
  add("urandom", S_IFCHR | 0666, 1, 9);
  add("tty", S_IFCHR | 0666, 5, 0);
  for (const auto& d : spec.linux.devices) {
    mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    // Cleaned ("/dev//net/./tun" → "net/tun"); ".." is refused by the parser, and the directory
    // is resolved inside the rootfs by the child anyway.
    std::string name = RelativeInRoot(d.path.substr(5));
    auto slash = name.rfind('/');
    std::string dir = slash == std::string::npos ? "dev" : "dev/" + name.substr(0, slash);
    std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
    PlannedDevice pd{name,
                     dir,
                     base,
                     static_cast<mode_t>(type | d.file_mode.value_or(0666)),
                     makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor)),
                     d.uid.value_or(0),
                     d.gid.value_or(0),
                     d.path};
    bool replaced = false;
    for (auto& existing : out)
      if (existing.name == pd.name) existing = pd, replaced = true;
    if (!replaced) out.push_back(pd);
  }
  return out;
}

}  // namespace cvb::runtime
