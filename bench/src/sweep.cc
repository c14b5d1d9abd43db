#include "sweep.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "context.h"
#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/fingerprint.h"
#include "cvb/launcher/leftovers.h"
#include "cvb/launcher/oci.h"
#include "cvb/vmdriver/launchers.h"
#include "host_limits.h"
#include "params.h"
#include "reporter.h"
#include "result_file.h"

namespace cvb::bench {
namespace {

SweepState* g_sweep = nullptr;

void OnInterrupt(int) {
  if (g_sweep) g_sweep->interrupted = true;
  static const char msg[] =
      "cvbench: interrupted; finishing the current step, tearing down and writing results\n";
  ssize_t r = ::write(2, msg, sizeof msg - 1);
  (void)r;
}

// SIGINT and SIGTERM set the sweep's flag for as long as this lives, from before the first
// instance (warm-up, fingerprint) to after the last teardown: with the default action a signal
// in between killed cvbench with an instance up (a runsc sandbox in a warm-up was left running).
class InterruptFlag {
 public:
  explicit InterruptFlag(SweepState* sweep) {
    g_sweep = sweep;
    struct sigaction sa {};
    sa.sa_handler = OnInterrupt;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~InterruptFlag() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_sweep = nullptr;
  }
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

 private:
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
};

constexpr int kExitInterrupted = 130;

std::string UtcNow() {
  char date[32];
  time_t now = ::time(nullptr);
  tm utc;
  ::gmtime_r(&now, &utc);
  ::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return date;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

// Scratch state (runtime roots, per-container bundles) on a short tmpfs path: runtimes put unix
// sockets there, whose paths must stay under 108 bytes. Removed with whatever is left in it.
struct WorkDir {
  std::string dir = "/run/cvbench/" + std::to_string(::getpid());
  ~WorkDir() {
    ReapOrphans();
    (void)RemoveTree(dir);
    ::rmdir("/run/cvbench");  // only succeeds when no other sweep uses it
  }
};

// One `cvbench run`: the steps below in order, each named for what it does. Members are declared
// so that the interrupt flag outlives the work directory and the launcher slots: their
// destructors (teardown) run with the flag still installed.
class SweepRun {
 public:
  SweepRun(const SweepConfig& config, launcher::Registry& registry)
      : config_(config), registry_(registry), factories_(SuiteFactories()) {}

  int Run() {
    if (int rc = ValidateRequest()) return rc;
    // The host as it is, before the conditions below change what this process sees.
    context_ = HostContext();
    if (int rc = OpenEarlierRecords()) return rc;
    if (int rc = PrepareHost()) return rc;
    if (int rc = MakeDirectories()) return rc;
    if (int rc = BuildImage()) return rc;
    if (int rc = PrepareLaunchers()) return rc;
    RecordRunContext();
    if (int rc = WarmUp()) return rc;
    if (int rc = TakeFingerprints()) return rc;
    return RunSuites();
  }

 private:
  // Suites, launchers and every --param known, before anything starts.
  int ValidateRequest() {
    for (const auto& s : config_.suites) {
      if (!factories_.count(s)) {
        std::string known;
        for (const auto& [n, f] : factories_) known += (known.empty() ? "" : ", ") + n;
        std::fprintf(stderr, "cvbench: unknown suite '%s' (known: %s)\n", s.c_str(),
                     known.c_str());
        return 2;
      }
    }
    for (const auto& l : config_.launchers) {
      if (!registry_.Has(l)) {
        std::string known;
        for (const auto& n : registry_.Names()) known += (known.empty() ? "" : ", ") + n;
        std::fprintf(stderr, "cvbench: unknown launcher '%s' (known: %s)\n", l.c_str(),
                     known.c_str());
        return 2;
      }
    }
    if (config_.launchers.empty() || config_.suites.empty()) {
      std::fprintf(stderr, "cvbench: no suite or no launcher given\n");
      return 2;
    }
    if (auto p = CheckRunParams(config_.suite_options.params); !p) {
      std::fprintf(stderr, "cvbench: %s\n", p.error().message().c_str());
      return 2;
    }
    return 0;
  }

  // What a resumed run must share with the run it continues (the image hash is checked once the
  // image is built).
  nlohmann::json RunConfig(const std::string& suite) const {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : config_.suite_options.params) params[k] = v;
    return {{"suite", suite},
            {"git_sha", context_.at("git_sha")},
            {"git_dirty", context_.at("git_dirty")},
            {"launchers", Joined(config_.launchers)},
            {"kernels", Joined(config_.kernels)},
            {"repetitions", config_.suite_options.repetitions},
            {"timeout_s", static_cast<int>(config_.suite_options.ready_timeout.count() / 1000)},
            {"warmup", config_.warmup},
            {"params", params}};
  }

  // A suite file already in --out is another run's: refused, unless --resume continues it (same
  // git sha, launchers, parameters...; what differs is named). Nothing has started yet.
  int OpenEarlierRecords() {
    if (config_.resume) RemoveDeadWritersTemporaries();
    for (const auto& suite : config_.suites) {
      std::string path = SuitePath(suite);
      if (!PathExists(path)) continue;
      if (!config_.resume) {
        std::fprintf(stderr, "cvbench: %s\n", ResultFile::Refusal(path).c_str());
        return 2;
      }
      auto earlier = ResultFile::Open(path);
      if (!earlier) {
        std::fprintf(stderr, "cvbench: --resume: %s\n", earlier.error().message().c_str());
        return 2;
      }
      nlohmann::json recorded = earlier->config();
      recorded.erase("image_hash");
      std::string differs = ResultFile::Mismatch(recorded, RunConfig(suite));
      if (!differs.empty()) {
        std::fprintf(stderr,
                     "cvbench: --resume: %s was run with other settings: %s; resume it with "
                     "the same command at the same commit\n",
                     path.c_str(), differs.c_str());
        return 2;
      }
      std::fprintf(stderr, "cvbench: --resume: %s: %s\n", path.c_str(),
                   earlier->complete() ? "complete, kept as it is"
                                       : "partial, its missing repetitions will run");
      earlier_.emplace(suite, std::move(*earlier));
    }
    return 0;
  }

  // A run killed while rewriting a record leaves <file>.tmp.<pid> beside it (the record itself is
  // whole: the rename had not happened). Those of writers that are gone are removed.
  void RemoveDeadWritersTemporaries() {
    for (const auto& name : ListDirectory(config_.out_dir)) {
      size_t at = name.rfind(".tmp.");
      if (at == std::string::npos) continue;
      std::string pid = name.substr(at + 5);
      if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
      if (::kill(std::atoi(pid.c_str()), 0) == 0 || errno != ESRCH) continue;
      std::string path = config_.out_dir + "/" + name;
      if (::unlink(path.c_str()) == 0)
        std::fprintf(stderr, "cvbench: --resume: removed %s (a dead run's half-written copy)\n",
                     path.c_str());
    }
  }

  // Leftovers of dead sweeps, the host conditions OCI runtimes need, cvbench's own limits.
  int PrepareHost() {
    bool any_container = false;
    for (const auto& l : config_.launchers) any_container |= registry_.KindOf(l) == "container";
    // A cvbench that was killed (SIGKILL, OOM killer, CI timeout) could not clean up: remove what
    // it left before measuring anything (leftovers.h). Its containers are deleted through their
    // runtimes, which need the same host conditions as a container sweep.
    launcher::LeftoverRoots leftover_roots;
    if (auto it = config_.suite_options.params.find("scratch_dir");
        it != config_.suite_options.params.end() && !it->second.empty())
      leftover_roots.scratch_roots.push_back(it->second);
    bool leftovers = !launcher::DeadSweepOwners(leftover_roots).empty();
    if (any_container || leftovers) {
      auto c = launcher::EnterOciHostConditions();
      if (!c) {
        std::fprintf(stderr, "cvbench: %s\n", c.error().message().c_str());
        return 2;
      }
      host_conditions_ = *c;
    }
    if (leftovers) {
      auto removed = launcher::ReapDeadSweeps(leftover_roots);
      std::string all;
      for (const auto& line : removed) {
        std::fprintf(stderr, "cvbench: leftover of a dead sweep: %s\n", line.c_str());
        all += (all.empty() ? "" : "; ") + line;
      }
      context_["leftovers_removed"] = all.empty() ? "none" : all;
    }
    if (auto r = BecomeSubreaper(); !r)
      std::fprintf(stderr, "cvbench: warning: %s\n", r.error().message().c_str());
    // Fleets of 1000 instances hold a pipe per instance: cvbench's own soft limits go up to the
    // hard ones (more needs CAP_SYS_RESOURCE); a step that would still exceed a limit is stopped
    // naming it (host_limits.h, density and scale-out).
    std::string raised;
    for (const auto& r : RaiseOwnSoftLimits()) raised += (raised.empty() ? "" : ", ") + r;
    context_["limits_raised"] =
        raised.empty() ? "none (soft limits already at the hard ones)" : raised;
    context_["host_limits"] = DescribeLimits(ReadFleetLimits());
    return 0;
  }

  int MakeDirectories() {
    work_dir_.emplace();
    for (const auto& dir : {config_.out_dir, work_dir_->dir}) {
      if (auto made = MakeDirs(dir); !made) {
        std::fprintf(stderr, "cvbench: %s\n", made.error().message().c_str());
        return 2;
      }
    }
    return 0;
  }

  int BuildImage() {
    std::fprintf(stderr, "cvbench: building the image\n");
    auto image = image::BuildImage();
    if (StopIfInterrupted("the image build")) return kExitInterrupted;
    if (!image) {
      std::fprintf(stderr, "cvbench: %s\n", image.error().message().c_str());
      return 2;
    }
    image_ = std::move(*image);
    for (const auto& [suite, earlier] : earlier_) {
      std::string recorded = earlier.config().value("image_hash", std::string());
      if (recorded != image_.hash) {
        std::fprintf(stderr,
                     "cvbench: --resume: %s was measured with image %s, this build makes %s\n",
                     earlier.path().c_str(), recorded.c_str(), image_.hash.c_str());
        return 2;
      }
    }
    return 0;
  }

  // One slot per launcher, and per value of its dimension: each VM kernel profile (--kernel),
  // each confinement profile of a bundle runtime (--param profile=...; the default profile's
  // slot keeps the launcher's name). Each slot checked and prepared.
  int PrepareLaunchers() {
    std::vector<std::string> profiles = {image::kDefaultConfinement};
    if (auto it = config_.suite_options.params.find("profile");
        it != config_.suite_options.params.end())
      profiles = Split(it->second, ',');
    for (const auto& name : config_.launchers) {
      std::string dimension = registry_.DimensionOf(name);
      std::vector<std::string> values = dimension == "kernel"    ? config_.kernels
                                        : dimension == "profile" ? profiles
                                                                 : std::vector<std::string>{""};
      for (const auto& value : values) {
        std::string display = name;
        launcher::LauncherConfig lc{name, work_dir_->dir, "", config_.suite_options.params};
        if (dimension == "kernel") {
          lc.kernel = value;
          display = name + "/kernel:" + value;
        } else if (dimension == "profile") {
          lc.profile = value;
          if (value != image::kDefaultConfinement) display = name + "/profile:" + value;
        }
        lc.artefacts_dir = config_.out_dir + "/instances/" + launcher::ArtefactDirName(display);
        auto l = registry_.Make(lc);
        if (!l) {
          std::fprintf(stderr, "cvbench: %s\n", l.error().message().c_str());
          return 2;
        }
        if (auto c = (*l)->Check(); !c) {
          std::fprintf(stderr, "cvbench: launcher %s: %s\n", name.c_str(),
                       c.error().message().c_str());
          // ENOENT: this host lacks the launcher's binary or device. Its own exit code and a
          // marker line let a caller (scripts/check-regression) tell "not installed here" from
          // a launcher that is there and broken.
          if (c.error().err == ENOENT) {
            std::fprintf(stderr, "cvbench: unavailable-launcher: %s\n", name.c_str());
            return kExitLauncherUnavailable;
          }
          return 2;
        }
        std::fprintf(stderr, "cvbench: preparing %s\n", display.c_str());
        auto prepared = (*l)->Prepare(image_);
        if (StopIfInterrupted("the launchers' preparation")) return kExitInterrupted;
        if (!prepared) {
          std::fprintf(stderr, "cvbench: launcher %s: prepare: %s\n", display.c_str(),
                       prepared.error().message().c_str());
          return 2;
        }
        for (const auto& [k, v] : (*l)->Conditions())
          context_["launcher." + display + "." + k] = v;
        slots_.push_back({display, std::move(*l)});
      }
    }
    return 0;
  }

  void RecordRunContext() {
    if (!host_conditions_.empty()) context_["host_conditions"] = host_conditions_;
    context_["repetitions"] = std::to_string(config_.suite_options.repetitions);
    // Every --param as given (per-launcher repetition caps, density's N...): what the entries'
    // repetitions and scales came from.
    std::string params;
    for (const auto& [k, v] : config_.suite_options.params)
      params += (params.empty() ? "" : " ") + k + "=" + v;
    if (!params.empty()) context_["params"] = params;
    context_["image_hash"] = image_.hash;
    context_["launchers"] = "";
    for (const auto& s : slots_)
      context_["launchers"] += (context_["launchers"].empty() ? "" : ",") + s.display_name;
    context_["order"] = "random interleaving of repetitions (Google Benchmark)";
    context_["results_durability"] =
        "every repetition is written to its suite file when it finishes (temporary file, fsync, "
        "rename); run.state says partial or complete";
  }

  // One untimed launch per launcher: page cache, runtime binaries and the daemon warmed up the
  // same way for all, so the first measured run is not an outlier of cold caches.
  int WarmUp() {
    if (!config_.warmup) return 0;
    context_["warmup"] = "1 untimed launch per launcher";
    for (auto& s : slots_) {
      launcher::WorkloadRequest req;
      auto inst = s.launcher->Start(req);
      if (!inst) {
        // Ctrl-C reaches the runtime command in flight too: its failure is the interruption.
        if (StopIfInterrupted("the warm-up")) return kExitInterrupted;
        std::fprintf(stderr, "cvbench: launcher %s: warm-up launch failed: %s\n",
                     s.display_name.c_str(), inst.error().message().c_str());
        return 1;
      }
      auto ready = (*inst)->WaitReady(config_.suite_options.ready_timeout);
      if (ready) (void)(*inst)->WaitExit(config_.suite_options.ready_timeout);
      (void)(*inst)->Teardown();
      if (StopIfInterrupted("the warm-up")) return kExitInterrupted;
      if (!ready) {
        std::fprintf(stderr, "cvbench: launcher %s: warm-up launch failed: %s\n",
                     s.display_name.c_str(), ready.error().message().c_str());
        return 1;
      }
    }
    return 0;
  }

  // What each launcher's instance really got (launcher/fingerprint.h): one untimed launch of the
  // `fingerprint` workload mode per launcher, after the warm-up and outside every measurement.
  // Context keys fingerprint.<launcher>.<key> in every suite's JSON; scripts/report tables them.
  int TakeFingerprints() {
    context_["fingerprint"] =
        "one untimed launch of the fingerprint mode per launcher (default request: the startup "
        "bundle); keys fingerprint.<launcher>.<key>, host view unprefixed, workload's view self.*";
    for (auto& s : slots_) {
      auto fp = launcher::TakeFingerprint(*s.launcher, config_.suite_options.ready_timeout);
      if (StopIfInterrupted("the fingerprints")) return kExitInterrupted;
      std::string prefix = "fingerprint." + s.display_name + ".";
      if (!fp) {
        std::fprintf(stderr, "cvbench: warning: launcher %s: %s\n", s.display_name.c_str(),
                     fp.error().message().c_str());
        context_[prefix + "error"] = fp.error().message();
        continue;
      }
      for (const auto& [k, v] : *fp) context_[prefix + k] = v;
    }
    return 0;
  }

  // The suite's record: a new file, or the earlier run's when resuming; a new attempt in it.
  Result<ResultFile> OpenRecord(const std::string& suite) {
    nlohmann::json context = nlohmann::json::object();
    for (const auto& [k, v] : context_) context[k] = v;
    nlohmann::json attempt = {{"started_utc", UtcNow()},
                              {"pid", static_cast<int>(::getpid())},
                              {"loadavg", Trim(ReadFile("/proc/loadavg").value_or_empty())}};
    auto it = earlier_.find(suite);
    if (it == earlier_.end()) {
      nlohmann::json config = RunConfig(suite);
      config["image_hash"] = image_.hash;
      CVB_ASSIGN_OR_RETURN(ResultFile file,
                           ResultFile::Create(SuitePath(suite), suite, context, config));
      attempt["order"] = "random interleaving of the planned repetitions";
      CVB_TRY(file.BeginAttempt(attempt));
      return file;
    }
    ResultFile file = std::move(it->second);
    earlier_.erase(it);
    if (file.complete()) return file;  // kept as it is: nothing to add, not even an attempt
    // The context stays the first attempt's (what its repetitions ran under); this attempt's own
    // host facts, and every fingerprint key that reads differently now, go into its entry.
    const nlohmann::json& recorded = file.document()["context"];
    nlohmann::json changed = nlohmann::json::object();
    for (const auto& [k, v] : context_) {
      if (k.rfind("fingerprint.", 0) != 0) continue;
      std::string before = recorded.value(k, std::string("(absent)"));
      if (before != v) changed[k] = {{"recorded", before}, {"now", v}};
    }
    attempt["resumed"] = true;
    attempt["order"] =
        "random interleaving of the remaining repetitions among themselves (resumed run)";
    attempt["date_utc"] = context_["date_utc"];
    if (context_.count("leftovers_removed"))
      attempt["leftovers_removed"] = context_["leftovers_removed"];
    if (!changed.empty()) attempt["fingerprint_changed"] = changed;
    CVB_TRY(file.BeginAttempt(attempt));
    return file;
  }

  int RunSuites() {
    int exit_code = 0;
    for (const auto& suite_name : config_.suites) {
      auto file = OpenRecord(suite_name);
      if (!file) {
        std::fprintf(stderr, "cvbench: suite %s: %s\n", suite_name.c_str(),
                     file.error().message().c_str());
        exit_code = 2;
        break;
      }
      if (file->complete()) {
        std::fprintf(stderr, "cvbench: suite %s: complete in %s, nothing to resume\n",
                     suite_name.c_str(), file->path().c_str());
        continue;
      }
      int rc = RunSuite(suite_name, *file);
      if (rc == kExitInterrupted || rc == kExitResultsUnwritable || rc == 2) return rc;
      if (rc != 0) exit_code = rc;
    }
    return exit_code;
  }

  int RunSuite(const std::string& suite_name, ResultFile& file) {
    auto suite = factories_[suite_name]();
    benchmark::ClearRegisteredBenchmarks();
    sweep_.done_runs = 0;
    sweep_.suite_start_ns = 0;
    sweep_.results = &file;
    struct Detach {
      SweepState& s;
      ~Detach() { s.results = nullptr; }
    } detach{sweep_};
    sweep_.total_runs = suite->Register(slots_, config_.suite_options, sweep_);
    if (!sweep_.plan_error.empty()) {
      std::fprintf(stderr, "cvbench: suite %s: --resume: %s\n", suite_name.c_str(),
                   sweep_.plan_error.c_str());
      return 2;
    }
    if (auto sealed = file.SealPlan(); !sealed) {
      std::fprintf(stderr, "cvbench: suite %s: cannot write %s\n", suite_name.c_str(),
                   sealed.error().message().c_str());
      return kExitResultsUnwritable;
    }
    std::fprintf(stderr, "cvbench: suite %s: %d runs over %zu launchers -> %s%s\n",
                 suite_name.c_str(), sweep_.total_runs, slots_.size(), file.path().c_str(),
                 file.attempt() > 0 ? " (resumed)" : "");
    // Google Benchmark's console table on stdout; the JSON is the record's, written as each
    // repetition finishes.
    ConsoleOnlyReporter reporter;
    if (sweep_.total_runs > 0) benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::ClearRegisteredBenchmarks();
    RunMoreRounds(*suite, file, reporter);
    if (!sweep_.write_error.empty()) {
      std::fprintf(stderr, "cvbench: suite %s stopped: %s\n", suite_name.c_str(),
                   sweep_.write_error.c_str());
      return kExitResultsUnwritable;
    }
    if (sweep_.interrupted) {
      // The repetition in flight is not a result (it was cut short): the record says so, and a
      // resumed run measures it.
      (void)file.NoteAttempt("interrupted", "by SIGINT or SIGTERM during " +
                                                 (sweep_.current_entry().empty()
                                                      ? std::string("the suite's start")
                                                      : sweep_.current_entry()) +
                                                 " at " + UtcNow() +
                                                 "; its unfinished repetition was not recorded");
    }
    if (sweep_.interrupted || !file.AllDone()) {
      std::fprintf(stderr,
                   "cvbench: suite %s: partial: %s keeps every repetition that finished; "
                   "cvbench run --resume continues it\n",
                   suite_name.c_str(), file.path().c_str());
      return sweep_.interrupted ? kExitInterrupted : 1;
    }
    auto completed = file.Complete([&suite](nlohmann::json& doc) { return suite->Finish(doc); });
    if (!completed) {
      std::fprintf(stderr, "cvbench: suite %s: %s\n", suite_name.c_str(),
                   completed.error().message().c_str());
      return completed.error().err == 0 ? 1 : kExitResultsUnwritable;
    }
    return sweep_.failures ? 1 : 0;
  }

  // Adaptive suites (throughput): rounds of more repetitions while the suite's rule asks for
  // them and every planned repetition so far is in.
  void RunMoreRounds(Suite& suite, ResultFile& file, benchmark::BenchmarkReporter& reporter) {
    while (!sweep_.stopping() && file.AllDone()) {
      int more = suite.NextRound(slots_, config_.suite_options, sweep_);
      if (more <= 0 || !sweep_.write_error.empty()) break;
      sweep_.total_runs += more;
      benchmark::RunSpecifiedBenchmarks(&reporter);
      benchmark::ClearRegisteredBenchmarks();
    }
  }

  std::string SuitePath(const std::string& suite) const {
    return config_.out_dir + "/" + suite + ".json";
  }

  // Between the steps before the suites: an interrupt stops here; what was set up is torn down
  // by the destructors on the way out.
  bool StopIfInterrupted(const char* during) {
    if (!sweep_.interrupted) return false;
    std::fprintf(stderr, "cvbench: interrupted during %s; nothing measured\n", during);
    return true;
  }

  const SweepConfig& config_;
  launcher::Registry& registry_;
  std::map<std::string, std::function<std::unique_ptr<Suite>()>> factories_;
  SweepState sweep_;
  InterruptFlag interrupt_flag_{&sweep_};
  std::map<std::string, std::string> context_;
  std::map<std::string, ResultFile> earlier_;  // --resume: the records being continued
  std::string host_conditions_;
  std::optional<WorkDir> work_dir_;
  image::Image image_;
  std::vector<LauncherSlot> slots_;
};

}  // namespace

launcher::Registry BuiltinRegistry() {
  launcher::Registry registry;
  launcher::RegisterProcessLaunchers(registry);
  vmdriver::RegisterVmLaunchers(registry);
  return registry;
}

int RunSweep(const SweepConfig& config, launcher::Registry& registry) {
  SweepRun run(config, registry);
  int rc = run.Run();
  benchmark::ClearRegisteredBenchmarks();
  return rc;
}

}  // namespace cvb::bench
