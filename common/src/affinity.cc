#include "cvb/common/affinity.h"

#include <dirent.h>
#include <errno.h>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "cvb/common/file.h"

namespace cvb {
namespace {

cpu_set_t SetOf(const std::vector<int>& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus)
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
  return set;
}

}  // namespace

Result<std::vector<int>> ParseCpuList(const std::string& text) {
  std::set<int> out;
  size_t i = 0;
  auto bad = [&] { return Failure("CPU list '" + text + "': expected e.g. 0-2,5"); };
  if (!text.empty() && text.back() == ',') return bad();
  while (i < text.size()) {
    size_t end = text.find(',', i);
    std::string part = text.substr(i, end == std::string::npos ? std::string::npos : end - i);
    char* p = nullptr;
    long a = std::strtol(part.c_str(), &p, 10);
    if (part.empty() || p == part.c_str() || a < 0 || a >= CPU_SETSIZE) return bad();
    long b = a;
    if (*p == '-') {
      const char* q = p + 1;
      b = std::strtol(q, &p, 10);
      if (p == q || b < a || b >= CPU_SETSIZE) return bad();
    }
    if (*p != 0) return bad();
    for (long c = a; c <= b; ++c) out.insert(static_cast<int>(c));
    if (end == std::string::npos) break;
    i = end + 1;
  }
  if (out.empty()) return bad();
  return std::vector<int>(out.begin(), out.end());
}

std::string FormatCpuList(std::vector<int> cpus) {
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

Result<std::vector<int>> AllowedCpus() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return ErrnoError("sched_getaffinity");
  std::vector<int> out;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

Result<void> PinProcess(pid_t pid, const std::vector<int>& cpus) {
  cpu_set_t set = SetOf(cpus);
  std::string dir = "/proc/" + (pid ? std::to_string(pid) : std::string("self")) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoError("opendir " + dir);
  Result<void> result = Ok();
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    pid_t tid = static_cast<pid_t>(std::atoi(e->d_name));
    // A thread that exited meanwhile is no error.
    if (::sched_setaffinity(tid, sizeof set, &set) != 0 && errno != ESRCH) {
      result = ErrnoError("sched_setaffinity " + std::to_string(tid) + " to " + FormatCpuList(cpus));
      break;
    }
  }
  ::closedir(d);
  return result;
}

Result<ScopedThreadAffinity> ScopedThreadAffinity::Pin(const std::vector<int>& cpus) {
  ScopedThreadAffinity s;
  if (::sched_getaffinity(0, sizeof s.before_, &s.before_) != 0)
    return ErrnoError("sched_getaffinity");
  cpu_set_t set = SetOf(cpus);
  if (::sched_setaffinity(0, sizeof set, &set) != 0)
    return ErrnoError("sched_setaffinity to " + FormatCpuList(cpus));
  s.active_ = true;
  return s;
}

ScopedThreadAffinity::ScopedThreadAffinity(ScopedThreadAffinity&& other) noexcept
    : before_(other.before_), active_(other.active_) {
  other.active_ = false;
}

ScopedThreadAffinity::~ScopedThreadAffinity() {
  if (active_) (void)::sched_setaffinity(0, sizeof before_, &before_);
}

}  // namespace cvb
