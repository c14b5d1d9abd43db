// What a container process does last before execve, the same for the container's init
// (child.cc) and for a process `cvrun exec` starts (exec_child.cc): rlimits, oom_score_adj, the
// executable lookup, seccomp, user and groups, capabilities, no_new_privs, umask; and HOME from
// the container's /etc/passwd when the config sets none (as runc, for the init and exec alike).
// Kept in one place so that an exec'd process cannot drift from the init in what it is
// confined by.
// Runs after clone: allocation-free like the rest of child.h (the ChildPlan's arrays are made
// by the parent); a failure is a ChildReport through plan.sync_fd, then _exit.
#pragma once

#include "child.h"

namespace cvb::runtime {

// Call with the fds closed (CloseFds) and the cwd set, in the container's root. Returns the
// index into plan.exec_candidates of the executable to execve (the first regular, executable
// one); none is a kStepExecLookup failure. Afterwards the process holds only the plan's
// credentials: seccomp is loaded before the user change when no_new_privs is off (loading a
// filter then needs CAP_SYS_ADMIN) and after no_new_privs otherwise.
int ConfineProcess(const ChildPlan& plan);

}  // namespace cvb::runtime
