#include "cvb/launcher/containerd.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/unique_fd.h"
#include "cvb/image/image.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/engine_daemons.h"
#include "cvb/launcher/fingerprint.h"
#include "cvb/launcher/oci.h"
#include "cvb/launcher/workload_channel.h"
#include "docker_log.h"
#include "instance_resources.h"
#include "process_instance.h"

namespace cvb::launcher {

namespace {

constexpr const char* kContainerdPrefix = "containerd/runtime:";
constexpr auto kCtrTimeout = std::chrono::seconds(120);

pid_t TaskPidFromFile(const std::string& path) {
  auto text = ReadFile(path);
  return text ? static_cast<pid_t>(std::atol(Trim(*text).c_str())) : -1;
}

// rmdir of a cgroup directory and the empty sub-cgroups in it (ctr's /<namespace>).
Result<void> RemoveEmptyCgroupTree(const std::string& dir) {
  if (!PathExists(dir)) return Ok();
  for (const auto& sub : ListDirectory(dir))
    if (PathExists(dir + "/" + sub + "/cgroup.procs"))
      CVB_TRY(RemoveEmptyCgroupTree(dir + "/" + sub));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return ErrnoError("rmdir " + dir);
  return Ok();
}

class CtrClient {
 public:
  CtrClient(std::string socket, std::string ns) : socket_(std::move(socket)), ns_(std::move(ns)) {}
  Result<RunOutput> operator()(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"ctr", "-a", socket_, "-n", ns_};
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv, kCtrTimeout);
  }
  std::string Describe(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"ctr", "-a", socket_, "-n", ns_};
    argv.insert(argv.end(), args.begin(), args.end());
    return JoinArgv(argv);
  }

 private:
  std::string socket_, ns_;
};

class ContainerdInstance : public Instance {
 public:
  ContainerdInstance(CtrClient ctr, EngineInstance engine, std::string ns, std::string id,
                     std::string log)
      : ctr_(std::move(ctr)),
        engine_(std::move(engine)),
        ns_(std::move(ns)),
        id_(std::move(id)),
        log_(std::move(log)) {}
  ~ContainerdInstance() override { (void)Teardown(); }

  // `ctr run -d ...`: marks "start" when ctr returns (container and task created, task started).
  Result<void> Launch(const std::vector<std::string>& run_args) {
    created_ = true;
    auto run = ctr_(run_args);
    if (!run) return run.error();
    if (!run->status.ok())
      return Failure(ctr_.Describe(run_args) + ": " + run->status.describe() + ": " +
                     Trim(run->err));
    timeline_.Mark("start");
    ReadPids();
    channel_ = WorkloadChannel(std::make_unique<DockerJsonLog>(
        log_, [this] { return init_pid_ <= 0 || ProcessGone(init_pid_); }, LogFormat::kPlain));
    return Ok();
  }

  Result<void> WaitReady(std::chrono::milliseconds timeout) override {
    auto ready = channel_.WaitReady(MonotonicNs() + timeout.count() * 1'000'000, timeline_);
    if (!ready) return ready.error();
    ready_ = *ready;
    return Ok();
  }

  void Adopt(InstanceResources resources) { resources_ = std::move(resources); }
  std::string NetworkAddress() const override {
    return resources_.net.active() ? resources_.net.container_ip() : "";
  }

  Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) override {
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    CVB_TRY(channel_.Drain(deadline));
    CVB_TRY(WaitInit(deadline));
    Collect();
    ExitStatus s;
    // ctr keeps the exit status in the task, which Teardown deletes; the DONE line says it.
    if (auto done = channel_.done()) s.code = static_cast<int>(done->Number("status").value_or(-1));
    return s;
  }

  Result<void> Stop(std::chrono::milliseconds timeout) override {
    if (exited_) return Ok();
    auto kill = ctr_({"task", "kill", "-s", "SIGTERM", id_});
    if (!kill) return kill.error();
    if (!kill->status.ok()) return Failure("ctr task kill " + id_ + ": " + Trim(kill->err));
    auto waited = WaitInit(MonotonicNs() + timeout.count() * 1'000'000);
    if (!waited) {
      (void)ctr_({"task", "kill", "-s", "SIGKILL", id_});
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
      if (!exited_) (void)ctr_({"task", "kill", "-s", "SIGKILL", id_});
      if (init_pid_ > 0) (void)WaitForExit(init_pid_, MonotonicNs() + 10'000'000'000);
      // The task is gone by now: a plain delete, as ctr users do; -f (kill, then delete) only
      // when that fails. With -f on an exited task, containerd's shim asks the runtime to kill
      // it and fails unless the runtime's error says "container not running" as runc's does.
      auto del = ctr_({"task", "delete", id_});
      if (!del || !del->status.ok()) del = ctr_({"task", "delete", "-f", id_});
      auto rm = ctr_({"container", "delete", id_});
      if (!rm || !rm->status.ok())
        result = Failure("ctr container delete " + id_ + ": " +
                         (rm ? Trim(rm->err) : rm.error().message()) +
                         (del && !del->status.ok() ? "; task delete: " + Trim(del->err) : ""));
      if (shim_pid_ > 0) (void)WaitForExit(shim_pid_, MonotonicNs() + 10'000'000'000);
    }
    timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t));
    channel_.Close();
    (void)::unlink(log_.c_str());
    auto released = resources_.Release();
    if (result && !released) result = released.error();
    if (!result) return result.error().wrap("teardown " + id_);
    return Ok();
  }

  // The task's processes and its containerd-shim-runc-v2; containerd itself is shared
  // (daemons_rss_kib).
  std::vector<pid_t> HostPids() override {
    if (exited_) return {};
    ReadPids();
    std::vector<pid_t> pids;
    for (pid_t root : {shim_pid_, init_pid_}) {
      if (root <= 0) continue;
      for (pid_t p : ProcessTree(root))
        if (std::find(pids.begin(), pids.end(), p) == pids.end()) pids.push_back(p);
    }
    return pids;
  }

  Result<Fingerprint> HostFingerprint() override {
    ReadPids();
    if (exited_ || init_pid_ <= 0)
      return Failure(id_ + ": fingerprint of a task that is not running");
    CVB_ASSIGN_OR_RETURN(Fingerprint fp, ReadProcessFingerprint(init_pid_));
    fp["host_view"] = "the task's init (the workload), started by containerd (ctr)";
    fp["profile"] = "ctr's default spec + --seccomp (containerd's default profile)";
    return fp;
  }

  std::optional<uint64_t> CgroupMemoryBytes() override {
    ReadPids();
    if (exited_ || init_pid_ <= 0) return std::nullopt;
    return CgroupMemoryOfPid(init_pid_);
  }
  std::optional<uint64_t> CgroupKmemBytes() override {
    ReadPids();
    if (exited_ || init_pid_ <= 0) return std::nullopt;
    return CgroupKmemOfPid(init_pid_);
  }

 private:
  void ReadPids() {
    if (init_pid_ > 0 && shim_pid_ > 0) return;
    std::string bundle = engine_.task_bundle(ns_, id_);
    if (init_pid_ <= 0) init_pid_ = TaskPidFromFile(bundle + "/init.pid");
    if (shim_pid_ <= 0) shim_pid_ = TaskPidFromFile(bundle + "/shim.pid");
    // containerd 1.6's runc shim writes no shim.pid for ctr's tasks: the init's parent is the
    // shim (it is the task's subreaper).
    if (shim_pid_ <= 0 && init_pid_ > 0)
      if (auto parent = ParentPid(init_pid_)) shim_pid_ = *parent;
  }

  Result<void> WaitInit(int64_t deadline) {
    if (exited_) return Ok();
    ReadPids();
    if (init_pid_ > 0) {
      auto st = WaitForExit(init_pid_, deadline);
      if (!st) return st.error().wrap("task " + id_);
    }
    exited_ = true;
    timeline_.Mark("exit");
    return Ok();
  }

  void Collect() {
    results_ = channel_.results();
    output_ = channel_.output();
  }

  CtrClient ctr_;
  EngineInstance engine_;
  std::string ns_, id_, log_;
  WorkloadChannel channel_;
  pid_t init_pid_ = -1, shim_pid_ = -1;
  bool created_ = false, exited_ = false, torn_down_ = false;
  InstanceResources resources_;
};

class ContainerdLauncher : public Launcher {
 public:
  ContainerdLauncher(LauncherConfig config, std::string runtime)
      : config_(std::move(config)),
        runtime_(std::move(runtime)),
        engine_(EngineInstanceFrom(config_.params)),
        owner_(std::to_string(::getpid())),
        ns_("cvb-" + runtime_ + "-" + owner_),
        ctr_(engine_.containerd_socket(), ns_),
        artefacts_(config_.artefacts_dir) {
    int64_t wait_ms = 60'000;
    if (auto it = config_.params.find("daemon_wait_ms"); it != config_.params.end())
      wait_ms = std::atoll(it->second.c_str());
    std::string socket = engine_.containerd_socket();
    wait_ = std::make_unique<DaemonWait>(
        "containerd (" + engine_.name + ")",
        [socket]() -> Result<void> {
          if (SocketAccepts(socket)) return Ok();
          return Failure("nothing accepts connections on " + socket);
        },
        wait_ms);
  }

  // Every task and container of the namespace, the image, the namespace, ctr's cgroups.
  ~ContainerdLauncher() override {
    if (!prepared_) return;
    auto tasks = ctr_({"task", "ls", "-q"});
    if (tasks && tasks->status.ok())
      for (const auto& id : Split(Trim(tasks->out), '\n')) {
        (void)ctr_({"task", "kill", "-s", "SIGKILL", Trim(id)});
        (void)ctr_({"task", "delete", "-f", Trim(id)});
      }
    auto containers = ctr_({"container", "ls", "-q"});
    if (containers && containers->status.ok())
      for (const auto& id : Split(Trim(containers->out), '\n'))
        (void)ctr_({"container", "delete", Trim(id)});
    if (!image_ref_.empty()) (void)ctr_({"images", "rm", "--sync", image_ref_});
    (void)ctr_({"namespaces", "rm", ns_});
    for (const auto& hierarchy : ListDirectory("/sys/fs/cgroup"))
      (void)RemoveEmptyCgroupTree("/sys/fs/cgroup/" + hierarchy + "/" + ns_);
    (void)RemoveTree(LogDir());
  }

  std::string Name() const override { return config_.name; }
  std::string Kind() const override { return "container"; }

  Result<void> Check() override {
    if (FindProgram("ctr").empty() || FindProgram("containerd").empty() ||
        FindProgram("containerd-shim-runc-v2").empty())
      return Error{ENOENT, "launcher " + config_.name +
                               ": containerd, ctr or containerd-shim-runc-v2 not found "
                               "(containerd; scripts/setup)"};
    for (const auto& spec : BuiltinOciRuntimes())
      if (spec.name == runtime_) runtime_binary_ = FindProgram(spec.binary);
    if (runtime_binary_.empty())
      return Error{ENOENT, "launcher " + config_.name + ": runtime " + runtime_ + " not found"};
    runtime_version_ = ProgramVersion(runtime_binary_);
    containerd_version_ = ProgramVersion(FindProgram("containerd"));
    return Ok();
  }

  Result<void> Prepare(const image::Image& image) override {
    if (runtime_binary_.empty()) CVB_TRY(Check());
    image_ = image;
    auto started =
        RunEngineScript({"containerd-start", "--name", engine_.name}, std::chrono::seconds(120));
    if (!started) return started.error().wrap("launcher " + config_.name);
    CVB_TRY(wait_->Ready());
    prepared_ = true;
    CVB_TRY(MakeDirs(LogDir(), 0700));
    std::string tar = LogDir() + "/image.tar";
    std::string tag = image.hash.substr(0, std::min<size_t>(12, image.hash.size()));
    if (tag.empty()) tag = "latest";
    std::string ref = "localhost/cvb-bench:" + tag;
    auto packed =
        RunEngineScript({"oci-archive", image.rootfs, ref, tar}, std::chrono::seconds(120));
    if (!packed) return packed.error().wrap("launcher " + config_.name);
    image_ref_ = ref;
    auto imported = ctr_({"images", "import", tar});
    (void)::unlink(tar.c_str());
    if (!imported) return imported.error().wrap("launcher " + config_.name);
    if (!imported->status.ok())
      return Failure("launcher " + config_.name + ": ctr images import: " + Trim(imported->err));
    if (pid_t p = LivePidFromFile(engine_.containerd_pidfile(), "containerd"); p > 0) {
      MemoryUsage m = ReadProcessesMemory({p});
      daemons_rss_kib_ = std::to_string(m.rss / 1024) + " (containerd, at Prepare)";
    }
    return Ok();
  }

  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) override {
    if (!prepared_) return Failure(config_.name + ": Start before Prepare");
    static std::atomic<int> counter{1};
    std::string id = "cvb-ctr-" + runtime_ + "-" + owner_ + "-" + std::to_string(counter++);
    std::string log = LogDir() + "/" + id + ".log";
    auto inst = std::make_unique<ContainerdInstance>(ctr_, engine_, ns_, id, log);
    inst->timeline().Mark("launch");
    if (auto ready = wait_->Ready(); !ready) return ready.error().wrap(config_.name);
    std::vector<std::string> run = {
        "run", "-d", "--runc-binary", runtime_binary_, "--runc-root", engine_.ctr_runc_root(),
        "--fifo-dir", engine_.ctr_fifo_dir(), "--log-uri", "file://" + log,
        // As the bundle every runtime gets: the memory limit, a read-only root.
        "--memory-limit",
        std::to_string(request.memory_bytes ? request.memory_bytes : (1ull << 30)), "--read-only",
        // containerd's default seccomp profile (Docker's): with ctr's default spec (Docker's
        // capabilities and masked paths) the docker-default confinement the bare runtimes get.
        "--seccomp"};
    InstanceResources resources;
    UniqueFd netns_fd;
    if (request.needs_network) {
      auto net = ContainerNetwork::Create();
      if (!net) return net.error().wrap(config_.name);
      resources.net = std::move(*net);
      // /run/netns/<name> is a mount in cvbench's own mount namespace, which containerd's does
      // not see (both are private): the runtime gets the namespace through this process's fd
      // instead (/proc/<pid>/fd/<n> resolves in any mount namespace), open until ctr returns.
      netns_fd.reset(::open(resources.net.netns_path().c_str(), O_RDONLY | O_CLOEXEC));
      if (!netns_fd) return ErrnoError("open " + resources.net.netns_path()).wrap(config_.name);
      run.insert(run.end(), {"--with-ns", "network:/proc/" + std::to_string(::getpid()) + "/fd/" +
                                              std::to_string(netns_fd.get())});
    }
    if (request.needs_disk) {
      auto disk = ScratchDir::Create(ScratchRoot(config_.params), id);
      if (!disk) return disk.error().wrap(config_.name);
      resources.disk = std::move(*disk);
      run.insert(run.end(), {"--mount", "type=bind,src=" + resources.disk.path() +
                                            ",dst=/data,options=rbind:rw"});
    }
    run.push_back(image_ref_);
    run.push_back(id);
    run.push_back(image_.workload_in_rootfs);
    run.push_back(request.mode);
    run.insert(run.end(), request.args.begin(), request.args.end());
    (void)artefacts_.Record("ctr-run.txt", ctr_.Describe(run) + "\n", {id, log},
                            RequestSummary(request));
    inst->Adopt(std::move(resources));
    auto launched = inst->Launch(run);
    if (!launched) {
      Error e = launched.error().wrap(config_.name);
      (void)inst->Teardown();
      return e;
    }
    return std::unique_ptr<Instance>(std::move(inst));
  }

  std::map<std::string, std::string> Conditions() const override {
    return {
        {"version", containerd_version_},
        {"runtime", runtime_ + " (" + runtime_version_ + ", " + runtime_binary_ +
                        ", called by containerd-shim-runc-v2 --runc-binary)"},
        {"storage_driver", "overlayfs snapshotter"},
        {"cgroup_driver", "cgroupfs (ctr's /<namespace>/<id>)"},
        {"network",
         "ctr's default: a network namespace with lo only; net mode: cvbench's veth "
         "namespace joined with --with-ns"},
        {"daemons", "containerd of instance '" + engine_.name + "' (" +
                        engine_.containerd_socket() + "), namespace " + ns_},
        {"daemons_rss_kib", daemons_rss_kib_},
        {"host_condition", engine_.HostCondition()},
        {"condition",
         "ctr run -d --runc-binary " + runtime_ +
             " with ctr's default spec (Docker's capabilities and masked paths; no hostname: "
             "the UTS namespace keeps the host's), --seccomp (containerd's default profile, "
             "Docker's), --read-only, the bundle's memory "
             "limit, stdout to a file the shim writes (READY read from it); host processes "
             "counted per task: its own and its containerd-shim-runc-v2; containerd once, as "
             "daemons_rss_kib"},
    };
  }

 private:
  std::string LogDir() const { return config_.work_dir + "/containerd-" + runtime_; }

  LauncherConfig config_;
  std::string runtime_;
  EngineInstance engine_;
  std::string owner_, ns_;
  CtrClient ctr_;
  std::unique_ptr<DaemonWait> wait_;
  std::string runtime_binary_, runtime_version_, containerd_version_ = "unknown";
  std::string daemons_rss_kib_ = "unknown";
  image::Image image_;
  std::string image_ref_;
  bool prepared_ = false;
  ArtefactRecorder artefacts_;
};

}  // namespace

std::string ContainerdRuntimeOf(const std::string& launcher_name) {
  std::string prefix = kContainerdPrefix;
  if (launcher_name.rfind(prefix, 0) != 0) return "";
  std::string rt = launcher_name.substr(prefix.size());
  for (const char* name : {"runc", "crun", "cvrun"})
    if (rt == name) return rt;
  return "";
}

std::vector<std::string> ContainerdLauncherNames() {
  std::vector<std::string> names;
  for (const char* rt : {"runc", "crun", "cvrun"})
    names.push_back(std::string(kContainerdPrefix) + rt);
  return names;
}

Result<std::unique_ptr<Launcher>> MakeContainerdLauncher(const LauncherConfig& config) {
  std::string rt = ContainerdRuntimeOf(config.name);
  if (rt.empty())
    return Error{EINVAL, "unknown containerd launcher '" + config.name +
                             "' (known: containerd/runtime:runc, crun, cvrun)"};
  return std::unique_ptr<Launcher>(std::make_unique<ContainerdLauncher>(config, rt));
}

}  // namespace cvb::launcher
