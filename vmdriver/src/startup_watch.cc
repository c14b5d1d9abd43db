#include "cvb/vmdriver/startup_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/unique_fd.h"

namespace cvb::vmdriver {

struct StartupWatch::State {
  UniqueFd inotify;  // watches dir (empty: not watched)
  UniqueFd stop;     // eventfd: Finish() wakes the thread
  int listen_fd = -1;
  std::string file;
  Seen seen;  // written by the thread only, read after join
  std::thread thread;

  void Run() {
    alignas(inotify_event) char buf[4096];
    for (;;) {
      pollfd p[3];
      int n = 0;
      p[n++] = {stop.get(), POLLIN, 0};
      int ino = -1, lis = -1;
      if (inotify && !seen.file_created_ns) {
        ino = n;
        p[n++] = {inotify.get(), POLLIN, 0};
      }
      // A pending connection keeps the socket readable: watch it only until it is first seen.
      if (listen_fd >= 0 && !seen.connection_pending_ns) {
        lis = n;
        p[n++] = {listen_fd, POLLIN, 0};
      }
      if (::poll(p, n, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      int64_t now = MonotonicNs();
      if (p[0].revents) return;
      if (lis >= 0 && (p[lis].revents & POLLIN)) seen.connection_pending_ns = now;
      if (ino >= 0 && (p[ino].revents & POLLIN)) {
        ssize_t len = ::read(inotify.get(), buf, sizeof buf);
        for (ssize_t off = 0; len > 0 && off < len;) {
          auto* ev = reinterpret_cast<inotify_event*>(buf + off);
          if (ev->len > 0 && file == ev->name) seen.file_created_ns = now;
          off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        }
      }
    }
  }
};

Result<std::unique_ptr<StartupWatch>> StartupWatch::Begin(const std::string& dir,
                                                          const std::string& file, int listen_fd) {
  std::unique_ptr<StartupWatch> w(new StartupWatch());
  w->state_ = std::make_unique<State>();
  State& s = *w->state_;
  s.file = file;
  s.listen_fd = listen_fd;
  s.stop.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s.stop) return ErrnoError("eventfd");
  if (!dir.empty() && PathExists(dir)) {
    s.inotify.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    if (!s.inotify) return ErrnoError("inotify_init1");
    if (::inotify_add_watch(s.inotify.get(), dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0)
      return ErrnoError("inotify_add_watch " + dir);
  }
  s.thread = std::thread([&s] { s.Run(); });
  return w;
}

StartupWatch::Seen StartupWatch::Finish() {
  if (!state_) return {};
  if (state_->thread.joinable()) {
    uint64_t one = 1;
    (void)!::write(state_->stop.get(), &one, sizeof one);
    state_->thread.join();
  }
  return state_->seen;
}

StartupWatch::~StartupWatch() { (void)Finish(); }

}  // namespace cvb::vmdriver
