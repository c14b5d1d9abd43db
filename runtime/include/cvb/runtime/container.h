// cvrun's operations, as the CLI exposes them (runc/crun compatible):
//   Create  reserve the ID, make cgroups, clone3 the init into its namespaces, let it build the
//           root (mounts, pivot_root, masked paths, user, capabilities, seccomp) and wait on the
//           exec fifo; write state and pid file. No process of ours stays behind.
//   Start   release the init (one byte into the exec fifo).
//   Run     Create + Start in one process; waits for the exit and cleans up unless detached.
//   Exec    another process in the container (exec.h).
//   Kill / Delete / StateJson / List / Ps / Pause / Resume / Update / Events.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/exec.h"
#include "cvb/runtime/log.h"
#include "cvb/runtime/spec.h"
#include "cvb/runtime/state.h"

namespace cvb::runtime {

struct RuntimeOptions {
  std::string root = "/run/cvrun";
  int64_t start_ns = 0;  // CLOCK_MONOTONIC at process start, for the "total" phase
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  int preserve_fds = 0;
};

struct ContainerInfo {
  State state;
  Status status;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);

  Result<pid_t> Create(const CreateOptions& options);
  Result<void> Start(const std::string& id);
  // Returns the container's exit code (128 + signal when killed); 0 when detached.
  Result<int> Run(const CreateOptions& options, bool detach);
  Result<std::string> StateJson(const std::string& id);
  Result<void> Kill(const std::string& id, int sig, bool all);
  Result<void> Delete(const std::string& id, bool force);
  Result<std::vector<ContainerInfo>> List();
  Result<std::vector<pid_t>> Ps(const std::string& id);
  // Freezes a running container's cgroup / thaws a paused one (src/pause.cc).
  Result<void> Pause(const std::string& id);
  Result<void> Resume(const std::string& id);
  // Applies a linux.resources JSON object to a live container's cgroups and records it in the
  // state (src/update.cc).
  Result<void> Update(const std::string& id, const std::string& resources_json);
  // `events`, one JSON line per event through emit (src/events.cc): with stats_only one
  // {"type":"stats"} object; otherwise {"type":"oom"} as the kernel reports each OOM and stats
  // every interval_ms, until the container's init exits.
  Result<void> Events(const std::string& id, bool stats_only, int interval_ms,
                      const std::function<void(const std::string&)>& emit);
  // `cvrun exec` (src/exec.cc): the process's exit code (128 + signal), 0 when detached.
  Result<int> Exec(const ExecOptions& options);

  // Phase timings of the last Create/Run.
  const PhaseTimings& timings() const { return timings_; }

 private:
  Result<pid_t> CreateContainer(const CreateOptions& options, bool run_mode, bool detach);

  RuntimeOptions options_;
  StateStore store_;
  PhaseTimings timings_;
  // The last create's poststart hooks and their state JSON (`run` runs them after the commit).
  std::vector<Hook> poststart_;
  std::string poststart_state_;
};

// The config create validated, from its copy in the state directory (StateStore::ConfigPath),
// root.path made absolute against the state's bundle. exec and the poststart/poststop hooks use
// it, so that editing the bundle's config.json after create changes nothing (as in runc).
Result<Spec> CreatedSpec(const StateStore& store, const State& state);

// "TERM", "SIGTERM", "15", "RTMIN+3" → signal number; unknown → an error naming it.
Result<int> ParseSignal(std::string_view name);

}  // namespace cvb::runtime
