#include "net_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "cvb/common/clock.h"
#include "cvb/common/unique_fd.h"

namespace cvb::bench {
namespace {

int64_t Deadline(std::chrono::milliseconds d) { return MonotonicNs() + d.count() * 1'000'000; }

// Waits for events on fd until deadline_ns; ETIMEDOUT after it.
Result<void> WaitFd(int fd, short events, int64_t deadline_ns, const char* what) {
  for (;;) {
    int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) return Error{ETIMEDOUT, std::string("net client: ") + what};
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (r > 0) return Ok();
    if (r < 0 && errno != EINTR) return ErrnoError(std::string("net client: poll ") + what);
  }
}

Result<UniqueFd> Connect(const NetClientOptions& o) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.address.c_str(), &addr.sin_addr) != 1)
    return Failure("net client: '" + o.address + "' is not an IPv4 address");
  int64_t deadline = Deadline(o.connect_timeout);
  Error last{ETIMEDOUT, "net client: connect " + o.address + ":" + std::to_string(o.port)};
  do {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return ErrnoError("net client: socket");
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    if (r != 0 && errno == EINPROGRESS) {
      auto w = WaitFd(fd.get(), POLLOUT, std::min(deadline, Deadline(std::chrono::seconds(2))),
                      "connect");
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (w && err == 0) return fd;
      r = -1;
      errno = w ? err : ETIMEDOUT;
    }
    if (r == 0) return fd;
    last = ErrnoError("net client: connect " + o.address + ":" + std::to_string(o.port));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (MonotonicNs() < deadline);
  return last;
}

Result<void> SendAll(int fd, const char* buf, size_t n, int64_t deadline) {
  size_t put = 0;
  while (put < n) {
    ssize_t w = ::send(fd, buf + put, n - put, MSG_NOSIGNAL);
    if (w > 0) {
      put += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) return ErrnoError("net client: send");
    CVB_TRY(WaitFd(fd, POLLOUT, deadline, "send"));
  }
  return Ok();
}

// Reads up to n bytes (at least 1); 0 on EOF.
Result<size_t> RecvSome(int fd, char* buf, size_t n, int64_t deadline) {
  for (;;) {
    ssize_t r = ::recv(fd, buf, n, 0);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EAGAIN && errno != EINTR) return ErrnoError("net client: recv");
    CVB_TRY(WaitFd(fd, POLLIN, deadline, "recv"));
  }
}

Result<void> RecvExact(int fd, char* buf, size_t n, int64_t deadline) {
  size_t got = 0;
  while (got < n) {
    CVB_ASSIGN_OR_RETURN(size_t r, RecvSome(fd, buf + got, n - got, deadline));
    if (r == 0) return Failure("net client: the server closed the connection");
    got += r;
  }
  return Ok();
}

Result<std::string> RecvLine(int fd, int64_t deadline) {
  std::string line;
  char c;
  while (line.size() < 128) {
    CVB_ASSIGN_OR_RETURN(size_t r, RecvSome(fd, &c, 1, deadline));
    if (r == 0) return Failure("net client: the server closed before answering");
    if (c == '\n') return line;
    line += c;
  }
  return Failure("net client: answer line too long");
}

Result<double> StreamToInstance(const NetClientOptions& o) {
  CVB_ASSIGN_OR_RETURN(UniqueFd fd, Connect(o));
  int64_t io = Deadline(o.io_timeout);
  CVB_TRY(SendAll(fd.get(), "RECV\n", 5, io));
  std::vector<char> buf(256 << 10, 'c');
  int64_t t0 = MonotonicNs();
  int64_t until = t0 + static_cast<int64_t>(o.stream_seconds * 1e9);
  while (MonotonicNs() < until) CVB_TRY(SendAll(fd.get(), buf.data(), buf.size(), Deadline(o.io_timeout)));
  ::shutdown(fd.get(), SHUT_WR);
  // The figure ends when the server confirms it has every byte, not when our buffer took them.
  CVB_ASSIGN_OR_RETURN(std::string ok, RecvLine(fd.get(), Deadline(o.io_timeout)));
  double secs = (MonotonicNs() - t0) / 1e9;
  if (ok.rfind("OK ", 0) != 0) return Failure("net client: RECV answered '" + ok + "'");
  double bytes = std::strtod(ok.c_str() + 3, nullptr);
  return bytes / secs / 1e6;
}

Result<double> StreamFromInstance(const NetClientOptions& o) {
  CVB_ASSIGN_OR_RETURN(UniqueFd fd, Connect(o));
  std::string cmd = "SEND " + std::to_string(static_cast<int64_t>(o.stream_seconds * 1000)) + "\n";
  CVB_TRY(SendAll(fd.get(), cmd.data(), cmd.size(), Deadline(o.io_timeout)));
  std::vector<char> buf(256 << 10);
  double bytes = 0;
  int64_t first = 0;
  for (;;) {
    CVB_ASSIGN_OR_RETURN(size_t r, RecvSome(fd.get(), buf.data(), buf.size(), Deadline(o.io_timeout)));
    if (r == 0) break;
    if (!first) first = MonotonicNs();
    else bytes += static_cast<double>(r);  // bytes after the first read: over [first, end]
  }
  double secs = (MonotonicNs() - first) / 1e9;
  if (!first || secs <= 0) return Failure("net client: SEND delivered no data");
  return bytes / secs / 1e6;
}

}  // namespace

double Percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * samples.size()));
  rank = std::clamp<size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

Result<NetFigures> RunNetClient(const NetClientOptions& o) {
  NetFigures f;
  CVB_ASSIGN_OR_RETURN(f.stream_mb_per_s, StreamToInstance(o));
  CVB_ASSIGN_OR_RETURN(f.stream_rx_mb_per_s, StreamFromInstance(o));

  CVB_ASSIGN_OR_RETURN(UniqueFd fd, Connect(o));
  std::string cmd = "ECHO " + std::to_string(o.rr_bytes) + "\n";
  CVB_TRY(SendAll(fd.get(), cmd.data(), cmd.size(), Deadline(o.io_timeout)));
  std::vector<char> req(o.rr_bytes, 'r'), resp(o.rr_bytes);
  std::vector<double> lat_us;
  int64_t t0 = MonotonicNs();
  int64_t until = t0 + static_cast<int64_t>(o.rr_seconds * 1e9);
  int64_t now = t0;
  while (now < until) {
    int64_t s = now;
    int64_t io = Deadline(o.io_timeout);
    CVB_TRY(SendAll(fd.get(), req.data(), req.size(), io));
    CVB_TRY(RecvExact(fd.get(), resp.data(), resp.size(), io));
    now = MonotonicNs();
    lat_us.push_back((now - s) / 1e3);
  }
  f.rr_count = static_cast<double>(lat_us.size());
  f.rr_per_s = f.rr_count / ((now - t0) / 1e9);
  f.rr_p50_us = Percentile(lat_us, 50);
  f.rr_p99_us = Percentile(lat_us, 99);
  return f;
}

Result<void> SendNetQuit(const NetClientOptions& o) {
  NetClientOptions quick = o;
  quick.connect_timeout = std::min(o.connect_timeout, std::chrono::milliseconds(3000));
  CVB_ASSIGN_OR_RETURN(UniqueFd fd, Connect(quick));
  CVB_TRY(SendAll(fd.get(), "QUIT\n", 5, Deadline(o.io_timeout)));
  CVB_ASSIGN_OR_RETURN(std::string bye, RecvLine(fd.get(), Deadline(o.io_timeout)));
  if (bye != "BYE") return Failure("net client: QUIT answered '" + bye + "'");
  return Ok();
}

}  // namespace cvb::bench
