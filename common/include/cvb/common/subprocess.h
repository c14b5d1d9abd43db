// Running helper programs (OCI runtimes, QEMU, ip, dpkg): a move-only Child that kills and reaps
// on destruction, and Run() that captures output with a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/common/unique_fd.h"

namespace cvb {

struct SpawnOptions {
  // -1 means inherit; otherwise the fd is dup2'd onto 0/1/2 in the child.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Open /dev/null for stdin when stdin_fd is -1 and this is set.
  bool null_stdin = true;
  // Extra environment entries ("K=V"), added to the caller's.
  std::vector<std::string> extra_env;
  // Start the child in its own process group so that kill(-pgid) reaches its helpers.
  bool new_process_group = false;
  // Start the child in a session of its own (setsid; it leads its process group too). With the
  // kernel's sched autogroup a session is also a CPU-share group: the child then competes with
  // the rest of the machine as a daemon's child does (libvirt's QEMU), not inside the caller's
  // session with everything else started from the caller's terminal.
  bool new_session = false;
};

struct ExitStatus {
  int code = -1;    // exit code, or -1 when killed by a signal
  int signal = 0;   // the signal that killed it, or 0
  bool ok() const { return code == 0; }
  std::string describe() const;
};

class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  // Kills (SIGKILL) and reaps a child that was not waited for.
  ~Child();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Waits for exit; with a timeout, returns ETIMEDOUT when still running after it.
  Result<ExitStatus> Wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Non-blocking: the exit status if the child has exited.
  std::optional<ExitStatus> TryWait();
  void Kill(int sig = 9);
  pid_t release() { pid_t p = pid_; pid_ = -1; return p; }

 private:
  pid_t pid_ = -1;
};

// argv[0] is looked up in PATH when it has no '/'.
Result<Child> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

struct RunOutput {
  ExitStatus status;
  std::string out;
  std::string err;
};
// Runs to completion, capturing stdout and stderr (those not redirected by options); kills the
// child after the timeout.
Result<RunOutput> Run(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(60),
                      const SpawnOptions& options = {});
// Runs and fails (naming the command and its stderr) unless it exits 0.
Result<std::string> RunChecked(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Makes this process a child subreaper: processes of detached containers are re-parented to it
// (and can be waited for) rather than to PID 1, which on these hosts does not reap them.
Result<void> BecomeSubreaper();
// Reaps exited children that nobody waits for (re-parented orphans such as a runtime's helpers)
// and remembers their status, so that a later wait for one of them still gets it.
void ReapOrphans();
// Waits until pid exits, whether or not it is our child (pidfd). Returns its status when it was
// our child (now reaped); nullopt when it was someone else's. ETIMEDOUT at the deadline
// (CLOCK_MONOTONIC ns).
Result<std::optional<ExitStatus>> WaitForExit(pid_t pid, int64_t deadline_ns);

// Full path of a program in PATH, or an empty string.
std::string FindProgram(const std::string& name);
std::string JoinArgv(const std::vector<std::string>& argv);

}  // namespace cvb
