// Readers of /proc: per-process memory (smaps_rollup), host memory (meminfo) and process trees.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb {

// Memory of one or more processes, in bytes. USS = Private_Clean + Private_Dirty.
struct MemoryUsage {
  uint64_t rss = 0;
  uint64_t pss = 0;
  uint64_t uss = 0;
  uint64_t swap = 0;
  int processes = 0;

  MemoryUsage& operator+=(const MemoryUsage& o) {
    rss += o.rss;
    pss += o.pss;
    uss += o.uss;
    swap += o.swap;
    processes += o.processes;
    return *this;
  }
};

// Parses the text of /proc/PID/smaps_rollup.
Result<MemoryUsage> ParseSmapsRollup(const std::string& text);
Result<MemoryUsage> ReadProcessMemory(pid_t pid);
// Sum over the given processes; processes that vanished are skipped.
MemoryUsage ReadProcessesMemory(const std::vector<pid_t>& pids);

// /proc/meminfo field in bytes (for example "MemAvailable").
Result<uint64_t> ParseMeminfoField(const std::string& text, const std::string& field);
Result<uint64_t> ReadMeminfo(const std::string& field);

// pid and all its descendants (through /proc/PID/task/*/children), pid first.
std::vector<pid_t> ProcessTree(pid_t pid);
// Parent pid and command name from /proc/PID/stat.
Result<pid_t> ParentPid(pid_t pid);
Result<std::string> ProcessName(pid_t pid);

}  // namespace cvb
