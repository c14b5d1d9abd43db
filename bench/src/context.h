// The context block of every result file: what was measured, where, under which conditions.
// Keys are stable: scripts/plot, scripts/report and scripts/compare read them.
#pragma once

#include <map>
#include <string>

namespace cvb::bench {

// Host facts: git_sha, git_dirty, kernel, cpu_model, cpus_online, mem_total_bytes, hostname,
// cgroup_mode, kvm (usable or why not), date_utc, cvbench_version.
std::map<std::string, std::string> HostContext();

}  // namespace cvb::bench
