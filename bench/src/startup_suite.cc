// startup: launch-to-exit of the `ready` workload (announce READY, exit), per launcher, with the
// phase marks of each launch as counters. Manual time = launch call to exit observed.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "cvb/common/clock.h"
#include "suite.h"

namespace cvb::bench {

namespace {

class StartupSuite : public Suite {
 public:
  std::string Name() const override { return "startup"; }
  std::string Description() const override {
    return "launch of the `ready` workload to its exit, per phase";
  }

  int Register(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
               SweepState& sweep) override {
    int runs = 0;
    for (auto& slot : launchers) {
      launcher::Launcher* l = slot.launcher.get();
      std::string name = "startup/" + slot.display_name;
      auto timeout = options.ready_timeout;
      runs += RegisterMeasured(sweep, name, options.repetitions, [l, name, timeout, &sweep](benchmark::State& st) {
        for (auto _ : st) {
          if (sweep.StopRequested(st)) break;
          sweep.Progress(name);
          launcher::WorkloadRequest req;
          req.mode = "ready";
          auto inst = l->Start(req);
          if (!inst) {
            sweep.Fail(st, inst.error().message());
            break;
          }
          auto ready = (*inst)->WaitReady(timeout);
          auto exited = ready ? (*inst)->WaitExit(timeout) : Result<ExitStatus>(ready.error());
          auto torn = (*inst)->Teardown();
          if (!exited) {
            sweep.Fail(st, exited.error().message());
            break;
          }
          if (!exited->ok()) {
            sweep.Fail(st, "workload " + exited->describe());
            break;
          }
          if (!torn) {
            sweep.Fail(st, torn.error().message());
            break;
          }
          const auto& tl = (*inst)->timeline();
          sweep.SetTime(st, tl.SinceLaunchMs("exit").value_or(0) / 1e3);
          for (const auto& [counter, value] : tl.Counters()) st.counters[counter] = value;
          // How long the workload itself took from its first instruction to READY, on its own
          // clock: separates the instance's start-up from the workload's.
          if (auto& m = (*inst)->ready_message()) {
            auto s = m->Number("start_mono_ns"), r = m->Number("ready_mono_ns");
            if (s && r) st.counters["workload_start_to_ready_ms"] = (*r - *s) / 1e6;
          }
        }
      });
    }
    return runs;
  }
};

}  // namespace

std::unique_ptr<Suite> MakeStartupSuite() { return std::make_unique<StartupSuite>(); }

}  // namespace cvb::bench
