#include "process_instance.h"

#include <cstdlib>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb::launcher {

namespace {

// pid's v1 memory cgroup path and its v2 path, from /proc/PID/cgroup ("" when absent).
bool MemoryCgroupPaths(pid_t pid, std::string* v1_path, std::string* v2_path) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text) return false;
  // Lines are "hierarchy-id:controllers:path"; v1 memory has "memory" among the controllers,
  // v2 has an empty controller list.
  for (const auto& line : Split(*text, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controllers.empty()) *v2_path = path;
    for (const auto& c : Split(controllers, ','))
      if (c == "memory") *v1_path = path;
  }
  return true;
}

}  // namespace

std::optional<uint64_t> CgroupMemoryOfPid(pid_t pid) {
  std::string v1_path, v2_path;
  if (!MemoryCgroupPaths(pid, &v1_path, &v2_path)) return std::nullopt;
  std::optional<std::string> value;
  if (!v1_path.empty()) {
    auto v = ReadFile("/sys/fs/cgroup/memory" + v1_path + "/memory.usage_in_bytes");
    if (v) value = *v;
  }
  if (!value && !v2_path.empty()) {
    auto v = ReadFile("/sys/fs/cgroup" + v2_path + "/memory.current");
    if (v) value = *v;
  }
  if (!value) return std::nullopt;
  return std::strtoull(value->c_str(), nullptr, 10);
}

std::optional<uint64_t> CgroupKmemOfPid(pid_t pid) {
  std::string v1_path, v2_path;
  if (!MemoryCgroupPaths(pid, &v1_path, &v2_path)) return std::nullopt;
  if (!v1_path.empty()) {
    auto v = ReadFile("/sys/fs/cgroup/memory" + v1_path + "/memory.kmem.usage_in_bytes");
    if (v) return std::strtoull(v->c_str(), nullptr, 10);
  }
  if (!v2_path.empty()) {
    auto stat = ReadFile("/sys/fs/cgroup" + v2_path + "/memory.stat");
    if (stat)
      for (const auto& line : Split(*stat, '\n'))
        if (line.rfind("kernel ", 0) == 0) return std::strtoull(line.c_str() + 7, nullptr, 10);
  }
  return std::nullopt;
}

std::string ProgramVersion(const std::string& binary) {
  auto r = Run({binary, "--version"}, std::chrono::seconds(10));
  if (!r || !r->status.ok()) return "unknown";
  auto lines = Split(r->out, '\n');
  if (lines.empty()) return "unknown";
  // runc/runsc print the commit and spec on later lines; one line with the spec is clearer.
  std::string v = Trim(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i)
    if (lines[i].rfind("spec", 0) == 0) v += " (" + Trim(lines[i]) + ")";
  return v;
}

}  // namespace cvb::launcher
