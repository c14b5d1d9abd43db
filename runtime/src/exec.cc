// cvrun exec, the runtime's side: resolve the process, plan it, fork the joiner (exec_child.cc),
// put it into the container's cgroups, and wait for the process's execve (and its exit).
#include "cvb/runtime/exec.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "cgroup/manager.h"
#include "cvb/common/file.h"
#include "cvb/common/unique_fd.h"
#include "cvb/runtime/container.h"
#include "exec_cgroups.h"
#include "exec_child.h"
#include "process_env.h"
#include "security.h"
#include "sys/sys.h"

extern char** environ;

// Headers older than Linux 6.3 lack it; kernels that old refuse it (EINVAL) and we retry without.
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace cvb::runtime {
namespace {

Result<uint32_t> ParseId(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 10 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Failure(what);
  uint64_t v = std::stoull(text);
  if (v > 0xfffffffeu) return Failure(what);
  return static_cast<uint32_t>(v);
}

void AddUnique(std::vector<std::string>& set, const std::string& name) {
  if (std::find(set.begin(), set.end(), name) == set.end()) set.push_back(name);
}

std::vector<std::string> ExecCandidatesFor(const Process& process) {
  const std::string& arg0 = process.args[0];
  if (arg0.find('/') != std::string::npos) return {arg0};
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : process.env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  std::vector<std::string> out;
  for (const auto& dir : Split(path, ':'))
    if (!dir.empty() && dir[0] == '/') out.push_back(dir + "/" + arg0);
  return out;
}

int NamespaceType(const std::string& name) {
  if (name == "user") return CLONE_NEWUSER;
  if (name == "ipc") return CLONE_NEWIPC;
  if (name == "uts") return CLONE_NEWUTS;
  if (name == "net") return CLONE_NEWNET;
  if (name == "cgroup") return CLONE_NEWCGROUP;
  if (name == "pid") return CLONE_NEWPID;
  if (name == "time") return CLONE_NEWTIME;
  if (name == "mnt") return CLONE_NEWNS;
  return 0;
}

// Kills and reaps what exec started, unless the process exec'd and was handed over.
class ExecGuard {
 public:
  ~ExecGuard() {
    for (pid_t pid : {joiner, process}) {
      if (pid <= 0) continue;
      ::kill(pid, SIGKILL);
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid_t joiner = -1;
  pid_t process = -1;
};

pid_t g_exec_forward_pid = 0;
void ForwardToProcess(int sig) {
  if (g_exec_forward_pid > 0) ::kill(g_exec_forward_pid, sig);
}

// An fd that is free at or above `min`, so that CloseFds (which keeps 3..3+preserve-1) can tell
// it apart from the preserved ones.
Result<UniqueFd> DupAbove(const UniqueFd& fd, int min) {
  UniqueFd out(fcntl(fd.get(), F_DUPFD_CLOEXEC, min));
  if (!out) return ErrnoError("fcntl F_DUPFD_CLOEXEC");
  return out;
}

std::string ExecErrorMessage(const ChildReport& r, const Process& process,
                             const std::vector<std::string>& joined) {
  if (r.step == kStepExecLookup && r.err == EACCES)
    return "exec: \"" + process.args[0] + "\": permission denied";
  if (r.step == kStepExecLookup)
    return "exec: \"" + process.args[0] + "\": executable file not found in the container" +
           (r.err != ENOENT ? std::string(" (") + strerror(r.err) + ")" : "");
  std::string what;
  if (r.step == kStepExecCwd) what = "cwd " + process.cwd + " (resolved inside the container)";
  else if (r.step == kStepExecCloneProcess) what = "fork into the container's pid namespace";
  else if (r.step == kStepSetns && r.index >= 0 && r.index < static_cast<int>(joined.size()))
    what = "setns " + joined[r.index];
  else if (r.step == kStepRlimit && r.index >= 0 &&
           r.index < static_cast<int>(process.rlimits.size()))
    what = "setrlimit process.rlimits[" + std::to_string(r.index) + "] " +
           process.rlimits[r.index].type;
  else what = ChildStepName(r.step);
  return "exec: " + what + ": " + strerror(r.err);
}

}  // namespace

Result<void> JoinCgroups(sys::Sys& sys, const std::vector<std::string>& leaves, pid_t pid) {
  if (leaves.empty()) return Failure("exec: the container's state records no cgroup to join");
  for (const auto& leaf : leaves) {
    auto written = sys.WriteFile(leaf + "/cgroup.procs", std::to_string(pid));
    if (!written.ok()) return written.error().wrap("exec: join the container's cgroup " + leaf);
  }
  return Ok();
}

const std::vector<std::string>& ExecNamespaceNames() {
  static const std::vector<std::string> names = {"user", "ipc",  "uts", "net",
                                                 "cgroup", "pid", "time", "mnt"};
  return names;
}

std::vector<std::string> PlanExecJoins(const std::vector<NamespaceIdentity>& namespaces) {
  // Only what differs: setns into our own user namespace fails, the others would be no-ops.
  // The user namespace comes first so that the namespaces it owns are joined with its
  // capabilities; mnt comes last because after it "/" is the container's.
  std::vector<std::string> out;
  for (const auto& name : ExecNamespaceNames()) {
    for (const auto& ns : namespaces) {
      if (ns.name != name) continue;
      if (ns.container_dev == ns.own_dev && ns.container_ino == ns.own_ino) continue;
      out.push_back(name);
    }
  }
  return out;
}

Result<Process> ResolveExecProcess(const Process& base, bool from_process_file,
                                   const ExecOptions& o) {
  Process p = base;
  if (from_process_file) {
    if (!o.args.empty())
      return Failure("exec: give the command either with --process or after the container ID");
    if (o.tty) p.terminal = true;
  } else {
    if (o.args.empty())
      return Failure("exec: no command: give it after the container ID, or --process FILE");
    p.args = o.args;
    p.terminal = o.tty;
  }
  if (!o.cwd.empty()) {
    if (o.cwd[0] != '/') return Failure("--cwd " + o.cwd + ": must be an absolute path");
    p.cwd = o.cwd;
  }
  for (const auto& e : o.env) {
    auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0)
      return Failure("--env " + e + ": expected KEY=VALUE");
    std::string key = e.substr(0, eq + 1);
    auto it = std::find_if(p.env.begin(), p.env.end(),
                           [&](const std::string& x) { return x.rfind(key, 0) == 0; });
    if (it != p.env.end()) *it = e;
    else p.env.push_back(e);
  }
  if (!o.user.empty()) {
    std::string what = "--user " + o.user +
                       ": expected uid[:gid] as numbers (names are not looked up in the "
                       "container)";
    auto colon = o.user.find(':');
    CVB_ASSIGN_OR_RETURN(p.user.uid, ParseId(o.user.substr(0, colon), what));
    if (colon != std::string::npos) {
      CVB_ASSIGN_OR_RETURN(p.user.gid, ParseId(o.user.substr(colon + 1), what));
    }
  }
  if (!o.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    Capabilities& c = *p.capabilities;
    for (const auto& raw : o.caps) {
      std::string name = raw;
      for (auto& ch : name) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
      if (name.rfind("CAP_", 0) != 0) name = "CAP_" + name;
      cap_value_t v;
      if (cap_from_name(name.c_str(), &v) != 0)
        return Failure("--cap " + raw + ": unknown capability");
      AddUnique(c.bounding, name);
      AddUnique(c.effective, name);
      AddUnique(c.permitted, name);
      // Ambient needs inheritable, which --cap does not add (as runc): only where the process
      // already has inheritable capabilities.
      if (!c.inheritable.empty()) {
        AddUnique(c.inheritable, name);
        AddUnique(c.ambient, name);
      }
    }
  }
  if (o.no_new_privs) p.no_new_privileges = true;
  return p;
}

bool RunningFromSealedCopy() {
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return false;
  int seals = fcntl(self.get(), F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL);
}

Result<void> ReexecFromSealedCopy() {
  if (RunningFromSealedCopy()) return Ok();
  UniqueFd self(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!self) return ErrnoError("exec: open /proc/self/exe");
  struct stat st;
  if (fstat(self.get(), &st) != 0) return ErrnoError("exec: stat /proc/self/exe");
  UniqueFd copy(memfd_create("cvrun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (!copy && errno == EINVAL) copy.reset(memfd_create("cvrun", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return ErrnoError("exec: memfd_create for a sealed copy of cvrun");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = sendfile(copy.get(), self.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError("exec: copy cvrun into the memfd");
  }
  if (fcntl(copy.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    return ErrnoError("exec: seal the memfd copy of cvrun");
  self.reset();
  auto cmdline = ReadFile("/proc/self/cmdline");
  if (!cmdline.ok()) return cmdline.error();
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t i = 0; i < cmdline->size(); ++i)
    if ((*cmdline)[i] == '\0') {
      args.push_back(cmdline->substr(start, i - start));
      start = i + 1;
    }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  syscall(SYS_execveat, copy.get(), "", argv.data(), environ, AT_EMPTY_PATH);
  return ErrnoError("exec: execveat of the sealed copy of cvrun");
}

Result<int> Runtime::Exec(const ExecOptions& o) {
  if (!o.process_label.empty())
    return Failure("--process-label: SELinux labels are not supported by cvrun (refused rather "
                   "than running the process unlabelled)");
  if (!o.apparmor.empty())
    return Failure("--apparmor: AppArmor profiles are not supported by cvrun (refused rather "
                   "than running the process unconfined)");
  if (o.preserve_fds < 0 || o.preserve_fds > 4096)
    return Failure("--preserve-fds: expected 0..4096");
  CVB_TRY(ValidateId(o.id));
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(o.id));
  Status status = store_.StatusOf(state);
  if (status != Status::kCreated && status != Status::kRunning)
    return Failure("container " + o.id + " is " + StatusName(status) + ": cannot exec in it");
  // create's copy: the bundle's config.json may have been edited since (runc keeps one too).
  CVB_ASSIGN_OR_RETURN(Spec spec, CreatedSpec(store_, state));
  Process base = spec.process;
  if (!o.process_file.empty()) {
    auto text = ReadFile(o.process_file);
    if (!text.ok()) return text.error().wrap("--process");
    auto parsed = ParseProcessJson(*text);
    if (!parsed.ok()) return parsed.error().wrap(o.process_file);
    base = std::move(parsed).value();
  }
  CVB_ASSIGN_OR_RETURN(Process process, ResolveExecProcess(base, !o.process_file.empty(), o));
  if (process.terminal && o.console_socket.empty())
    return Failure("--tty (process.terminal): needs --console-socket");
  if (!process.terminal && !o.console_socket.empty())
    return Failure("--console-socket: only with --tty (process.terminal)");

  // --- plan: everything the two children need, computed here ---
  CVB_ASSIGN_OR_RETURN(CapabilityMasks caps, ComputeCapabilities(process.capabilities));
  SeccompProgram seccomp;
  const sock_fprog* seccomp_program = nullptr;
  unsigned seccomp_flags = 0;
  if (spec.linux.seccomp) {
    CVB_ASSIGN_OR_RETURN(seccomp, CompileSeccomp(*spec.linux.seccomp));
    seccomp_program = seccomp.program();
    for (const auto& flag : spec.linux.seccomp->flags) {
      if (flag == "SECCOMP_FILTER_FLAG_TSYNC") seccomp_flags |= SECCOMP_FILTER_FLAG_TSYNC;
      if (flag == "SECCOMP_FILTER_FLAG_LOG") seccomp_flags |= SECCOMP_FILTER_FLAG_LOG;
      if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") seccomp_flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    }
  }
  std::vector<int> rlimit_resources;
  std::vector<struct rlimit> rlimit_values;
  for (const auto& r : process.rlimits) {
    rlimit_resources.push_back(r.resource);
    rlimit_values.push_back({r.soft, r.hard});
  }
  std::vector<gid_t> groups(process.user.additional_gids.begin(),
                            process.user.additional_gids.end());
  std::vector<std::string> candidates = ExecCandidatesFor(process);
  std::vector<const char*> candidate_ptrs;
  for (const auto& c : candidates) candidate_ptrs.push_back(c.c_str());
  std::vector<std::string> args = process.args, env = process.env;
  // No HOME in the process: the exec'd process sets it from the container's /etc/passwd, as
  // runc's exec does (process_env.h).
  std::string home_env;
  if (NeedsHome(env)) {
    env = WithoutHome(std::move(env));
    home_env.assign(kHomeValueMax + 6, '\0');
  }
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  if (!home_env.empty()) envp.push_back(home_env.data());
  envp.push_back(nullptr);
  std::string oom_score_adj =
      process.oom_score_adj ? std::to_string(*process.oom_score_adj) : std::string();

  // --- the container's namespaces, opened while its init is known to be the one we recorded ---
  const std::string stopped = "container " + o.id + " is stopped: cannot exec in it";
  UniqueFd init(static_cast<int>(syscall(SYS_pidfd_open, state.pid, 0)));
  if (!init) return errno == ESRCH ? Failure(stopped) : ErrnoError("pidfd_open init");
  bool zombie = false;
  if (ProcessStartTime(state.pid, &zombie) != state.pid_start_time || zombie) return Failure(stopped);
  const std::string proc_ns = "/proc/" + std::to_string(state.pid) + "/ns/";
  std::vector<NamespaceIdentity> identities;
  std::vector<std::pair<std::string, UniqueFd>> ns_fds;
  for (const auto& name : ExecNamespaceNames()) {
    struct stat own;
    if (::stat(("/proc/self/ns/" + name).c_str(), &own) != 0) continue;  // kernel without it
    UniqueFd fd(::open((proc_ns + name).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno == ENOENT || errno == ESRCH ? Failure(stopped)
                                                      : ErrnoError("open " + proc_ns + name);
    struct stat theirs;
    if (fstat(fd.get(), &theirs) != 0) return ErrnoError("stat " + proc_ns + name);
    identities.push_back({name, theirs.st_dev, theirs.st_ino, own.st_dev, own.st_ino});
    ns_fds.emplace_back(name, std::move(fd));
  }
  // The fds above are the init's namespaces only if it did not exit (and its pid was not
  // reused) while we opened them.
  pollfd alive{init.get(), POLLIN, 0};
  if (poll(&alive, 1, 0) != 0) return Failure(stopped);
  std::vector<std::string> joined = PlanExecJoins(identities);

  ExecChildPlan plan;
  for (const auto& name : joined) {
    for (auto& [n, fd] : ns_fds) {
      if (n != name) continue;
      plan.ns_fds[plan.n_ns] = fd.get();
      plan.ns_types[plan.n_ns] = NamespaceType(name);
      ++plan.n_ns;
    }
  }

  // --- sockets, above the preserved fds ---
  const int min_fd = 3 + o.preserve_fds;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return ErrnoError("socketpair");
  UniqueFd parent_sock(sv[0]), child_sock_low(sv[1]);
  CVB_ASSIGN_OR_RETURN(UniqueFd child_sock, DupAbove(child_sock_low, min_fd));
  child_sock_low.reset();
  UniqueFd console;
  if (process.terminal) {
    // Connected here, in the host's mount namespace: never a path inside the container.
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (o.console_socket.size() >= sizeof addr.sun_path)
      return Failure("--console-socket: path too long");
    memcpy(addr.sun_path, o.console_socket.c_str(), o.console_socket.size() + 1);
    if (!sock || ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return ErrnoError("--console-socket: connect " + o.console_socket);
    CVB_ASSIGN_OR_RETURN(console, DupAbove(sock, min_fd));
  }

  ChildPlan& cp = plan.process;
  cp.sync_fd = child_sock.get();
  cp.parent_sync_fd = -1;
  cp.fifo_fd = -1;
  cp.parent_pid = getpid();
  cp.preserve_fds = o.preserve_fds;
  cp.console_socket_fd = console ? console.get() : -1;
  cp.rlimit_resources = rlimit_resources.data();
  cp.rlimit_values = rlimit_values.data();
  cp.n_rlimits = static_cast<int>(rlimit_values.size());
  cp.oom_score_adj = oom_score_adj.empty() ? nullptr : oom_score_adj.c_str();
  cp.umask = static_cast<int>(process.user.umask.value_or(022));
  cp.uid = process.user.uid;
  cp.gid = process.user.gid;
  cp.groups = groups.data();
  cp.n_groups = static_cast<int>(groups.size());
  cp.set_caps = true;
  cp.last_cap = caps.last_cap;
  cp.cap_bounding = caps.bounding;
  cp.cap_effective = caps.effective;
  cp.cap_permitted = caps.permitted;
  cp.cap_inheritable = caps.inheritable;
  cp.cap_ambient = caps.ambient;
  cp.no_new_privileges = process.no_new_privileges;
  cp.seccomp = seccomp_program;
  cp.seccomp_flags = seccomp_flags;
  cp.exec_candidates = candidate_ptrs.data();
  cp.n_exec_candidates = static_cast<int>(candidate_ptrs.size());
  cp.exec_by_path = process.args[0].find('/') != std::string::npos;
  cp.argv = argv.data();
  cp.envp = envp.data();
  cp.home_env = home_env.empty() ? nullptr : home_env.data();
  cp.home_env_size = home_env.size();
  plan.parent_sync_fd = parent_sock.get();
  plan.cwd = process.cwd.c_str();

  // --- the joiner ---
  ExecGuard guard;
  pid_t joiner = fork();
  if (joiner < 0) return ErrnoError("fork");
  if (joiner == 0) ExecJoinerMain(plan);
  guard.joiner = joiner;
  child_sock.reset();
  console.reset();
  ns_fds.clear();
  CVB_TRY(JoinCgroups(sys::RealSys(), state.cgroup_leaves, joiner));
  if (::write(parent_sock.get(), "g", 1) != 1) return ErrnoError("exec: sync: go");

  auto read_message = [&](void* buf, size_t size) {
    ssize_t n;
    while ((n = ::read(parent_sock.get(), buf, size)) < 0 && errno == EINTR) {
    }
    return n;
  };
  union {
    ChildReport report;
    ExecPidReport pid;
  } msg{};
  ssize_t n = read_message(&msg, sizeof msg);
  int joiner_status = 0;
  while (waitpid(joiner, &joiner_status, 0) < 0 && errno == EINTR) {
  }
  guard.joiner = -1;
  if (n == sizeof(ChildReport) && !msg.report.ok)
    return Failure(ExecErrorMessage(msg.report, process, joined));
  if (n != sizeof(ExecPidReport) || msg.pid.magic != kExecPidMagic)
    return Failure("exec: the joining process died before it reported (" +
                   std::string(WIFSIGNALED(joiner_status)
                                   ? "signal " + std::to_string(WTERMSIG(joiner_status))
                                   : "exit " + std::to_string(WEXITSTATUS(joiner_status))) +
                   ")");
  const pid_t pid = msg.pid.pid;
  guard.process = pid;
  // EOF: the process exec'd (its copy of the socket is O_CLOEXEC); a report: it failed.
  n = read_message(&msg, sizeof msg);
  if (n == sizeof(ChildReport) && !msg.report.ok)
    return Failure(ExecErrorMessage(msg.report, process, joined));
  if (n != 0) {
    int st = 0;
    while (waitpid(pid, &st, WNOHANG) < 0 && errno == EINTR) {
    }
    return Failure("exec: the process died before it exec'd");
  }
  if (!o.pid_file.empty()) CVB_TRY(WriteFileAtomic(o.pid_file, std::to_string(pid), 0644));
  guard.process = -1;
  if (o.detach) return 0;

  g_exec_forward_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = ForwardToProcess;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH})
    sigaction(sig, &sa, nullptr);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) return ErrnoError("waitpid");
  }
  g_exec_forward_pid = 0;
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  return 128 + WTERMSIG(wstatus);
}

}  // namespace cvb::runtime
