// `cvrun exec`: start another process in a running (or created) container. The process joins
// every namespace of the container's init that differs from ours (user first, mount last), the
// container's cgroups in every hierarchy, its seccomp filter, and the credentials, capabilities
// and rlimits of its process (defaults from config.json's `process`, overridden by flags or by a
// process.json). Built against runc's known escapes:
//   CVE-2019-5736  cvrun runs exec from a sealed memfd copy of itself (ReexecFromSealedCopy), and
//                  the joining process is non-dumpable from before it enters the container until
//                  it execs: nothing in the container can reach cvrun's binary on the host;
//   CVE-2024-21626 every fd above 2 (but --preserve-fds) is closed before the cwd is resolved,
//                  and the cwd is resolved inside the container's root without magic links;
//   CVE-2021-30465 every host path exec opens (pid file, console socket) is opened by the
//                  runtime in the host's mount namespace, never through the container.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime {

struct ExecOptions {
  std::string id;
  std::string process_file;       // --process: an OCI process.json
  std::vector<std::string> args;  // trailing arguments: the command
  bool tty = false;               // --tty
  std::string console_socket;
  bool detach = false;
  std::string pid_file;
  std::string cwd;
  std::vector<std::string> env;  // KEY=VALUE, added to (or replacing in) the process's env
  std::string user;              // "uid[:gid]"
  std::vector<std::string> caps;
  bool no_new_privs = false;
  int preserve_fds = 0;
  std::string process_label;  // SELinux: refused unless empty
  std::string apparmor;       // refused unless empty
};

// The process exec runs: `base` is the container's config.json process, or the parsed
// --process file when there is one; flags override it as runc's do. Errors name the flag.
Result<Process> ResolveExecProcess(const Process& base, bool from_process_file,
                                   const ExecOptions& options);

// Namespaces (their /proc/PID/ns names) that exec joins, in order: those whose identity differs
// between the container's init and us. "user" comes first (the others are joined with its
// credentials), "mnt" last (after it, paths are the container's).
struct NamespaceIdentity {
  std::string name;  // "user", "ipc", ...
  uint64_t container_dev = 0, container_ino = 0;
  uint64_t own_dev = 0, own_ino = 0;
};
std::vector<std::string> PlanExecJoins(const std::vector<NamespaceIdentity>& namespaces);
// The /proc/PID/ns names exec looks at, in join order.
const std::vector<std::string>& ExecNamespaceNames();

// Re-executes the running cvrun from a sealed (write-, grow-, shrink- and seal-sealed) memfd copy
// of its binary, with the same arguments, unless it already runs from one. Returns only on
// failure, or when already sealed.
Result<void> ReexecFromSealedCopy();
// Whether /proc/self/exe is a memfd with F_SEAL_WRITE.
bool RunningFromSealedCopy();

}  // namespace cvb::runtime
