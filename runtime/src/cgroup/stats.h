// A container's cgroup statistics in the shape of runc's `events --stats` data (runc's
// types/events.go: cpu, memory, pids, blkio, hugetlb), read from the files of its cgroups:
//   v1 (and hybrid hosts): cpuacct.usage[_percpu[_sys|_user]], cpuacct.stat, cpu.stat,
//      memory.{usage,max_usage,limit}_in_bytes + failcnt (and memsw./kmem./kmem.tcp. ones),
//      memory.stat, pids.current/max, blkio.throttle.io_service{_bytes,d}_recursive,
//      hugetlb.<size>.{usage,max_usage}_in_bytes + failcnt;
//   v2: cpu.stat, memory.{current,peak,max,events,stat}, memory.swap.{current,max}, pids.*,
//      io.stat, hugetlb.<size>.{current,max,events}.
// A controller the container has no directory for gives zeros (and empty lists), as in runc.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cgroup/manager.h"
#include "sys/sys.h"

namespace cvb::runtime::cgroup {

// leaves: state.json's cgroup_leaves. clock_ticks: USER_HZ (cpuacct.stat counts in it).
nlohmann::json ReadStats(sys::Sys& sys, const Host& host, const std::vector<std::string>& leaves,
                         long clock_ticks);

// "oom_kill N" of a v2 memory.events text (0 when absent).
uint64_t OomKillCount(const std::string& memory_events);

}  // namespace cvb::runtime::cgroup
