// The host and process limits a fleet of N instances draws on (density and scale-out at N = 1000):
// cvbench raises what it may (its own soft rlimits up to the hard ones), checks the rest before a
// step starts, and when a limit stops a step the entry names it with its value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::bench {

// One limit as it is now. unlimited: no number applies ("max", RLIM_INFINITY).
struct HostLimit {
  std::string name;  // "RLIMIT_NOFILE (soft)", "user.max_net_namespaces", "pids.max of <dir>"
  uint64_t value = 0;
  bool unlimited = false;
  // Only for RLIMIT_*: the hard limit a soft one may be raised to without CAP_SYS_RESOURCE.
  uint64_t hard = 0;
  bool hard_unlimited = false;
  // Only for pids.max: the cgroup subtree's tasks now (pids.current).
  uint64_t in_use = 0;
};

// Raises cvbench's own soft RLIMIT_NOFILE and RLIMIT_NPROC to their hard limits (no privilege
// needed; above the hard limit needs CAP_SYS_RESOURCE). One "RLIMIT_NOFILE 1024 -> 20000" per
// raise; empty when every soft limit already equals its hard one.
std::vector<std::string> RaiseOwnSoftLimits();

// Every limit below, read now (for the run's context: "host_limits").
std::vector<HostLimit> ReadFleetLimits();
std::string DescribeLimits(const std::vector<HostLimit>& limits);

// What n more instances take from each limit, given what is in use now. An instance here costs
// cvbench kFdsPerInstance open files (its workload pipe and a transient pidfd), the host
// kTasksPerInstance tasks (the container's init and the runtime's short-lived helpers), and one
// namespace of each kind. Returns the first limit that n instances would exceed, naming it with
// its value and what is in use, or Ok.
constexpr uint64_t kFdsPerInstance = 2;
constexpr uint64_t kTasksPerInstance = 4;
struct LimitUse {
  uint64_t open_fds = 0;    // cvbench's own
  uint64_t host_tasks = 0;  // every thread on the host
};
Result<void> CheckFleetLimits(int n, const std::vector<HostLimit>& limits, const LimitUse& use);
LimitUse ReadLimitUse();

// For an error message of a failed start ("Too many open files", "Resource temporarily
// unavailable", "No space left on device", "Cannot allocate memory"): the limits such an error
// comes from, with their values ("; limits behind EMFILE: RLIMIT_NOFILE (soft) = 1024 ..."), or ""
// when the message points at none.
std::string LimitsBehind(const std::string& message, const std::vector<HostLimit>& limits);

}  // namespace cvb::bench
