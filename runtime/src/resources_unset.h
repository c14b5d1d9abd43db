// The values of linux.resources that runc reads as "not set". runc's cgroup writers skip a zero
// (memory.limit, cpu.shares, blockIO.weight, ...), so engines fill them in freely: Docker's
// config.json carries "blockIO": {"weight": 0}, "cpu": {"shares": 0} and "disableOOMKiller":
// false on every container, and the containerd shim sends the same object to `update`. cvrun
// drops exactly those values before it plans, so that it applies what runc applies and still
// refuses a real setting it cannot apply (blockIO.weight 500 on a host without blkio.weight).
#pragma once

#include <nlohmann/json.hpp>

namespace cvb::runtime {

// Removes, in place, every member of a linux.resources object whose value runc treats as unset:
//   memory.limit / reservation / swap / kernel / kernelTCP   0
//   memory.swappiness                                         2^64-1 (-1 as uint64)
//   memory.disableOOMKiller                                   false
//   cpu.shares / quota / period / realtimeRuntime / realtimePeriod   0;  cpu.cpus / mems  ""
//   pids.limit                                                0 (the whole pids object)
//   blockIO.weight / leafWeight, weightDevice[].weight / leafWeight   0 (an entry left with
//                                                             neither is removed)
//   network.classID                                           0
//   rdma, unified                                             {} (no entry)
// then a memory, cpu, pids, blockIO or network object left empty. Everything else stays,
// including zeros runc does write (a throttle rate of 0 removes a limit; a hugepage limit of 0
// forbids huge pages; cpu.quota -1 means no quota).
void DropUnsetResourceValues(nlohmann::json& resources);

}  // namespace cvb::runtime
