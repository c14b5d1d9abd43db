#include "cvb/launcher/docker.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
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

constexpr const char* kDockerPrefix = "docker/runtime:";
constexpr const char* kDockerClient = "/usr/bin/docker";
constexpr auto kDockerTimeout = std::chrono::seconds(120);

pid_t PidFromFile(const std::string& path) {
  auto text = ReadFile(path);
  return text ? static_cast<pid_t>(std::atol(Trim(*text).c_str())) : -1;
}

// The bridge and subnet of a named instance other than cvbench's own (cvb-docker0,
// 10.214.0.1/24): cvbd-<name's first 10 letters and digits>, 10.214.<1..126>.1/24 from a hash of
// the name (tests/engine_daemons_test.py takes 128..247).
std::pair<std::string, std::string> EngineBridgeFor(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  std::string tail;
  for (char c : name)
    if (std::isalnum(static_cast<unsigned char>(c)) && tail.size() < 10) tail += c;
  return {"cvbd-" + tail, "10.214." + std::to_string(1 + h % 126) + ".1/24"};
}

// The workload's --port=N (throughput's net mode), 0 without one.
int WorkloadPort(const WorkloadRequest& request) {
  for (const auto& a : request.args)
    if (a.rfind("--port=", 0) == 0) return std::atoi(a.c_str() + 7);
  return 0;
}

class DockerInstance : public Instance {
 public:
  DockerInstance(std::vector<std::string> docker, EngineInstance engine, std::string name)
      : docker_(std::move(docker)), engine_(std::move(engine)), name_(std::move(name)) {}
  ~DockerInstance() override { (void)Teardown(); }

  // `docker run -d ...`: marks "start" when the client returns (the container created and
  // started by dockerd, containerd and the shim); the READY line is then read from the log.
  Result<void> Launch(const std::vector<std::string>& run_args) {
    created_ = true;  // from here on rm -f is needed even if run fails halfway
    auto run = Docker(run_args);
    if (!run) return run.error();
    if (!run->status.ok())
      return Failure("docker " + JoinArgv(run_args) + ": " + run->status.describe() + ": " +
                     Trim(run->err));
    timeline_.Mark("start");
    id_ = Trim(run->out);
    if (id_.size() != 64) return Failure("docker run -d printed no container id: " + run->out);
    ReadPids();
    auto log = std::make_unique<DockerJsonLog>(
        engine_.docker_data_root() + "/containers/" + id_ + "/" + id_ + "-json.log",
        [this] { return init_pid_ <= 0 || ProcessGone(init_pid_); });
    log_ = log.get();
    channel_ = WorkloadChannel(std::move(log));
    return Ok();
  }

  Result<void> WaitReady(std::chrono::milliseconds timeout) override {
    auto ready = channel_.WaitReady(MonotonicNs() + timeout.count() * 1'000'000, timeline_);
    if (!ready) return ready.error();
    ready_ = *ready;
    // dockerd's stamp of the READY line (CLOCK_REALTIME), on the launch timeline: when the line
    // was in dockerd's hands, before `docker run -d` returned.
    if (log_ && log_->last_time_ns() > 0) {
      timespec rt{}, mono{};
      ::clock_gettime(CLOCK_REALTIME, &rt);
      ::clock_gettime(CLOCK_MONOTONIC, &mono);
      int64_t offset = (rt.tv_sec - mono.tv_sec) * 1'000'000'000LL + (rt.tv_nsec - mono.tv_nsec);
      if (auto launch = timeline_.At("launch"))
        timeline_.SetExtra("ready_in_log_ms", NsToMs(log_->last_time_ns() - offset - *launch));
    }
    return Ok();
  }

  void Adopt(InstanceResources resources, std::string address) {
    resources_ = std::move(resources);
    address_ = std::move(address);
  }
  std::string NetworkAddress() const override { return address_; }

  Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) override {
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    CVB_TRY(channel_.Drain(deadline));
    CVB_TRY(WaitInit(deadline));
    Collect();
    ExitStatus s;
    auto wait = Docker({"wait", name_});
    if (wait && wait->status.ok())
      s.code = std::atoi(Trim(wait->out).c_str());
    else if (auto done = channel_.done())
      s.code = static_cast<int>(done->Number("status").value_or(-1));
    return s;
  }

  Result<void> Stop(std::chrono::milliseconds timeout) override {
    if (exited_) return Ok();
    int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
    long seconds = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
    auto stop = Docker({"stop", "-t", std::to_string(seconds), name_});
    if (!stop) return stop.error();
    if (!stop->status.ok()) return Failure("docker stop " + name_ + ": " + Trim(stop->err));
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
      // An exited container is removed as a Docker user would (`rm`); -f when it may run.
      auto rm = Docker(exited_ ? std::vector<std::string>{"rm", name_}
                               : std::vector<std::string>{"rm", "-f", name_});
      if (!rm || !rm->status.ok()) {
        auto force = Docker({"rm", "-f", name_});
        if (!force || !force->status.ok())
          result =
              Failure("docker rm " + name_ + ": " + (rm ? Trim(rm->err) : rm.error().message()));
      }
      if (init_pid_ > 0 && !exited_) (void)WaitForExit(init_pid_, MonotonicNs() + 10'000'000'000);
      // The shim exits once containerd deleted the task.
      if (shim_pid_ > 0) (void)WaitForExit(shim_pid_, MonotonicNs() + 10'000'000'000);
    }
    timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t));
    channel_.Close();
    auto released = resources_.Release();
    if (result && !released) result = released.error();
    if (!result) return result.error().wrap("teardown " + name_);
    return Ok();
  }

  // The container's processes and its containerd-shim-runc-v2 (one per container, Docker's
  // counterpart of podman's conmon). dockerd and containerd are shared by every container: the
  // launcher reports them once (daemons_rss_kib), not here.
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
      return Failure(name_ + ": fingerprint of a container that is not running");
    CVB_ASSIGN_OR_RETURN(Fingerprint fp, ReadProcessFingerprint(init_pid_));
    fp["host_view"] = "the container's init (the workload), started by Docker";
    // Docker's own defaults: what the bare runtimes' docker-default profile copies.
    fp["profile"] = "docker-default (dockerd's own)";
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
  Result<RunOutput> Docker(const std::vector<std::string>& args) {
    std::vector<std::string> argv = docker_;
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv, kDockerTimeout);
  }

  // The init and the shim, from the files the shim keeps in the task's bundle (containerd's
  // state, namespace <name>-docker); `docker inspect` for the init when they are not there.
  void ReadPids() {
    if ((init_pid_ > 0 && shim_pid_ > 0) || id_.empty()) return;
    std::string bundle = engine_.task_bundle(engine_.docker_namespace(), id_);
    if (init_pid_ <= 0) init_pid_ = PidFromFile(bundle + "/init.pid");
    if (shim_pid_ <= 0) shim_pid_ = PidFromFile(bundle + "/shim.pid");
    if (init_pid_ <= 0) {
      auto inspect = Docker({"inspect", "--format", "{{.State.Pid}}", name_});
      if (inspect && inspect->status.ok()) init_pid_ = std::atoi(Trim(inspect->out).c_str());
    }
    if (shim_pid_ <= 0 && init_pid_ > 0)
      if (auto parent = ParentPid(init_pid_)) shim_pid_ = *parent;
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

  std::vector<std::string> docker_;  // /usr/bin/docker -H unix://...
  EngineInstance engine_;
  std::string name_, id_, address_;
  WorkloadChannel channel_;
  DockerJsonLog* log_ = nullptr;  // owned by channel_
  pid_t init_pid_ = -1, shim_pid_ = -1;
  bool created_ = false, exited_ = false, torn_down_ = false;
  InstanceResources resources_;
};

class DockerLauncher : public Launcher {
 public:
  DockerLauncher(LauncherConfig config, DockerLauncherName parsed)
      : config_(std::move(config)),
        parsed_(std::move(parsed)),
        engine_(EngineInstanceFrom(config_.params)),
        owner_(std::to_string(::getpid())),
        artefacts_(config_.artefacts_dir) {
    int64_t wait_ms = 60'000;
    if (auto it = config_.params.find("daemon_wait_ms"); it != config_.params.end())
      wait_ms = std::atoll(it->second.c_str());
    std::string socket = engine_.docker_socket();
    wait_ = std::make_unique<DaemonWait>(
        "dockerd (" + engine_.name + ")",
        [socket] { return DockerPing(socket, std::chrono::seconds(2)); }, wait_ms);
  }

  // Every container this launcher made (its name prefix) and its image tag.
  ~DockerLauncher() override {
    if (!prepared_) return;
    auto ps = Docker({"ps", "-a", "-q", "--filter", "name=" + ContainerPrefix()});
    if (ps && ps->status.ok())
      for (const auto& id : Split(Trim(ps->out), '\n'))
        if (!Trim(id).empty()) (void)Docker({"rm", "-f", Trim(id)});
    if (!image_ref_.empty()) (void)Docker({"rmi", "-f", image_ref_});
  }

  std::string Name() const override { return config_.name; }
  std::string Kind() const override { return "container"; }

  Result<void> Check() override {
    if (::access(kDockerClient, X_OK) != 0)
      return Error{ENOENT, "launcher " + config_.name + ": " + kDockerClient +
                               " not found (docker.io; scripts/setup)"};
    dockerd_ = FindProgram("dockerd");
    if (dockerd_.empty())
      return Error{ENOENT, "launcher " + config_.name + ": dockerd not found (docker.io)"};
    if (FindProgram("containerd").empty() || FindProgram("containerd-shim-runc-v2").empty())
      return Error{ENOENT, "launcher " + config_.name + ": containerd not found (containerd)"};
    for (const auto& spec : BuiltinOciRuntimes())
      if (spec.name == parsed_.runtime) runtime_binary_ = FindProgram(spec.binary);
    if (runtime_binary_.empty())
      return Error{ENOENT,
                   "launcher " + config_.name + ": runtime " + parsed_.runtime + " not found"};
    runtime_version_ = ProgramVersion(runtime_binary_);
    return Ok();
  }

  Result<void> Prepare(const image::Image& image) override {
    if (runtime_binary_.empty()) CVB_TRY(Check());
    image_ = image;
    // The daemons, with this runtime registered (runc is dockerd's built-in default).
    std::vector<std::string> start{"dockerd-start", "--name", engine_.name};
    if (engine_.name != "cvbench") {
      // Another instance (a test's) gets a bridge and /24 of its own, the same on every call
      // (a different one would restart the daemon).
      auto [bridge, subnet] = EngineBridgeFor(engine_.name);
      start.insert(start.end(), {"--bridge", bridge, "--subnet", subnet});
    }
    if (parsed_.runtime != "runc")
      start.insert(start.end(), {"--runtime", parsed_.runtime + "=" + runtime_binary_});
    auto started = RunEngineScript(start, std::chrono::seconds(180));
    if (!started) return started.error().wrap("launcher " + config_.name);
    CVB_TRY(wait_->Ready());
    prepared_ = true;  // from here on the destructor removes what this launcher made
    CVB_TRY(ReadDaemonConditions());
    // The image's rootfs as an image (no registry), same files every runtime gets.
    std::string dir = config_.work_dir + "/docker-" + parsed_.runtime;
    CVB_TRY(MakeDirs(dir, 0700));
    std::string tar = dir + "/image.tar";
    std::string tag = image.hash.substr(0, std::min<size_t>(12, image.hash.size()));
    if (tag.empty()) tag = "latest";
    std::string ref = "localhost/cvb-bench-" + parsed_.runtime + "-" + owner_ + ":" + tag;
    auto packed =
        RunEngineScript({"oci-archive", image.rootfs, ref, tar}, std::chrono::seconds(120));
    if (!packed) {
      (void)RemoveTree(dir);
      return packed.error().wrap("launcher " + config_.name);
    }
    image_ref_ = ref;
    auto loaded = Docker({"load", "-i", tar});
    (void)RemoveTree(dir);
    if (!loaded) return loaded.error().wrap("launcher " + config_.name);
    if (!loaded->status.ok())
      return Failure("launcher " + config_.name + ": docker load: " + Trim(loaded->err));
    return Ok();
  }

  // --cpuset-cpus (ctr run has no cpuset flag: the containerd launchers do not pin).
  bool PinsCpus() const override { return true; }
  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) override {
    if (!prepared_) return Failure(config_.name + ": Start before Prepare");
    static std::atomic<int> counter{1};
    std::string name = ContainerPrefix() + std::to_string(counter++);
    auto inst = std::make_unique<DockerInstance>(DockerArgs(), engine_, name);
    inst->timeline().Mark("launch");
    // A daemon that went away: wait for it a bounded time (engine_daemons.h), then fail.
    if (auto ready = wait_->Ready(); !ready) return ready.error().wrap(config_.name);
    std::vector<std::string> run = {
        "run", "-d", "--name", name, "--runtime", parsed_.runtime,
        // As the bundle every runtime gets: the memory limit, a read-only root, the hostname.
        "--memory", std::to_string(request.memory_bytes ? request.memory_bytes : (1ull << 30)),
        "--read-only", "--hostname", "cvb"};
    if (!request.cpus.empty()) run.insert(run.end(), {"--cpuset-cpus", request.cpus});
    InstanceResources resources;
    std::string address;
    if (request.needs_network) {
      if (parsed_.net == "host") {
        run.insert(run.end(), {"--network", "host"});
        address = "127.0.0.1";
      } else {
        // Docker's default: the bridge, the workload's port published (NAT) on the bridge's
        // address, which is where the host connects.
        int port = WorkloadPort(request);
        run.insert(run.end(), {"--network", "bridge"});
        if (port > 0) {
          address = bridge_gateway_.empty() ? "127.0.0.1" : bridge_gateway_;
          run.insert(run.end(),
                     {"-p", address + ":" + std::to_string(port) + ":" + std::to_string(port)});
        }
      }
    } else {
      run.insert(run.end(), {"--network", "none"});
    }
    if (request.needs_disk) {
      auto disk = ScratchDir::Create(ScratchRoot(config_.params), name);
      if (!disk) return disk.error().wrap(config_.name);
      resources.disk = std::move(*disk);
      run.insert(run.end(), {"-v", resources.disk.path() + ":/data:rw"});
    }
    run.push_back(image_ref_);
    run.push_back(image_.workload_in_rootfs);
    run.push_back(request.mode);
    run.insert(run.end(), request.args.begin(), request.args.end());
    (void)artefacts_.Record("docker-run.txt", JoinArgv(DockerArgs()) + " " + JoinArgv(run) + "\n",
                            {name}, RequestSummary(request));
    inst->Adopt(std::move(resources), address);
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
        {"version", docker_version_},
        {"containerd", containerd_version_},
        {"runtime", parsed_.runtime + " (" + runtime_version_ + ", " + runtime_binary_ + ")"},
        {"storage_driver", storage_driver_},
        {"cgroup_driver", cgroup_driver_},
        {"network", parsed_.net == "host" ? "--network host (the host's stack)"
                                          : "--network none; net mode: Docker's bridge " +
                                                bridge_gateway_ + " with the port published (NAT)"},
        {"daemons", "dockerd and containerd of instance '" + engine_.name + "' (" +
                        engine_.docker_socket() + ")"},
        {"daemons_rss_kib", daemons_rss_kib_},
        {"host_condition", engine_.HostCondition()},
        {"condition",
         "docker run -d --runtime " + parsed_.runtime +
             " with Docker's defaults (seccomp profile, capabilities, masked paths, json-file "
             "log: READY read from the log file), --read-only, --hostname cvb, the bundle's "
             "memory limit; host processes counted per container: its own and its "
             "containerd-shim-runc-v2; dockerd and containerd once, as daemons_rss_kib"},
    };
  }

 private:
  std::string ContainerPrefix() const {
    // The owner pid in the name: the leftover reaper's convention.
    return "cvb-docker-" + parsed_.runtime + "-" + owner_ + "-";
  }

  std::vector<std::string> DockerArgs() const {
    return {kDockerClient, "-H", engine_.docker_host()};
  }

  Result<RunOutput> Docker(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = DockerArgs();
    argv.insert(argv.end(), args.begin(), args.end());
    return Run(argv, kDockerTimeout);
  }

  // Versions, drivers, the bridge and the daemons' memory, once per sweep.
  Result<void> ReadDaemonConditions() {
    auto info =
        Docker({"info", "--format",
                "{{.ServerVersion}}|{{.Driver}}|{{.CgroupDriver}}|{{.ContainerdCommit.ID}}"});
    if (!info || !info->status.ok())
      return Failure("launcher " + config_.name +
                     ": docker info failed: " + (info ? Trim(info->err) : info.error().message()));
    auto f = Split(Trim(info->out), '|');
    if (f.size() == 4) {
      docker_version_ = "dockerd " + f[0];
      storage_driver_ = f[1];
      cgroup_driver_ = f[2];
    }
    containerd_version_ = ProgramVersion(FindProgram("containerd"));
    auto bridge = Docker(
        {"network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Gateway}}{{end}}"});
    if (bridge && bridge->status.ok()) bridge_gateway_ = Trim(bridge->out);
    std::vector<pid_t> daemons;
    for (auto [file, comm] : {std::pair{engine_.docker_pidfile(), "dockerd"},
                              std::pair{engine_.containerd_pidfile(), "containerd"}})
      if (pid_t p = LivePidFromFile(file, comm); p > 0) daemons.push_back(p);
    MemoryUsage m = ReadProcessesMemory(daemons);
    daemons_rss_kib_ = std::to_string(m.rss / 1024) + " (dockerd + containerd, " +
                       std::to_string(m.processes) + " processes, at Prepare)";
    return Ok();
  }

  LauncherConfig config_;
  DockerLauncherName parsed_;
  EngineInstance engine_;
  std::string owner_;
  std::unique_ptr<DaemonWait> wait_;
  std::string dockerd_, runtime_binary_, runtime_version_;
  std::string docker_version_ = "unknown", containerd_version_ = "unknown";
  std::string storage_driver_ = "unknown", cgroup_driver_ = "unknown";
  std::string bridge_gateway_, daemons_rss_kib_ = "unknown";
  image::Image image_;
  std::string image_ref_;
  bool prepared_ = false;
  ArtefactRecorder artefacts_;
};

}  // namespace

Result<DockerLauncherName> ParseDockerLauncherName(const std::string& name) {
  std::string prefix = kDockerPrefix;
  if (name.rfind(prefix, 0) != 0) return Failure("not a docker launcher: '" + name + "'");
  auto parts = Split(name.substr(prefix.size()), '/');
  DockerLauncherName parsed;
  parsed.runtime = parts[0];
  if (parsed.runtime != "runc" && parsed.runtime != "crun" && parsed.runtime != "cvrun")
    return Failure("docker launcher '" + name + "': runtime '" + parsed.runtime +
                   "' (known: runc, crun, cvrun)");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i] == "net:host" || parts[i] == "net:bridge")
      parsed.net = parts[i].substr(4);
    else
      return Failure("docker launcher '" + name + "': unknown dimension '" + parts[i] +
                     "' (known: net:host, net:bridge)");
  }
  return parsed;
}

std::vector<std::string> DockerLauncherNames() {
  std::vector<std::string> names;
  for (const char* rt : {"runc", "crun", "cvrun"}) {
    names.push_back(std::string(kDockerPrefix) + rt);
    names.push_back(std::string(kDockerPrefix) + rt + "/net:host");
  }
  return names;
}

Result<std::unique_ptr<Launcher>> MakeDockerLauncher(const LauncherConfig& config) {
  CVB_ASSIGN_OR_RETURN(DockerLauncherName parsed, ParseDockerLauncherName(config.name));
  return std::unique_ptr<Launcher>(std::make_unique<DockerLauncher>(config, std::move(parsed)));
}

}  // namespace cvb::launcher
