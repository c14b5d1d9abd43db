#include "cvb/launcher/oci.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <poll.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <linux/magic.h>
#include <nlohmann/json.hpp>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/fingerprint.h"
#include "cvb/launcher/workload_channel.h"
#include "instance_resources.h"
#include "process_instance.h"
#include "reaping_command.h"

namespace cvb::launcher {
namespace {

constexpr auto kRuntimeCommandTimeout = std::chrono::seconds(60);

// A runtime command (create, start, kill, delete) run to completion. The container inherits
// create's stdio: stdout is the ready pipe, and stderr goes to a file (a pipe would stay open as
// long as the container, and waiting for its end would hang).
Result<void> RunRuntime(const std::vector<std::string>& argv, const std::string& stderr_file,
                        int stdout_fd = -1) {
  SpawnOptions opts;
  UniqueFd null_fd;
  if (stdout_fd < 0) {
    null_fd.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    stdout_fd = null_fd.get();
  }
  opts.stdout_fd = stdout_fd;
  UniqueFd err_fd(::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!err_fd) return ErrnoError("open " + stderr_file);
  opts.stderr_fd = err_fd.get();
  auto status = RunReapingOrphans(argv, opts, kRuntimeCommandTimeout);
  if (!status) return status.error();
  if (!status->ok()) {
    std::string err = ReadFile(stderr_file).value_or_empty();
    return Failure(JoinArgv(argv) + ": " + status->describe() + ": " + Trim(err));
  }
  return Ok();
}

class OciInstance : public Instance {
 public:
  OciInstance(std::vector<std::string> rt, std::string id, std::string run_dir, bool phase_log,
              std::string host_view, bool helper_processes)
      : rt_(std::move(rt)), id_(std::move(id)), run_dir_(std::move(run_dir)),
        phase_log_(phase_log), host_view_(std::move(host_view)),
        helper_processes_(helper_processes) {}
  ~OciInstance() override { (void)Teardown(); }

  // Create + start. Marks "create" and "start".
  Result<void> Launch(const std::string& bundle, UniqueFd stdout_read, UniqueFd stdout_write) {
    channel_ = WorkloadChannel(std::move(stdout_read));
    std::string pid_file = run_dir_ + "/pid";
    std::vector<std::string> create = rt_;
    if (phase_log_) {
      create.insert(create.begin() + 1, {"--log-format", "json", "--log", run_dir_ + "/log"});
    }
    create.insert(create.end(), {"create", "--bundle", bundle, "--pid-file", pid_file, id_});
    created_ = true;  // from here on, delete --force is needed even if create fails halfway
    auto c = RunRuntime(create, run_dir_ + "/create.err", stdout_write.get());
    // The container holds its own copy of the write end; ours must go so that EOF means exit.
    stdout_write.reset();
    if (!c) return c.error();
    timeline_.Mark("create");
    CVB_ASSIGN_OR_RETURN(std::string pid_text, ReadFile(pid_file));
    pid_ = static_cast<pid_t>(std::atoi(Trim(pid_text).c_str()));
    if (pid_ <= 0) return Failure("create: bad pid file " + pid_file + ": '" + pid_text + "'");
    std::vector<std::string> start = rt_;
    start.insert(start.end(), {"start", id_});
    CVB_TRY(RunRuntime(start, run_dir_ + "/start.err"));
    timeline_.Mark("start");
    return Ok();
  }

  Result<void> WaitReady(std::chrono::milliseconds timeout) override {
    auto ready = channel_.WaitReady(MonotonicNs() + timeout.count() * 1'000'000, timeline_);
    if (!ready) return ready.error();
    ready_ = *ready;
    return Ok();
  }

  // The network namespace and /data directory made for this container (throughput modes); they
  // are released after the runtime's delete, in Teardown.
  void Adopt(InstanceResources resources) { resources_ = std::move(resources); }
  std::string NetworkAddress() const override {
    return resources_.net.active() ? resources_.net.container_ip() : "";
  }

  Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) override {
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    CVB_TRY(channel_.Drain(deadline));
    CVB_TRY(WaitInit(deadline));
    Collect();
    // A runtime that does not hand us its init's status: trust the workload's DONE line.
    if (!status_) {
      ExitStatus s;
      if (auto done = channel_.done()) s.code = static_cast<int>(done->Number("status").value_or(-1));
      status_ = s;
    }
    return *status_;
  }

  Result<void> Stop(std::chrono::milliseconds timeout) override {
    if (exited_) return Ok();
    std::vector<std::string> kill = rt_;
    kill.insert(kill.end(), {"kill", id_, "TERM"});
    auto k = RunRuntime(kill, run_dir_ + "/kill.err");
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    auto w = k ? WaitInit(deadline) : Result<void>(k.error());
    if (!w) {
      std::vector<std::string> kill9 = rt_;
      kill9.insert(kill9.end(), {"kill", id_, "KILL"});
      (void)RunRuntime(kill9, run_dir_ + "/kill.err");
      CVB_TRY(WaitInit(MonotonicNs() + 10'000'000'000));
    }
    channel_.DrainAvailable();
    Collect();
    return Ok();
  }

  Result<void> Teardown() override {
    if (torn_down_) return Ok();
    torn_down_ = true;
    int64_t t = MonotonicNs();
    Result<void> result = Ok();
    if (created_) {
      // Runtimes' helper processes (runsc's gofer and sandbox) were re-parented to us when
      // their parent exited; runsc's delete waits for them to vanish, which zombies never do.
      ReapOrphans();
      std::vector<std::string> del = rt_;
      // A container that exited is deleted without --force, as an engine would; --force only
      // when it may still run (a failed or interrupted measurement).
      if (exited_) del.insert(del.end(), {"delete", id_});
      else del.insert(del.end(), {"delete", "--force", id_});
      result = RunRuntime(del, run_dir_ + "/delete.err");
      if (!result && exited_) {
        std::vector<std::string> force = rt_;
        force.insert(force.end(), {"delete", "--force", id_});
        result = RunRuntime(force, run_dir_ + "/delete.err");
      }
      if (!exited_ && pid_ > 0) (void)WaitInit(MonotonicNs() + 10'000'000'000);
    }
    timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t));
    RemoveCrunUnifiedLeftover();
    channel_.Close();
    ReadPhaseLog();
    ReapOrphans();
    (void)RemoveTree(run_dir_);
    // After the delete: the container's processes no longer hold the namespace or the directory.
    auto released = resources_.Release();
    if (result && !released) result = released.error();
    if (!result) return result.error().wrap("teardown " + id_);
    return Ok();
  }

  std::vector<pid_t> HostPids() override {
    if (exited_ || pid_ <= 0) return {};
    std::vector<pid_t> pids = ProcessTree(pid_);
    if (!helper_processes_) return pids;
    // Runtimes with helper processes (runsc's gofer) name the container in their command line.
    for (pid_t p : ProcessesNaming(id_))
      if (std::find(pids.begin(), pids.end(), p) == pids.end())
        for (pid_t q : ProcessTree(p))
          if (std::find(pids.begin(), pids.end(), q) == pids.end()) pids.push_back(q);
    return pids;
  }

  // The process the runtime's pid file names: the container's init (the workload), or for runsc
  // the sandbox (host_view_ says so).
  Result<Fingerprint> HostFingerprint() override {
    if (exited_ || pid_ <= 0) return Failure(id_ + ": fingerprint of a container that is not running");
    CVB_ASSIGN_OR_RETURN(Fingerprint fp, ReadProcessFingerprint(pid_));
    fp["host_view"] = host_view_.empty() ? "the container's init (the workload)" : host_view_;
    return fp;
  }

  std::optional<uint64_t> CgroupMemoryBytes() override {
    if (exited_ || pid_ <= 0) return std::nullopt;
    return CgroupMemoryOfPid(pid_);
  }

  std::optional<uint64_t> CgroupKmemBytes() override {
    if (exited_ || pid_ <= 0) return std::nullopt;
    return CgroupKmemOfPid(pid_);
  }

 private:
  Result<void> WaitInit(int64_t deadline) {
    if (exited_) return Ok();
    if (pid_ <= 0) {
      exited_ = true;
      return Ok();
    }
    auto st = WaitForExit(pid_, deadline);
    if (!st) return st.error().wrap("container " + id_);
    exited_ = true;
    status_ = *st;
    timeline_.Mark("exit");
    return Ok();
  }

  // crun in v1 mode leaves its directory (with a cgroup.procs file) in the private tmpfs that
  // EnterOciHostConditions put on /sys/fs/cgroup/unified; remove it so a long sweep never fills
  // that tmpfs. Only ever there, and only when it is a tmpfs (never a real cgroup2 mount).
  void RemoveCrunUnifiedLeftover() {
    struct statfs fs;
    if (::statfs("/sys/fs/cgroup/unified", &fs) != 0 || fs.f_type != TMPFS_MAGIC) return;
    (void)RemoveTree("/sys/fs/cgroup/unified/" + id_);
  }

  static std::vector<pid_t> ProcessesNaming(const std::string& id) {
    std::vector<pid_t> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
      pid_t p = static_cast<pid_t>(std::atoi(e->d_name));
      if (p <= 0) continue;
      auto cmd = ReadFile("/proc/" + std::string(e->d_name) + "/cmdline");
      if (!cmd) continue;
      std::string c = *cmd;
      std::replace(c.begin(), c.end(), '\0', ' ');
      // The runtime commands we run ourselves also name the id; only long-lived helpers count.
      if (c.find(id) != std::string::npos && c.find(" delete ") == std::string::npos &&
          c.find(" kill ") == std::string::npos)
        out.push_back(p);
    }
    ::closedir(d);
    return out;
  }

  // cvrun's --log-format json log carries its own phase timings: one JSON object per line; a
  // line with msg "phases" has "cmd" and "phases_us" (name -> microseconds), which become
  // runtime_<cmd>_<name>_ms extras (runtime/README.md documents the line).
  void ReadPhaseLog() {
    if (!phase_log_) return;
    auto text = ReadFile(run_dir_ + "/log");
    if (!text) return;
    for (const auto& line : Split(*text, '\n')) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("phases_us") ||
          !j["phases_us"].is_object())
        continue;
      std::string cmd = j.value("cmd", "create");
      for (const auto& [name, us] : j["phases_us"].items())
        if (us.is_number())
          timeline_.SetExtra("runtime_" + cmd + "_" + name + "_ms", us.get<double>() / 1000);
    }
  }

  void Collect() {
    results_ = channel_.results();
    output_ = channel_.output();
  }

  std::vector<std::string> rt_;  // binary + global args
  std::string id_;
  std::string run_dir_;
  bool phase_log_;
  std::string host_view_;
  bool helper_processes_ = false;
  WorkloadChannel channel_;
  pid_t pid_ = -1;
  bool created_ = false;
  bool exited_ = false;
  bool torn_down_ = false;
  std::optional<ExitStatus> status_;
  InstanceResources resources_;
};

// Whether a fresh network namespace shows /proc/sys/net/core/rmem_default. runsc 0.0~20221219
// takes a namespace that has it for the root one and refuses --network=sandbox there ("cannot
// run with network enabled in root network namespace"); since Linux 6.x every namespace has it.
Result<bool> FreshNetnsShowsRmemDefault() {
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError("fork");
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) != 0) ::_exit(2);
    ::_exit(::access("/proc/sys/net/core/rmem_default", F_OK) == 0 ? 1 : 0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return ErrnoError("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 2)
    return Failure("probing a fresh network namespace: unshare(CLONE_NEWNET) failed");
  return WEXITSTATUS(status) == 1;
}

// runsc's commands for a needs_network instance when FreshNetnsShowsRmemDefault: run in a mount
// namespace of their own (inheriting everything, mounts propagating in from the host) whose
// /proc/sys/net is an empty read-only tmpfs, so that runsc's root-namespace test finds nothing.
// The sandbox and gofer it starts stay in that namespace; gVisor's netstack reads no host sysctl.
std::vector<std::string> NetMaskWrapper(const std::string& unshare) {
  return {unshare, "--mount", "--propagation", "slave", "--", "/bin/sh", "-c",
          "mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k cvb-runsc-netmask /proc/sys/net && "
          "exec \"$0\" \"$@\""};
}

class OciLauncher : public Launcher {
 public:
  OciLauncher(LauncherConfig config, OciRuntimeSpec spec)
      : config_(std::move(config)), spec_(std::move(spec)), artefacts_(config_.artefacts_dir) {}

  std::string Name() const override { return config_.name; }
  std::string Kind() const override { return "container"; }

  Result<void> Check() override {
    binary_ = FindProgram(spec_.binary);
    if (binary_.empty())
      return Error{ENOENT, "launcher " + config_.name + ": runtime binary '" + spec_.binary +
                               "' not found (install it: scripts/setup)"};
    version_ = ProgramVersion(binary_);
    // A binary that cannot even report its version is a broken install, not a runtime to time.
    if (version_ == "unknown")
      return Failure("launcher " + config_.name + ": runtime binary " + binary_ +
                     " does not run (`--version` failed)");
    return Ok();
  }

  Result<void> Prepare(const image::Image& image) override {
    if (binary_.empty()) CVB_TRY(Check());
    image_ = image;
    CVB_ASSIGN_OR_RETURN(confinement_,
                         image::LoadConfinement(config_.profile.empty() ? image::kDefaultConfinement
                                                                        : config_.profile));
    if (!spec_.network_args.empty() && config_.name.rfind("runsc", 0) == 0) {
      CVB_ASSIGN_OR_RETURN(net_mask_, FreshNetnsShowsRmemDefault());
      if (net_mask_) {
        unshare_ = FindProgram("unshare");
        if (unshare_.empty())
          return Failure("launcher " + config_.name +
                         ": unshare (util-linux) not found; runsc's net mode needs it here");
      }
    }
    state_root_ = config_.work_dir + "/state/" + config_.name;
    CVB_TRY(MakeDirs(state_root_, 0700));
    CVB_TRY(MakeDirs(config_.work_dir + "/run", 0700));
    prepared_ = true;
    return Ok();
  }

  Result<void> Supports(const WorkloadRequest& /*request*/) const override { return Ok(); }

  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) override {
    if (!prepared_) return Failure(config_.name + ": Start before Prepare");
    CVB_ASSIGN_OR_RETURN(nlohmann::json config, ConfigFor(request));
    static std::atomic<int> counter{0};
    std::string id = "cvb-" + config_.name + "-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter++);
    std::string run_dir = config_.work_dir + "/run/" + id;
    CVB_TRY(MakeDirs(run_dir, 0700));
    config["linux"]["cgroupsPath"] = id;
    InstanceResources resources;
    auto made = MakeResources(request, id, config, resources);
    if (!made) {
      (void)RemoveTree(run_dir);
      return made.error().wrap(config_.name);  // ~InstanceResources removes what was made
    }
    std::string config_text = config.dump();
    auto written = WriteFile(run_dir + "/config.json", config_text);
    // The run directory keeps the config.json as the runtime got it, once per shape.
    if (written) {
      std::vector<std::string> per_instance{id};
      if (resources.net.active()) per_instance.push_back(resources.net.netns_path());
      if (!resources.disk.path().empty()) per_instance.push_back(resources.disk.path());
      auto recorded = artefacts_.Record("config.json", config_text, per_instance,
                                        RequestSummary(request));
      if (!recorded) written = recorded.error();
    }
    if (!written) {
      (void)RemoveTree(run_dir);
      return written.error();
    }
    const std::string& bundle = run_dir;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
    UniqueFd read_end(fds[0]), write_end(fds[1]);

    const bool net_args = request.needs_network && !spec_.network_args.empty();
    std::vector<std::string> rt;
    if (net_args && net_mask_) rt = NetMaskWrapper(unshare_);
    rt.insert(rt.end(), {binary_, "--root", state_root_});
    const auto& args = net_args ? spec_.network_args : spec_.global_args;
    rt.insert(rt.end(), args.begin(), args.end());
    auto inst = std::make_unique<OciInstance>(rt, id, run_dir, spec_.phase_log, spec_.host_view,
                                              spec_.helper_processes);
    inst->Adopt(std::move(resources));
    inst->timeline().Mark("launch");
    auto launched = inst->Launch(bundle, std::move(read_end), std::move(write_end));
    if (!launched) {
      Error e = launched.error().wrap(config_.name);
      (void)inst->Teardown();
      return e;
    }
    return std::unique_ptr<Instance>(std::move(inst));
  }

  std::map<std::string, std::string> Conditions() const override {
    std::map<std::string, std::string> c{{"version", version_}, {"binary", binary_}};
    // How needs_disk instances get /data (throughput's disk mode): see MakeResources.
    auto disk = config_.params.find("container_disk");
    c["container_disk"] = disk != config_.params.end() && disk->second == "overlay"
                              ? "overlay: overlayfs with its upper layer on the host disk at /data"
                              : "volume: bind mount of a host disk directory at /data";
    if (!spec_.condition.empty()) c["condition"] = spec_.condition;
    // The bundle's confinement (image/confinement.h) and where it came from.
    c["profile"] = confinement_.name;
    c["profile_source"] = confinement_.source;
    c["profile_capabilities"] = std::to_string(confinement_.capabilities.size());
    c["profile_no_new_privileges"] = confinement_.no_new_privileges ? "1" : "0";
    c["profile_seccomp"] = confinement_.seccomp
                               ? std::to_string(confinement_.seccomp_syscalls) + " syscalls in " +
                                     std::to_string((*confinement_.seccomp)["syscalls"].size()) +
                                     " rules (" + std::to_string(confinement_.seccomp_allowed) +
                                     " allowed), default " +
                                     (*confinement_.seccomp)["defaultAction"].get<std::string>()
                               : "none";
    std::string args;
    for (const auto& a : spec_.global_args) args += (args.empty() ? "" : " ") + a;
    if (!args.empty()) c["global_args"] = args;
    if (!spec_.network_args.empty()) {
      std::string net;
      for (const auto& a : spec_.network_args) net += (net.empty() ? "" : " ") + a;
      c["network_args"] = net + " (net mode only)";
      if (net_mask_)
        c["network_condition"] =
            "a fresh network namespace shows /proc/sys/net/core/rmem_default on this kernel, "
            "which this runsc takes for the host's ('cannot run with network enabled in root "
            "network namespace'): its net-mode commands run in a private mount namespace whose "
            "/proc/sys/net is an empty read-only tmpfs";
    }
    return c;
  }

 private:
  // needs_network: the container joins a fresh named network namespace joined to the host by a
  // veth pair (instance_resources.h) instead of an empty one of its own. needs_disk: a
  // per-instance directory on the host's disk, bind-mounted read-write at /data (the "volume"
  // case of an engine; the read-only image rootfs has no writable layer to measure).
  // Made before the launch mark, like the bundle: the figures they serve are not start-up times.
  Result<void> MakeResources(const WorkloadRequest& request, const std::string& id,
                             nlohmann::json& config, InstanceResources& out) {
    if (request.needs_network) {
      CVB_TRY(Supports(request));
      CVB_ASSIGN_OR_RETURN(out.net, ContainerNetwork::Create());
      bool joined = false;
      for (auto& ns : config["linux"]["namespaces"])
        if (ns.value("type", "") == "network") {
          ns["path"] = out.net.netns_path();
          joined = true;
        }
      if (!joined)
        config["linux"]["namespaces"].push_back({{"type", "network"}, {"path", out.net.netns_path()}});
    }
    if (request.needs_disk) {
      // --param container_disk=overlay: /data is an overlayfs whose upper layer is on the host
      // disk, as an engine's writable container layer (the "rootfs" case); the default is the
      // plain bind mount of a host directory (the "volume" case).
      auto kind = config_.params.find("container_disk");
      bool overlay = kind != config_.params.end() && kind->second == "overlay";
      if (kind != config_.params.end() && !overlay && kind->second != "volume")
        return Failure("--param container_disk=" + kind->second + ": expected volume or overlay");
      CVB_ASSIGN_OR_RETURN(out.disk, overlay ? ScratchDir::CreateOverlay(ScratchRoot(config_.params), id)
                                             : ScratchDir::Create(ScratchRoot(config_.params), id));
      config["mounts"].push_back({{"destination", "/data"},
                                  {"type", "bind"},
                                  {"source", out.disk.path()},
                                  {"options", {"rbind", "rw"}}});
    }
    return Ok();
  }

  // The config of a request, made once per sweep. Each container then gets its own bundle
  // directory with this config and its own cgroupsPath (named after the container, so that
  // concurrent containers never share a cgroup), written before the launch mark.
  Result<nlohmann::json> ConfigFor(const WorkloadRequest& request) {
    std::lock_guard<std::mutex> lock(configs_mutex_);  // fleets start instances from threads
    image::BundleOptions opts;
    opts.args = {image_.workload_in_rootfs, request.mode};
    opts.args.insert(opts.args.end(), request.args.begin(), request.args.end());
    // A memory cgroup for every container, as engines give them; the limit is generous so it
    // never shapes a measurement unless the request asks for one.
    opts.memory_limit = request.memory_bytes ? request.memory_bytes : (1ull << 30);
    opts.confinement = confinement_;
    std::string key = opts.args.empty() ? "" : JoinArgv(opts.args) + "|" +
                                                   std::to_string(opts.memory_limit);
    auto it = configs_.find(key);
    if (it != configs_.end()) return it->second;
    nlohmann::json config = image::MakeOciConfig(image_, opts);
    configs_[key] = config;
    return config;
  }

  LauncherConfig config_;
  OciRuntimeSpec spec_;
  std::string binary_;
  std::string version_;
  std::string state_root_;
  image::Image image_;
  image::Confinement confinement_;
  bool net_mask_ = false;  // runsc net mode under NetMaskWrapper
  std::string unshare_;
  bool prepared_ = false;
  std::mutex configs_mutex_;
  std::map<std::string, nlohmann::json> configs_;
  ArtefactRecorder artefacts_;
};

}  // namespace

Result<std::unique_ptr<Launcher>> MakeOciLauncher(const LauncherConfig& config,
                                                  const OciRuntimeSpec& spec) {
  return std::unique_ptr<Launcher>(std::make_unique<OciLauncher>(config, spec));
}

std::vector<OciRuntimeSpec> BuiltinOciRuntimes() {
  return {
      {"cvrun", image::SelfExeDir() + "/cvrun", {}, "", {}, true},
      {"crun", "crun", {}, "", {}, false},
      {"runc", "runc", {}, "", {}, false},
      {"runsc",
       "runsc",
       {"--network=none"},
       "gVisor with --network=none except in the net mode, which runs its own netstack "
       "(--network=sandbox) over the instance's veth; ptrace platform",
       {"--network=sandbox"},
       false,
       "runsc's sandbox process as the host sees it (not the workload, which runs on gVisor's "
       "kernel: see self.*)",
       /*helper_processes=*/true},
  };
}

Result<std::string> EnterOciHostConditions() {
  struct statfs fs;
  if (::statfs("/sys/fs/cgroup/unified", &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC)
    return std::string();
  if (::unshare(CLONE_NEWNS) != 0) return ErrnoError("unshare(CLONE_NEWNS)");
  // Our mounts must not propagate back to the host, nor the unmount below.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
    return ErrnoError("make / rslave");
  if (::umount2("/sys/fs/cgroup/unified", MNT_DETACH) != 0)
    return ErrnoError("umount /sys/fs/cgroup/unified");
  // crun in v1 mode still mkdirs its cgroup under /sys/fs/cgroup/unified and never removes it:
  // without a mount there, those directories would land in the host's /sys/fs/cgroup tmpfs,
  // hidden under the host's cgroup2 mount, one per container forever. A private tmpfs takes
  // them and vanishes with this namespace.
  if (::mount("none", "/sys/fs/cgroup/unified", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=64m,mode=755") != 0)
    return ErrnoError("mount a private tmpfs on /sys/fs/cgroup/unified");
  return std::string(
      "hybrid cgroup host: all launchers run in a private mount namespace whose "
      "/sys/fs/cgroup/unified is an empty tmpfs (crun 1.8 refuses hybrid hosts); containers see "
      "cgroup v1 only");
}

}  // namespace cvb::launcher
