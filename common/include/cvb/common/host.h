// Facts about the host that every result's context carries.
#pragma once

#include <string>

#include "cvb/common/result.h"

namespace cvb {

enum class CgroupMode { kV1, kV2, kHybrid, kUnknown };
const char* CgroupModeName(CgroupMode mode);  // "v1", "v2", "hybrid", "unknown"
// From the filesystem types at /sys/fs/cgroup and /sys/fs/cgroup/unified.
CgroupMode DetectCgroupMode();

std::string KernelRelease();  // uname -r
std::string CpuModel();       // "model name" of /proc/cpuinfo
int OnlineCpus();
std::string HostName();
uint64_t TotalMemoryBytes();
// ContentHash of uname's sysname, release, version and machine: one plain token that matches on
// the same kernel and differs between kernels (a VM's, gVisor's Sentry); the isolation probe's
// kernel check where boot_id is not readable.
std::string UnameHash();

}  // namespace cvb
