#include "mounts.h"

#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "cvb/common/file.h"

namespace cvb::runtime {
namespace {

struct FlagOption {
  const char* name;
  unsigned long flag;
  bool clear;
};

constexpr FlagOption kFlagOptions[] = {
    {"defaults", 0, false},          {"ro", MS_RDONLY, false},
    {"rw", MS_RDONLY, true},         {"suid", MS_NOSUID, true},
    {"nosuid", MS_NOSUID, false},    {"dev", MS_NODEV, true},
    {"nodev", MS_NODEV, false},      {"exec", MS_NOEXEC, true},
    {"noexec", MS_NOEXEC, false},    {"sync", MS_SYNCHRONOUS, false},
    {"async", MS_SYNCHRONOUS, true}, {"dirsync", MS_DIRSYNC, false},
    {"mand", MS_MANDLOCK, false},    {"nomand", MS_MANDLOCK, true},
    {"atime", MS_NOATIME, true},     {"noatime", MS_NOATIME, false},
    {"diratime", MS_NODIRATIME, true}, {"nodiratime", MS_NODIRATIME, false},
    {"relatime", MS_RELATIME, false},  {"norelatime", MS_RELATIME, true},
    {"strictatime", MS_STRICTATIME, false}, {"nostrictatime", MS_STRICTATIME, true},
    {"silent", MS_SILENT, false},
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

// Options engines pass that change nothing here.
constexpr const char* kIgnored[] = {"tmpcopyup", "notmpcopyup", "copy-symlink", "z", "Z", "U",
                                    "idmap", "ridmap", "nocopyup", "copyup", "private-dev"};

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
    for (const char* ignored : kIgnored) handled |= opt == ignored;
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
    if (out.flags & MS_NOATIME) out.attr_set |= MOUNT_ATTR_NOATIME;
    if (out.flags & MS_STRICTATIME) out.attr_set |= MOUNT_ATTR_STRICTATIME;
    if (out.flags & MS_NODIRATIME) out.attr_set |= MOUNT_ATTR_NODIRATIME;
    out.flags = MS_BIND | (out.recursive ? MS_REC : 0);
  }
  return out;
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

Result<std::vector<PlannedMount>> PlanMounts(const Spec& spec, bool host_cgroup_v2) {
  std::vector<PlannedMount> plan;
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const Mount& m = spec.mounts[i];
    std::string where = "mounts[" + std::to_string(i) + "]";
    PlannedMount p;
    p.options = ParseMountOptions(m.options);
    if (m.type == "bind") p.options = ParseMountOptions([&] {
        auto o = m.options;
        bool has = false;
        for (const auto& x : o) has |= x == "bind" || x == "rbind";
        if (!has) o.push_back("bind");
        return o;
      }());
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
      if (m.type == "cgroup" || m.type == "cgroup2") {
        if (host_cgroup_v2) {
          p.fstype = "cgroup2";
          p.source = "cgroup2";
          p.data.clear();
        } else {
          // v1 and hybrid: the container sees an empty, read-only /sys/fs/cgroup.
          p.fstype = "tmpfs";
          p.source = "cgroup";
          p.data = "mode=755,size=4k";
          p.options.flags |= MS_RDONLY;
        }
      }
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
    c.source = p.source.c_str();
    c.fstype = p.options.bind ? nullptr : p.fstype.c_str();
    c.data = p.data.empty() ? nullptr : p.data.c_str();
    c.dest_rel = p.dest_rel.c_str();
    c.flags = p.options.flags;
    c.propagation = p.options.propagation;
    c.attr_set = p.options.attr_set;
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
    out.push_back({name, mode, makedev(maj, min), 0, 0, "/dev/" + name});
  };
  add("null", S_IFCHR | 0666, 1, 3);
  add("zero", S_IFCHR | 0666, 1, 5);
  add("full", S_IFCHR | 0666, 1, 7);
  add("random", S_IFCHR | 0666, 1, 8);
  add("urandom", S_IFCHR | 0666, 1, 9);
  add("tty", S_IFCHR | 0666, 5, 0);
  for (const auto& d : spec.linux.devices) {
    mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
    PlannedDevice pd{d.path.substr(5), static_cast<mode_t>(type | d.file_mode.value_or(0666)),
                     makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor)),
                     d.uid.value_or(0), d.gid.value_or(0), d.path};
    bool replaced = false;
    for (auto& existing : out)
      if (existing.name == pd.name) existing = pd, replaced = true;
    if (!replaced) out.push_back(pd);
  }
  return out;
}

}  // namespace cvb::runtime
