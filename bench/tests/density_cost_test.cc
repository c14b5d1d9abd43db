#include "density_cost.h"

#include <gtest/gtest.h>

namespace cvb::bench {
namespace {

constexpr uint64_t kMiB = 1 << 20;

TEST(DensityCost, AddsUserAndKernelAndComparesWithTheDrop) {
  std::map<std::string, uint64_t> before{{"MemAvailable", 1000 * kMiB}, {"Slab", 100 * kMiB},
                                         {"SUnreclaim", 30 * kMiB},     {"KernelStack", 2 * kMiB},
                                         {"PageTables", 6 * kMiB},      {"Percpu", 1 * kMiB},
                                         {"Shmem", 9 * kMiB},           {"VmallocUsed", 15 * kMiB}};
  auto after = before;
  after["MemAvailable"] = 960 * kMiB;  // dropped 40
  after["Slab"] += 20 * kMiB;
  after["SUnreclaim"] += 12 * kMiB;
  after["KernelStack"] += 4 * kMiB;
  after["PageTables"] += 3 * kMiB;
  after["Percpu"] += 1 * kMiB;
  after["Shmem"] -= 2 * kMiB;  // a tmpfs file of someone else went away: kept negative
  after["VmallocUsed"] += 5 * kMiB;
  ProcessKernelMemory procs;
  procs.page_tables = 2 * kMiB;
  procs.threads = 64;  // 64 x 16 KiB = 1 MiB of kernel stacks
  auto c = ComputeDensityCost(before, after, 10 * kMiB, procs);
  EXPECT_DOUBLE_EQ(c.user_mib, 10);
  // Slab + Percpu + Shmem host-wide, page tables and stacks per process; the host-wide
  // KernelStack, PageTables, SUnreclaim and Vmalloc are not summed.
  EXPECT_DOUBLE_EQ(c.page_tables_mib, 2);
  EXPECT_DOUBLE_EQ(c.kernel_stacks_mib, 1);
  EXPECT_DOUBLE_EQ(c.kernel_mib, 20 + 1 - 2 + 2 + 1);
  EXPECT_DOUBLE_EQ(c.cost_mib, 32);
  EXPECT_DOUBLE_EQ(c.memavailable_drop_mib, 40);
  EXPECT_DOUBLE_EQ(c.unexplained_mib, 8);
  EXPECT_DOUBLE_EQ(c.kernel_delta_mib.at("KernelStack"), 4);
  EXPECT_DOUBLE_EQ(c.kernel_delta_mib.at("PageTables"), 3);
  EXPECT_DOUBLE_EQ(c.kernel_delta_mib.at("SUnreclaim"), 12);
  EXPECT_DOUBLE_EQ(c.kernel_delta_mib.at("VmallocUsed"), 5);
  EXPECT_DOUBLE_EQ(c.kernel_delta_mib.at("Shmem"), -2);
}

TEST(DensityCost, RisingMemAvailableIsANegativeDropNotZero) {
  std::map<std::string, uint64_t> before{{"MemAvailable", 500 * kMiB}};
  std::map<std::string, uint64_t> after{{"MemAvailable", 503 * kMiB}};
  auto c = ComputeDensityCost(before, after, 0, {});
  EXPECT_DOUBLE_EQ(c.memavailable_drop_mib, -3);
  EXPECT_DOUBLE_EQ(c.kernel_mib, 0);  // fields absent on both sides count as no change
}

TEST(DensityCost, CounterNames) {
  EXPECT_EQ(CounterNameOf("KernelStack"), "kernel_stack");
  EXPECT_EQ(CounterNameOf("PageTables"), "page_tables");
  EXPECT_EQ(CounterNameOf("SUnreclaim"), "sunreclaim");
  EXPECT_EQ(CounterNameOf("Slab"), "slab");
  EXPECT_EQ(CounterNameOf("VmallocUsed"), "vmalloc_used");
}

}  // namespace
}  // namespace cvb::bench
