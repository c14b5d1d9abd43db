#include "cvb/launcher/native.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <cstdio>
#include <cstdlib>

#include "cvb/common/affinity.h"
#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/fingerprint.h"
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
    // The workload is gone: its disk scratch directory and network namespace can go too.
    auto removed = resources_.Release();
    timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t));
    return removed;
  }

  void Adopt(InstanceResources resources) { resources_ = std::move(resources); }

  std::vector<pid_t> HostPids() override {
    if (status_) return {};
    return ProcessTree(pid_);
  }
  Result<Fingerprint> HostFingerprint() override {
    if (status_) return Failure("native: fingerprint of a workload that exited");
    CVB_ASSIGN_OR_RETURN(Fingerprint fp, ReadProcessFingerprint(pid_));
    fp["host_view"] = "the workload process";
    return fp;
  }
  // The baseline shares the host's network: its server is reached on loopback, or through the
  // veth pair of its own namespace (native_over_veth).
  std::string NetworkAddress() const override {
    return resources_.net.active() ? resources_.net.container_ip() : "127.0.0.1";
  }

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
  InstanceResources resources_;
};

// Spawns with the calling thread in the network namespace at netns_path (the child inherits
// it), then returns the thread to the namespace it was in. setns(CLONE_NEWNET) is per thread,
// so other threads of cvbench never see the switch.
Result<Child> SpawnInNetns(const std::vector<std::string>& argv, const SpawnOptions& opts,
                           const std::string& netns_path) {
  UniqueFd own(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!own) return ErrnoError("open /proc/thread-self/ns/net");
  UniqueFd target(::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target) return ErrnoError("open " + netns_path);
  if (::setns(target.get(), CLONE_NEWNET) != 0) return ErrnoError("setns " + netns_path);
  auto child = Spawn(argv, opts);
  if (::setns(own.get(), CLONE_NEWNET) != 0) {
    // This thread would run everything after it in the instance's namespace: refuse to go on.
    Error e = ErrnoError("setns back to the host network namespace");
    std::fprintf(stderr, "cvbench: fatal: %s\n", e.message().c_str());
    std::abort();
  }
  return child;
}

class NativeLauncher : public Launcher {
 public:
  explicit NativeLauncher(LauncherConfig config)
      : config_(std::move(config)), artefacts_(config_.artefacts_dir) {}
  std::string Name() const override { return config_.name; }
  std::string Kind() const override { return "native"; }
  Result<void> Check() override { return Ok(); }
  Result<void> Prepare(const image::Image& image) override {
    workload_ = image.workload_binary;
    if (!PathExists(workload_)) return Error{ENOENT, "native: workload " + workload_};
    return Ok();
  }
  bool PinsCpus() const override { return true; }
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
    // needs nothing (the baseline's server listens on loopback) unless native_over_veth asks
    // for a namespace and veth pair like a container's.
    InstanceResources resources;
    static std::atomic<int> seq{0};
    std::string name = "native-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
    if (request.needs_disk) {
      auto made = ScratchDir::Create(ScratchRoot(config_.params), name);
      if (!made) return made.error().wrap("native");
      resources.disk = std::move(*made);
      opts.extra_env.push_back("CVB_DATA_DIR=" + resources.disk.path());
    }
    if (request.needs_network && request.native_over_veth) {
      auto net = ContainerNetwork::Create();
      if (!net) return net.error().wrap("native over veth");
      resources.net = std::move(*net);
    }
    // The run directory keeps the command line and the environment it added, once per shape.
    std::string command = JoinArgv(argv) + "\n";
    for (const auto& e : opts.extra_env) command += "env " + e + "\n";
    if (!request.cpus.empty()) command += "cpus " + request.cpus + " (the spawning thread's affinity)\n";
    std::vector<std::string> per_instance;
    if (resources.net.active()) {
      command += "netns " + resources.net.netns_path() + " (veth " +
                 resources.net.host_interface() + " " + resources.net.host_ip() + " <-> " +
                 resources.net.container_interface() + " " + resources.net.container_ip() + ")\n";
      per_instance = {resources.net.netns_path(), resources.net.host_interface(),
                      resources.net.container_interface(), resources.net.host_ip(),
                      resources.net.container_ip()};
    }
    if (!resources.disk.path().empty()) per_instance.push_back(resources.disk.path());
    if (auto r = artefacts_.Record("command.txt", command, per_instance, RequestSummary(request));
        !r)
      return r.error().wrap("native");
    // request.cpus: the child inherits the spawning thread's affinity (set before the launch
    // mark, restored right after the spawn).
    std::optional<ScopedThreadAffinity> pinned;
    if (!request.cpus.empty()) {
      auto cpus = ParseCpuList(request.cpus);
      if (!cpus) return cpus.error().wrap("native: request cpus");
      auto pin = ScopedThreadAffinity::Pin(*cpus);
      if (!pin) return pin.error().wrap("native");
      pinned.emplace(std::move(*pin));
    }
    int64_t launch = MonotonicNs();
    auto child = resources.net.active() ? SpawnInNetns(argv, opts, resources.net.netns_path())
                                        : Spawn(argv, opts);
    pinned.reset();
    if (!child) return child.error().wrap("native");
    write_end.reset();
    auto inst = std::make_unique<NativeInstance>(std::move(*child), std::move(read_end));
    inst->Adopt(std::move(resources));
    inst->timeline().MarkAt("launch", launch);
    inst->timeline().Mark("create");
    return std::unique_ptr<Instance>(std::move(inst));
  }
  std::map<std::string, std::string> Conditions() const override {
    return {{"version", "posix_spawn of " + workload_},
            {"network",
             "host loopback; with native_over_veth a network namespace and veth pair like a "
             "container's"}};
  }

 private:
  LauncherConfig config_;
  std::string workload_;
  ArtefactRecorder artefacts_;
};

}  // namespace

Result<std::unique_ptr<Launcher>> MakeNativeLauncher(const LauncherConfig& config) {
  return std::unique_ptr<Launcher>(std::make_unique<NativeLauncher>(config));
}

}  // namespace cvb::launcher
