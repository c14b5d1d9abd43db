#include "cvb/runtime/state.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "cgroup/freezer.h"
#include "cvb/common/file.h"
#include "sys/sys.h"

namespace cvb::runtime {

const char* StatusName(Status status) {
  switch (status) {
    case Status::kCreating: return "creating";
    case Status::kCreated: return "created";
    case Status::kRunning: return "running";
    case Status::kPaused: return "paused";
    default: return "stopped";
  }
}

std::string State::ToJson() const {
  nlohmann::json j = {{"id", id},
                      {"pid", pid},
                      {"pid_start_time", pid_start_time},
                      {"creator_pid", creator_pid},
                      {"bundle", bundle},
                      {"rootfs", rootfs},
                      {"created", created},
                      {"cgroup_mode", cgroup_mode},
                      {"cgroups_path", cgroups_path},
                      {"cgroup_leaves", cgroup_leaves},
                      {"cgroup_created", cgroup_created},
                      {"annotations", annotations},
                      {"started", started},
                      {"has_poststart", has_poststart},
                      {"has_poststop", has_poststop}};
  if (!resources_update.empty())
    j["resources_update"] = nlohmann::json::parse(resources_update, nullptr, false);
  return j.dump();
}

Result<State> State::FromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Failure("state.json: malformed");
  State s;
  s.id = j.value("id", "");
  s.pid = j.value("pid", 0);
  s.pid_start_time = j.value("pid_start_time", uint64_t{0});
  s.creator_pid = j.value("creator_pid", 0);
  s.bundle = j.value("bundle", "");
  s.rootfs = j.value("rootfs", "");
  s.created = j.value("created", "");
  s.cgroup_mode = j.value("cgroup_mode", "");
  s.cgroups_path = j.value("cgroups_path", "");
  s.cgroup_leaves = j.value("cgroup_leaves", std::vector<std::string>{});
  s.cgroup_created = j.value("cgroup_created", std::vector<std::string>{});
  s.annotations = j.value("annotations", std::map<std::string, std::string>{});
  s.started = j.value("started", false);
  s.has_poststart = j.value("has_poststart", false);
  s.has_poststop = j.value("has_poststop", false);
  if (j.contains("resources_update") && j["resources_update"].is_object())
    s.resources_update = j["resources_update"].dump();
  return s;
}

std::string State::OciJson(Status status) const {
  nlohmann::json j = {{"ociVersion", "1.0.2"},
                      {"id", id},
                      {"status", StatusName(status)},
                      {"pid", status == Status::kStopped ? 0 : pid},
                      {"bundle", bundle},
                      {"rootfs", rootfs},
                      {"created", created},
                      {"owner", ""}};
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump(2);
}

Result<void> ValidateId(const std::string& id) {
  if (id.empty()) return Failure("container ID must not be empty");
  if (id.size() > 1024) return Failure("container ID is longer than 1024 characters");
  for (size_t i = 0; i < id.size(); ++i) {
    char c = id[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (i > 0 && (c == '_' || c == '.' || c == '-' || c == '+'));
    if (!ok) return Failure("invalid container ID \"" + id + "\" (allowed: [A-Za-z0-9][A-Za-z0-9_.+-]*)");
  }
  return Ok();
}

Result<void> StateStore::Reserve(const std::string& id) {
  CVB_TRY(ValidateId(id));
  if (::mkdir(root_.c_str(), 0700) != 0 && errno != EEXIST) {
    CVB_TRY(MakeDirs(root_, 0700));
  }
  if (::mkdir(Dir(id).c_str(), 0700) != 0) {
    if (errno == EEXIST) return Failure("container " + id + " already exists");
    return ErrnoError("state: mkdir " + Dir(id));
  }
  return Ok();
}

Result<void> StateStore::Save(const State& state) {
  return WriteFileAtomic(Dir(state.id) + "/state.json", state.ToJson(), 0600);
}

Result<void> StateStore::SaveConfig(const std::string& id, std::string_view config_text) {
  return WriteFileAtomic(ConfigPath(id), config_text, 0600);
}

Result<std::string> StateStore::LoadConfig(const std::string& id) const {
  CVB_TRY(ValidateId(id));
  auto text = ReadFile(ConfigPath(id));
  if (!text.ok())
    return text.error().wrap("container " + id + ": create's copy of config.json");
  return text;
}

Result<State> StateStore::Load(const std::string& id) const {
  CVB_TRY(ValidateId(id));
  struct stat st;
  if (::stat(Dir(id).c_str(), &st) != 0) return Error{0, "container " + id + " does not exist"};
  auto text = ReadFile(Dir(id) + "/state.json");
  if (!text.ok()) {
    State bare;
    bare.id = id;
    return bare;
  }
  auto s = State::FromJson(*text);
  if (!s.ok()) return s.error().wrap("container " + id);
  s->id = id;
  return s;
}

Result<void> StateStore::Remove(const std::string& id) {
  CVB_TRY(ValidateId(id));
  ::unlink(FifoPath(id).c_str());
  ::unlink((Dir(id) + "/state.json").c_str());
  ::unlink((Dir(id) + "/state.json.tmp").c_str());
  ::unlink(ConfigPath(id).c_str());
  if (::rmdir(Dir(id).c_str()) != 0 && errno != ENOENT) {
    CVB_TRY(RemoveTree(Dir(id)));
  }
  return Ok();
}

std::vector<std::string> StateStore::List() const {
  std::vector<std::string> ids;
  for (auto& name : ListDirectory(root_))  // sorted
    if (ValidateId(name).ok()) ids.push_back(std::move(name));
  return ids;
}

Status StateStore::StatusOf(const State& state) const {
  if (state.pid <= 0) {
    // Being created, unless its creator is gone.
    if (state.creator_pid > 0 && ::kill(state.creator_pid, 0) == 0) return Status::kCreating;
    return Status::kStopped;
  }
  bool zombie = false;
  uint64_t start = ProcessStartTime(state.pid, &zombie);
  if (start == 0 || zombie || start != state.pid_start_time) return Status::kStopped;
  if (!state.started && ::access(FifoPath(state.id).c_str(), F_OK) == 0) return Status::kCreated;
  // A frozen (or freezing) cgroup is a paused container, whoever froze it.
  if (auto freezer = cgroup::FindFreezer(sys::RealSys(), state.cgroup_leaves, state.cgroup_mode);
      freezer.ok()) {
    auto frozen = cgroup::ReadFreezerState(sys::RealSys(), *freezer);
    if (frozen.ok() && *frozen != cgroup::FreezerState::kThawed) return Status::kPaused;
  }
  return Status::kRunning;
}

uint64_t ProcessStartTime(pid_t pid, bool* zombie) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  char* p = strrchr(buf, ')');
  if (!p) return 0;
  p += 2;  // ") "
  if (zombie) *zombie = *p == 'Z' || *p == 'X';
  // p is field 3 (state); start time is field 22.
  for (int field = 3; field < 22 && p; ++field) {
    p = strchr(p, ' ');
    if (p) ++p;
  }
  return p ? strtoull(p, nullptr, 10) : 0;
}

std::string Rfc3339Now() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

}  // namespace cvb::runtime
