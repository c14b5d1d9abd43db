// CPU affinity: CPU lists as the kernel writes them ("0-1,4"), the CPUs this process may run
// on, and pinning of the calling thread or of a whole process (every thread). A child spawned by
// a thread inherits that thread's affinity: pinning the spawning thread for the duration of a
// spawn pins the child from its first instruction, without an extra exec (taskset).
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb {

// "0-2,5" -> {0, 1, 2, 5}; fails naming the text when it does not parse or is empty.
Result<std::vector<int>> ParseCpuList(const std::string& text);
// {0, 1, 2, 5} -> "0-2,5".
std::string FormatCpuList(std::vector<int> cpus);
// The CPUs the calling thread may run on.
Result<std::vector<int>> AllowedCpus();

// Sets every thread of `pid` (0: this process) to `cpus`. Threads made later inherit their
// creator's affinity.
Result<void> PinProcess(pid_t pid, const std::vector<int>& cpus);

// The calling thread pinned to `cpus` until destruction, then restored.
class ScopedThreadAffinity {
 public:
  static Result<ScopedThreadAffinity> Pin(const std::vector<int>& cpus);
  ScopedThreadAffinity(ScopedThreadAffinity&& other) noexcept;
  ScopedThreadAffinity& operator=(ScopedThreadAffinity&&) = delete;
  ScopedThreadAffinity(const ScopedThreadAffinity&) = delete;
  ~ScopedThreadAffinity();

 private:
  ScopedThreadAffinity() = default;
  cpu_set_t before_{};
  bool active_ = false;
};

}  // namespace cvb
