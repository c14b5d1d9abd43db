#include "sweep.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <set>

#include "context.h"
#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/fingerprint.h"
#include "cvb/launcher/leftovers.h"
#include "cvb/launcher/oci.h"
#include "cvb/vmdriver/launchers.h"
#include "host_limits.h"
#include "reporter.h"

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

// The suite's Finish step on its result file, written back whole (atomically) when it succeeds.
Result<void> FinishSuiteFile(Suite& suite, const std::string& path) {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Failure(path + ": not JSON; left as written");
  auto finished = suite.Finish(doc);
  if (!finished) return finished.error().wrap(path + " left as written");
  return WriteFileAtomic(path, doc.dump(2) + "\n");
}

}  // namespace

launcher::Registry BuiltinRegistry() {
  launcher::Registry registry;
  launcher::RegisterProcessLaunchers(registry);
  vmdriver::RegisterVmLaunchers(registry);
  return registry;
}

int RunSweep(const SweepConfig& config, launcher::Registry& registry) {
  auto factories = SuiteFactories();
  for (const auto& s : config.suites) {
    if (!factories.count(s)) {
      std::string known;
      for (const auto& [n, f] : factories) known += (known.empty() ? "" : ", ") + n;
      std::fprintf(stderr, "cvbench: unknown suite '%s' (known: %s)\n", s.c_str(), known.c_str());
      return 2;
    }
  }
  for (const auto& l : config.launchers) {
    if (!registry.Has(l)) {
      std::string known;
      for (const auto& n : registry.Names()) known += (known.empty() ? "" : ", ") + n;
      std::fprintf(stderr, "cvbench: unknown launcher '%s' (known: %s)\n", l.c_str(),
                   known.c_str());
      return 2;
    }
  }
  if (config.launchers.empty() || config.suites.empty()) {
    std::fprintf(stderr, "cvbench: no suite or no launcher given\n");
    return 2;
  }

  // Declared before everything that starts instances or holds host state (work directory,
  // launcher slots), so it outlives them: their destructors run with the flag still installed.
  SweepState sweep;
  InterruptFlag interrupt_flag(&sweep);
  // Between the steps before the suites: an interrupt stops here; what was set up is torn down
  // by the destructors on the way out.
  auto stop_if_interrupted = [&sweep](const char* during) {
    if (!sweep.interrupted) return false;
    std::fprintf(stderr, "cvbench: interrupted during %s; nothing measured\n", during);
    return true;
  };

  // The host as it is, before the conditions below change what this process sees.
  std::map<std::string, std::string> context = HostContext();

  // Process-wide conditions first, while we are single-threaded.
  std::string host_conditions;
  bool any_container = false;
  for (const auto& l : config.launchers) any_container |= registry.KindOf(l) == "container";
  // A cvbench that was killed (SIGKILL, OOM killer, CI timeout) could not clean up: remove what
  // it left before measuring anything (leftovers.h). Its containers are deleted through their
  // runtimes, which need the same host conditions as a container sweep.
  launcher::LeftoverRoots leftover_roots;
  if (auto it = config.suite_options.params.find("scratch_dir");
      it != config.suite_options.params.end() && !it->second.empty())
    leftover_roots.scratch_roots.push_back(it->second);
  bool leftovers = !launcher::DeadSweepOwners(leftover_roots).empty();
  if (any_container || leftovers) {
    auto c = launcher::EnterOciHostConditions();
    if (!c) {
      std::fprintf(stderr, "cvbench: %s\n", c.error().message().c_str());
      return 2;
    }
    host_conditions = *c;
  }
  if (leftovers) {
    auto removed = launcher::ReapDeadSweeps(leftover_roots);
    std::string all;
    for (const auto& line : removed) {
      std::fprintf(stderr, "cvbench: leftover of a dead sweep: %s\n", line.c_str());
      all += (all.empty() ? "" : "; ") + line;
    }
    context["leftovers_removed"] = all.empty() ? "none" : all;
  }
  if (auto r = BecomeSubreaper(); !r)
    std::fprintf(stderr, "cvbench: warning: %s\n", r.error().message().c_str());
  // Fleets of 1000 instances hold a pipe per instance: cvbench's own soft limits go up to the hard
  // ones (more needs CAP_SYS_RESOURCE); a step that would still exceed a limit is stopped naming it
  // (host_limits.h, density and scale-out).
  {
    std::string raised;
    for (const auto& r : RaiseOwnSoftLimits()) raised += (raised.empty() ? "" : ", ") + r;
    context["limits_raised"] = raised.empty() ? "none (soft limits already at the hard ones)" : raised;
    context["host_limits"] = DescribeLimits(ReadFleetLimits());
  }

  // Scratch state (runtime roots, per-container bundles) on a short tmpfs path: runtimes put
  // unix sockets there, whose paths must stay under 108 bytes.
  std::string work_dir = "/run/cvbench/" + std::to_string(::getpid());
  struct WorkDirGuard {
    std::string dir;
    ~WorkDirGuard() {
      ReapOrphans();
      (void)RemoveTree(dir);
      ::rmdir("/run/cvbench");  // only succeeds when no other sweep uses it
    }
  } work_dir_guard{work_dir};
  for (const auto& dir : {config.out_dir, work_dir}) {
    if (auto made = MakeDirs(dir); !made) {
      std::fprintf(stderr, "cvbench: %s\n", made.error().message().c_str());
      return 2;
    }
  }

  std::fprintf(stderr, "cvbench: building the image\n");
  auto image = image::BuildImage();
  if (stop_if_interrupted("the image build")) return kExitInterrupted;
  if (!image) {
    std::fprintf(stderr, "cvbench: %s\n", image.error().message().c_str());
    return 2;
  }

  // Launchers: one slot per launcher, and per kernel profile for VM launchers.
  std::vector<LauncherSlot> slots;
  for (const auto& name : config.launchers) {
    std::vector<std::string> kernels = registry.KindOf(name) == "vm" ? config.kernels
                                                          : std::vector<std::string>{""};
    for (const auto& kernel : kernels) {
      std::string display = kernel.empty() ? name : name + "/kernel:" + kernel;
      launcher::LauncherConfig lc{name, work_dir, kernel, config.suite_options.params};
      lc.artefacts_dir = config.out_dir + "/instances/" + launcher::ArtefactDirName(display);
      auto l = registry.Make(lc);
      if (!l) {
        std::fprintf(stderr, "cvbench: %s\n", l.error().message().c_str());
        return 2;
      }
      if (auto c = (*l)->Check(); !c) {
        std::fprintf(stderr, "cvbench: launcher %s: %s\n", name.c_str(),
                     c.error().message().c_str());
        // ENOENT: this host lacks the launcher's binary or device. Its own exit code and a
        // marker line let a caller (scripts/check-regression) tell "not installed here" from a
        // launcher that is there and broken.
        if (c.error().err == ENOENT) {
          std::fprintf(stderr, "cvbench: unavailable-launcher: %s\n", name.c_str());
          return kExitLauncherUnavailable;
        }
        return 2;
      }
      std::fprintf(stderr, "cvbench: preparing %s\n", display.c_str());
      auto prepared = (*l)->Prepare(*image);
      if (stop_if_interrupted("the launchers' preparation")) return kExitInterrupted;
      if (!prepared) {
        std::fprintf(stderr, "cvbench: launcher %s: prepare: %s\n", display.c_str(),
                     prepared.error().message().c_str());
        return 2;
      }
      for (const auto& [k, v] : (*l)->Conditions()) context["launcher." + display + "." + k] = v;
      slots.push_back({display, std::move(*l)});
    }
  }
  if (!host_conditions.empty()) context["host_conditions"] = host_conditions;
  context["repetitions"] = std::to_string(config.suite_options.repetitions);
  // Every --param as given (per-launcher repetition caps, density's N...): what the entries'
  // repetitions and scales came from.
  std::string params;
  for (const auto& [k, v] : config.suite_options.params)
    params += (params.empty() ? "" : " ") + k + "=" + v;
  if (!params.empty()) context["params"] = params;
  context["image_hash"] = image->hash;
  context["launchers"] = "";
  for (const auto& s : slots) context["launchers"] += (context["launchers"].empty() ? "" : ",") +
                                                       s.display_name;
  context["order"] = "random interleaving of repetitions (Google Benchmark)";

  // One untimed launch per launcher: page cache, runtime binaries and the daemon warmed up the
  // same way for all, so the first measured run is not an outlier of cold caches.
  if (config.warmup) {
    context["warmup"] = "1 untimed launch per launcher";
    for (auto& s : slots) {
      launcher::WorkloadRequest req;
      auto inst = s.launcher->Start(req);
      if (!inst) {
        // Ctrl-C reaches the runtime command in flight too: its failure is the interruption.
        if (stop_if_interrupted("the warm-up")) return kExitInterrupted;
        std::fprintf(stderr, "cvbench: launcher %s: warm-up launch failed: %s\n",
                     s.display_name.c_str(), inst.error().message().c_str());
        return 1;
      }
      auto ready = (*inst)->WaitReady(config.suite_options.ready_timeout);
      if (ready) (void)(*inst)->WaitExit(config.suite_options.ready_timeout);
      (void)(*inst)->Teardown();
      if (stop_if_interrupted("the warm-up")) return kExitInterrupted;
      if (!ready) {
        std::fprintf(stderr, "cvbench: launcher %s: warm-up launch failed: %s\n",
                     s.display_name.c_str(), ready.error().message().c_str());
        return 1;
      }
    }
  }
  // What each launcher's instance really got (launcher/fingerprint.h): one untimed launch of the
  // `fingerprint` workload mode per launcher, after the warm-up and outside every measurement.
  // Context keys fingerprint.<launcher>.<key> in every suite's JSON; scripts/report tables them.
  context["fingerprint"] =
      "one untimed launch of the fingerprint mode per launcher (default request: the startup "
      "bundle); keys fingerprint.<launcher>.<key>, host view unprefixed, workload's view self.*";
  for (auto& s : slots) {
    auto fp = launcher::TakeFingerprint(*s.launcher, config.suite_options.ready_timeout);
    if (stop_if_interrupted("the fingerprints")) return kExitInterrupted;
    std::string prefix = "fingerprint." + s.display_name + ".";
    if (!fp) {
      std::fprintf(stderr, "cvbench: warning: launcher %s: %s\n", s.display_name.c_str(),
                   fp.error().message().c_str());
      context[prefix + "error"] = fp.error().message();
      continue;
    }
    for (const auto& [k, v] : *fp) context[prefix + k] = v;
  }
  for (const auto& [k, v] : context) benchmark::AddCustomContext(k, v);

  int exit_code = 0;
  for (const auto& suite_name : config.suites) {
    auto suite = factories[suite_name]();
    benchmark::ClearRegisteredBenchmarks();
    sweep.done_runs = 0;
    sweep.suite_start_ns = 0;
    sweep.total_runs = suite->Register(slots, config.suite_options, sweep);
    std::string path = config.out_dir + "/" + suite_name + ".json";
    std::ofstream json(path);
    if (!json) {
      std::fprintf(stderr, "cvbench: cannot write %s\n", path.c_str());
      exit_code = 2;
      break;
    }
    std::fprintf(stderr, "cvbench: suite %s: %d runs over %zu launchers -> %s\n",
                 suite_name.c_str(), sweep.total_runs, slots.size(), path.c_str());
    TeeReporter reporter(&json);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    json.close();
    if (auto f = FinishSuiteFile(*suite, path); !f) {
      std::fprintf(stderr, "cvbench: suite %s: %s\n", suite_name.c_str(),
                   f.error().message().c_str());
      exit_code = 1;
    }
    if (sweep.interrupted) {
      exit_code = kExitInterrupted;
      break;
    }
    if (sweep.failures) exit_code = 1;
  }
  benchmark::ClearRegisteredBenchmarks();
  slots.clear();  // tears down anything a failed run left
  return exit_code;
}

}  // namespace cvb::bench
