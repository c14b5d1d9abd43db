// cvrun exec's joiner and process (see exec_child.h). Rules as in child.cc: no allocation, no
// stdio, no locks; a failure is a ChildReport through the sync socket, then _exit.
#include "exec_child.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "process_setup.h"

namespace cvb::runtime {
namespace {

// Opens cwd inside "/" (after setns(mnt): the container's root) without leaving it: ".." and
// absolute symlinks stay inside, and magic links (/proc/self/fd/N, /proc/1/cwd) are refused, so
// no fd or cwd of the host can become the process's cwd.
void ChdirInsideRoot(const ChildPlan& plan, const char* cwd) {
  int root = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) Fail(plan, kStepExecCwd, errno);
  open_how how{};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int dir = static_cast<int>(syscall(SYS_openat2, root, cwd, &how, sizeof how));
  if (dir < 0) Fail(plan, kStepExecCwd, errno);
  if (fchdir(dir) != 0) Fail(plan, kStepExecCwd, errno);
  ::close(dir);
  ::close(root);
}

[[noreturn]] void ProcessMain(const ExecChildPlan& p) {
  const ChildPlan& plan = p.process;
  // Our parent is cvrun (CLONE_PARENT): die with it until we exec.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (plan.console_socket_fd >= 0) SetUpConsole(plan);
  // Before any path is resolved in the container: nothing of the host stays open but the
  // preserved fds and the sync socket (O_CLOEXEC: gone at execve).
  CloseFds(plan);
  ChdirInsideRoot(plan, p.cwd);
  // The init's steps (process_setup.h): rlimits, oom_score_adj, executable, seccomp, user,
  // capabilities, no_new_privs, umask.
  const int exec_index = ConfineProcess(plan);
  // A detached exec's cvrun exits right after our execve: the process must outlive it.
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  execve(plan.exec_candidates[exec_index], plan.argv, plan.envp);
  Fail(plan, kStepExecLookup, errno);
}

}  // namespace

[[noreturn]] void ExecJoinerMain(const ExecChildPlan& p) {
  const ChildPlan& plan = p.process;
  // First of all, before any namespace of the container is entered: a non-dumpable process's
  // /proc/PID/{exe,mem,fd,...} are closed to processes without CAP_SYS_PTRACE over cvrun's own
  // user namespace (CVE-2019-5736). It stays so (inherited by the process) until execve.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) Fail(plan, kStepSetns, errno, -1);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (p.parent_sync_fd >= 0) ::close(p.parent_sync_fd);
  umask(0);
  char go;
  if (::read(plan.sync_fd, &go, 1) != 1) _exit(1);  // cvrun has put us into the cgroups
  for (int i = 0; i < p.n_ns; ++i)
    if (setns(p.ns_fds[i], p.ns_types[i]) != 0) Fail(plan, kStepSetns, errno, i);
  for (int i = 0; i < p.n_ns; ++i) ::close(p.ns_fds[i]);
  // A joined pid (and time) namespace applies to children only: the process is our child, but
  // with cvrun as its parent so that cvrun can wait for it.
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) Fail(plan, kStepExecCloneProcess, errno);
  if (pid == 0) ProcessMain(p);
  ExecPidReport report{kExecPidMagic, static_cast<int32_t>(pid)};
  if (::write(plan.sync_fd, &report, sizeof report) != sizeof report) _exit(1);
  _exit(0);
}

}  // namespace cvb::runtime
