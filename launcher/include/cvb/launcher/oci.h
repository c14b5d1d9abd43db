// Any OCI runtime binary (cvrun, crun, runc, runsc) driven through its command line, the way
// container engines drive it: `create --bundle B --pid-file P ID`, `start ID`, wait for the
// container's init, `delete [--force] ID`. All runtimes get the same bundle.
#pragma once

#include <string>
#include <vector>

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {

struct OciRuntimeSpec {
  std::string name;                      // launcher name: "crun"
  std::string binary;                    // path or name in PATH
  std::vector<std::string> global_args;  // before the subcommand, e.g. {"--network=none"}
  std::string condition;                 // why those args, for the results' context
  // needs_network instances (throughput's net mode) get these instead of global_args; empty:
  // global_args. runsc: --network=sandbox, gVisor's own netstack over the instance's veth.
  std::vector<std::string> network_args;
  // Pass --log-format json --log F and read per-phase timings from F (cvrun).
  bool phase_log = false;
  // What the pid file's process is, for the fingerprint's host view ("" = the container's init,
  // the workload itself). runsc: the sandbox, whose own configuration is not the workload's.
  std::string host_view;
  // The runtime leaves processes outside the container's process tree that name the container on
  // their command line (runsc's gofer and sandbox): an instance's host processes then include
  // them. Finding them scans all of /proc, per instance; runtimes without helpers skip it (at
  // N = 1000 containers that scan made reading the density step take ~220 s).
  bool helper_processes = false;
};

Result<std::unique_ptr<Launcher>> MakeOciLauncher(const LauncherConfig& config,
                                                  const OciRuntimeSpec& spec);

// The built-in runtime specs: cvrun (beside the running executable), crun, runc, runsc.
std::vector<OciRuntimeSpec> BuiltinOciRuntimes();

// crun 1.8 refuses hybrid cgroup hosts; it works in a private mount namespace without the
// cgroup2 mount at /sys/fs/cgroup/unified. cvbench moves its whole process there before any
// launcher runs, so every runtime is measured under the same condition (it costs nothing per
// run). Must be called while the process is single-threaded. Returns a description of what was
// done for the results' context ("" when nothing was needed).
Result<std::string> EnterOciHostConditions();

}  // namespace cvb::launcher
