// Host memory of one QEMU process, split into the guest's RAM (the one anonymous mapping of the
// guest's size), TCG's translation cache (anonymous rwx mappings) and the rest: the VMM itself,
// the mapped kernel and initramfs. From /proc/PID/smaps, so it costs a few ms: measure, do not poll.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "cvb/common/proc.h"
#include "cvb/common/result.h"

namespace cvb::vmdriver {

struct QemuMemory {
  MemoryUsage total;           // the whole process (rss, pss, uss, swap)
  uint64_t guest_ram_rss = 0;  // guest RAM the guest has touched
  uint64_t guest_ram_pss = 0;
  uint64_t guest_ram_bytes = 0;  // the size of the mapping found (0: not found)
  uint64_t tcg_cache_rss = 0;    // TCG's translation cache (anonymous rwx mappings); 0 under KVM
  uint64_t tcg_cache_pss = 0;
  // The rest: QEMU's own code, heap, device state, mapped kernel/initramfs files.
  uint64_t vmm_pss() const { return total.pss - guest_ram_pss - tcg_cache_pss; }
  uint64_t vmm_rss() const { return total.rss - guest_ram_rss - tcg_cache_rss; }
};

Result<QemuMemory> ParseQemuSmaps(const std::string& smaps, uint64_t guest_ram_bytes);
Result<QemuMemory> ReadQemuMemory(pid_t pid, uint64_t guest_ram_bytes);

}  // namespace cvb::vmdriver
