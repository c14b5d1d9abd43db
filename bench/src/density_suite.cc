// density: how much host memory N idle instances cost. For each N of a sweep (default 1, 10,
// 100), N idle instances are brought to READY one after another, the host settles, and we add up
// what they cost (density_cost.h): the PSS of their host processes (user side) and the kernel's
// memory (growth of Slab, Percpu, Shmem; their processes' page tables and stacks), with the
// MemAvailable drop as the cross-check and the cgroup's kmem where the hierarchy reports it. VMs
// split their QEMU's PSS into guest RAM touched, TCG's translation cache and the VMM. Every entry
// also carries the least-squares fit cost = fixed + slope * N over all points of its launcher
// measured so far (repetitions run randomly interleaved, so the launcher's entry with the largest
// fit_points holds the fit over the whole sweep): slope = MiB per additional instance.
//
// Settling (both readings): sync, read /proc/meminfo every 500 ms until SUnreclaim moves by less
// than 256 KiB between two readings (network namespaces and other RCU-deferred frees of the
// previous step's teardown have landed) or the settle time runs out, then drop the page cache,
// dentries and inodes (drop_caches=3, on by default, --param drop_caches=0 to keep them), wait
// 300 ms for their RCU frees and read. drop_caches is host-wide: other processes re-read their
// files afterwards (a cost in their time, never in their correctness); without it, the dentries and
// page cache of the previous step's teardown land in the next step's figures.
// KSM (--param ksm=off,on; VM launchers only, entries density/<vm>/ksm:<off|on>/n:<N>): each
// repetition sets /sys/kernel/mm/ksm (ksm.h) before its instances start, waits after the last is
// ready until KSM has settled (two full scans, pages_sharing still; bounded by ksm_settle_ms), then
// settles and reads as above, and gives the host its KSM settings back after the teardown.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "cvb/vmdriver/launchers.h"
#include "density_cost.h"
#include "fleet.h"
#include "host_limits.h"
#include "ksm.h"
#include "linear_fit.h"
#include "suite.h"

namespace cvb::bench {
namespace {


std::vector<int> ParseCounts(const std::string& text) {
  std::vector<int> out;
  for (const auto& s : Split(text, ',')) {
    int n = std::atoi(s.c_str());
    if (n > 0) out.push_back(n);
  }
  return out;
}

struct Settled {
  std::map<std::string, uint64_t> meminfo;
  int waited_ms = 0;
  bool stable = false;
  bool dropped_caches = false;
};

uint64_t Field(const std::map<std::string, uint64_t>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}

uint64_t AbsDiff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

// Waits for the kernel's deferred frees to land (SUnreclaim steady between two readings 500 ms
// apart; MemAvailable moves with every other process on a shared host, so it cannot be the
// criterion), then drops caches and reads right after, so that neither reading carries page
// cache or unused dentries the other does not.
Settled Settle(int max_ms, bool drop_caches) {
  Settled s;
  ::sync();
  auto prev = ReadMeminfoAll().value_or(std::map<std::string, uint64_t>{});
  while (s.waited_ms < max_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s.waited_ms += 500;
    auto now = ReadMeminfoAll().value_or(std::map<std::string, uint64_t>{});
    bool stable = AbsDiff(Field(now, "SUnreclaim"), Field(prev, "SUnreclaim")) < (256u << 10);
    prev = std::move(now);
    if (stable) {
      s.stable = true;
      break;
    }
  }
  if (drop_caches) {
    ::sync();
    s.dropped_caches = WriteFile("/proc/sys/vm/drop_caches", "3\n").ok();
    // Dentries and inodes are freed through RCU: one grace period and then some.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    s.waited_ms += 300;
  }
  s.meminfo = ReadMeminfoAll().value_or(std::map<std::string, uint64_t>{});
  return s;
}

uint64_t ReadKsmPagesSharing() {
  auto v = ReadFile("/sys/kernel/mm/ksm/pages_sharing");
  return v ? std::strtoull(v->c_str(), nullptr, 10) : 0;
}

// Every (N, MiB) point of one launcher so far, for the fits.
struct Points {
  std::vector<double> n, cost, user, kernel, drop;
};

// The repetitions of one series (launcher, KSM mode) already in the record, as fit points.
void SeedFromRecord(const SweepState& sweep, const std::string& series, Points& points,
                    double& per_instance_mib) {
  if (!sweep.results) return;
  for (const auto& it : sweep.results->Iterations()) {
    if (it.value("error_occurred", false)) continue;
    if (it.value("name", std::string()).rfind(series, 0) != 0) continue;
    points.n.push_back(it.value("n", 0.0));
    points.cost.push_back(it.value("cost_mib", 0.0));
    points.user.push_back(it.value("user_mib", 0.0));
    points.kernel.push_back(it.value("kernel_mib", 0.0));
    points.drop.push_back(it.value("memavailable_drop_mib", 0.0));
    per_instance_mib = std::max(per_instance_mib, it.value("cost_per_instance_mib", 0.0));
  }
}

void SetFit(benchmark::State& st, const std::string& prefix, const LinearFit& f) {
  if (!f.ok) return;
  st.counters[prefix + "slope_mib"] = f.slope;
  st.counters[prefix + "fixed_mib"] = f.fixed;
  if (std::isfinite(f.slope_ci95)) st.counters[prefix + "slope_ci95_mib"] = f.slope_ci95;
}

class DensitySuite : public Suite {
 public:
  std::string Name() const override { return "density"; }
  std::string Description() const override {
    return "host memory of N idle instances (user PSS + kernel meminfo deltas, MemAvailable "
           "cross-check) vs N, with the fitted MiB per additional instance";
  }

  int Register(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
               SweepState& sweep) override {
    auto param = [&](const std::string& k, const std::string& def) {
      auto it = options.params.find(k);
      return it == options.params.end() ? def : it->second;
    };
    std::vector<int> counts = ParseCounts(param("density_n", "1,10,100"));
    // Largest N per launcher ("runsc=100,qemu=64,qemu/kernel:distro=32"): an entry names the
    // slot ("libvirt/kernel:minimal") or its launcher ("libvirt"); the slot's own wins. Heavier
    // instances stop earlier so the sweep stays within its time and memory.
    LargestN largest_n(param("density_max_n", ""));
    double budget_mib = std::atof(param("budget_mib", "4096").c_str());
    // Repetitions per N: "3" or "3,100=1" (3, and 1 from N = 100 up: a step of 1000 instances
    // takes minutes and its point weighs in the fit by itself; small N are the noisy ones).
    int default_reps = 3;
    std::map<int, int> reps_from_n;
    for (const auto& item : Split(param("density_repetitions", "3"), ',')) {
      size_t eq = item.find('=');
      if (eq == std::string::npos)
        default_reps = std::max(1, std::atoi(item.c_str()));
      else
        reps_from_n[std::atoi(item.c_str())] = std::max(1, std::atoi(item.c_str() + eq + 1));
    }
    auto reps_at = [&](int n) {
      int r = default_reps;
      for (const auto& [from, k] : reps_from_n)
        if (n >= from) r = k;
      return r;
    };
    int settle_ms = std::atoi(param("settle_ms", "3000").c_str());
    bool drop_caches = param("drop_caches", "1") != "0";
    // Containers started and torn down this many at a time (VMs one at a time): the memory
    // figures are read after every instance is READY and the host settled, so they do not depend
    // on it; the wall time of N = 1000 does (one after another, runc's N = 1000 took 21 min to
    // start and 17 min to tear down on this 2-core host under load).
    int parallel = std::max(1, std::atoi(param("density_parallel", "4").c_str()));
    // VMs boot under TCG in seconds, most of it CPU: two at a time keeps both cores busy (a step
    // of 64 guests one after another took ~10 min here). Like containers', their memory is read
    // after all are READY and the host settled.
    int vm_parallel = std::max(1, std::atoi(param("density_vm_parallel", "2").c_str()));
    auto timeout = options.ready_timeout;
    sweep.AddContext(
        "density_parallel",
        std::to_string(parallel) + " containers and " + std::to_string(vm_parallel) +
            " VMs started and torn down at a time (--param density_parallel=N, "
            "density_vm_parallel=N); start_all_ms, settle_time_ms, read_ms, teardown_all_ms "
            "time each step");
    // KSM as a dimension of the VM entries (containers' processes mark nothing mergeable).
    std::vector<bool> ksm_modes;
    int runs = 0;
    if (auto k = param("ksm", ""); !k.empty()) {
      auto modes = ParseKsmModes(k);
      if (!modes) {
        // Refused, not ignored (cvbench run checks every --param before it starts: this is for
        // callers of the suite that did not): one entry that fails saying why.
        std::string message = modes.error().message();
        return RegisterMeasured(sweep, "density/ksm:invalid", 1,
                                [message, &sweep](benchmark::State& st) {
                                  for (auto _ : st) {
                                    sweep.Fail(st, message);
                                    break;
                                  }
                                });
      }
      ksm_modes = *modes;
    }
    KsmRequest ksm_rate;
    ksm_rate.pages_to_scan = std::atoi(param("ksm_pages_to_scan", "4000").c_str());
    ksm_rate.sleep_millisecs = std::atoi(param("ksm_sleep_ms", "20").c_str());
    int ksm_settle_ms = std::atoi(param("ksm_settle_ms", "120000").c_str());
    if (!ksm_modes.empty()) {
      KsmSysfs sysfs;
      sweep.AddContext(
          "density_ksm",
          sysfs.Available()
              ? "VM entries with ksm:on set " + sysfs.dir() +
                    " run=1, pages_to_scan=" + std::to_string(ksm_rate.pages_to_scan) +
                    ", sleep_millisecs=" + std::to_string(ksm_rate.sleep_millisecs) +
                    " (merge_across_nodes untouched) before their instances start, wait after "
                    "the last READY until two full scans leave pages_sharing within 256 pages "
                    "(at most " +
                    std::to_string(ksm_settle_ms) +
                    " ms; ksm_settled=0 when it ran out), then settle and read; ksm:off sets "
                    "run=0; the host's values are restored after each teardown. "
                    "ksm_pages_sharing = pages saved (host-wide), ksm_saved_mib = the same in "
                    "MiB. Guest RAM is mergeable: QEMU's mem-merge default, no libvirt "
                    "<nosharepages/>"
              : sysfs.dir() +
                    "/run absent: this kernel has no KSM; the ksm entries fail saying so");
    }
    sweep.AddContext(
        "density_settle",
        std::string("before and after: sync, ") +
            (drop_caches ? "echo 3 > /proc/sys/vm/drop_caches (host-wide; --param drop_caches=0 "
                           "to skip), "
                         : "no drop_caches (--param drop_caches=0), ") +
            "then /proc/meminfo every 500 ms until SUnreclaim moves < 256 KiB between readings "
            "(RCU-deferred frees landed), at most " +
            std::to_string(settle_ms * 2) + " ms before / " + std::to_string(settle_ms) +
            " ms after (settle_ms); entries say settled=0 when time ran out");
    sweep.AddContext(
        "density_cost",
        "cost_mib = user_mib (PSS of the instances' host processes) + kernel_mib (growth of "
        "meminfo Slab + Percpu + Shmem, plus page_tables_mib (VmPTE) and kernel_stacks_mib "
        "(threads x 16 KiB) of the instances' processes; meminfo_* are every delta, host-wide); "
        "memavailable_drop_mib is the "
        "raw cross-check (negative when it rose), unexplained_mib = drop - cost; fit_* = least "
        "squares cost = fixed + slope*N over every point of the launcher up to that entry (the "
        "launcher's entry with the largest fit_points has them all), "
        "ci95 from Student's t; instances_per_gib_fit = 1024 / fit_slope_mib");
    std::string caps = param("density_max_n", "");
    sweep.AddContext(
        "density_n", param("density_n", "1,10,100") +
                         (caps.empty() ? ""
                                       : "; largest N: " + caps +
                                             " (a launcher's largest N is one of its points)") +
                         "; repetitions: " + param("density_repetitions", "3"));
    for (auto& slot : launchers) {
      launcher::Launcher* l = slot.launcher.get();
      // Per launcher, the cost of one instance seen so far: the budget check of the next N
      // (shared by KSM on and off: the instances start before KSM can merge anything).
      auto per_instance_mib = std::make_shared<double>(0.0);
      int cap = largest_n.For(slot);
      int at_once = l->Kind() == "container" ? parallel : vm_parallel;
      std::vector<int> slot_counts = CountsUpTo(counts, cap);
      std::vector<std::optional<bool>> slot_ksm{std::nullopt};
      if (!ksm_modes.empty() && l->Kind() == "vm")
        slot_ksm.assign(ksm_modes.begin(), ksm_modes.end());
      for (std::optional<bool> ksm_on : slot_ksm) {
        auto points = std::make_shared<Points>();
        // A resumed run's fits and budget check start from the points recorded before.
        std::string series = "density/" + slot.display_name +
                             (ksm_on ? std::string("/ksm:") + (*ksm_on ? "on" : "off") : "") +
                             "/n:";
        SeedFromRecord(sweep, series, *points, *per_instance_mib);
        for (int n : slot_counts) {
          int reps = RepetitionsFor(slot, reps_at(n), options);
          std::string name = series + std::to_string(n);
          runs += RegisterMeasured(
                  sweep, name, reps,
                  [=, &sweep](benchmark::State& st) {
                    for (auto _ : st) {
                      if (sweep.StopRequested(st)) break;
                      sweep.Progress(name);
                      if (*per_instance_mib * n > budget_mib) {
                        sweep.Fail(st, "skipped: " + std::to_string(n) + " instances at about " +
                                           std::to_string(*per_instance_mib) +
                                           " MiB each exceed the budget of " +
                                           std::to_string(static_cast<int>(budget_mib)) +
                                           " MiB (--param budget_mib=...)");
                        break;
                      }
                      std::unique_ptr<ScopedKsm> ksm_scope;  // restores the host's KSM
                      if (ksm_on) {
                        KsmRequest req = ksm_rate;
                        req.on = *ksm_on;
                        auto applied = ScopedKsm::Apply(KsmSysfs(), req);
                        if (!applied) {
                          sweep.Fail(st, "KSM cannot be used here: " + applied.error().message());
                          break;
                        }
                        ksm_scope = std::move(*applied);
                      }
                      // A limit n instances would exceed stops the step before it starts, naming
                      // the limit and its value (host_limits.h).
                      std::vector<HostLimit> limits = ReadFleetLimits();
                      if (auto fits = CheckFleetLimits(n, limits, ReadLimitUse()); !fits) {
                        sweep.Fail(st, "skipped: " + std::to_string(n) + " instances: " +
                                           fits.error().message());
                        break;
                      }
                      int64_t settle_start = MonotonicNs();
                      Settled before = Settle(settle_ms * 2, drop_caches);
                      double settle_before_ms = NsToMs(MonotonicNs() - settle_start);
                      uint64_t ksm_before = ReadKsmPagesSharing();
                      FleetOptions fo;
                      fo.count = n;
                      fo.parallel = at_once;
                      fo.ready_timeout = timeout;
                      fo.request.mode = "idle";
                      fo.memory_budget_bytes = static_cast<uint64_t>(budget_mib * kMiB);
                      fo.interrupted = &sweep.interrupted;
                      Fleet fleet;
                      int64_t t0 = MonotonicNs();
                      auto started = fleet.Start(*l, fo);
                      int64_t t1 = MonotonicNs();
                      if (!started) {
                        size_t reached = fleet.instances().size();
                        // Ctrl-C reaches the runtime command in flight too: it dies of SIGINT,
                        // and its error is the interruption's.
                        std::string why = (sweep.interrupted ? "interrupted: " : "") +
                                          started.error().message();
                        (void)fleet.TearDown(std::chrono::seconds(30), at_once);
                        sweep.Fail(st, why + LimitsBehind(why, limits) + " (" +
                                           std::to_string(reached) + " of " + std::to_string(n) +
                                           " instances had started)");
                        break;
                      }
                      KsmSettled ksm_settled;
                      if (ksm_on && *ksm_on)
                        ksm_settled = WaitKsmSettled(KsmSysfs(), ksm_settle_ms);
                      int64_t t_settle = MonotonicNs();
                      Settled after = Settle(settle_ms, drop_caches);
                      int64_t t2 = MonotonicNs();
                      MemoryUsage mem;
                      ProcessKernelMemory kernel_of_processes;
                      double cgroup = 0, kmem = 0;
                      bool has_cgroup = true, has_kmem = true;
                      double guest_ram = 0, tcg_cache = 0, vmm = 0;
                      bool is_vm = false;
                      for (auto& inst : fleet.instances()) {
                        std::vector<pid_t> pids = inst->HostPids();
                        mem += ReadProcessesMemory(pids);
                        auto k = ReadProcessesKernelMemory(pids);
                        kernel_of_processes.page_tables += k.page_tables;
                        kernel_of_processes.threads += k.threads;
                        auto cg = inst->CgroupMemoryBytes();
                        if (cg)
                          cgroup += static_cast<double>(*cg);
                        else
                          has_cgroup = false;
                        auto km = inst->CgroupKmemBytes();
                        if (km)
                          kmem += static_cast<double>(*km);
                        else
                          has_kmem = false;
                        if (auto* vm = dynamic_cast<vmdriver::VmInstanceInfo*>(inst.get())) {
                          auto q = vm->QemuMemoryNow();
                          if (q) {
                            is_vm = true;
                            guest_ram += static_cast<double>(q->guest_ram_pss);
                            tcg_cache += static_cast<double>(q->tcg_cache_pss);
                            vmm += static_cast<double>(q->vmm_pss());
                          }
                        }
                      }
                      uint64_t ksm_after = ReadKsmPagesSharing();
                      auto ksm_now = KsmSysfs().Counters();
                      int64_t t3 = MonotonicNs();
                      auto torn = fleet.TearDown(std::chrono::seconds(30), at_once);
                      int64_t t4 = MonotonicNs();
                      if (!torn) {
                        sweep.Fail(st, torn.error().message());
                        break;
                      }
                      if (ksm_scope) {
                        if (auto r = ksm_scope->Restore(); !r) {
                          sweep.Fail(st, r.error().message());
                          break;
                        }
                      }
                      DensityCost cost = ComputeDensityCost(before.meminfo, after.meminfo, mem.pss,
                                                            kernel_of_processes);
                      sweep.SetTime(st, NsToMs(t1 - t0) / 1e3);
                      auto& c = st.counters;
                      c["n"] = n;
                      c["parallel"] = at_once;
                      c["start_all_ms"] = NsToMs(t1 - t0);
                      c["settle_time_ms"] = settle_before_ms + NsToMs(t2 - t_settle);
                      c["read_ms"] = NsToMs(t3 - t2);
                      c["teardown_all_ms"] = NsToMs(t4 - t3);
                      c["user_mib"] = cost.user_mib;
                      c["kernel_mib"] = cost.kernel_mib;
                      c["cost_mib"] = cost.cost_mib;
                      c["user_per_instance_mib"] = cost.user_mib / n;
                      c["kernel_per_instance_mib"] = cost.kernel_mib / n;
                      c["cost_per_instance_mib"] = cost.cost_mib / n;
                      c["page_tables_mib"] = cost.page_tables_mib;
                      c["kernel_stacks_mib"] = cost.kernel_stacks_mib;
                      for (const auto& [field, mib] : cost.kernel_delta_mib)
                        c["meminfo_" + CounterNameOf(field) + "_mib"] = mib;
                      c["memavailable_drop_mib"] = cost.memavailable_drop_mib;
                      c["memavailable_drop_per_instance_mib"] = cost.memavailable_drop_mib / n;
                      c["unexplained_mib"] = cost.unexplained_mib;
                      if (cost.memavailable_drop_mib > 0)
                        c["cost_to_drop_ratio"] = cost.cost_mib / cost.memavailable_drop_mib;
                      c["pss_mib"] = mem.pss / kMiB;
                      c["uss_mib"] = mem.uss / kMiB;
                      c["rss_mib"] = mem.rss / kMiB;
                      c["pss_per_instance_mib"] = mem.pss / kMiB / n;
                      c["uss_per_instance_mib"] = mem.uss / kMiB / n;
                      c["host_processes"] = mem.processes;
                      if (has_cgroup) c["cgroup_mib"] = cgroup / kMiB;
                      if (has_kmem) c["cgroup_kmem_mib"] = kmem / kMiB;
                      if (is_vm) {
                        c["guest_ram_mib"] = guest_ram / kMiB;
                        c["tcg_cache_mib"] = tcg_cache / kMiB;
                        c["vmm_mib"] = vmm / kMiB;
                      }
                      c["ksm_pages_sharing_delta"] =
                          static_cast<double>(ksm_after) - static_cast<double>(ksm_before);
                      if (ksm_on) {
                        c["ksm_run"] = *ksm_on ? 1 : 0;
                        if (ksm_now) {
                          const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
                          c["ksm_pages_shared"] = static_cast<double>(ksm_now->pages_shared);
                          c["ksm_pages_sharing"] = static_cast<double>(ksm_now->pages_sharing);
                          c["ksm_saved_mib"] =
                              static_cast<double>(ksm_now->pages_sharing) * page / kMiB;
                        }
                        if (*ksm_on) {
                          c["ksm_settled"] = ksm_settled.stable ? 1 : 0;
                          c["ksm_settle_waited_ms"] = ksm_settled.waited_ms;
                        }
                      }
                      c["settled"] = before.stable && after.stable ? 1 : 0;
                      c["settle_waited_ms"] = before.waited_ms + after.waited_ms;
                      c["dropped_caches"] = before.dropped_caches && after.dropped_caches ? 1 : 0;
                      double per = cost.cost_mib / n;
                      if (per > 0) c["instances_per_gib"] = 1024.0 / per;
                      if (cost.memavailable_drop_mib > 0)
                        c["instances_per_gib_memavailable"] =
                            1024.0 * n / cost.memavailable_drop_mib;
                      // The fits over every point of this launcher so far (its entry with the
                      // largest fit_points holds the whole sweep's).
                      points->n.push_back(n);
                      points->cost.push_back(cost.cost_mib);
                      points->user.push_back(cost.user_mib);
                      points->kernel.push_back(cost.kernel_mib);
                      points->drop.push_back(cost.memavailable_drop_mib);
                      LinearFit fit = FitLine(points->n, points->cost);
                      SetFit(st, "fit_", fit);
                      SetFit(st, "fit_user_", FitLine(points->n, points->user));
                      SetFit(st, "fit_kernel_", FitLine(points->n, points->kernel));
                      SetFit(st, "fit_memavailable_", FitLine(points->n, points->drop));
                      if (fit.ok) {
                        c["fit_points"] = static_cast<double>(fit.points);
                        c["fit_r2"] = fit.r2;
                        if (fit.slope > 0) c["instances_per_gib_fit"] = 1024.0 / fit.slope;
                      }
                      // The budget check of the next N: the largest cost per instance seen (the
                      // MemAvailable drop moves by hundreds of MiB with other work on a shared
                      // host; the fleet's own MemAvailable guard still stops a step that eats the
                      // budget).
                      *per_instance_mib = std::max(*per_instance_mib, per);
                    }
                  });
        }
      }
    }
    return runs;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeDensitySuite() { return std::make_unique<DensitySuite>(); }

}  // namespace cvb::bench
