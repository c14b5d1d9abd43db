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

namespace {

// "cvb-docker-runc-4711-3" names owner 4711 (prefix, then a runtime, then the owner).
bool EngineNameOwnedBy(const std::string& name, const std::string& prefix, pid_t owner,
                       bool counter) {
  if (name.rfind(prefix, 0) != 0) return false;
  std::string rest = name.substr(prefix.size());  // <rt>-<owner>[-<k>]
  size_t dash = rest.find('-');
  if (dash == std::string::npos) return false;
  std::string tail = rest.substr(dash + 1);
  std::string own = std::to_string(owner);
  if (!counter) return tail == own;
  return tail.rfind(own + "-", 0) == 0 && tail.size() > own.size() + 1;
}

Result<RunOutput> RunQuiet(const std::vector<std::string>& argv) {
  return Run(argv, std::chrono::seconds(60));
}

}  // namespace

std::vector<std::string> ReapEngineLeftovers(pid_t owner) {
  std::vector<std::string> report;
  for (const auto& entry : ListDirectory("/run")) {
    // Docker: containers, then image tags.
    if (entry.size() > 7 && entry.compare(entry.size() - 7, 7, "-docker") == 0) {
      std::string socket = "/run/" + entry + "/docker.sock";
      if (!DockerPing(socket, std::chrono::seconds(2))) continue;
      std::vector<std::string> docker{"/usr/bin/docker", "-H", "unix://" + socket};
      auto with = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = docker;
        argv.insert(argv.end(), args.begin(), args.end());
        return RunQuiet(argv);
      };
      if (auto ps = with({"ps", "-a", "--format", "{{.Names}}"}); ps && ps->status.ok())
        for (const auto& name : Split(ps->out, '\n'))
          if (EngineNameOwnedBy(Trim(name), "cvb-docker-", owner, true)) {
            auto rm = with({"rm", "-f", Trim(name)});
            report.push_back((rm && rm->status.ok() ? "removed docker container "
                                                    : "could not remove docker container ") +
                             Trim(name) + " (" + socket + ")");
          }
      if (auto images = with({"images", "--format", "{{.Repository}}:{{.Tag}}"});
          images && images->status.ok())
        for (const auto& ref : Split(images->out, '\n')) {
          std::string repo = Trim(ref).substr(0, Trim(ref).rfind(':'));
          if (!EngineNameOwnedBy(repo, "localhost/cvb-bench-", owner, false)) continue;
          auto rmi = with({"rmi", "-f", Trim(ref)});
          report.push_back((rmi && rmi->status.ok() ? "removed docker image "
                                                    : "could not remove docker image ") +
                           Trim(ref));
        }
    }
    // containerd: the launcher's namespace.
    if (entry.size() > 11 && entry.compare(entry.size() - 11, 11, "-containerd") == 0) {
      std::string socket = "/run/" + entry + "/containerd.sock";
      if (!SocketAccepts(socket)) continue;
      auto namespaces = RunQuiet({"ctr", "-a", socket, "namespaces", "ls", "-q"});
      if (!namespaces || !namespaces->status.ok()) continue;
      for (const auto& raw : Split(namespaces->out, '\n')) {
        std::string ns = Trim(raw);
        if (!EngineNameOwnedBy(ns, "cvb-", owner, false)) continue;
        std::vector<std::string> ctr{"ctr", "-a", socket, "-n", ns};
        auto with = [&](std::vector<std::string> args) {
          std::vector<std::string> argv = ctr;
          argv.insert(argv.end(), args.begin(), args.end());
          return RunQuiet(argv);
        };
        if (auto tasks = with({"task", "ls", "-q"}); tasks && tasks->status.ok())
          for (const auto& id : Split(tasks->out, '\n')) {
            (void)with({"task", "kill", "-s", "SIGKILL", Trim(id)});
            (void)with({"task", "delete", "-f", Trim(id)});
          }
        if (auto cs = with({"container", "ls", "-q"}); cs && cs->status.ok())
          for (const auto& id : Split(cs->out, '\n')) {
            (void)with({"container", "delete", Trim(id)});
            report.push_back("removed containerd container " + Trim(id) + " (" + ns + ")");
          }
        if (auto images = with({"images", "ls", "-q"}); images && images->status.ok())
          for (const auto& ref : Split(images->out, '\n'))
            (void)with({"images", "rm", "--sync", Trim(ref)});
        auto rm = with({"namespaces", "rm", ns});
        report.push_back((rm && rm->status.ok() ? "removed containerd namespace "
                                                : "could not remove containerd namespace ") +
                         ns + " (" + socket + ")");
      }
    }
  }
  // ctr's cgroups (/<namespace>/<id>) in every hierarchy, once their tasks are gone.
  for (const auto& hierarchy : ListDirectory("/sys/fs/cgroup"))
    for (const auto& e : ListDirectory("/sys/fs/cgroup/" + hierarchy)) {
      if (!EngineNameOwnedBy(e, "cvb-", owner, false)) continue;
      std::string dir = "/sys/fs/cgroup/" + hierarchy + "/" + e;
      for (const auto& sub : ListDirectory(dir))
        if (PathExists(dir + "/" + sub + "/cgroup.procs")) (void)::rmdir((dir + "/" + sub).c_str());
      report.push_back(::rmdir(dir.c_str()) == 0 ? "removed cgroup " + dir
                                                 : "could not remove cgroup " + dir);
    }
  return report;
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
