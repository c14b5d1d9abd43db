// throughput: the cpu, mem, disk and net modes on every launcher, with each figure's ratio to
// native measured in the same sweep (the shape of Felter et al. 2015).
//
// Entries are "throughput/<launcher>/mode:<mode>", one per repetition plus Google Benchmark's
// aggregates; one counter per figure (units in the name). Manual time is the whole measurement
// (launch to teardown); it is not the figure, the counters are. Native's net mode runs twice:
// over loopback (throughput/native/mode:net) and over a veth pair into a namespace of its own
// (throughput/native/mode:net/path:veth), so that a container's net ratio splits into the
// network path and containment.
//
// Repetitions of all entries run randomly interleaved (so drift hits every launcher alike).
// Ratios to native are computed after the last repetition, from all of native's repetitions of
// the run (FinishThroughputResults, throughput.h states the rule), and written into the
// result file with their aggregates; so is the flag of a disk figure the device cannot give.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "net_client.h"
#include "suite.h"
#include "throughput.h"
#include "throughput_sampling.h"

namespace cvb::bench {

namespace {

Result<double> PositiveNumber(const std::map<std::string, std::string>& params,
                              const std::string& key, double def, double max) {
  auto it = params.find(key);
  if (it == params.end()) return def;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != 0 || !(v > 0) || v > max)
    return Failure("--param " + key + "=" + it->second + ": expected a number in (0, " +
                   std::to_string(static_cast<long long>(max)) + "]");
  return v;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

const std::map<std::string, ModeFigures>& ThroughputModes() {
  static const std::map<std::string, ModeFigures> modes = {
      {"cpu", {{"int_ops_per_s", "fp_ops_per_s"}, {}}},
      {"mem",
       {{"copy_gb_per_s", "scale_gb_per_s", "add_gb_per_s", "triad_gb_per_s",
         "random_access_mups"},
        {"stream_rounds"}}},
      {"disk",
       {{"seq_write_mb_per_s", "seq_read_mb_per_s", "rand_read_iops", "rand_write_iops"},
        {"direct", "file_mib"}}},
      {"net",
       {{"stream_mb_per_s", "stream_rx_mb_per_s", "rr_p50_us", "rr_p99_us", "rr_per_s"},
        {"rr_count", "net_server_stopped"}}},
  };
  return modes;
}

Result<ThroughputOptions> ParseThroughputOptions(const std::map<std::string, std::string>& params) {
  ThroughputOptions o;
  if (auto it = params.find("modes"); it != params.end()) {
    o.modes.clear();
    for (const auto& m : Split(it->second, ',')) {
      std::string mode = Trim(m);
      if (mode.empty()) continue;
      if (!ThroughputModes().count(mode))
        return Failure("--param modes: unknown mode '" + mode + "' (known: cpu, mem, disk, net)");
      if (std::find(o.modes.begin(), o.modes.end(), mode) == o.modes.end()) o.modes.push_back(mode);
    }
    if (o.modes.empty()) return Failure("--param modes: no mode given");
  }
  CVB_ASSIGN_OR_RETURN(o.seconds, PositiveNumber(params, "seconds", o.seconds, 3600));
  CVB_ASSIGN_OR_RETURN(double mem_mib, PositiveNumber(params, "mem_mib", o.mem_mib, 65536));
  CVB_ASSIGN_OR_RETURN(double ra_mib, PositiveNumber(params, "ra_mib", o.ra_mib, 65536));
  CVB_ASSIGN_OR_RETURN(double disk_mib,
                       PositiveNumber(params, "disk_file_mib", o.disk_file_mib, 1 << 20));
  CVB_ASSIGN_OR_RETURN(o.disk_seconds, PositiveNumber(params, "disk_seconds", o.disk_seconds, 3600));
  CVB_ASSIGN_OR_RETURN(o.net_seconds, PositiveNumber(params, "net_seconds", o.net_seconds, 3600));
  CVB_ASSIGN_OR_RETURN(double port, PositiveNumber(params, "net_port", o.net_port, 65535));
  o.mem_mib = static_cast<int>(std::ceil(mem_mib));
  o.ra_mib = static_cast<int>(std::ceil(ra_mib));
  o.disk_file_mib = static_cast<int>(std::ceil(disk_mib));
  o.net_port = static_cast<int>(port);
  return o;
}

launcher::WorkloadRequest ThroughputRequest(const std::string& mode, const std::string& kind,
                                            const ThroughputOptions& o, bool native_over_veth) {
  launcher::WorkloadRequest r;
  r.mode = mode;
  if (mode == "cpu") {
    r.args = {"--seconds=" + Num(o.seconds)};
  } else if (mode == "mem") {
    r.args = {"--seconds=" + Num(o.seconds), "--mib=" + std::to_string(o.mem_mib),
              "--ra_mib=" + std::to_string(o.ra_mib)};
    // Room for the arrays and the table plus the rest of the instance: a VM's guest RAM (128 MiB
    // by default) or a container's memory limit must not be what the figure measures.
    r.memory_bytes = (3ull * o.mem_mib + o.ra_mib + 160) << 20;
  } else if (mode == "disk") {
    // The directory is the workload's default: /data in containers and VMs, the native
    // launcher's scratch directory (CVB_DATA_DIR) on the host.
    r.args = {"--mib=" + std::to_string(o.disk_file_mib), "--seconds=" + Num(o.disk_seconds)};
    r.needs_disk = true;
  } else if (mode == "net") {
    // The server outlives the client's three phases by a wide margin, and still ends by itself.
    r.args = {"--port=" + std::to_string(o.net_port),
              "--seconds=" + Num(std::ceil(3 * o.net_seconds + 120))};
    // Native on the host binds loopback only; over veth it is alone in its namespace.
    if (kind == "native" && !native_over_veth) r.args.push_back("--bind=127.0.0.1");
    r.needs_network = true;
    r.native_over_veth = kind == "native" && native_over_veth;
  }
  return r;
}

Result<std::map<std::string, double>> MeasureThroughput(launcher::Launcher& l,
                                                        const std::string& mode,
                                                        const ThroughputOptions& o,
                                                        bool native_over_veth) {
  auto spec = ThroughputModes().find(mode);
  if (spec == ThroughputModes().end()) return Failure("unknown mode " + mode);
  launcher::WorkloadRequest req = ThroughputRequest(mode, l.Kind(), o, native_over_veth);
  if (auto s = l.Supports(req); !s) return s.error().wrap(l.Name() + " cannot run mode " + mode);
  CVB_ASSIGN_OR_RETURN(std::unique_ptr<launcher::Instance> inst, l.Start(req));
  // The instance's destructor tears it down on every early return below; Teardown() is called
  // explicitly on the success path so that its errors are reported.
  if (auto r = inst->WaitReady(o.ready_timeout); !r) return r.error().wrap("ready");

  std::map<std::string, double> figures;
  // Bound on the run after READY: the mode's own duration, generously scaled for TCG guests.
  double run_s = mode == "cpu" || mode == "mem" ? o.seconds
                 : mode == "disk"               ? 2 * o.disk_seconds + 60
                                                : 3 * o.net_seconds;
  auto exit_timeout = std::chrono::milliseconds(static_cast<int64_t>(run_s * 10e3)) +
                      o.ready_timeout;
  if (mode == "net") {
    NetClientOptions c;
    c.address = inst->NetworkAddress();
    c.port = o.net_port;
    c.stream_seconds = o.net_seconds;
    c.rr_seconds = o.net_seconds;
    if (c.address.empty()) return Failure(l.Name() + ": the instance has no network address");
    auto f = RunNetClient(c);
    if (!f) {
      (void)inst->Stop(std::chrono::seconds(5));
      return f.error().wrap("net client to " + c.address);
    }
    // The figures are measured once the client is done. A server that misses QUIT (seen once
    // with a loaded TCG guest) is stopped instead; `net_server_stopped` records it.
    bool stopped = false;
    if (auto q = SendNetQuit(c); !q) {
      std::fprintf(stderr, "cvbench: %s: net quit: %s; stopping the instance\n", l.Name().c_str(),
                   q.error().message().c_str());
      if (auto st = inst->Stop(std::chrono::seconds(10)); !st) return st.error().wrap("stop");
      stopped = true;
    }
    figures = {{"net_server_stopped", stopped ? 1.0 : 0.0},{"stream_mb_per_s", f->stream_mb_per_s},
               {"stream_rx_mb_per_s", f->stream_rx_mb_per_s},
               {"rr_p50_us", f->rr_p50_us},
               {"rr_p99_us", f->rr_p99_us},
               {"rr_per_s", f->rr_per_s},
               {"rr_count", f->rr_count}};
  }
  Result<ExitStatus> exited = ExitStatus{0, 0};
  if (!figures.count("net_server_stopped") || figures["net_server_stopped"] == 0)
    exited = inst->WaitExit(exit_timeout);
  if (!exited) return exited.error().wrap("exit");
  auto torn = inst->Teardown();
  auto tail = [&] {
    std::string t;
    const auto& out = inst->output();
    for (size_t i = out.size() > 6 ? out.size() - 6 : 0; i < out.size(); ++i) t += " | " + out[i];
    return t;
  };
  if (!exited->ok()) return Failure("workload " + exited->describe() + tail());
  if (!torn) return torn.error();
  if (mode != "net") {
    for (const auto& m : inst->results())
      for (const auto& [k, v] : m.fields)
        if (auto n = m.Number(k)) figures[k] = *n;
    for (const auto& k : spec->second.figures)
      if (!figures.count(k)) return Failure("workload reported no " + k + tail());
  }
  // Keep only what the mode declares: checksums and bookkeeping are not results.
  std::map<std::string, double> kept;
  // The host's view of the run (READY to exit on the host's clock): a cross-check of the
  // workload's own clock, which a sandbox (gVisor) or an emulated guest provides itself.
  auto ready_ms = inst->timeline().SinceLaunchMs("ready");
  auto exit_ms = inst->timeline().SinceLaunchMs("exit");
  if (ready_ms && exit_ms) kept["host_ready_to_exit_s"] = (*exit_ms - *ready_ms) / 1e3;
  if (mode == "cpu" && figures.count("int_seconds") && figures.count("fp_seconds"))
    kept["workload_measure_s"] = figures["int_seconds"] + figures["fp_seconds"];
  for (const auto* list : {&spec->second.figures, &spec->second.info})
    for (const auto& k : *list)
      if (figures.count(k)) kept[k] = figures[k];
  return kept;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

namespace {

class ThroughputSuite : public Suite {
 public:
  std::string Name() const override { return "throughput"; }
  std::string Description() const override {
    return "cpu, mem, disk and net modes per launcher, with ratios to native from the same sweep";
  }

  int Register(std::vector<LauncherSlot>& launchers, const SuiteOptions& options,
               SweepState& sweep) override {
    auto parsed = ParseThroughputOptions(options.params);
    auto rule = ParseSamplingRule(options);
    if (!parsed || !rule) {
      // Bad knobs: one failing entry that says why, rather than a suite that silently measures
      // defaults.
      std::string msg = !parsed ? parsed.error().message() : rule.error().message();
      return RegisterMeasured(sweep, "throughput/invalid-params", 1,
                              [msg, &sweep](benchmark::State& st) {
                                for (auto _ : st) {
                                  sweep.Fail(st, msg);
                                  break;
                                }
                              });
    }
    options_ = *parsed;
    options_.ready_timeout = options.ready_timeout;
    rule_ = *rule;
    sweep.AddContext("throughput_sampling_rule", rule_.Describe());
    native_name_.clear();
    for (auto& slot : launchers)
      if (slot.launcher->Kind() == "native") {
        native_name_ = slot.display_name;
        break;
      }
    entries_.clear();
    for (auto& slot : launchers) {
      bool native = slot.launcher->Kind() == "native";
      for (const auto& mode : options_.modes) {
        // Native's net mode once more over a veth pair: the network path without containment.
        std::vector<bool> paths{false};
        if (mode == "net" && native) paths.push_back(true);
        for (bool over_veth : paths) {
          Entry e;
          e.name = ThroughputRunName(slot.display_name, mode, over_veth ? "veth" : "");
          e.launcher = slot.launcher.get();
          e.mode = mode;
          e.over_veth = over_veth;
          e.native = native;
          e.first = RepetitionsFor(slot, options.repetitions, options);
          e.budget = std::max(e.first, RepetitionsFor(slot, rule_.max_repetitions, options));
          if (!native && !native_name_.empty())
            e.native_entry = ThroughputRunName(native_name_, mode, "");
          entries_.push_back(e);
        }
      }
    }
    int runs = 0;
    for (const auto& e : entries_)
      runs += RegisterMeasured(sweep, e.name, e.first, Body(e, sweep), benchmark::kSecond,
                               /*adaptive=*/true);
    return runs;
  }

  // Another round while some figure does not decide (throughput_sampling.h).
  int NextRound(std::vector<LauncherSlot>& /*launchers*/, const SuiteOptions& /*options*/,
                SweepState& sweep) override {
    if (native_name_.empty() || !sweep.results) return 0;
    std::map<std::string, std::string> pairs;
    for (const auto& e : entries_)
      if (!e.native_entry.empty()) pairs[e.name] = e.native_entry;
    auto decisions = JudgeEntries(sweep.results->Iterations(), pairs, rule_);
    std::map<std::string, int> extend;  // entry -> new planned repetitions
    std::map<std::string, int> native_extend;
    for (const auto& d : decisions) {
      const Entry* e = Find(d.entry);
      if (!e || d.failed || d.decided()) continue;
      int planned = sweep.results->PlannedRepetitions(e->name);
      if (planned >= e->budget) continue;
      extend[e->name] = std::min(e->budget, planned + rule_.batch);
      // Native's entry of the mode keeps pace, up to its own budget.
      if (const Entry* n = Find(e->native_entry)) {
        int np = sweep.results->PlannedRepetitions(n->name);
        int want = std::min(n->budget, std::max(np, extend[e->name]));
        if (want > np) native_extend[n->name] = std::max(native_extend[n->name], want);
      }
    }
    for (const auto& [name, reps] : native_extend) extend[name] = reps;
    if (extend.empty()) return 0;
    ++round_;
    int runs = 0;
    for (const auto& [name, reps] : extend) {
      if (auto x = sweep.results->ExtendPlan(name, reps, round_); !x) {
        sweep.write_error = x.error().message();
        return 0;
      }
      const Entry* e = Find(name);
      runs += RegisterMeasured(sweep, e->name, e->first, Body(*e, sweep), benchmark::kSecond,
                               /*adaptive=*/true);
    }
    std::fprintf(stderr, "cvbench: throughput: round %d: %zu entries undecided, %d more runs\n",
                 round_, extend.size() - native_extend.size(), runs);
    return runs;
  }

  Result<void> Finish(nlohmann::json& results) override {
    if (native_name_.empty()) {
      results["context"]["throughput_ratio_rule"] = "no native launcher in this run: no ratios";
      return Ok();
    }
    return FinishThroughputResults(results, native_name_);
  }

 private:
  struct Entry {
    std::string name;
    launcher::Launcher* launcher = nullptr;
    std::string mode;
    bool over_veth = false;
    bool native = false;
    int first = 0;   // the first round's repetitions
    int budget = 0;  // at most, over every round
    std::string native_entry;  // "" for native's own entries
  };

  const Entry* Find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  std::function<void(benchmark::State&)> Body(const Entry& e, SweepState& sweep) const {
    launcher::Launcher* l = e.launcher;
    std::string name = e.name, mode = e.mode;
    bool over_veth = e.over_veth;
    ThroughputOptions o = options_;
    return [l, name, mode, o, over_veth, &sweep](benchmark::State& st) {
      for (auto _ : st) {
        if (sweep.StopRequested(st)) break;
        sweep.Progress(name);
        int64_t t0 = MonotonicNs();
        auto figures = MeasureThroughput(*l, mode, o, over_veth);
        double elapsed_s = (MonotonicNs() - t0) / 1e9;
        if (!figures) {
          sweep.Fail(st, name + ": " + figures.error().message());
          break;
        }
        sweep.SetTime(st, elapsed_s);
        for (const auto& [k, v] : *figures) st.counters[k] = v;
      }
    };
  }

  // --repetitions is each entry's minimum; throughput_max_repetitions (default 3x that, at
  // least 30) its budget; throughput_batch (default 5) what a round adds.
  static Result<SamplingRule> ParseSamplingRule(const SuiteOptions& options) {
    SamplingRule r;
    r.min_repetitions = options.repetitions;
    r.max_repetitions = std::max(30, 3 * options.repetitions);
    CVB_ASSIGN_OR_RETURN(double max, PositiveNumber(options.params, "throughput_max_repetitions",
                                                    r.max_repetitions, 100000));
    CVB_ASSIGN_OR_RETURN(double batch, PositiveNumber(options.params, "throughput_batch", r.batch, 1000));
    r.max_repetitions = static_cast<int>(max);
    r.batch = static_cast<int>(batch);
    return r;
  }

  ThroughputOptions options_;
  SamplingRule rule_;
  std::vector<Entry> entries_;
  std::string native_name_;
  int round_ = 0;
};

}  // namespace

std::unique_ptr<Suite> MakeThroughputSuite() { return std::make_unique<ThroughputSuite>(); }

}  // namespace cvb::bench
