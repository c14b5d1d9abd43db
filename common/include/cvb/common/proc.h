// Readers of /proc: per-process memory (smaps_rollup), host memory (meminfo) and process trees.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
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

// Kernel memory held for one or more processes, from /proc/PID/status: page tables (VmPTE) and
// threads, whose kernel stacks are THREAD_SIZE each (16 KiB on x86-64).
struct ProcessKernelMemory {
  uint64_t page_tables = 0;
  uint64_t threads = 0;
  int processes = 0;
};
Result<ProcessKernelMemory> ParseProcStatus(const std::string& text);
// Sum over the given processes; processes that vanished are skipped.
ProcessKernelMemory ReadProcessesKernelMemory(const std::vector<pid_t>& pids);

// /proc/meminfo field in bytes (for example "MemAvailable").
Result<uint64_t> ParseMeminfoField(const std::string& text, const std::string& field);
Result<uint64_t> ReadMeminfo(const std::string& field);
// Every "Name: value kB" field of /proc/meminfo, in bytes (count fields such as HugePages_Total
// are kept as they are). One read, so that fields compared with each other are from one instant.
Result<std::map<std::string, uint64_t>> ParseMeminfo(const std::string& text);
Result<std::map<std::string, uint64_t>> ReadMeminfoAll();

// pid and all its descendants (through /proc/PID/task/*/children), pid first.
std::vector<pid_t> ProcessTree(pid_t pid);
// Parent pid and command name from /proc/PID/stat.
Result<pid_t> ParentPid(pid_t pid);
Result<std::string> ProcessName(pid_t pid);
// The process no longer runs: there is no such pid, or it is a zombie nobody reaps (a killed
// process re-parented to this host's PID 1, which does not reap, stays one for a long time).
bool ProcessGone(pid_t pid);

// What a process can see and hold, read the same way from the host (about another pid) and from
// inside an instance (about itself: pass "self"), so that both sides agree on the reading.
// The value of "Key:" in the text of /proc/PID/status (for example CapEff, Seccomp,
// NoNewPrivs), trimmed; "" when the field is absent (a kernel without it).
std::string StatusField(const std::string& status_text, const std::string& key);
// Capabilities in a CapEff/CapBnd hex mask: whether bit `cap` is set, and how many are.
bool HasCapability(const std::string& hex_mask, int cap);
int CountCapabilities(const std::string& hex_mask);
// Open fds of /proc/<who>/fd with the targets they point at (readlink), ascending; the reader's
// own directory fd is left out when who is "self".
std::vector<std::pair<int, std::string>> OpenFds(const std::string& who);
// Numeric entries of /proc: the processes visible from here.
std::vector<pid_t> VisiblePids();
// Interface names from the text of /proc/net/dev.
std::vector<std::string> ParseNetDevNames(const std::string& proc_net_dev);
// Whether one argv element of a NUL-separated /proc/PID/cmdline equals arg exactly.
bool CmdlineHasArg(const std::string& cmdline, const std::string& arg);
// Parsers of /proc text shared by the host's fingerprint reader (launcher/fingerprint.h) and the
// workload's self-report (its fingerprint mode), so both sides read the same fields the same way.
// "Name:\tvalue" lines of /proc/PID/status: {"CapEff": "00000000a80425fb", ...}.
std::map<std::string, std::string> ParseStatusFields(const std::string& text);
// /proc/PID/limits: {"open_files": "1024/1048576", ...}; names lower-case without "Max ", soft/hard.
std::map<std::string, std::string> ParseLimits(const std::string& text);
// The text with every run of whitespace made one space and lines joined by ";" (uid_map,
// devices.list): one line, one string to compare.
std::string CompactLines(const std::string& text);
// Non-empty lines (mountinfo's mount count).
size_t CountLines(const std::string& text);

}  // namespace cvb
