#include "cvb/launcher/podman.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/fingerprint.h"
#include "cvb/launcher/oci.h"
#include "cvb/launcher/workload_channel.h"
#include "instance_resources.h"
#include "process_instance.h"
#include "reaping_command.h"

namespace cvb::launcher {

namespace {

constexpr const char* kPrefix = "podman/runtime:";
constexpr auto kPodmanTimeout = std::chrono::seconds(120);

// A podman command run to completion while reaping the orphans re-parented to us (conmon's
// intermediate processes, `podman container cleanup` exit commands). stdout goes to stdout_fd
// when given (run -d: the container gets it through conmon); stdout and stderr are captured to
// files otherwise (a pipe would stay open as long as a container holding it).
struct PodmanOutput {
  ExitStatus status;
  std::string out, err;
};
Result<PodmanOutput> RunPodman(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env, const std::string& io_base,
                               int stdout_fd = -1) {
  SpawnOptions so;
  so.extra_env = env;
  UniqueFd out_fd;
  if (stdout_fd < 0) {
    out_fd.reset(::open((io_base + ".out").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!out_fd) return ErrnoError("open " + io_base + ".out");
    stdout_fd = out_fd.get();
  }
  UniqueFd err_fd(::open((io_base + ".err").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!err_fd) return ErrnoError("open " + io_base + ".err");
  so.stdout_fd = stdout_fd;
  so.stderr_fd = err_fd.get();
  PodmanOutput result;
  CVB_ASSIGN_OR_RETURN(result.status, RunReapingOrphans(argv, so, kPodmanTimeout));
  if (out_fd) result.out = ReadFile(io_base + ".out").value_or_empty();
  result.err = Trim(ReadFile(io_base + ".err").value_or_empty());
  ::unlink((io_base + ".out").c_str());
  ::unlink((io_base + ".err").c_str());
  return result;
}

pid_t ReadPidFile(const std::string& path) {
  auto text = ReadFile(path);
  return text ? static_cast<pid_t>(std::atol(Trim(*text).c_str())) : -1;
}

class PodmanInstance : public Instance {
 public:
  PodmanInstance(std::vector<std::string> podman, std::vector<std::string> env, std::string name,
                 std::string run_dir, std::string runroot)
      : podman_(std::move(podman)),
        env_(std::move(env)),
        name_(std::move(name)),
        run_dir_(std::move(run_dir)),
        runroot_(std::move(runroot)) {}
  ~PodmanInstance() override { (void)Teardown(); }

  // `podman run -d ...`: marks "start" when podman returns (the container created and started,
  // conmon watching it).
  Result<void> Launch(const std::vector<std::string>& run_args, UniqueFd stdout_read,
                      UniqueFd stdout_write) {
    channel_ = WorkloadChannel(std::move(stdout_read));
    std::vector<std::string> argv = podman_;
    argv.insert(argv.end(), run_args.begin(), run_args.end());
    created_ = true;  // from here on rm -f is needed even if run fails halfway
    auto run = RunPodman(argv, env_, run_dir_ + "/run", stdout_write.get());
    stdout_write.reset();  // the container holds its own copy: EOF means it exited
    if (!run) return run.error();
    if (!run->status.ok())
      return Failure(JoinArgv(argv) + ": " + run->status.describe() + ": " + run->err);
    timeline_.Mark("start");
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
    // podman's record of the exit (conmon's exit file), or the workload's DONE line.
    auto wait = Podman({"wait", name_}, "wait");
    if (wait && wait->status.ok())
      s.code = std::atoi(Trim(wait->out).c_str());
    else if (auto done = channel_.done())
      s.code = static_cast<int>(done->Number("status").value_or(-1));
    return s;
  }

  Result<void> Stop(std::chrono::milliseconds timeout) override {
    if (exited_) return Ok();
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    // podman sends SIGTERM, then SIGKILL after -t seconds.
    long seconds = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
    auto stop = Podman({"stop", "-t", std::to_string(seconds), name_}, "stop");
    if (!stop) return stop.error();
    if (!stop->status.ok()) return Failure("podman stop " + name_ + ": " + stop->err);
    CVB_TRY(WaitInit(std::max(deadline, MonotonicNs() + 10'000'000'000)));
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
      // An exited container is removed as an engine user would (`rm`); -f only when it may run.
      auto rm =
          exited_ ? Podman({"rm", name_}, "rm") : Podman({"rm", "-f", "-t", "0", name_}, "rm");
      if (!rm)
        result = rm.error();
      else if (!rm->status.ok()) {
        auto force = Podman({"rm", "-f", "-t", "0", name_}, "rm");
        if (!force || !force->status.ok()) result = Failure("podman rm " + name_ + ": " + rm->err);
      }
      if (init_pid_ > 0 && !exited_) (void)WaitForExit(init_pid_, MonotonicNs() + 10'000'000'000);
      // conmon exits with its container; it was re-parented to us (subreaper).
      if (conmon_pid_ > 0) (void)WaitForExit(conmon_pid_, MonotonicNs() + 10'000'000'000);
    }
    timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t));
    channel_.Close();
    ReapOrphans();
    (void)RemoveTree(run_dir_);
    auto released = resources_.Release();
    if (result && !released) result = released.error();
    if (!result) return result.error().wrap("teardown " + name_);
    return Ok();
  }

  // The container's processes and its conmon (podman's monitor, one per container): what the
  // engine's container costs the host.
  std::vector<pid_t> HostPids() override {
    if (exited_) return {};
    ReadPids();
    std::vector<pid_t> pids;
    for (pid_t root : {conmon_pid_, init_pid_}) {
      if (root <= 0) continue;
      for (pid_t p : ProcessTree(root))
        if (std::find(pids.begin(), pids.end(), p) == pids.end()) pids.push_back(p);
    }
    return pids;
  }

  Result<Fingerprint> HostFingerprint() override {
    ReadPids();
    if (exited_ || init_pid_ <= 0)
      return Failure(name_ + ": fingerprint of a container that is not running");
    CVB_ASSIGN_OR_RETURN(Fingerprint fp, ReadProcessFingerprint(init_pid_));
    fp["host_view"] = "the container's init (the workload), started by podman";
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
  Result<PodmanOutput> Podman(const std::vector<std::string>& args, const std::string& what) {
    std::vector<std::string> argv = podman_;
    argv.insert(argv.end(), args.begin(), args.end());
    return RunPodman(argv, env_, run_dir_ + "/" + what);
  }

  // The container's init and conmon, from the files podman keeps for them
  // (<runroot>/overlay-containers/<id>/userdata/{pidfile,conmon.pid}); `podman inspect` when
  // they are not where podman 4 keeps them. Read once: neither changes while the container runs.
  void ReadPids() {
    if (init_pid_ > 0 && conmon_pid_ > 0) return;
    std::string id = Trim(ReadFile(run_dir_ + "/cid").value_or_empty());
    if (!id.empty()) {
      std::string userdata = runroot_ + "/overlay-containers/" + id + "/userdata";
      init_pid_ = ReadPidFile(userdata + "/pidfile");
      conmon_pid_ = ReadPidFile(userdata + "/conmon.pid");
    }
    if (init_pid_ > 0 && conmon_pid_ > 0) return;
    auto inspect =
        Podman({"inspect", "--format", "{{.State.Pid}} {{.State.ConmonPid}}", name_}, "inspect");
    if (!inspect || !inspect->status.ok()) return;
    auto fields = Split(Trim(inspect->out), ' ');
    if (fields.size() != 2) return;
    init_pid_ = static_cast<pid_t>(std::atol(fields[0].c_str()));
    conmon_pid_ = static_cast<pid_t>(std::atol(fields[1].c_str()));
  }

  Result<void> WaitInit(int64_t deadline) {
    if (exited_) return Ok();
    ReadPids();
    if (init_pid_ > 0) {
      auto st = WaitForExit(init_pid_, deadline);
      if (!st) return st.error().wrap("container " + name_);
    }
    exited_ = true;
    timeline_.Mark("exit");
    return Ok();
  }

  void Collect() {
    results_ = channel_.results();
    output_ = channel_.output();
  }

  std::vector<std::string> podman_;  // podman + store args + --runtime
  std::vector<std::string> env_;
  std::string name_, run_dir_, runroot_;
  WorkloadChannel channel_;
  pid_t init_pid_ = -1, conmon_pid_ = -1;
  bool created_ = false, exited_ = false, torn_down_ = false;
  InstanceResources resources_;
};

// rmdir of a cgroup directory and the sub-cgroups podman made in it (conmon's, empty ones);
// only empty cgroups can go, so a container still running keeps it (and says so).
Result<void> RemoveCgroupTree(const std::string& dir) {
  if (!PathExists(dir)) return Ok();
  for (const auto& sub : ListDirectory(dir))
    if (PathExists(dir + "/" + sub + "/cgroup.procs")) CVB_TRY(RemoveCgroupTree(dir + "/" + sub));
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) return ErrnoError("rmdir " + dir);
  return Ok();
}

class PodmanLauncher : public Launcher {
 public:
  PodmanLauncher(LauncherConfig config, OciRuntimeSpec runtime)
      : config_(std::move(config)),
        runtime_(std::move(runtime)),
        store_(PodmanStoreDir(config_.work_dir, runtime_.name)),
        cgroup_parent_("cvb-podman-" + runtime_.name + "-" + std::to_string(::getpid()) + "-0"),
        artefacts_(config_.artefacts_dir) {}

  // The launcher's Cleanup: every container and the image, the cgroup parent, the store.
  ~PodmanLauncher() override {
    if (!prepared_) return;
    (void)Global({"rm", "-a", "-f", "-t", "0"});
    (void)Global({"rmi", "-a", "-f"});
    ReapOrphans();
    for (const auto& hierarchy : ListDirectory("/sys/fs/cgroup"))
      (void)RemoveCgroupTree("/sys/fs/cgroup/" + hierarchy + "/" + cgroup_parent_);
    // containers/storage may leave its own mounts under the store (in our mount namespace).
    if (auto mi = ReadFile("/proc/self/mountinfo"))
      for (const auto& line : Split(*mi, '\n')) {
        auto fields = Split(line, ' ');
        if (fields.size() > 4 && fields[4].rfind(store_ + "/", 0) == 0)
          (void)::umount2(fields[4].c_str(), MNT_DETACH);
      }
    (void)RemoveTree(store_);
  }

  std::string Name() const override { return config_.name; }
  std::string Kind() const override { return "container"; }

  Result<void> Check() override {
    podman_ = FindProgram("podman");
    if (podman_.empty())
      return Error{ENOENT, "launcher " + config_.name + ": podman not found (scripts/setup)"};
    conmon_ = FindProgram("conmon");
    if (conmon_.empty())
      return Error{ENOENT, "launcher " + config_.name + ": conmon not found (scripts/setup)"};
    runtime_binary_ = FindProgram(runtime_.binary);
    if (runtime_binary_.empty())
      return Error{ENOENT, "launcher " + config_.name + ": runtime binary '" + runtime_.binary +
                               "' not found"};
    podman_version_ = ProgramVersion(podman_);
    if (podman_version_ == "unknown")
      return Failure("launcher " + config_.name + ": " + podman_ + " does not run");
    conmon_version_ = ProgramVersion(conmon_);
    runtime_version_ = ProgramVersion(runtime_binary_);
    return Ok();
  }

  Result<void> Prepare(const image::Image& image) override {
    if (podman_.empty()) CVB_TRY(Check());
    image_ = image;
    if ((store_ + "/rr").size() > 50)
      return Failure("launcher " + config_.name + ": podman's runroot " + store_ +
                     "/rr is longer than the 50 characters podman accepts (work dir too deep)");
    CVB_TRY(MakeDirs(store_ + "/run", 0700));
    CVB_TRY(WriteFile(store_ + "/containers.conf", PodmanContainersConf()));
    prepared_ = true;  // from here on the destructor cleans the store
    // The image's rootfs as a local image (no registry): the same files every runtime gets.
    std::string tar = store_ + "/rootfs.tar";
    auto packed = Run({"tar", "-C", image.rootfs, "-cf", tar, "."}, std::chrono::seconds(60));
    if (!packed || !packed->status.ok())
      return Failure("tar of " + image.rootfs + " for podman import failed");
    image_ref_ =
        "localhost/cvb-bench:" + image.hash.substr(0, std::min<size_t>(12, image.hash.size()));
    auto imported = Global({"import", tar, image_ref_});
    (void)::unlink(tar.c_str());
    if (!imported) return imported.error();
    if (!imported->status.ok()) return Failure("podman import: " + imported->err);
    return Ok();
  }

  bool PinsCpus() const override { return true; }
  Result<void> Supports(const WorkloadRequest& request) const override {
    (void)request;
    return Ok();
  }

  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) override {
    if (!prepared_) return Failure(config_.name + ": Start before Prepare");
    static std::atomic<int> counter{1};
    std::string name = "cvb-podman-" + runtime_.name + "-" + std::to_string(::getpid()) + "-" +
                       std::to_string(counter++);
    std::string run_dir = store_ + "/run/" + name;
    CVB_TRY(MakeDirs(run_dir, 0700));
    std::vector<std::string> run = {
        "run", "-d", "--log-driver", "passthrough", "--name", name, "--cidfile", run_dir + "/cid",
        "--cgroup-parent", "/" + cgroup_parent_,
        // As the bundle every runtime gets: a generous memory
        // limit, a read-only root without podman's extra tmpfs
        // mounts, the same hostname.
        "--memory", std::to_string(request.memory_bytes ? request.memory_bytes : (1ull << 30)),
        "--read-only", "--read-only-tmpfs=false", "--hostname", "cvb"};
    if (!request.cpus.empty()) run.insert(run.end(), {"--cpuset-cpus", request.cpus});
    InstanceResources resources;
    auto made = MakeResources(request, name, resources);
    if (!made) {
      (void)RemoveTree(run_dir);
      return made.error().wrap(config_.name);
    }
    if (resources.net.active())
      run.insert(run.end(), {"--network", "ns:" + resources.net.netns_path()});
    else
      run.insert(run.end(), {"--network", "none"});
    if (!resources.disk.path().empty())
      run.insert(run.end(), {"-v", resources.disk.path() + ":/data:rw"});
    run.push_back(image_ref_);
    run.push_back(image_.workload_in_rootfs);
    run.push_back(request.mode);
    run.insert(run.end(), request.args.begin(), request.args.end());
    {
      std::vector<std::string> per_instance{name, run_dir};
      if (resources.net.active()) per_instance.push_back(resources.net.netns_path());
      if (!resources.disk.path().empty()) per_instance.push_back(resources.disk.path());
      (void)artefacts_.Record("podman-run.txt", JoinArgv(PodmanArgs()) + " " + JoinArgv(run) + "\n",
                              per_instance, RequestSummary(request));
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
    UniqueFd read_end(fds[0]), write_end(fds[1]);
    auto inst = std::make_unique<PodmanInstance>(PodmanArgs(), PodmanEnv(store_), name, run_dir,
                                                 store_ + "/rr");
    inst->Adopt(std::move(resources));
    inst->timeline().Mark("launch");
    auto launched = inst->Launch(run, std::move(read_end), std::move(write_end));
    if (!launched) {
      Error e = launched.error().wrap(config_.name);
      (void)inst->Teardown();
      return e;
    }
    return std::unique_ptr<Instance>(std::move(inst));
  }

  std::map<std::string, std::string> Conditions() const override {
    return {
        {"version", podman_version_},
        {"binary", podman_},
        {"conmon", conmon_version_},
        {"runtime", runtime_.name + " (" + runtime_version_ + ", " + runtime_binary_ + ")"},
        {"condition",
         "podman run -d --runtime " + runtime_.name + " with a store of its own (" + store_ +
             "), cgroupfs, file events, --log-driver passthrough (the workload's stdout reaches "
             "cvbench through conmon, no log file), --network none, --read-only "
             "--read-only-tmpfs=false, the bundle's memory limit; podman's own defaults "
             "otherwise (capabilities, seccomp, /dev, /dev/shm, pids limit); host processes "
             "counted: the container's and its conmon"},
    };
  }

 private:
  std::vector<std::string> PodmanArgs() const {
    std::vector<std::string> argv{podman_};
    for (const auto& a : PodmanStoreArgs(store_)) argv.push_back(a);
    argv.insert(argv.end(), {"--runtime", runtime_binary_});
    return argv;
  }

  Result<PodmanOutput> Global(const std::vector<std::string>& args) {
    std::vector<std::string> argv = PodmanArgs();
    argv.insert(argv.end(), args.begin(), args.end());
    return RunPodman(argv, PodmanEnv(store_), store_ + "/global");
  }

  // As the OCI launcher: a veth'd network namespace for needs_network, a scratch directory (or
  // an overlay's merged directory) at /data for needs_disk.
  Result<void> MakeResources(const WorkloadRequest& request, const std::string& name,
                             InstanceResources& out) {
    if (request.needs_network) {
      CVB_ASSIGN_OR_RETURN(out.net, ContainerNetwork::Create());
    }
    if (request.needs_disk) {
      auto kind = config_.params.find("container_disk");
      bool overlay = kind != config_.params.end() && kind->second == "overlay";
      if (kind != config_.params.end() && !overlay && kind->second != "volume")
        return Failure("--param container_disk=" + kind->second + ": expected volume or overlay");
      CVB_ASSIGN_OR_RETURN(out.disk,
                           overlay ? ScratchDir::CreateOverlay(ScratchRoot(config_.params), name)
                                   : ScratchDir::Create(ScratchRoot(config_.params), name));
    }
    return Ok();
  }

  LauncherConfig config_;
  OciRuntimeSpec runtime_;
  std::string store_;
  std::string cgroup_parent_;
  std::string podman_, conmon_, runtime_binary_;
  std::string podman_version_, conmon_version_, runtime_version_;
  image::Image image_;
  std::string image_ref_;
  bool prepared_ = false;
  ArtefactRecorder artefacts_;
};

}  // namespace

std::string PodmanRuntimeOf(const std::string& launcher_name) {
  std::string prefix = kPrefix;
  if (launcher_name.rfind(prefix, 0) != 0) return "";
  std::string rt = launcher_name.substr(prefix.size());
  for (const auto& name : {"crun", "cvrun"})
    if (rt == name) return rt;
  return "";
}

std::string PodmanStoreDir(const std::string& work_dir, const std::string& runtime) {
  return work_dir + "/podman/" + runtime;
}

std::vector<std::string> PodmanStoreArgs(const std::string& store_dir) {
  // "rr": podman refuses a runroot longer than 50 characters.
  return {"--root",          store_dir + "/root", "--runroot",
          store_dir + "/rr", "--tmpdir",          store_dir + "/tmp"};
}

std::vector<std::string> PodmanEnv(const std::string& store_dir) {
  return {"CONTAINERS_CONF=" + store_dir + "/containers.conf"};
}

std::string PodmanContainersConf() {
  // default_ulimits: podman's defaults (nproc, nofile in the millions) exceed this host's hard
  // limits (no CAP_SYS_RESOURCE); nofile as the bundle's rlimit, nproc within the hard limit.
  return "[containers]\n"
         "default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n"
         "netns = \"none\"\n"
         "[engine]\n"
         "cgroup_manager = \"cgroupfs\"\n"
         "events_logger = \"file\"\n";
}

std::vector<std::string> PodmanLauncherNames() {
  return {std::string(kPrefix) + "cvrun", std::string(kPrefix) + "crun"};
}

Result<std::unique_ptr<Launcher>> MakePodmanLauncher(const LauncherConfig& config) {
  std::string rt = PodmanRuntimeOf(config.name);
  if (rt.empty())
    return Error{EINVAL, "unknown podman launcher '" + config.name +
                             "' (known: podman/runtime:" + "cvrun, podman/runtime:crun)"};
  for (const auto& spec : BuiltinOciRuntimes())
    if (spec.name == rt)
      return std::unique_ptr<Launcher>(std::make_unique<PodmanLauncher>(config, spec));
  return Error{EINVAL, "podman launcher " + config.name + ": no runtime " + rt};
}

}  // namespace cvb::launcher
