// Container state on disk: <root>/<id>/state.json, config.json (the bundle's config as create
// read and validated it) and exec.fifo while created, not started.
// The directory is the container's existence: mkdir is the atomic "this ID is taken".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::runtime {

// kPaused: running, with its cgroup frozen (pause); not a runtime-spec state, as in runc.
enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* StatusName(Status status);

struct State {
  std::string id;
  pid_t pid = 0;                // host pid of the container's init; 0 while creating
  uint64_t pid_start_time = 0;  // /proc/PID/stat field 22: tells a reused pid apart
  pid_t creator_pid = 0;        // the cvrun that is creating it (for "creating" entries)
  std::string bundle;
  std::string rootfs;
  std::string created;          // RFC 3339, UTC
  std::string cgroup_mode;      // v1, v2, hybrid
  std::string cgroups_path;     // as resolved from the spec: lets delete find the cgroups of a
                                // create that died before it recorded the directories it made
  std::vector<std::string> cgroup_leaves;
  std::vector<std::string> cgroup_created;
  std::map<std::string, std::string> annotations;
  bool started = false;
  bool has_poststart = false;  // hooks that need config.json again after create
  bool has_poststop = false;
  // Every `cvrun update` so far, merged (a linux.resources JSON object; "" when none): what the
  // container's cgroups hold beyond config.json, which stays the engine's file.
  std::string resources_update;

  std::string ToJson() const;
  static Result<State> FromJson(const std::string& text);
  // The OCI state that `cvrun state` prints.
  std::string OciJson(Status status) const;
};

// Valid IDs: [A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}; nothing that could walk out of the root.
Result<void> ValidateId(const std::string& id);

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string Dir(const std::string& id) const { return root_ + "/" + id; }
  std::string FifoPath(const std::string& id) const { return Dir(id) + "/exec.fifo"; }
  // create's copy of config.json: exec and the hooks read it, not the bundle (which the engine
  // may edit after create), as runc does.
  std::string ConfigPath(const std::string& id) const { return Dir(id) + "/config.json"; }

  // Makes <root>/<id>; "container ID already exists" when it is there.
  Result<void> Reserve(const std::string& id);
  Result<void> Save(const State& state);
  // Writes ConfigPath(id), mode 0600, atomically.
  Result<void> SaveConfig(const std::string& id, std::string_view config_text);
  // The text SaveConfig wrote; an error naming the file when it is missing.
  Result<std::string> LoadConfig(const std::string& id) const;
  // "container ID does not exist" for an unknown ID. An entry whose creator died before writing
  // any state loads as a bare State with only the id set.
  Result<State> Load(const std::string& id) const;
  Result<void> Remove(const std::string& id);
  std::vector<std::string> List() const;
  // Created / running / paused / stopped, from the process, the fifo and the freezer.
  Status StatusOf(const State& state) const;

 private:
  std::string root_;
};

// Field 22 of /proc/PID/stat, 0 if the process is gone; zombie set when it is a zombie.
uint64_t ProcessStartTime(pid_t pid, bool* zombie = nullptr);
std::string Rfc3339Now();

}  // namespace cvb::runtime
