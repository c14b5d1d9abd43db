#include "cvb/common/proc.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
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

Result<ProcessKernelMemory> ParseProcStatus(const std::string& text) {
  ProcessKernelMemory k;
  bool saw_threads = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    uint64_t v;
    if (FieldKb(line, "VmPTE", &v)) {
      k.page_tables = v;
    } else if (line.rfind("Threads:", 0) == 0) {
      k.threads = std::strtoull(line.c_str() + 8, nullptr, 10);
      saw_threads = true;
    }
  }
  if (!saw_threads) return Failure("status: no Threads field");
  k.processes = 1;
  return k;
}

ProcessKernelMemory ReadProcessesKernelMemory(const std::vector<pid_t>& pids) {
  ProcessKernelMemory total;
  for (pid_t p : pids) {
    auto text = ReadFile("/proc/" + std::to_string(p) + "/status");
    if (!text) continue;
    auto k = ParseProcStatus(*text);
    if (!k) continue;
    total.page_tables += k->page_tables;
    total.threads += k->threads;
    total.processes += 1;
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

Result<std::map<std::string, uint64_t>> ParseMeminfo(const std::string& text) {
  std::map<std::string, uint64_t> fields;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    char* end = nullptr;
    uint64_t v = std::strtoull(line.c_str() + colon + 1, &end, 10);
    if (end == line.c_str() + colon + 1) continue;  // no number
    bool kb = line.find(" kB", colon) != std::string::npos;
    fields[line.substr(0, colon)] = kb ? v * 1024 : v;
  }
  if (!fields.count("MemTotal")) return Failure("/proc/meminfo: no MemTotal field");
  return fields;
}

Result<std::map<std::string, uint64_t>> ReadMeminfoAll() {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/meminfo"));
  auto fields = ParseMeminfo(text);
  if (!fields) return fields.error().wrap("/proc/meminfo");
  return fields;
}

std::vector<pid_t> ProcessTree(pid_t root) {
  std::vector<pid_t> out{root};
  for (size_t i = 0; i < out.size(); ++i) {
    std::string task_dir = "/proc/" + std::to_string(out[i]) + "/task";
    // A process gone meanwhile lists no threads: its subtree is skipped.
    for (const auto& tid : ListDirectory(task_dir)) {
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

bool ProcessGone(pid_t pid) {
  if (pid <= 0) return false;
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return ::kill(pid, 0) != 0 && errno == ESRCH;
  size_t close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return false;
  char state = (*text)[close + 2];
  return state == 'Z' || state == 'X';
}

std::string StatusField(const std::string& status_text, const std::string& key) {
  std::istringstream in(status_text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':')
      return Trim(line.substr(key.size() + 1));
  }
  return "";
}

bool HasCapability(const std::string& hex_mask, int cap) {
  if (hex_mask.empty() || cap < 0 || cap > 63) return false;
  uint64_t m = std::strtoull(hex_mask.c_str(), nullptr, 16);
  return (m >> cap) & 1u;
}

int CountCapabilities(const std::string& hex_mask) {
  if (hex_mask.empty()) return 0;
  return __builtin_popcountll(std::strtoull(hex_mask.c_str(), nullptr, 16));
}

std::vector<std::pair<int, std::string>> OpenFds(const std::string& who) {
  std::vector<std::pair<int, std::string>> out;
  std::string dir = "/proc/" + who + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  int self = who == "self" ? ::dirfd(d) : -1;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    int fd = std::atoi(e->d_name);
    if (fd == self) continue;
    char target[4096];
    ssize_t n = ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    out.emplace_back(fd, std::string(target, n > 0 ? static_cast<size_t>(n) : 0));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<pid_t> VisiblePids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long p = std::strtol(e->d_name, &end, 10);
    if (p > 0 && end && *end == 0) out.push_back(static_cast<pid_t>(p));
  }
  ::closedir(d);
  return out;
}

std::vector<std::string> ParseNetDevNames(const std::string& proc_net_dev) {
  // Two header lines, then "  name: counters...".
  std::vector<std::string> out;
  std::istringstream in(proc_net_dev);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = Trim(line.substr(0, colon));
    if (!name.empty() && name.find('|') == std::string::npos) out.push_back(name);
  }
  return out;
}

bool CmdlineHasArg(const std::string& cmdline, const std::string& arg) {
  size_t start = 0;
  while (start < cmdline.size()) {
    size_t end = cmdline.find('\0', start);
    if (end == std::string::npos) end = cmdline.size();
    if (cmdline.compare(start, end - start, arg) == 0) return true;
    start = end + 1;
  }
  return false;
}

std::map<std::string, std::string> ParseStatusFields(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const auto& line : Split(text, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) continue;
    out[line.substr(0, colon)] = Trim(std::string_view(line).substr(colon + 1));
  }
  return out;
}

std::map<std::string, std::string> ParseLimits(const std::string& text) {
  // "Limit                     Soft Limit           Hard Limit           Units"; the name ends
  // where the soft limit's column starts (column positions from the header line).
  std::map<std::string, std::string> out;
  auto lines = Split(text, '\n');
  if (lines.empty()) return out;
  size_t soft_col = lines[0].find("Soft Limit");
  if (soft_col == std::string::npos) return out;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.size() <= soft_col) continue;
    std::string name = Trim(std::string_view(line).substr(0, soft_col));
    if (name.rfind("Max ", 0) == 0) name = name.substr(4);
    for (char& c : name) c = c == ' ' ? '_' : static_cast<char>(std::tolower(c));
    std::istringstream rest(line.substr(soft_col));
    std::string soft, hard;
    rest >> soft >> hard;
    if (!name.empty() && !soft.empty()) out[name] = soft + "/" + hard;
  }
  return out;
}

std::string CompactLines(const std::string& text) {
  std::string out;
  for (const auto& line : Split(text, '\n')) {
    std::istringstream words(line);
    std::string w, joined;
    while (words >> w) joined += (joined.empty() ? "" : " ") + w;
    if (!joined.empty()) out += (out.empty() ? "" : ";") + joined;
  }
  return out;
}

size_t CountLines(const std::string& text) {
  size_t n = 0;
  for (const auto& line : Split(text, '\n'))
    if (!Trim(line).empty()) ++n;
  return n;
}

}  // namespace cvb
