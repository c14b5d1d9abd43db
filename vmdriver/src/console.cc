#include "cvb/vmdriver/console.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "cvb/common/clock.h"

namespace cvb::vmdriver {

ConsoleListener::ConsoleListener(ConsoleListener&& o) noexcept
    : fd_(std::move(o.fd_)), path_(std::move(o.path_)) {
  o.path_.clear();
}

ConsoleListener& ConsoleListener::operator=(ConsoleListener&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = std::move(o.fd_);
    path_ = std::move(o.path_);
    o.path_.clear();
  }
  return *this;
}

void ConsoleListener::Close() {
  fd_.reset();
  if (!path_.empty()) ::unlink(path_.c_str());
  path_.clear();
}

Result<ConsoleListener> ConsoleListener::Listen(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Failure("console socket path too long for a unix socket: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ConsoleListener l;
  l.fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!l.fd_) return ErrnoError("socket AF_UNIX");
  ::unlink(path.c_str());
  if (::bind(l.fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return ErrnoError("bind " + path);
  l.path_ = path;  // from here on the destructor unlinks it
  if (::listen(l.fd_.get(), 1) != 0) return ErrnoError("listen " + path);
  return l;
}

Result<UniqueFd> ConsoleListener::Accept(int64_t deadline_ns, pid_t* peer_pid) {
  for (;;) {
    UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (c) {
      ucred cred{};
      socklen_t len = sizeof cred;
      if (peer_pid) {
        *peer_pid =
            ::getsockopt(c.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : -1;
      }
      return c;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      return ErrnoError("accept " + path_);
    int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) return Error{ETIMEDOUT, "no console connection on " + path_};
    pollfd p{fd_.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 200)));
  }
}

}  // namespace cvb::vmdriver
