// The init's and exec's shared last steps before execve (see process_setup.h). Rules as in
// child.cc: no allocation, no stdio, no locks.
#include "process_setup.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>

#include "process_env.h"

namespace cvb::runtime {
namespace {

// The container's /etc/passwd (static storage: no allocation after clone). A longer file is
// read up to this size.
char g_passwd[64 * 1024];

// HOME=<home of plan.uid in the container's /etc/passwd>, else HOME=/ (runc's default user),
// into the slot the parent put in envp. Only a regular file is read (O_NONBLOCK: a FIFO there
// cannot block the init), and only before the user changes, as runc reads it.
void SetHome(const ChildPlan& plan) {
  size_t len = 0;
  int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd >= 0) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      ssize_t n;
      while (len < sizeof g_passwd &&
             (n = read(fd, g_passwd + len, sizeof g_passwd - len)) > 0)
        len += static_cast<size_t>(n);
    }
    close(fd);
  }
  HomeEnvFromPasswd(g_passwd, len, plan.uid, plan.home_env, plan.home_env_size);
}

}  // namespace

int ConfineProcess(const ChildPlan& plan) {
  if (plan.home_env) SetHome(plan);
  for (int i = 0; i < plan.n_rlimits; ++i)
    if (setrlimit(static_cast<__rlimit_resource>(plan.rlimit_resources[i]),
                  &plan.rlimit_values[i]) != 0)
      Fail(plan, kStepRlimit, errno, i);
  if (plan.oom_score_adj)
    WriteAll(plan, "/proc/self/oom_score_adj", plan.oom_score_adj, kStepOomScoreAdj, -1);

  int exec_index = -1;
  for (int i = 0; i < plan.n_exec_candidates && exec_index < 0; ++i) {
    struct stat st;
    if (stat(plan.exec_candidates[i], &st) == 0 && S_ISREG(st.st_mode) &&
        access(plan.exec_candidates[i], X_OK) == 0)
      exec_index = i;
  }
  if (exec_index < 0) {
    struct stat st;
    bool there = plan.exec_by_path && plan.n_exec_candidates == 1 &&
                 stat(plan.exec_candidates[0], &st) == 0;
    Fail(plan, kStepExecLookup, there ? EACCES : ENOENT);
  }

  // Without no_new_privs a filter needs CAP_SYS_ADMIN: load it while we still have it.
  if (!plan.no_new_privileges) ApplySeccomp(plan);
  SetUserAndCapabilities(plan);
  if (plan.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    Fail(plan, kStepNoNewPrivileges, errno);
  if (plan.no_new_privileges) ApplySeccomp(plan);
  umask(static_cast<mode_t>(plan.umask));
  return exec_index;
}

}  // namespace cvb::runtime
