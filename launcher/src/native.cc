#include "cvb/launcher/native.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/launcher/workload_channel.h"
#include "instance_resources.h"
#include "process_instance.h"

namespace cvb::launcher {
namespace {

class NativeInstance : public Instance {
 public:
  NativeInstance(Child child, UniqueFd out) : child_(std::move(child)), channel_(std::move(out)) {
    pid_ = child_.pid();
  }
  ~NativeInstance() override { (void)Teardown(); }

  Result<void> WaitReady(std::chrono::milliseconds timeout) override {
    auto ready = channel_.WaitReady(MonotonicNs() + timeout.count() * 1'000'000, timeline_);
    if (!ready) return ready.error();
    ready_ = *ready;
    return Ok();
  }

  Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) override {
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    CVB_TRY(channel_.Drain(deadline));
    if (!status_) {
      int64_t left_ms = std::max<int64_t>(1, (deadline - MonotonicNs()) / 1'000'000);
      auto st = child_.Wait(std::chrono::milliseconds(left_ms));
      if (!st) return st.error();
      status_ = *st;
      timeline_.Mark("exit");
    }
    Collect();
    return *status_;
  }

  Result<void> Stop(std::chrono::milliseconds timeout) override {
    if (status_) return Ok();
    child_.Kill(SIGTERM);
    auto st = child_.Wait(timeout);
    if (!st) {
      child_.Kill(SIGKILL);
      st = child_.Wait();
      if (!st) return st.error();
    }
    status_ = *st;
    timeline_.Mark("exit");
    channel_.DrainAvailable();
    Collect();
    return Ok();
  }

  Result<void> Teardown() override {
    if (torn_down_) return Ok();
    torn_down_ = true;
    int64_t t = MonotonicNs();
    if (!status_ && child_.running()) {
      child_.Kill(SIGKILL);
      (void)child_.Wait();
    }
    channel_.Close();
    // The workload is gone: its disk scratch directory can go too.
    auto removed = scratch_.Remove();
    timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t));
    return removed;
  }

  void AdoptScratch(ScratchDir scratch) { scratch_ = std::move(scratch); }

  std::vector<pid_t> HostPids() override {
    if (status_) return {};
    return ProcessTree(pid_);
  }
  // The baseline shares the host's network: its server is reached on loopback.
  std::string NetworkAddress() const override { return "127.0.0.1"; }

 private:
  void Collect() {
    results_ = channel_.results();
    output_ = channel_.output();
  }

  Child child_;
  pid_t pid_;
  WorkloadChannel channel_;
  std::optional<ExitStatus> status_;
  bool torn_down_ = false;
  ScratchDir scratch_;
};

class NativeLauncher : public Launcher {
 public:
  explicit NativeLauncher(LauncherConfig config) : config_(std::move(config)) {}
  std::string Name() const override { return config_.name; }
  std::string Kind() const override { return "native"; }
  Result<void> Check() override { return Ok(); }
  Result<void> Prepare(const image::Image& image) override {
    workload_ = image.workload_binary;
    if (!PathExists(workload_)) return Error{ENOENT, "native: workload " + workload_};
    return Ok();
  }
  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) override {
    if (workload_.empty()) return Failure("native: Start before Prepare");
    std::vector<std::string> argv{workload_, request.mode};
    argv.insert(argv.end(), request.args.begin(), request.args.end());
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    SpawnOptions opts;
    opts.stdout_fd = write_end.get();
    // needs_disk: a per-instance directory on the host's disk, which the workload's disk mode
    // uses instead of /data (the baseline for the containers' /data volume). needs_network
    // needs nothing: the baseline's server listens on loopback.
    ScratchDir scratch;
    if (request.needs_disk) {
      static std::atomic<int> seq{0};
      auto made = ScratchDir::Create(ScratchRoot(config_.params),
                                     "native-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(seq++));
      if (!made) return made.error().wrap("native");
      scratch = std::move(*made);
      opts.extra_env.push_back("CVB_DATA_DIR=" + scratch.path());
    }
    int64_t launch = MonotonicNs();
    auto child = Spawn(argv, opts);
    if (!child) return child.error().wrap("native");
    write_end.reset();
    auto inst = std::make_unique<NativeInstance>(std::move(*child), std::move(read_end));
    inst->AdoptScratch(std::move(scratch));
    inst->timeline().MarkAt("launch", launch);
    inst->timeline().Mark("create");
    return std::unique_ptr<Instance>(std::move(inst));
  }
  std::map<std::string, std::string> Conditions() const override {
    return {{"version", "posix_spawn of " + workload_}};
  }

 private:
  LauncherConfig config_;
  std::string workload_;
};

}  // namespace

Result<std::unique_ptr<Launcher>> MakeNativeLauncher(const LauncherConfig& config) {
  return std::unique_ptr<Launcher>(std::make_unique<NativeLauncher>(config));
}

}  // namespace cvb::launcher
