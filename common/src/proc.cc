#include "cvb/common/proc.h"

#include <dirent.h>

#include <cstdlib>
#include <sstream>

#include "cvb/common/file.h"

namespace cvb {
namespace {

// "Pss:   1234 kB" -> bytes.
bool FieldKb(const std::string& line, const char* name, uint64_t* out) {
  size_t n = std::char_traits<char>::length(name);
  if (line.compare(0, n, name) != 0 || line.size() <= n || line[n] != ':') return false;
  *out = std::strtoull(line.c_str() + n + 1, nullptr, 10) * 1024;
  return true;
}

}  // namespace

Result<MemoryUsage> ParseSmapsRollup(const std::string& text) {
  MemoryUsage m;
  uint64_t private_clean = 0, private_dirty = 0;
  bool saw_pss = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    uint64_t v;
    if (FieldKb(line, "Rss", &v)) m.rss = v;
    else if (FieldKb(line, "Pss", &v)) { m.pss = v; saw_pss = true; }
    else if (FieldKb(line, "Private_Clean", &v)) private_clean = v;
    else if (FieldKb(line, "Private_Dirty", &v)) private_dirty = v;
    else if (FieldKb(line, "Swap", &v)) m.swap = v;
  }
  if (!saw_pss) return Failure("smaps_rollup: no Pss field");
  m.uss = private_clean + private_dirty;
  m.processes = 1;
  return m;
}

Result<MemoryUsage> ReadProcessMemory(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/smaps_rollup";
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto m = ParseSmapsRollup(text);
  if (!m) return m.error().wrap(path);
  return m;
}

MemoryUsage ReadProcessesMemory(const std::vector<pid_t>& pids) {
  MemoryUsage total;
  for (pid_t p : pids) {
    auto m = ReadProcessMemory(p);
    if (m) total += *m;
  }
  return total;
}

Result<uint64_t> ParseMeminfoField(const std::string& text, const std::string& field) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    uint64_t v;
    if (FieldKb(line, field.c_str(), &v)) return v;
  }
  return Failure("/proc/meminfo: no field " + field);
}

Result<uint64_t> ReadMeminfo(const std::string& field) {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/meminfo"));
  return ParseMeminfoField(text, field);
}

std::vector<pid_t> ProcessTree(pid_t root) {
  std::vector<pid_t> out{root};
  for (size_t i = 0; i < out.size(); ++i) {
    std::string task_dir = "/proc/" + std::to_string(out[i]) + "/task";
    DIR* d = ::opendir(task_dir.c_str());
    if (!d) continue;
    std::vector<std::string> tids;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') tids.emplace_back(e->d_name);
    }
    ::closedir(d);
    for (const auto& tid : tids) {
      auto children = ReadFile(task_dir + "/" + tid + "/children");
      if (!children) continue;
      for (const auto& c : Split(*children, ' ')) {
        pid_t p = static_cast<pid_t>(std::atoi(c.c_str()));
        if (p > 0) out.push_back(p);
      }
    }
  }
  return out;
}

namespace {
// /proc/PID/stat: "pid (comm) state ppid ..." where comm may contain spaces and parentheses.
Result<std::pair<std::string, pid_t>> ReadStat(pid_t pid) {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/" + std::to_string(pid) + "/stat"));
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 4 > text.size())
    return Failure("/proc/" + std::to_string(pid) + "/stat: unexpected format");
  std::string comm = text.substr(open + 1, close - open - 1);
  pid_t ppid = static_cast<pid_t>(std::atoi(text.c_str() + close + 4));
  return std::make_pair(comm, ppid);
}
}  // namespace

Result<pid_t> ParentPid(pid_t pid) {
  CVB_ASSIGN_OR_RETURN(auto st, ReadStat(pid));
  return st.second;
}

Result<std::string> ProcessName(pid_t pid) {
  CVB_ASSIGN_OR_RETURN(auto st, ReadStat(pid));
  return st.first;
}

}  // namespace cvb
