// density: how much host memory N idle instances cost. For each N of a sweep (1, 2, 4, ...
// bounded by a memory budget), N idle instances are brought to READY one after another, the
// host settles, and we read: the drop in MemAvailable since before the first start, the PSS and
// USS of the instances' host processes, and their cgroups' memory where they have one.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "fleet.h"
#include "suite.h"

namespace cvb::bench {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::vector<int> ParseCounts(const std::string& text) {
  std::vector<int> out;
  for (const auto& s : Split(text, ',')) {
    int n = std::atoi(s.c_str());
    if (n > 0) out.push_back(n);
  }
  return out;
}

// Waits until MemAvailable stops moving (two readings 500 ms apart within 1 MiB), at most
// max_ms: page cache writeback and lazy frees of the previous step settle first.
uint64_t SettledMemAvailable(int max_ms) {
  ::sync();
  uint64_t prev = ReadMeminfo("MemAvailable").value_or(0);
  for (int waited = 0; waited < max_ms; waited += 500) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    uint64_t now = ReadMeminfo("MemAvailable").value_or(0);
    if ((now > prev ? now - prev : prev - now) < (1u << 20)) return now;
    prev = now;
  }
  return prev;
}

class DensitySuite : public Suite {
 public:
  std::string Name() const override { return "density"; }
  std::string Description() const override {
    return "host memory of N idle instances (MemAvailable drop, PSS, USS, cgroup) vs N";
  }

  int Register(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
               SweepState& sweep) override {
    auto param = [&](const std::string& k, const std::string& def) {
      auto it = options.params.find(k);
      return it == options.params.end() ? def : it->second;
    };
    std::vector<int> counts = ParseCounts(param("density_n", "1,2,4,8"));
    double budget_mib = std::atof(param("budget_mib", "4096").c_str());
    int reps = std::max(1, std::atoi(param("density_repetitions", "3").c_str()));
    int settle_ms = std::atoi(param("settle_ms", "3000").c_str());
    auto timeout = options.ready_timeout;
    int runs = 0;
    for (auto& slot : launchers) {
      launcher::Launcher* l = slot.launcher.get();
      // Per launcher, the cost of one instance seen so far: the budget check of the next N.
      auto per_instance_mib = std::make_shared<double>(0.0);
      for (int n : counts) {
        std::string name = "density/" + slot.display_name + "/n:" + std::to_string(n);
        Measured(benchmark::RegisterBenchmark(
            name.c_str(),
            [=, &sweep](benchmark::State& st) {
              for (auto _ : st) {
                if (sweep.interrupted) {
                  st.SkipWithError("interrupted");
                  break;
                }
                sweep.Progress(name);
                if (*per_instance_mib * n > budget_mib) {
                  sweep.Fail(st, "skipped: " + std::to_string(n) + " instances at about " +
                                     std::to_string(static_cast<int>(*per_instance_mib)) +
                                     " MiB each exceed the budget of " +
                                     std::to_string(static_cast<int>(budget_mib)) +
                                     " MiB (--param budget_mib=...)");
                  break;
                }
                uint64_t before = SettledMemAvailable(settle_ms * 2);
                FleetOptions fo;
                fo.count = n;
                fo.ready_timeout = timeout;
                fo.request.mode = "idle";
                fo.memory_budget_bytes = static_cast<uint64_t>(budget_mib * kMiB);
                Fleet fleet;
                int64_t t0 = MonotonicNs();
                auto started = fleet.Start(*l, fo);
                int64_t t1 = MonotonicNs();
                if (!started) {
                  (void)fleet.TearDown();
                  sweep.Fail(st, started.error().message());
                  break;
                }
                uint64_t after = SettledMemAvailable(settle_ms);
                MemoryUsage mem;
                double cgroup = 0;
                bool has_cgroup = true;
                for (auto& inst : fleet.instances()) {
                  mem += inst->HostMemory();
                  auto cg = inst->CgroupMemoryBytes();
                  if (cg) cgroup += static_cast<double>(*cg);
                  else has_cgroup = false;
                }
                auto torn = fleet.TearDown();
                if (!torn) {
                  sweep.Fail(st, torn.error().message());
                  break;
                }
                double drop = before > after ? static_cast<double>(before - after) / kMiB : 0.0;
                st.SetIterationTime(NsToMs(t1 - t0) / 1e3);
                st.counters["n"] = n;
                st.counters["memavailable_drop_mib"] = drop;
                st.counters["memavailable_drop_per_instance_mib"] = drop / n;
                st.counters["pss_mib"] = mem.pss / kMiB;
                st.counters["uss_mib"] = mem.uss / kMiB;
                st.counters["rss_mib"] = mem.rss / kMiB;
                st.counters["pss_per_instance_mib"] = mem.pss / kMiB / n;
                st.counters["uss_per_instance_mib"] = mem.uss / kMiB / n;
                st.counters["host_processes"] = mem.processes;
                if (has_cgroup) st.counters["cgroup_mib"] = cgroup / kMiB;
                // Instances per GiB from PSS: it attributes shared pages fairly and does not
                // move with the rest of the host; the MemAvailable figure does (page cache,
                // other tenants), so it gets its own counter rather than steering this one.
                double pss_per = mem.pss / kMiB / n;
                if (pss_per > 0) st.counters["instances_per_gib"] = 1024.0 / pss_per;
                if (drop > 0) st.counters["instances_per_gib_memavailable"] = 1024.0 * n / drop;
                // The budget check of the next N errs on the high side.
                *per_instance_mib = std::max(*per_instance_mib, std::max(pss_per, drop / n));
              }
            }),
                 reps);
        runs += reps;
      }
    }
    return runs;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeDensitySuite() { return std::make_unique<DensitySuite>(); }

}  // namespace cvb::bench
