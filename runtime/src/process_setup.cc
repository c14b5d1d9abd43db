// The init's and exec's shared last steps before execve (see process_setup.h). Rules as in
// child.cc: no allocation, no stdio, no locks.
#include "process_setup.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace cvb::runtime {

int ConfineProcess(const ChildPlan& plan) {
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
