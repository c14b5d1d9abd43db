// The config.json `cvrun spec` writes: runc's defaults, and the rootless variant.
#include <nlohmann/json.hpp>

#include "cvb/runtime/spec.h"

namespace cvb::runtime {

using nlohmann::json;

std::string DefaultSpecJson() {
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json spec = {
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "cvrun"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
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
         {"options", {"nosuid", "noexec", "nodev", "ro"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}},
  };
  return spec.dump(2) + "\n";
}

std::string RootlessSpecJson(uid_t euid, gid_t egid) {
  json spec = json::parse(DefaultSpecJson());
  json& linux = spec["linux"];
  json namespaces = json::array();
  for (const auto& ns : linux["namespaces"])
    if (ns["type"] != "network" && ns["type"] != "user") namespaces.push_back(ns);
  namespaces.push_back({{"type", "user"}});
  linux["namespaces"] = namespaces;
  linux["uidMappings"] = {{{"containerID", 0}, {"hostID", euid}, {"size", 1}}};
  linux["gidMappings"] = {{{"containerID", 0}, {"hostID", egid}, {"size", 1}}};
  linux.erase("resources");
  json mounts = json::array();
  for (auto m : spec["mounts"]) {
    if (m["destination"] == "/sys") {
      mounts.push_back({{"destination", "/sys"},
                        {"type", "none"},
                        {"source", "/sys"},
                        {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}});
      continue;
    }
    if (m.contains("options")) {
      json options = json::array();
      for (const auto& o : m["options"]) {
        std::string text = o.get<std::string>();
        if (text.rfind("uid=", 0) != 0 && text.rfind("gid=", 0) != 0) options.push_back(o);
      }
      m["options"] = options;
    }
    mounts.push_back(m);
  }
  spec["mounts"] = mounts;
  return spec.dump(2) + "\n";
}

}  // namespace cvb::runtime
