#include "cvb/launcher/engine_daemons.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "cvb/common/subprocess.h"
#include "cvb/common/unique_fd.h"

#ifndef CVB_SCRIPTS_DIR
#define CVB_SCRIPTS_DIR "scripts"
#endif

namespace cvb::launcher {
namespace {

Result<UniqueFd> ConnectUnix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return Failure("socket path too long: " + path);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoError("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return ErrnoError("connect " + path);
  return fd;
}

}  // namespace

std::string EngineInstance::HostCondition() const {
  auto text = ReadFile(containerd_state() + "/host-condition");
  return text ? Trim(*text) : "unknown (" + containerd_state() + "/host-condition unreadable)";
}

EngineInstance EngineInstanceFrom(const std::map<std::string, std::string>& params) {
  EngineInstance e;
  if (auto it = params.find("engine_name"); it != params.end() && !it->second.empty())
    e.name = it->second;
  return e;
}

std::string EngineScriptsDir() {
  if (const char* d = std::getenv("CVB_SCRIPTS_DIR"); d && *d) return d;
  return CVB_SCRIPTS_DIR;
}

pid_t LivePidFromFile(const std::string& pidfile, const std::string& comm) {
  auto text = ReadFile(pidfile);
  if (!text) return -1;
  pid_t pid = static_cast<pid_t>(std::atol(Trim(*text).c_str()));
  if (pid <= 0 || ProcessGone(pid)) return -1;
  auto name = ReadFile("/proc/" + std::to_string(pid) + "/comm");
  if (!name || Trim(*name) != comm) return -1;
  return pid;
}

bool SocketAccepts(const std::string& path) { return ConnectUnix(path).ok(); }

Result<void> DockerPing(const std::string& socket, std::chrono::milliseconds timeout) {
  CVB_ASSIGN_OR_RETURN(UniqueFd fd, ConnectUnix(socket));
  static const char request[] = "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n";
  if (::send(fd.get(), request, sizeof request - 1, MSG_NOSIGNAL) != sizeof request - 1)
    return ErrnoError("send to " + socket);
  std::string reply;
  int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
  char buf[512];
  for (;;) {
    int64_t left_ms = (deadline - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) return Error{ETIMEDOUT, "dockerd did not answer /_ping on " + socket};
    pollfd p{fd.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left_ms));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.size() > 4096) break;
  }
  // HTTP/1.0: the daemon closes after the body ("OK").
  if (reply.rfind("HTTP/1.", 0) == 0 && reply.find(" 200 ") != std::string::npos &&
      reply.size() >= 2 && reply.compare(reply.size() - 2, 2, "OK") == 0)
    return Ok();
  return Failure("dockerd on " + socket + " answered /_ping with: " + reply.substr(0, 200));
}

DaemonWait::DaemonWait(std::string what, std::function<Result<void>()> probe, int64_t wait_ms)
    : what_(std::move(what)), probe_(std::move(probe)), wait_ms_(wait_ms) {}

Result<void> DaemonWait::Ready() {
  auto first = probe_();
  if (first) {
    std::lock_guard<std::mutex> lock(mu_);
    gave_up_ = false;
    return Ok();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gave_up_)
      return first.error().wrap(what_ + " is down (it did not come back within " +
                                std::to_string(wait_ms_ / 1000) +
                                " s of an earlier start; failing fast)");
  }
  int64_t deadline = MonotonicNs() + wait_ms_ * 1'000'000;
  Result<void> last = first;
  while (MonotonicNs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    last = probe_();
    if (last) return Ok();
  }
  std::lock_guard<std::mutex> lock(mu_);
  gave_up_ = true;
  return last.error().wrap(what_ + " did not answer within " + std::to_string(wait_ms_ / 1000) +
                           " s (--param daemon_wait_ms)");
}

Result<std::string> RunEngineScript(const std::vector<std::string>& argv,
                                    std::chrono::milliseconds timeout) {
  std::vector<std::string> full = argv;
  full[0] = EngineScriptsDir() + "/" + argv[0];
  auto r = Run(full, timeout);
  if (!r) return r.error().wrap(JoinArgv(full));
  if (!r->status.ok())
    return Failure(JoinArgv(full) + ": " + r->status.describe() + ": " + Trim(r->err + r->out));
  return r->out + r->err;
}

}  // namespace cvb::launcher
