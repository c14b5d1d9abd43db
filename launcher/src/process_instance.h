// Pieces shared by the native and OCI launchers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "cvb/common/result.h"

namespace cvb::launcher {

// Memory charged to pid's memory cgroup (v1 memory.usage_in_bytes or v2 memory.current).
std::optional<uint64_t> CgroupMemoryOfPid(pid_t pid);
// Kernel memory charged to pid's memory cgroup: v1 memory.kmem.usage_in_bytes, v2 the "kernel"
// line of memory.stat. nullopt where the hierarchy does not report it.
std::optional<uint64_t> CgroupKmemOfPid(pid_t pid);
// First line of `<binary> --version`.
std::string ProgramVersion(const std::string& binary);

}  // namespace cvb::launcher
