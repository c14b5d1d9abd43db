#include "host_limits.h"

#include <sys/resource.h>

#include <cstdlib>
#include <optional>

#include "cvb/common/file.h"

namespace cvb::bench {
namespace {

std::string Number(uint64_t v, bool unlimited) {
  return unlimited ? "unlimited" : std::to_string(v);
}

std::optional<uint64_t> ReadNumber(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return std::nullopt;
  std::string t = Trim(*text);
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::strtoull(t.c_str(), nullptr, 10);
}

HostLimit Rlimit(int resource, const char* name) {
  HostLimit l;
  l.name = std::string(name) + " (soft)";
  rlimit r{};
  if (::getrlimit(resource, &r) != 0) return l;
  l.unlimited = r.rlim_cur == RLIM_INFINITY;
  l.value = l.unlimited ? 0 : r.rlim_cur;
  l.hard_unlimited = r.rlim_max == RLIM_INFINITY;
  l.hard = l.hard_unlimited ? 0 : r.rlim_max;
  return l;
}

void AddSysctl(std::vector<HostLimit>& out, const std::string& name) {
  std::string path = "/proc/sys/" + name;
  for (char& c : path)
    if (c == '.') c = '/';
  if (auto v = ReadNumber(path)) out.push_back({name, *v, false});
}

// pids.max of cvbench's own pids cgroup and each ancestor (containers with a relative
// cgroupsPath nest under it): v1 "N:pids:/path" or v2 "0::/path".
void AddPidsMax(std::vector<HostLimit>& out) {
  auto self = ReadFile("/proc/self/cgroup");
  if (!self) return;
  std::string dir;
  for (const auto& line : Split(*self, '\n')) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    for (const auto& c : Split(controllers, ','))
      if (c == "pids") dir = "/sys/fs/cgroup/pids" + path;
    if (controllers.empty() && dir.empty() && PathExists("/sys/fs/cgroup/cgroup.controllers"))
      dir = "/sys/fs/cgroup" + path;
  }
  while (!dir.empty()) {
    auto text = ReadFile(dir + "/pids.max");
    if (text) {
      std::string t = Trim(*text);
      HostLimit l{"pids.max of " + dir, 0, t == "max"};
      if (!l.unlimited) l.value = std::strtoull(t.c_str(), nullptr, 10);
      l.in_use = ReadNumber(dir + "/pids.current").value_or(0);
      out.push_back(l);
    }
    if (dir == "/sys/fs/cgroup/pids" || dir == "/sys/fs/cgroup") break;
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    dir = dir.substr(0, dir.rfind('/'));
  }
}

const HostLimit* Find(const std::vector<HostLimit>& limits, const std::string& prefix) {
  for (const auto& l : limits)
    if (l.name.rfind(prefix, 0) == 0) return &l;
  return nullptr;
}

}  // namespace

std::vector<std::string> RaiseOwnSoftLimits() {
  std::vector<std::string> raised;
  for (auto [resource, name] : {std::pair{RLIMIT_NOFILE, "RLIMIT_NOFILE"},
                                std::pair{RLIMIT_NPROC, "RLIMIT_NPROC"}}) {
    rlimit r{};
    if (::getrlimit(resource, &r) != 0 || r.rlim_cur == r.rlim_max) continue;
    rlimit want = r;
    want.rlim_cur = r.rlim_max;
    if (::setrlimit(resource, &want) == 0)
      raised.push_back(std::string(name) + " " +
                       Number(r.rlim_cur, r.rlim_cur == RLIM_INFINITY) + " -> " +
                       Number(r.rlim_max, r.rlim_max == RLIM_INFINITY));
  }
  return raised;
}

std::vector<HostLimit> ReadFleetLimits() {
  std::vector<HostLimit> out{Rlimit(RLIMIT_NOFILE, "RLIMIT_NOFILE"),
                             Rlimit(RLIMIT_NPROC, "RLIMIT_NPROC")};
  for (const char* s : {"kernel.pid_max", "kernel.threads-max", "fs.file-max",
                        "fs.inotify.max_user_instances", "user.max_net_namespaces",
                        "user.max_mnt_namespaces", "user.max_pid_namespaces",
                        "user.max_ipc_namespaces", "user.max_uts_namespaces",
                        "user.max_cgroup_namespaces", "vm.max_map_count"})
    AddSysctl(out, s);
  AddPidsMax(out);
  return out;
}

std::string DescribeLimits(const std::vector<HostLimit>& limits) {
  std::string out;
  for (const auto& l : limits) {
    out += (out.empty() ? "" : ", ") + l.name + " = " + Number(l.value, l.unlimited);
    if (l.name.rfind("RLIMIT_", 0) == 0) out += " (hard " + Number(l.hard, l.hard_unlimited) + ")";
  }
  return out;
}

LimitUse ReadLimitUse() {
  LimitUse use;
  use.open_fds = ListDirectory("/proc/self/fd").size();
  // /proc/loadavg: "0.1 0.2 0.3 running/total last_pid": total = every task on the host.
  if (auto text = ReadFile("/proc/loadavg")) {
    auto fields = Split(*text, ' ');
    if (fields.size() >= 4) {
      auto slash = fields[3].find('/');
      if (slash != std::string::npos)
        use.host_tasks = std::strtoull(fields[3].c_str() + slash + 1, nullptr, 10);
    }
  }
  return use;
}

Result<void> CheckFleetLimits(int n, const std::vector<HostLimit>& limits, const LimitUse& use) {
  const uint64_t count = n > 0 ? static_cast<uint64_t>(n) : 0;
  auto stop = [&](const HostLimit& l, uint64_t need, const std::string& what) -> Result<void> {
    return Failure("stopped by a limit: " + l.name + " = " + std::to_string(l.value) + " < " +
                   std::to_string(need) + " (" + what + ")");
  };
  if (const HostLimit* l = Find(limits, "RLIMIT_NOFILE"); l && !l->unlimited) {
    uint64_t need = use.open_fds + kFdsPerInstance * count;
    if (need > l->value)
      return stop(*l, need, std::to_string(use.open_fds) + " files cvbench has open + " +
                                std::to_string(kFdsPerInstance) + " per instance; the hard limit " +
                                Number(l->hard, l->hard_unlimited) +
                                " is the most cvbench may raise it to without CAP_SYS_RESOURCE");
  }
  uint64_t tasks = use.host_tasks + kTasksPerInstance * count;
  for (const auto& l : limits) {
    if (l.unlimited) continue;
    bool task_limit = l.name == "kernel.pid_max" || l.name == "kernel.threads-max";
    if (task_limit && tasks > l.value)
      return stop(l, tasks, std::to_string(use.host_tasks) + " tasks on the host + " +
                                std::to_string(kTasksPerInstance) + " per instance");
    // pids.max counts the tasks of its cgroup's subtree (the instances' cgroups nest under
    // cvbench's).
    if (l.name.rfind("pids.max", 0) == 0 && l.in_use + kTasksPerInstance * count > l.value)
      return stop(l, l.in_use + kTasksPerInstance * count,
                  std::to_string(l.in_use) + " tasks in that subtree (pids.current) + " +
                      std::to_string(kTasksPerInstance) + " per instance");
    if (l.name.rfind("user.max_", 0) == 0 && l.name.find("_namespaces") != std::string::npos &&
        l.name != "user.max_cgroup_namespaces" && count > l.value)
      return stop(l, count, "one per instance");
  }
  return Ok();
}

std::string LimitsBehind(const std::string& message, const std::vector<HostLimit>& limits) {
  struct Cause {
    const char* text;
    const char* errno_name;
    std::vector<const char*> limits;
  };
  static const Cause kCauses[] = {
      {"Too many open files in system", "ENFILE", {"fs.file-max"}},
      {"Too many open files", "EMFILE", {"RLIMIT_NOFILE"}},
      {"Resource temporarily unavailable", "EAGAIN",
       {"RLIMIT_NPROC", "kernel.pid_max", "kernel.threads-max", "pids.max"}},
      {"No space left on device", "ENOSPC",
       {"user.max_", "fs.inotify.max_user_instances"}},
      {"Cannot allocate memory", "ENOMEM", {"vm.max_map_count", "kernel.pid_max"}},
  };
  for (const auto& cause : kCauses) {
    if (message.find(cause.text) == std::string::npos) continue;
    std::string out;
    for (const auto& l : limits)
      for (const char* prefix : cause.limits)
        if (l.name.rfind(prefix, 0) == 0) {
          out += (out.empty() ? "" : ", ") + l.name + " = " + Number(l.value, l.unlimited);
          break;
        }
    return std::string("; limits behind ") + cause.errno_name + ": " +
           (out.empty() ? "none readable here" : out);
  }
  return "";
}

}  // namespace cvb::bench
