#include "density_cost.h"

#include <cctype>

namespace cvb::bench {
namespace {


double DeltaMib(const std::map<std::string, uint64_t>& before,
                const std::map<std::string, uint64_t>& after, const std::string& field) {
  auto b = before.find(field), a = after.find(field);
  if (b == before.end() || a == after.end()) return 0;
  return (static_cast<double>(a->second) - static_cast<double>(b->second)) / kMiB;
}

}  // namespace

const std::vector<std::string>& KernelCostFields() {
  static const std::vector<std::string> fields{"Slab", "Percpu", "Shmem"};
  return fields;
}

const std::vector<std::string>& KernelDetailFields() {
  static const std::vector<std::string> fields{"SUnreclaim", "SReclaimable", "PageTables",
                                               "KernelStack", "VmallocUsed"};
  return fields;
}

DensityCost ComputeDensityCost(const std::map<std::string, uint64_t>& before,
                               const std::map<std::string, uint64_t>& after,
                               uint64_t user_pss_bytes, const ProcessKernelMemory& processes) {
  DensityCost c;
  c.user_mib = static_cast<double>(user_pss_bytes) / kMiB;
  for (const auto& f : KernelCostFields()) {
    double d = DeltaMib(before, after, f);
    c.kernel_delta_mib[f] = d;
    c.kernel_mib += d;
  }
  for (const auto& f : KernelDetailFields()) c.kernel_delta_mib[f] = DeltaMib(before, after, f);
  c.page_tables_mib = static_cast<double>(processes.page_tables) / kMiB;
  c.kernel_stacks_mib = static_cast<double>(processes.threads * kKernelStackBytes) / kMiB;
  c.kernel_mib += c.page_tables_mib + c.kernel_stacks_mib;
  c.cost_mib = c.user_mib + c.kernel_mib;
  c.memavailable_drop_mib = -DeltaMib(before, after, "MemAvailable");
  c.unexplained_mib = c.memavailable_drop_mib - c.cost_mib;
  return c;
}

std::string CounterNameOf(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    char ch = field[i];
    if (std::isupper(static_cast<unsigned char>(ch))) {
      // A new word starts at an upper-case letter after a lower-case one ("KernelStack"), not
      // inside an acronym ("SUnreclaim" -> "sunreclaim").
      if (i > 0 && std::islower(static_cast<unsigned char>(field[i - 1]))) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace cvb::bench
