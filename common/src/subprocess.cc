#include "cvb/common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"

extern char** environ;

namespace cvb {

std::string ExitStatus::describe() const {
  if (signal) return std::string("killed by signal ") + std::to_string(signal);
  return "exit code " + std::to_string(code);
}

namespace {
ExitStatus FromWaitStatus(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) s.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}
}  // namespace

namespace {
// Statuses of children reaped by ReapOrphans() before their owner waited for them.
std::mutex g_reaped_mutex;
std::map<pid_t, int> g_reaped;

std::optional<ExitStatus> TakeReaped(pid_t pid) {
  std::lock_guard<std::mutex> lock(g_reaped_mutex);
  auto it = g_reaped.find(pid);
  if (it == g_reaped.end()) return std::nullopt;
  ExitStatus s = FromWaitStatus(it->second);
  g_reaped.erase(it);
  return s;
}
}  // namespace

Result<void> BecomeSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    return ErrnoError("prctl(PR_SET_CHILD_SUBREAPER)");
  return Ok();
}

void ReapOrphans() {
  for (;;) {
    int status = 0;
    // Reap and record under one lock: an owner whose waitpid finds its child gone (ECHILD) then
    // reads this status from the table, never an older one of a process that had the same pid
    // before (pids wrap at pid_max, 32768 here, many times in a sweep). Unlocked, a runc create
    // that exited 0 was once reported "killed by signal 9", the status of a container process
    // reaped long before under the same pid. waitpid(WNOHANG) does not block.
    std::lock_guard<std::mutex> lock(g_reaped_mutex);
    pid_t p = ::waitpid(-1, &status, WNOHANG);
    if (p <= 0) return;
    g_reaped[p] = status;
    // Bound the memory of statuses nobody asks for.
    if (g_reaped.size() > 4096) g_reaped.erase(g_reaped.begin());
  }
}

Result<std::optional<ExitStatus>> WaitForExit(pid_t pid, int64_t deadline_ns) {
  // The table is read only once the process is known to be gone: while pid names a live process,
  // an entry for it is an older process's that had the same pid (a stale status must not end
  // the wait of a process still running).
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    if (errno != ESRCH) return ErrnoError("pidfd_open " + std::to_string(pid));
    // Gone: reaped by ReapOrphans (its status is in the table) or not ours (nobody here knows).
    if (auto s = TakeReaped(pid)) return std::optional<ExitStatus>(*s);
    return std::optional<ExitStatus>();
  }
  UniqueFd fd(pidfd);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return std::optional<ExitStatus>(FromWaitStatus(status));
    if (r < 0 && errno == ECHILD) {
      // Not (or no longer) our child: reaped by ReapOrphans, or another's process. The pidfd is
      // readable once it has exited; only then is a table entry its own.
      pollfd now{fd.get(), POLLIN, 0};
      if (::poll(&now, 1, 0) > 0) {
        if (auto s = TakeReaped(pid)) return std::optional<ExitStatus>(*s);
        return std::optional<ExitStatus>();  // exited, not ours: nobody here knows its status
      }
    }
    int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) return Error{ETIMEDOUT, "wait for pid " + std::to_string(pid)};
    pollfd p{fd.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) return ErrnoError("poll pidfd");
  }
}

Child::Child(Child&& o) noexcept : pid_(o.release()) {}
Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) { Kill(); (void)Wait(); }
    pid_ = o.release();
  }
  return *this;
}
Child::~Child() {
  if (pid_ > 0) {
    Kill();
    (void)Wait();
  }
}

void Child::Kill(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<ExitStatus> Child::TryWait() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return FromWaitStatus(status);
  }
  if (r < 0 && errno == ECHILD) {
    if (auto s = TakeReaped(pid_)) {
      pid_ = -1;
      return s;
    }
  }
  return std::nullopt;
}

Result<ExitStatus> Child::Wait(std::optional<std::chrono::milliseconds> timeout) {
  if (pid_ <= 0) return Failure("wait: no child");
  if (!timeout) {
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, 0);
      if (r == pid_) break;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == ECHILD) {
        if (auto s = TakeReaped(pid_)) {
          pid_ = -1;
          return *s;
        }
      }
      return ErrnoError("waitpid " + std::to_string(pid_));
    }
    pid_ = -1;
    return FromWaitStatus(status);
  }
  // Woken by a pidfd the moment the child exits, as WaitForExit waits for a container's init:
  // a sleeping back-off would add up to its sleep to every measured exit (the native
  // baseline's exit_ms was inflated that way). The pidfd is opened while the child is still
  // ours and unreaped (TryWait first), so its pid cannot have been reused. A subreaper loop
  // elsewhere (ReapOrphans) may reap it meanwhile: TryWait finds that status in the table, and
  // the poll is bounded so that such a reap is seen within a second at worst.
  int64_t deadline = MonotonicNs() + timeout->count() * 1'000'000;
  if (auto s = TryWait()) return *s;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  int64_t sleep_us = 50;  // only without pidfds (kernels before 5.3)
  for (;;) {
    if (auto s = TryWait()) return *s;
    int64_t left_ns = deadline - MonotonicNs();
    if (left_ns <= 0) return Error{ETIMEDOUT, "wait for pid " + std::to_string(pid_)};
    if (pidfd) {
      pollfd p{pidfd.get(), POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ns / 1'000'000 + 1, 1000)));
      if (n < 0 && errno != EINTR) return ErrnoError("poll pidfd " + std::to_string(pid_));
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
      if (sleep_us < 5000) sleep_us *= 2;
    }
  }
}

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = ::getenv("PATH");
  std::string p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& dir : Split(p, ':')) {
    std::string full = dir + "/" + name;
    if (::access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

Result<Child> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return Failure("spawn: empty argv");
  std::string exe = FindProgram(argv[0]);
  if (exe.empty()) return Error{ENOENT, "spawn " + argv[0] + ": not found in PATH"};

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  std::vector<char*> cenv;
  for (char** e = environ; *e; ++e) cenv.push_back(*e);
  for (const auto& e : options.extra_env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  if (options.new_session) {
    flags |= POSIX_SPAWN_SETSID;  // also a new process group; setpgid would now fail (EPERM)
  } else if (options.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  if (options.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&fa, options.stdin_fd, 0);
  else if (options.null_stdin) posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (options.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&fa, options.stdout_fd, 1);
  if (options.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&fa, options.stderr_fd, 2);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, exe.c_str(), &fa, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error{rc, "spawn " + exe};
  return Child(pid);
}

Result<RunOutput> Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                      const SpawnOptions& base) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoError("pipe");
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);

  // A caller-given stdout or stderr goes where the caller said (a container's ready pipe, which
  // outlives the command); only the others are captured.
  SpawnOptions options = base;
  bool out_open = base.stdout_fd < 0, err_open = base.stderr_fd < 0;
  if (out_open) options.stdout_fd = out_w.get();
  if (err_open) options.stderr_fd = err_w.get();
  CVB_ASSIGN_OR_RETURN(Child child, Spawn(argv, options));
  out_w.reset();
  err_w.reset();

  RunOutput result;
  int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
  while (out_open || err_open) {
    int64_t left_ms = (deadline - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) {
      child.Kill();
      (void)child.Wait();
      return Error{ETIMEDOUT, JoinArgv(argv) + ": no exit within " +
                                  std::to_string(timeout.count()) + " ms"};
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0},
                     {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) return ErrnoError("poll");
    char buf[8192];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(r));
      else if (r == 0 || errno != EINTR) (i == 0 ? out_open : err_open) = false;
    }
  }
  int64_t left_ms = std::max<int64_t>(1, (deadline - MonotonicNs()) / 1'000'000);
  auto status = child.Wait(std::chrono::milliseconds(left_ms));
  if (!status) return status.error().wrap(JoinArgv(argv));
  result.status = *status;
  return result;
}

Result<std::string> RunChecked(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout) {
  CVB_ASSIGN_OR_RETURN(RunOutput r, Run(argv, timeout));
  if (!r.status.ok())
    return Failure(JoinArgv(argv) + ": " + r.status.describe() + ": " + Trim(r.err));
  return r.out;
}

}  // namespace cvb
