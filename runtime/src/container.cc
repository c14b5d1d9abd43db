#include "cvb/runtime/container.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "cgroup/freezer.h"
#include "cgroup/manager.h"
#include "cgroup_mount.h"
#include "child.h"
#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/unique_fd.h"
#include "cvb/runtime/spec.h"
#include "hooks.h"
#include "mounts.h"
#include "namespaces.h"
#include "process_env.h"
#include "security.h"
#include "sys/sys.h"

namespace cvb::runtime {
namespace {

int64_t Us(int64_t from_ns, int64_t to_ns) { return (to_ns - from_ns) / 1000; }

std::string AbsolutePath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) return buf;
  return path;
}

// Everything the child's plan points into; lives in the parent until the child has exec'd or
// died (the child has its own copy-on-write image of it).
struct PlanStorage {
  std::vector<PlannedMount> mounts;
  std::vector<ChildMount> child_mounts;
  std::vector<PlannedDevice> devices;
  std::vector<ChildDevice> child_devices;
  std::vector<const char*> masked, readonly, sysctl_paths, sysctl_values;
  std::vector<std::string> sysctl_path_strings;
  std::vector<int> rlimit_resources;
  std::vector<struct rlimit> rlimit_values;
  std::vector<gid_t> groups;
  std::vector<std::string> exec_candidates;
  std::vector<const char*> exec_candidate_ptrs;
  std::vector<std::string> args, env;
  std::vector<char*> argv, envp;
  std::string home_env;  // the HOME slot the init fills (process_env.h), "" when HOME is set
  std::string oom_score_adj;
  SeccompProgram seccomp;
  std::vector<UniqueFd> join_fds;
  std::vector<std::vector<std::string>> hook_strings;  // per startContainer hook: args, env
  std::vector<std::vector<char*>> hook_ptrs;
  std::vector<ChildHook> start_hooks;
  std::vector<ChildHook> create_hooks;
};

std::vector<std::string> ExecCandidates(const Spec& spec) {
  const std::string& arg0 = spec.process.args[0];
  if (arg0.find('/') != std::string::npos) return {arg0};
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : spec.process.env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  std::vector<std::string> out;
  for (const auto& dir : Split(path, ':'))
    if (dir[0] == '/') out.push_back(dir + "/" + arg0);
  return out;
}

unsigned long PropagationFlags(const std::string& name) {
  return ParseMountOptions({name}).propagation;
}

std::string ChildErrorMessage(const ChildReport& r, const Spec& spec, const PlanStorage& plan) {
  std::string what = ChildStepName(r.step);
  if (r.index >= 0) {
    switch (r.step) {
      case kStepMountTarget:
      case kStepMount:
      case kStepMountAttr:
      case kStepMountPropagation:
        if (r.index < static_cast<int>(plan.mounts.size()))
          what += " mounts[" + std::to_string(plan.mounts[r.index].spec_index) + "] " +
                  plan.mounts[r.index].source + " on " + plan.mounts[r.index].destination;
        break;
      case kStepMaskedPath:
        what += " linux.maskedPaths[" + std::to_string(r.index) + "] " + plan.masked[r.index];
        break;
      case kStepReadonlyPath:
        what += " linux.readonlyPaths[" + std::to_string(r.index) + "] " + plan.readonly[r.index];
        break;
      case kStepSysctl:
        what += " " + plan.sysctl_path_strings[r.index];
        break;
      case kStepRlimit:
        what += " process.rlimits[" + std::to_string(r.index) + "] " +
                spec.process.rlimits[r.index].type;
        break;
      case kStepSetns:
        what += " linux.namespaces path";
        break;
      case kStepDevices:
        if (r.index < static_cast<int>(plan.devices.size()))
          what += " /dev/" + plan.devices[r.index].name;
        break;
      default:
        break;
    }
  }
  if (r.step == kStepCreateContainerHook &&
      r.index < static_cast<int>(spec.hooks.create_container.size())) {
    const Hook& h = spec.hooks.create_container[r.index];
    std::string where = "hooks.createContainer[" + std::to_string(r.index) + "]: " + h.path;
    if (r.err) return where + ": " + strerror(r.err);
    if (r.detail == kHookTimedOut)
      return where + " timed out after " + std::to_string(h.timeout_s.value_or(0)) + " s";
    if (r.detail >= 0) return where + " exited with " + std::to_string(r.detail);
    return where + " killed by signal " + std::to_string(-r.detail);
  }
  if (r.step == kStepCwd) what += " " + spec.process.cwd;
  if (r.step == kStepExecLookup)
    return "exec: \"" + spec.process.args[0] + "\": " +
           (r.err == EACCES ? "permission denied" : "executable file not found in the container");
  return "container init: " + what + ": " + strerror(r.err);
}

// Undoes a create that did not finish: kills the init, removes cgroups and the state entry.
class CreateTransaction {
 public:
  CreateTransaction(StateStore& store, std::string id) : store_(store), id_(std::move(id)) {}
  ~CreateTransaction() {
    if (committed_) return;
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (!cgroup_created_.empty()) {
      cgroup::KillAll(sys::RealSys(), cgroup_leaves_, SIGKILL);
      (void)cgroup::Remove(sys::RealSys(), cgroup_created_);
    }
    if (!pid_file_.empty()) ::unlink(pid_file_.c_str());
    (void)store_.Remove(id_);
  }
  void SetPid(pid_t pid) { pid_ = pid; }
  void SetCgroups(const std::vector<std::string>& leaves, const std::vector<std::string>& created) {
    cgroup_leaves_ = leaves;
    cgroup_created_ = created;
  }
  void SetPidFile(const std::string& path) { pid_file_ = path; }
  void Commit() { committed_ = true; }

 private:
  StateStore& store_;
  std::string id_;
  pid_t pid_ = -1;
  std::vector<std::string> cgroup_leaves_, cgroup_created_;
  std::string pid_file_;
  bool committed_ = false;
};

pid_t Clone3(uint64_t flags, int cgroup_fd, int* pidfd) {
  clone_args args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
  }
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
}

Result<void> WriteIdMap(pid_t pid, const char* file, const std::vector<IdMapping>& maps) {
  std::string text;
  for (const auto& m : maps)
    text += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
            std::to_string(m.size) + "\n";
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  return sys::RealSys().WriteFile(path, text);
}

bool WaitForExit(pid_t pid, uint64_t start_time, int timeout_ms) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return errno == ESRCH;
  UniqueFd owner(pidfd);
  // The pid may have been reused between our check and pidfd_open.
  if (ProcessStartTime(pid) != start_time) return true;
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

}  // namespace

Result<Spec> CreatedSpec(const StateStore& store, const State& state) {
  CVB_ASSIGN_OR_RETURN(std::string text, store.LoadConfig(state.id));
  return ParseBundleSpec(text, store.ConfigPath(state.id), state.bundle);
}

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)), store_(options_.root) {
  if (options_.start_ns == 0) options_.start_ns = MonotonicNs();
}

Result<pid_t> Runtime::CreateContainer(const CreateOptions& opts, bool run_mode, bool detach) {
  const int64_t t_start = options_.start_ns;
  timings_ = PhaseTimings{run_mode ? "run" : "create", opts.id, 0, {}};
  CVB_TRY(ValidateId(opts.id));
  std::string bundle = AbsolutePath(opts.bundle);
  std::string config_text;
  CVB_ASSIGN_OR_RETURN(Spec spec, LoadSpec(bundle, &config_text));
  if (spec.process.terminal && opts.console_socket.empty())
    return Failure("process.terminal is true: needs --console-socket");
  const int64_t t_spec = MonotonicNs();

  CVB_TRY(store_.Reserve(opts.id));
  CreateTransaction tx(store_, opts.id);

  // --- plan (parent side: all allocation happens here) ---
  PlanStorage ps;
  CVB_ASSIGN_OR_RETURN(NamespacePlan ns, PlanNamespaces(spec));
  CVB_ASSIGN_OR_RETURN(cgroup::Host host, cgroup::DetectHost(sys::RealSys()));
  CVB_ASSIGN_OR_RETURN(ps.mounts, PlanMounts(spec));
  bool dev_tmpfs = false;
  for (const auto& m : ps.mounts) dev_tmpfs |= m.dev_tmpfs;
  if (dev_tmpfs) {
    ps.devices = PlanDevices(spec);
    for (const auto& d : ps.devices)
      ps.child_devices.push_back(
          {d.dir_rel.c_str(), d.base.c_str(), d.mode, d.dev, d.uid, d.gid, d.host_path.c_str()});
  } else if (!spec.linux.devices.empty()) {
    // Nodes would land in the rootfs itself (the bundle's directory on disk): refused.
    return Failure(
        "linux.devices: needs a tmpfs mounted on /dev (cvrun makes device nodes only "
        "there, not in the rootfs)");
  }
  for (const auto& p : spec.linux.masked_paths) ps.masked.push_back(p.c_str());
  for (const auto& p : spec.linux.readonly_paths) ps.readonly.push_back(p.c_str());
  for (const auto& [key, value] : spec.linux.sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); ++i)
      if (path[i] == '.') path[i] = '/';
    ps.sysctl_path_strings.push_back(path);
  }
  {
    size_t i = 0;
    for (const auto& [key, value] : spec.linux.sysctl) {
      ps.sysctl_paths.push_back(ps.sysctl_path_strings[i++].c_str());
      ps.sysctl_values.push_back(value.c_str());
    }
  }
  for (const auto& r : spec.process.rlimits) {
    ps.rlimit_resources.push_back(r.resource);
    ps.rlimit_values.push_back({r.soft, r.hard});
  }
  for (gid_t g : spec.process.user.additional_gids) ps.groups.push_back(g);
  ps.exec_candidates = ExecCandidates(spec);
  for (const auto& c : ps.exec_candidates) ps.exec_candidate_ptrs.push_back(c.c_str());
  ps.args = spec.process.args;
  ps.env = spec.process.env;
  // Socket activation for us (systemd's LISTEN_FDS/LISTEN_PID): fds 3.. go to the init, as runc.
  const int listen_fds = ListenFdsFor(getpid(), getenv("LISTEN_FDS"), getenv("LISTEN_PID"));
  if (listen_fds > 0) ps.env = WithListenFds(std::move(ps.env), listen_fds);
  if (NeedsHome(ps.env)) {
    ps.env = WithoutHome(std::move(ps.env));
    ps.home_env.assign(kHomeValueMax + 6, '\0');
  }
  for (auto& a : ps.args) ps.argv.push_back(a.data());
  ps.argv.push_back(nullptr);
  for (auto& e : ps.env) ps.envp.push_back(e.data());
  if (!ps.home_env.empty()) ps.envp.push_back(ps.home_env.data());
  ps.envp.push_back(nullptr);
  if (spec.process.oom_score_adj) ps.oom_score_adj = std::to_string(*spec.process.oom_score_adj);
  CVB_ASSIGN_OR_RETURN(CapabilityMasks caps, ComputeCapabilities(spec.process.capabilities));
  const sock_fprog* seccomp = nullptr;
  if (spec.linux.seccomp) {
    CVB_ASSIGN_OR_RETURN(ps.seccomp, CompileSeccomp(*spec.linux.seccomp));
    seccomp = ps.seccomp.program();
  }
  for (const auto& join : ns.joins) {
    UniqueFd fd(::open(join.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return ErrnoError("linux.namespaces: open " + join.path);
    ps.join_fds.push_back(std::move(fd));
  }
  const int64_t t_plan = MonotonicNs();

  // --- cgroups ---
  std::string cgroups_path = spec.linux.cgroups_path.empty()
                                 ? cgroup::DefaultCgroupsPath(opts.id)
                                 : spec.linux.cgroups_path;
  State state;
  state.id = opts.id;
  state.creator_pid = getpid();
  state.bundle = bundle;
  state.rootfs = spec.root.path;
  state.created = Rfc3339Now();
  state.cgroup_mode = cgroup::ModeName(host.mode);
  state.cgroups_path = cgroups_path;
  state.annotations = spec.annotations;
  state.has_poststart = !spec.hooks.poststart.empty();
  state.has_poststop = !spec.hooks.poststop.empty();
  // The config exec and the hooks will use: the text parsed above, not the bundle's file later.
  CVB_TRY(store_.SaveConfig(opts.id, config_text));
  // Saved before the cgroups exist: a cvrun killed from here on leaves a state entry from which
  // `delete --force` finds them.
  CVB_TRY(store_.Save(state));
  CVB_ASSIGN_OR_RETURN(auto manager, cgroup::MakeManager(sys::RealSys(), host, cgroups_path));
  Resources resources = spec.linux.resources;
  resources.devices = cgroup::DeviceRules(resources.devices, spec.linux.devices);
  auto created = manager->Create(resources);
  tx.SetCgroups(manager->leaves(), manager->created());
  if (!created.ok()) return created.error();
  state.cgroup_leaves = manager->leaves();
  state.cgroup_created = manager->created();
  // A cgroup mount shows the container's own directories, which exist from here on.
  ExpandCgroupMounts(ps.mounts, host, manager->leaves(), ns.new_cgroup);
  ps.child_mounts = ToChildMounts(ps.mounts);
  const int64_t t_cgroup = MonotonicNs();

  // --- sync socket, exec fifo ---
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return ErrnoError("socketpair");
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);
  UniqueFd fifo;
  if (!run_mode) {
    std::string fifo_path = store_.FifoPath(opts.id);
    if (mkfifo(fifo_path.c_str(), 0600) != 0) return ErrnoError("mkfifo " + fifo_path);
    // Read-write: the init blocks in read() until `start` writes, never sees EOF.
    fifo.reset(::open(fifo_path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fifo) return ErrnoError("open " + fifo_path);
  }

  ChildPlan plan;
  plan.sync_fd = child_sock.get();
  plan.parent_sync_fd = parent_sock.get();
  plan.fifo_fd = fifo.get();
  plan.parent_pid = getpid();
  plan.wait_go = ns.new_user || ns.new_cgroup;
  plan.new_user_ns = ns.new_user;
  plan.unshare_cgroupns = ns.new_cgroup;
  plan.n_join = static_cast<int>(ns.joins.size());
  for (int i = 0; i < plan.n_join; ++i) {
    plan.join_fds[i] = ps.join_fds[i].get();
    plan.join_types[i] = ns.joins[i].type;
  }
  plan.hostname = spec.hostname.empty() ? nullptr : spec.hostname.c_str();
  plan.domainname = spec.domainname.empty() ? nullptr : spec.domainname.c_str();
  plan.rootfs = spec.root.path.c_str();
  plan.root_propagation = MS_SLAVE | MS_REC;
  if (spec.linux.rootfs_propagation.find("private") != std::string::npos)
    plan.root_propagation = MS_PRIVATE | MS_REC;
  plan.rootfs_propagation = spec.linux.rootfs_propagation.empty()
                                ? 0
                                : PropagationFlags(spec.linux.rootfs_propagation);
  plan.mounts = ps.child_mounts.data();
  plan.n_mounts = static_cast<int>(ps.child_mounts.size());
  plan.devices = ps.child_devices.data();
  plan.n_devices = static_cast<int>(ps.child_devices.size());
  plan.readonly_root = spec.root.readonly;
  plan.masked = ps.masked.data();
  plan.n_masked = static_cast<int>(ps.masked.size());
  plan.readonly_paths = ps.readonly.data();
  plan.n_readonly = static_cast<int>(ps.readonly.size());
  plan.sysctl_paths = ps.sysctl_paths.data();
  plan.sysctl_values = ps.sysctl_values.data();
  plan.n_sysctl = static_cast<int>(ps.sysctl_paths.size());
  plan.cwd = spec.process.cwd.c_str();
  plan.rlimit_resources = ps.rlimit_resources.data();
  plan.rlimit_values = ps.rlimit_values.data();
  plan.n_rlimits = static_cast<int>(ps.rlimit_values.size());
  plan.oom_score_adj = ps.oom_score_adj.empty() ? nullptr : ps.oom_score_adj.c_str();
  plan.umask = static_cast<int>(spec.process.user.umask.value_or(022));
  plan.uid = spec.process.user.uid;
  plan.gid = spec.process.user.gid;
  plan.groups = ps.groups.data();
  plan.n_groups = static_cast<int>(ps.groups.size());
  plan.set_caps = true;
  plan.last_cap = caps.last_cap;
  plan.cap_bounding = caps.bounding;
  plan.cap_effective = caps.effective;
  plan.cap_permitted = caps.permitted;
  plan.cap_inheritable = caps.inheritable;
  plan.cap_ambient = caps.ambient;
  plan.no_new_privileges = spec.process.no_new_privileges;
  plan.seccomp = seccomp;
  for (const auto& flag :
       spec.linux.seccomp ? spec.linux.seccomp->flags : std::vector<std::string>{})
    plan.seccomp_flags |= SeccompFlagValue(flag);
  plan.loopback_up = (ns.clone_flags & CLONE_NEWNET) != 0;
  // createContainer and startContainer hooks run in the init; their argv/envp are planned here
  // like the process's (every string sized before any pointer into it is taken).
  const auto& start_hooks = spec.hooks.start_container;
  const auto& create_hooks = spec.hooks.create_container;
  ps.hook_strings.resize((start_hooks.size() + create_hooks.size()) * 2);
  ps.hook_ptrs.resize(ps.hook_strings.size());
  size_t hook_slot = 0;
  // A hook without "env" gets the container process's environment, as runc's hooks that run in
  // its init do: startContainer the process's own array (HOME included, once the init has set
  // it), createContainer (before that) the config's env.
  auto plan_hook = [&](const Hook& h, bool start) {
    auto& args = ps.hook_strings[hook_slot];
    auto& env = ps.hook_strings[hook_slot + 1];
    auto& argv = ps.hook_ptrs[hook_slot];
    auto& envp = ps.hook_ptrs[hook_slot + 1];
    hook_slot += 2;
    args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
    env = h.env_set ? h.env : spec.process.env;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    char* const* hook_envp = !h.env_set && start ? ps.envp.data() : envp.data();
    return ChildHook{h.path.c_str(), argv.data(), hook_envp, h.timeout_s.value_or(0)};
  };
  for (const Hook& h : start_hooks) ps.start_hooks.push_back(plan_hook(h, true));
  for (const Hook& h : create_hooks) ps.create_hooks.push_back(plan_hook(h, false));
  plan.create_hooks = ps.create_hooks.data();
  plan.n_create_hooks = static_cast<int>(ps.create_hooks.size());
  plan.hooks_sync = !spec.hooks.prestart.empty() || !spec.hooks.create_runtime.empty() ||
                    !create_hooks.empty();
  plan.start_hooks = ps.start_hooks.data();
  plan.n_start_hooks = static_cast<int>(ps.start_hooks.size());
  plan.preserve_fds = listen_fds + opts.preserve_fds;
  plan.exec_candidates = ps.exec_candidate_ptrs.data();
  plan.n_exec_candidates = static_cast<int>(ps.exec_candidate_ptrs.size());
  plan.exec_by_path = spec.process.args[0].find('/') != std::string::npos;
  plan.argv = ps.argv.data();
  plan.envp = ps.envp.data();
  plan.home_env = ps.home_env.empty() ? nullptr : ps.home_env.data();
  plan.home_env_size = ps.home_env.size();

  UniqueFd console;
  if (spec.process.terminal) {
    console.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (opts.console_socket.size() >= sizeof addr.sun_path)
      return Failure("--console-socket: path too long");
    memcpy(addr.sun_path, opts.console_socket.c_str(), opts.console_socket.size() + 1);
    if (!console || ::connect(console.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return ErrnoError("--console-socket: connect " + opts.console_socket);
    plan.console_socket_fd = console.get();
  }

  if (!ns.pid_path.empty()) {
    UniqueFd pidns(::open(ns.pid_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!pidns || setns(pidns.get(), CLONE_NEWPID) != 0)
      return ErrnoError("linux.namespaces: join pid namespace " + ns.pid_path);
  }

  // --- clone ---
  const int64_t t_clone0 = MonotonicNs();
  int pidfd_raw = -1;
  bool joined_by_clone = manager->CloneIntoFd() >= 0;
  pid_t pid = Clone3(ns.clone_flags, manager->CloneIntoFd(), &pidfd_raw);
  if (pid < 0 && joined_by_clone) {
    // The kernel refused CLONE_INTO_CGROUP (old kernel, or a threaded cgroup): join later.
    joined_by_clone = false;
    pid = Clone3(ns.clone_flags, -1, &pidfd_raw);
  }
  if (pid == 0) ChildMain(plan);
  if (pid < 0) return ErrnoError("clone3");
  const int64_t t_clone1 = MonotonicNs();
  UniqueFd pidfd(pidfd_raw);
  tx.SetPid(pid);
  child_sock.reset();

  // --- parent's part: id maps, cgroup placement, go ---
  if (ns.new_user) {
    CVB_TRY(WriteIdMap(pid, "uid_map", spec.linux.uid_mappings));
    CVB_TRY(WriteIdMap(pid, "gid_map", spec.linux.gid_mappings));
  }
  if (joined_by_clone) {
    // Only the directories the clone did not cover (v1 controllers on hybrid hosts).
    CVB_TRY(manager->AddProcess(pid));
  } else {
    for (const auto& leaf : manager->leaves())
      CVB_TRY(sys::RealSys().WriteFile(leaf + "/cgroup.procs", std::to_string(pid)));
  }
  const int64_t t_join = MonotonicNs();
  if (plan.wait_go && ::write(parent_sock.get(), "g", 1) != 1) return ErrnoError("sync: go");

  ChildReport report{};
  auto read_report = [&] {
    ssize_t got;
    while ((got = ::read(parent_sock.get(), &report, sizeof report)) < 0 && errno == EINTR) {
    }
    return got;
  };
  ssize_t n = read_report();
  if (n == sizeof report && report.ok == kReportHooks) {
    // The init's mounts are done, pivot_root is not: prestart and createRuntime hooks run here
    // (the runtime's namespaces), then the init runs createContainer hooks in the container's.
    // The state is saved with the init's pid first, for hooks that ask `cvrun state`.
    state.pid = pid;
    state.pid_start_time = ProcessStartTime(pid);
    CVB_TRY(store_.Save(state));
    std::string state_json = state.OciJson(Status::kCreated);
    CVB_TRY(RunHooks(spec.hooks.prestart, "prestart", state_json));
    CVB_TRY(RunHooks(spec.hooks.create_runtime, "createRuntime", state_json));
    std::string go_hooks = "h" + state_json;
    if (go_hooks.size() > 256 * 1024) return Failure("hooks: state JSON too large");
    if (::write(parent_sock.get(), go_hooks.data(), go_hooks.size()) !=
        static_cast<ssize_t>(go_hooks.size()))
      return ErrnoError("sync: hooks");
    n = read_report();
  }
  const int64_t t_ready = MonotonicNs();
  if (n != sizeof report) {
    int status = 0;
    waitpid(pid, &status, 0);
    tx.SetPid(-1);
    return Failure("container init died before it was ready (" +
                   std::string(WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                                   : "exit " + std::to_string(WEXITSTATUS(status))) +
                   ")");
  }
  if (!report.ok) return Failure(ChildErrorMessage(report, spec, ps));

  // --- state, pid file, hooks, commit ---
  state.pid = pid;
  state.pid_start_time = ProcessStartTime(pid);
  state.creator_pid = 0;
  state.started = run_mode;  // run execs right after the commit
  CVB_TRY(store_.Save(state));
  if (!opts.pid_file.empty()) {
    std::string pid_file = AbsolutePath(opts.pid_file.substr(0, opts.pid_file.rfind('/') + 1)) +
                           "/" + opts.pid_file.substr(opts.pid_file.rfind('/') + 1);
    if (opts.pid_file.find('/') == std::string::npos) pid_file = opts.pid_file;
    tx.SetPidFile(pid_file);
    CVB_TRY(WriteFileAtomic(pid_file, std::to_string(pid), 0644));
  }
  const int64_t t_state = MonotonicNs();
  // The commit; with startContainer hooks it carries the state they get on stdin.
  std::string commit = "c";
  if (!spec.hooks.start_container.empty()) commit += state.OciJson(Status::kCreated);
  if (commit.size() > 256 * 1024) return Failure("hooks.startContainer: state JSON too large");
  if (::write(parent_sock.get(), commit.data(), commit.size()) !=
      static_cast<ssize_t>(commit.size()))
    return ErrnoError("sync: commit");
  // The init clears its parent-death signal, then closes its end: wait for that EOF, or our
  // exit would kill it. A foreground `run` stays the init's parent and need not wait.
  if (!run_mode || detach) {
    char ack;
    while (::read(parent_sock.get(), &ack, 1) < 0 && errno == EINTR) {
    }
  }
  tx.Commit();
  const int64_t t_commit = MonotonicNs();
  if (run_mode && !spec.hooks.poststart.empty()) {
    poststart_ = spec.hooks.poststart;
    poststart_state_ = state.OciJson(Status::kRunning);
  }

  const int64_t* st = report.stamps;
  timings_.pid = pid;
  timings_.us = {{"spec", Us(t_start, t_spec)},
                 {"plan", Us(t_spec, t_plan)},
                 {"cgroup", Us(t_plan, t_cgroup)},
                 {"clone", Us(t_clone0, t_clone1)},
                 {"namespaces", Us(st[kStampStart], st[kStampNamespaces])},
                 {"mounts", Us(st[kStampNamespaces], st[kStampMounts])},
                 {"pivot_root", Us(st[kStampHooks], st[kStampPivot])},
                 {"finalize", Us(st[kStampPivot], st[kStampReady])},
                 {"cgroup_join", Us(t_clone1, t_join)},
                 {"ready_wait", Us(t_clone1, t_ready)},
                 {"state", Us(t_ready, t_state)},
                 {"hooks", Us(st[kStampMounts], st[kStampHooks])},
                 {"total", Us(t_start, t_commit)}};
  return pid;
}

Result<pid_t> Runtime::Create(const CreateOptions& options) {
  auto pid = CreateContainer(options, /*run_mode=*/false, /*detach=*/true);
  if (pid.ok()) Log::Get().Phases(timings_);
  return pid;
}

Result<void> Runtime::Start(const std::string& id) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  Status status = store_.StatusOf(state);
  if (status != Status::kCreated)
    return Failure("container " + id + " is " + StatusName(status) + ", not created");
  std::string fifo_path = store_.FifoPath(id);
  UniqueFd fifo(::open(fifo_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    if (errno == ENXIO) return Failure("container " + id + ": its init is gone");
    return ErrnoError("start: open " + fifo_path);
  }
  if (::write(fifo.get(), "s", 1) != 1) return ErrnoError("start: write " + fifo_path);
  fifo.reset();
  state.started = true;
  CVB_TRY(store_.Save(state));
  ::unlink(fifo_path.c_str());
  if (state.has_poststart) {
    auto spec = CreatedSpec(store_, state);
    if (spec.ok()) {
      // A failing poststart hook is a warning; the remaining hooks still run.
      for (const auto& failure :
           RunHooksWarn(spec->hooks.poststart, "poststart", state.OciJson(Status::kRunning)))
        Log::Get().Warn(failure.message());
    }
  }
  return Ok();
}

namespace {
pid_t g_forward_pid = 0;
void ForwardSignal(int sig) {
  if (g_forward_pid > 0) ::kill(g_forward_pid, sig);
}
}  // namespace

Result<int> Runtime::Run(const CreateOptions& options, bool detach) {
  // Signals sent to cvrun while it waits go to the container.
  CVB_ASSIGN_OR_RETURN(pid_t pid, CreateContainer(options, /*run_mode=*/true, detach));
  // `run` is create + start: poststart hooks run here (warnings only, as after `start`).
  for (const auto& failure : RunHooksWarn(poststart_, "poststart", poststart_state_))
    Log::Get().Warn(failure.message());
  if (detach) {
    Log::Get().Phases(timings_);
    return 0;
  }
  g_forward_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = ForwardSignal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);
  const int64_t t_wait0 = MonotonicNs();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid");
  }
  g_forward_pid = 0;
  const int64_t t_wait1 = MonotonicNs();
  CVB_TRY(Delete(options.id, /*force=*/true));
  const int64_t t_done = MonotonicNs();
  timings_.us.push_back({"wait", Us(t_wait0, t_wait1)});
  timings_.us.push_back({"cleanup", Us(t_wait1, t_done)});
  timings_.us.push_back({"run_total", Us(options_.start_ns, t_done)});
  Log::Get().Phases(timings_);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

Result<std::string> Runtime::StateJson(const std::string& id) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  return state.OciJson(store_.StatusOf(state));
}

Result<void> Runtime::Kill(const std::string& id, int sig, bool all) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  Status status = store_.StatusOf(state);
  // runtime-spec "kill": a container that is neither created nor running MUST NOT be signalled.
  // A paused container is running with a frozen cgroup: it can be signalled too.
  if (status != Status::kCreated && status != Status::kRunning && status != Status::kPaused)
    // "container not running": the words containerd's shim maps to "already gone" (runc's), so
    // that `ctr task delete -f` / `docker rm -f` of an exited task succeeds.
    return Failure("container " + id + " is " + StatusName(status) +
                   ": only a created or running container can be signalled (container not "
                   "running)");
  if (all) {
    cgroup::KillAll(sys::RealSys(), state.cgroup_leaves, sig);
  } else if (::kill(state.pid, sig) != 0) {
    return ErrnoError("kill container " + id);
  }
  // Frozen tasks do not die until they run; other signals wait, queued, for `resume`.
  if (status == Status::kPaused && sig == SIGKILL)
    cgroup::ThawIfFrozen(sys::RealSys(), state.cgroup_leaves, state.cgroup_mode);
  return Ok();
}

Result<void> Runtime::Delete(const std::string& id, bool force) {
  auto loaded = store_.Load(id);
  if (!loaded.ok()) {
    if (!force) return loaded.error();
    // As runc: forcing the delete of a container that is not there is not an error; an entry
    // whose state cannot be read is removed.
    if (!ValidateId(id).ok()) return loaded.error();
    if (PathExists(store_.Dir(id))) return store_.Remove(id);
    return Ok();
  }
  State state = std::move(loaded).value();
  Status status = store_.StatusOf(state);
  if (status == Status::kCreating && !force)
    return Failure("container " + id + " is being created; use --force");
  // runtime-spec "delete": deleting a container that is not stopped MUST fail and change nothing.
  if (status != Status::kStopped && !force)
    return Failure("container " + id + " is " + StatusName(status) +
                   ": only a stopped container can be deleted; stop it first or use --force");
  if (status == Status::kCreated || status == Status::kRunning || status == Status::kPaused) {
    cgroup::KillAll(sys::RealSys(), state.cgroup_leaves, SIGKILL);
    ::kill(state.pid, SIGKILL);
    if (status == Status::kPaused)
      cgroup::ThawIfFrozen(sys::RealSys(), state.cgroup_leaves, state.cgroup_mode);
    if (!WaitForExit(state.pid, state.pid_start_time, 5000))
      return Failure("container " + id + ": init " + std::to_string(state.pid) +
                     " did not die after SIGKILL");
  }
  if (state.pid == 0 && state.cgroup_created.empty() && !state.cgroups_path.empty()) {
    // The create died before it recorded its cgroups: find the leaves again from the path.
    if (auto host = cgroup::DetectHost(sys::RealSys()); host.ok()) {
      for (const auto& h : host->v1)
        state.cgroup_leaves.push_back(
            cgroup::ResolvePath(h.mount, h.root, h.self, state.cgroups_path));
      if (!host->unified_mount.empty())
        state.cgroup_leaves.push_back(cgroup::ResolvePath(
            host->unified_mount, host->unified_root, host->unified_self, state.cgroups_path));
      for (const auto& leaf : state.cgroup_leaves)
        if (PathExists(leaf)) state.cgroup_created.push_back(leaf);
      state.cgroup_leaves = state.cgroup_created;
    }
  }
  // Stray processes (no pid namespace, or a crash mid-create) go with the cgroup.
  if (!state.cgroup_leaves.empty() && !cgroup::Pids(sys::RealSys(), state.cgroup_leaves).empty())
    cgroup::KillAll(sys::RealSys(), state.cgroup_leaves, SIGKILL);
  CVB_TRY(cgroup::Remove(sys::RealSys(), state.cgroup_created));
  if (state.has_poststop) {
    auto spec = CreatedSpec(store_, state);
    if (spec.ok()) {
      for (const auto& failure :
           RunHooksWarn(spec->hooks.poststop, "poststop", state.OciJson(Status::kStopped)))
        Log::Get().Warn(failure.message());
    }
  }
  return store_.Remove(id);
}

Result<std::vector<ContainerInfo>> Runtime::List() {
  std::vector<ContainerInfo> out;
  for (const auto& id : store_.List()) {
    auto s = store_.Load(id);
    if (!s.ok()) continue;
    out.push_back({*s, store_.StatusOf(*s)});
  }
  return out;
}

Result<std::vector<pid_t>> Runtime::Ps(const std::string& id) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  auto pids = cgroup::Pids(sys::RealSys(), state.cgroup_leaves);
  if (pids.empty() && store_.StatusOf(state) != Status::kStopped) pids.push_back(state.pid);
  return pids;
}

Result<int> ParseSignal(std::string_view name) {
  std::string s(name);
  if (s.empty()) return Failure("empty signal name");
  bool numeric = true;
  for (char c : s) numeric &= c >= '0' && c <= '9';
  if (numeric) {
    long v = strtol(s.c_str(), nullptr, 10);
    if (v < 1 || v >= NSIG) return Failure("unknown signal \"" + s + "\"");
    return static_cast<int>(v);
  }
  for (auto& c : s) c = static_cast<char>(toupper(c));
  if (s.rfind("SIG", 0) == 0) s = s.substr(3);
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && s == abbrev) return sig;
  }
  if (s == "RTMIN") return SIGRTMIN;
  if (s == "RTMAX") return SIGRTMAX;
  if (s.rfind("RTMIN+", 0) == 0 || s.rfind("RTMAX-", 0) == 0) {
    int off = atoi(s.c_str() + 6);
    int sig = s[2] == 'M' && s[3] == 'I' ? SIGRTMIN + off : SIGRTMAX - off;
    if (off >= 0 && sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
  }
  return Failure("unknown signal \"" + std::string(name) + "\"");
}

}  // namespace cvb::runtime
