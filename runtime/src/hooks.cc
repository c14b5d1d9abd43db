#include "hooks.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "cvb/common/clock.h"
#include "cvb/common/unique_fd.h"

extern char** environ;

namespace cvb::runtime {
namespace {

Result<void> RunHook(const Hook& hook, const std::string& where, const std::string& state_json) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoError(where + ": pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoError(where + ": fork");
  if (pid == 0) {
    // A hook must not outlive a cvrun that is killed (SIGKILL mid-create leaves nothing).
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent) _exit(1);
    dup2(read_end.get(), 0);
    // No "env": the runtime's own environment, as runc's hooks get it (Go's exec.Cmd, Env nil).
    execve(hook.path.c_str(), argv.data(), hook.env_set ? envp.data() : environ);
    _exit(127);
  }
  read_end.reset();
  // The hook may not read its stdin; ignore EPIPE.
  signal(SIGPIPE, SIG_IGN);
  ssize_t n = write(write_end.get(), state_json.data(), state_json.size());
  (void)n;
  write_end.reset();
  int64_t deadline = hook.timeout_s ? MonotonicNs() + int64_t{*hook.timeout_s} * 1000000000 : 0;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, deadline ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return ErrnoError(where + ": waitpid");
    if (deadline && MonotonicNs() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Failure(where + ": " + hook.path + " timed out after " +
                     std::to_string(*hook.timeout_s) + " s");
    }
    if (deadline) usleep(1000);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  if (WIFEXITED(status))
    return Failure(where + ": " + hook.path + " exited with " +
                   std::to_string(WEXITSTATUS(status)));
  return Failure(where + ": " + hook.path + " killed by signal " + std::to_string(WTERMSIG(status)));
}

}  // namespace

Result<void> RunHooks(const std::vector<Hook>& hooks, const std::string& kind,
                      const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i)
    CVB_TRY(RunHook(hooks[i], "hooks." + kind + "[" + std::to_string(i) + "]", state_json));
  return Ok();
}

std::vector<Error> RunHooksWarn(const std::vector<Hook>& hooks, const std::string& kind,
                                const std::string& state_json) {
  std::vector<Error> failures;
  for (size_t i = 0; i < hooks.size(); ++i) {
    auto r = RunHook(hooks[i], "hooks." + kind + "[" + std::to_string(i) + "]", state_json);
    if (!r.ok()) failures.push_back(r.error());
  }
  return failures;
}

}  // namespace cvb::runtime
