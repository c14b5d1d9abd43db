// Runtime::Events: cgroup statistics (cgroup/stats.h) and OOM notifications of a live container.
//   v1 memory (v1 and hybrid hosts): an eventfd registered for memory.oom_control through
//     cgroup.event_control; the kernel signals it on every OOM in the cgroup (and when the cgroup
//     goes away).
//   v2: inotify on memory.events; an OOM is an increase of its oom_kill count.
// The loop also polls a pidfd of the init: the stream ends when the container stops.
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "cgroup/manager.h"
#include "cgroup/stats.h"
#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/unique_fd.h"
#include "cvb/runtime/container.h"
#include "sys/sys.h"

namespace cvb::runtime {
namespace {

using nlohmann::json;

struct OomWatch {
  UniqueFd fd;  // eventfd (v1) or inotify (v2)
  bool v2 = false;
  std::string events;         // v2: memory.events
  uint64_t oom_kills = 0;     // v2: count seen so far
  std::string event_control;  // v1: gone once the cgroup is removed
};

Result<OomWatch> WatchOom(const cgroup::Host& host, const std::vector<std::string>& leaves) {
  OomWatch w;
  if (host.mode == cgroup::Host::Mode::kV2) {
    for (const auto& leaf : leaves)
      if (PathExists(leaf + "/memory.events")) w.events = leaf + "/memory.events";
    if (w.events.empty()) return Failure("events: the container has no memory.events");
    w.v2 = true;
    w.fd.reset(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!w.fd || inotify_add_watch(w.fd.get(), w.events.c_str(), IN_MODIFY) < 0)
      return ErrnoError("events: inotify on " + w.events);
    auto text = ReadFile(w.events);
    w.oom_kills = text.ok() ? cgroup::OomKillCount(*text) : 0;
    return w;
  }
  const cgroup::V1Hierarchy* memory = host.FindV1("memory");
  std::string dir;
  for (const auto& leaf : leaves)
    if (memory && leaf.compare(0, memory->mount.size() + 1, memory->mount + "/") == 0) dir = leaf;
  if (dir.empty()) return Failure("events: the container has no v1 memory cgroup");
  w.fd.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!w.fd) return ErrnoError("events: eventfd");
  UniqueFd oom_control(::open((dir + "/memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
  if (!oom_control) return ErrnoError("events: open " + dir + "/memory.oom_control");
  w.event_control = dir + "/cgroup.event_control";
  // The kernel keeps its own reference to oom_control: our fd may close after registering.
  CVB_TRY(sys::RealSys().WriteFile(
      w.event_control, std::to_string(w.fd.get()) + " " + std::to_string(oom_control.get())));
  return w;
}

}  // namespace

Result<void> Runtime::Events(const std::string& id, bool stats_only, int interval_ms,
                             const std::function<void(const std::string&)>& emit) {
  CVB_ASSIGN_OR_RETURN(State state, store_.Load(id));
  Status status = store_.StatusOf(state);
  if (status != Status::kCreated && status != Status::kRunning && status != Status::kPaused)
    return Failure("container " + id + " is " + StatusName(status) +
                   ": events need a created, running or paused container");
  CVB_ASSIGN_OR_RETURN(cgroup::Host host, cgroup::DetectHost(sys::RealSys()));
  const long ticks = sysconf(_SC_CLK_TCK);
  auto stats = [&] {
    return json{{"type", "stats"},
                {"id", id},
                {"data", cgroup::ReadStats(sys::RealSys(), host, state.cgroup_leaves, ticks)}}
        .dump();
  };
  if (stats_only) {
    emit(stats());
    return Ok();
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, state.pid, 0)));
  if (!pidfd) return ErrnoError("events: pidfd_open " + std::to_string(state.pid));
  if (ProcessStartTime(state.pid) != state.pid_start_time) return Ok();  // it just stopped
  CVB_ASSIGN_OR_RETURN(OomWatch oom, WatchOom(host, state.cgroup_leaves));
  const std::string oom_event = json{{"type", "oom"}, {"id", id}}.dump();
  int64_t next_stats = MonotonicNs() + int64_t{interval_ms} * 1000000;
  for (;;) {
    int64_t wait_ms = (next_stats - MonotonicNs()) / 1000000;
    pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {oom.fd.get(), POLLIN, 0}};
    int n = poll(fds, 2, wait_ms > 0 ? static_cast<int>(wait_ms) : 0);
    if (n < 0 && errno != EINTR) return ErrnoError("events: poll");
    if (n > 0 && (fds[1].revents & POLLIN)) {
      if (oom.v2) {
        char buf[4096];
        while (::read(oom.fd.get(), buf, sizeof buf) > 0) {
        }
        auto text = ReadFile(oom.events);
        uint64_t now = text.ok() ? cgroup::OomKillCount(*text) : oom.oom_kills;
        for (; oom.oom_kills < now; ++oom.oom_kills) emit(oom_event);
      } else {
        uint64_t count = 0;
        if (::read(oom.fd.get(), &count, sizeof count) == sizeof count) {
          // The eventfd also fires when the cgroup is removed: that is the end, not an OOM.
          if (!PathExists(oom.event_control)) return Ok();
          for (uint64_t i = 0; i < count; ++i) emit(oom_event);
        }
      }
    }
    if (n > 0 && (fds[0].revents & POLLIN)) return Ok();  // the init exited
    if (MonotonicNs() >= next_stats) {
      emit(stats());
      next_stats += int64_t{interval_ms} * 1000000;
    }
  }
}

}  // namespace cvb::runtime
