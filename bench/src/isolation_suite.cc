#include "isolation_suite.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <set>

#include "cvb/image/image.h"
#include "cvb/workload/isolation.h"
#include "host_markers.h"
#include "suite.h"

namespace cvb::bench {

std::string IsolationReading::Label() const {
  std::string out;
  for (const auto& c : workload::kIsolationChecks) {
    auto it = why.find(c.name);
    if (it == why.end()) continue;
    out += (out.empty() ? "" : " ") + std::string(c.name) + "=" + it->second;
  }
  return out;
}

Result<IsolationReading> ReadIsolation(const std::vector<workload::Message>& results) {
  std::set<std::string> known;
  for (const auto& c : workload::kIsolationChecks) known.insert(c.name);
  IsolationReading r;
  for (const auto& m : results) {
    if (m.kind != "RESULT") continue;
    if (!m.fields.count("check")) {
      for (const auto& [k, v] : m.fields) {
        if (auto n = m.Number(k)) r.figures[k] = *n;
      }
      continue;
    }
    std::string name = m.Get("check");
    if (!known.count(name)) return Failure("isolation probe: unknown check '" + name + "'");
    if (r.values.count(name)) return Failure("isolation probe: check " + name + " reported twice");
    auto v = m.Number("value");
    if (!v || (*v != 1 && *v != 0 && *v != -1))
      return Failure("isolation probe: check " + name + ": value '" + m.Get("value") +
                     "' is not 1, 0 or -1");
    r.values[name] = static_cast<int>(*v);
    r.why[name] = m.Get("why");
  }
  for (const auto& n : known)
    if (!r.values.count(n)) return Failure("isolation probe: no result for check " + n);
  return r;
}

namespace {

class IsolationSuite : public Suite {
 public:
  std::string Name() const override { return "isolation"; }
  std::string Description() const override {
    return "what an instance sees and may do of the host (processes, hostname, interfaces, fds, a "
           "file, a port, /proc and /sys, capabilities, seccomp, devices, mounts)";
  }

  int Register(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
               SweepState& sweep) override {
    int runs = 0;
    std::string workload = image::SelfExeDir() + "/cvb-workload";
    for (auto& slot : launchers) {
      launcher::Launcher* l = slot.launcher.get();
      std::string name = "isolation/" + slot.display_name;
      auto timeout = options.ready_timeout;
      int reps = RepetitionsFor(slot, options.repetitions, options);
      runs += RegisterMeasured(
          sweep, name, reps, [l, name, timeout, workload, &sweep](benchmark::State& st) {
            for (auto _ : st) {
              if (sweep.StopRequested(st)) break;
              sweep.Progress(name);
              if (auto e = RunOnce(*l, workload, timeout, st, sweep); !e.empty()) {
                sweep.Fail(st, e);
                break;
              }
            }
          });
    }
    return runs;
  }

 private:
  // One probe in one instance with fresh markers; "" or what went wrong.
  static std::string RunOnce(launcher::Launcher& l, const std::string& workload,
                             std::chrono::milliseconds timeout, benchmark::State& st,
                             SweepState& sweep) {
    auto markers = HostMarkers::Create(workload);  // removed when this returns, whatever happens
    if (!markers) return markers.error().message();
    launcher::WorkloadRequest req;
    req.mode = "isolation";
    req.args = (*markers)->ProbeArgs();
    if (auto o = (*markers)->OpenInheritable(); !o) return o.error().message();
    auto inst = l.Start(req);
    (*markers)->CloseInheritable();
    if (!inst) return inst.error().message();
    auto ready = (*inst)->WaitReady(timeout);
    auto exited = ready ? (*inst)->WaitExit(timeout) : Result<ExitStatus>(ready.error());
    auto torn = (*inst)->Teardown();
    if (!exited) return exited.error().message();
    if (!exited->ok()) return "isolation probe " + exited->describe();
    if (!torn) return torn.error().message();
    auto reading = ReadIsolation((*inst)->results());
    if (!reading) return reading.error().message();
    sweep.SetTime(st, (*inst)->timeline().SinceLaunchMs("exit").value_or(0) / 1e3);
    for (const auto& [k, v] : reading->values) st.counters[k] = v;
    for (const auto& [k, v] : reading->figures) st.counters[k] = v;
    st.counters["host_port_accepted"] = (*markers)->AcceptConnections();
    std::string label = reading->Label();
    if (!(*markers)->device().empty()) label += " device=" + (*markers)->device();
    if (!(*markers)->notes().empty()) label += " notes=" + (*markers)->notes();
    sweep.SetLabel(st, label);
    return "";
  }
};

}  // namespace

std::unique_ptr<Suite> MakeIsolationSuite() { return std::make_unique<IsolationSuite>(); }

}  // namespace cvb::bench
