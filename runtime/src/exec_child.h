// The two processes `cvrun exec` forks, allocation-free like the create's init (child.cc):
//   joiner     forked by cvrun, non-dumpable from its first instruction, waits until cvrun has put
//              it into the container's cgroups, setns into each namespace (user first), then
//              clone(CLONE_PARENT)s the process (a fork is what enters a joined pid namespace),
//              reports its pid and exits;
//   process    cvrun's child (CLONE_PARENT), inside every namespace and cgroup, still
//              non-dumpable: console, closes every inherited fd, resolves the cwd inside the
//              container's root, rlimits, seccomp, user, capabilities, no_new_privs, execve.
// Failures travel as a ChildReport through the sync socket (see child.h); the joiner's success
// is an ExecPidReport; the process's success is the EOF that its execve (O_CLOEXEC) makes.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "child.h"

namespace cvb::runtime {

enum ExecStep : int32_t {
  kStepExecCloneProcess = 100,  // after ChildStep's values
  kStepExecCwd,
};

inline constexpr int32_t kExecPidMagic = 0x45584543;  // "EXEC"
struct ExecPidReport {
  int32_t magic;
  int32_t pid;  // the process's pid in cvrun's pid namespace
};

struct ExecChildPlan {
  // sync_fd, preserve_fds, console_socket_fd, rlimits, oom_score_adj, umask, user, capabilities,
  // seccomp, exec candidates, argv, envp; fifo_fd stays -1.
  ChildPlan process;
  int go_fd = -1;  // the joiner reads one byte: it sits in the container's cgroups
  int parent_sync_fd = -1;
  int ns_fds[8];
  int ns_types[8];  // CLONE_NEW*
  int n_ns = 0;
  const char* cwd = "/";
};

// The joiner's body (see above); never returns.
[[noreturn]] void ExecJoinerMain(const ExecChildPlan& plan);

}  // namespace cvb::runtime
