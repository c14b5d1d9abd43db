// What N idle instances cost the host, added up from its parts (the density suite's accounting):
//   user side    PSS of every host process of the instances (init, shims, monitors, QEMU)
//   kernel side  growth of /proc/meminfo Slab + Percpu + Shmem between a settled reading before
//                the first start and one with all N running (host-wide: namespaces, cgroups,
//                mounts, state files), plus the page tables (VmPTE) and kernel stacks (threads x
//                16 KiB) of the instances' own processes, read per process because the host-wide
//                PageTables and KernelStack move with every other process on a shared machine
//   cost         user + kernel
// and beside it the cross-check: the raw drop of MemAvailable over the same interval, with what
// the sum leaves unexplained (drop - cost). Nothing is clamped: a negative delta is reported as
// measured (the host freed memory meanwhile), so noise shows instead of hiding.
// Shmem counts tmpfs files (runtime state in /run) and shared memory; a process that maps shmem
// has it in its PSS too, which idle instances do not do. The host-wide PageTables, KernelStack,
// VmallocUsed (overlaps KernelStack: vmap stacks) and SUnreclaim/SReclaimable (split Slab) deltas
// are reported on their own, not summed.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cvb/common/proc.h"

namespace cvb::bench {

// Bytes in a MiB: every density figure is in MiB.
inline constexpr double kMiB = 1024.0 * 1024.0;

// Kernel stack size per thread (x86-64 THREAD_SIZE without KASAN).
inline constexpr uint64_t kKernelStackBytes = 16 * 1024;

// The meminfo fields summed into the kernel side.
const std::vector<std::string>& KernelCostFields();
// Also reported per entry, not summed (parts of or overlapping with the summed ones).
const std::vector<std::string>& KernelDetailFields();

struct DensityCost {
  double user_mib = 0;
  double kernel_mib = 0;         // meminfo deltas summed + page tables + kernel stacks
  double page_tables_mib = 0;    // VmPTE of the instances' processes
  double kernel_stacks_mib = 0;  // their threads x kKernelStackBytes
  double cost_mib = 0;
  double memavailable_drop_mib = 0;  // before - after, negative when MemAvailable rose
  double unexplained_mib = 0;        // memavailable_drop_mib - cost_mib
  // field -> after - before in MiB, for KernelCostFields() and KernelDetailFields()
  std::map<std::string, double> kernel_delta_mib;
};

DensityCost ComputeDensityCost(const std::map<std::string, uint64_t>& before,
                               const std::map<std::string, uint64_t>& after,
                               uint64_t user_pss_bytes, const ProcessKernelMemory& processes);

// "KernelStack" -> "kernel_stack": the counter name of a meminfo field.
std::string CounterNameOf(const std::string& meminfo_field);

}  // namespace cvb::bench
