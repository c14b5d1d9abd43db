// net mode: a TCP server for the host-side client (bench/src/net_client.cc). Protocol in
// include/cvb/workload/protocol.h. One connection at a time: the client's tests run one after the
// other, and a single-threaded server is the same program in every instance (1-vCPU guests too).
// Every wait is bounded by --seconds, so a host that never connects (or never says QUIT) still
// gets DONE and an exit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cvb/common/clock.h"
#include "cvb/common/unique_fd.h"
#include "modes.h"

namespace cvb::workload {
namespace {

constexpr size_t kMaxEchoSize = 1 << 20;

struct Server {
  Context* ctx;
  int64_t deadline_ns;
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t connections = 0;
  uint64_t echoes = 0;
  bool quit = false;

  bool Expired() const { return ctx->stopping() || MonotonicNs() >= deadline_ns; }

  // Waits until fd is ready for events or the deadline; false at the deadline or on stop.
  bool Wait(int fd, short events) {
    while (!Expired()) {
      pollfd p{fd, events, 0};
      int left_ms = static_cast<int>(std::min<int64_t>((deadline_ns - MonotonicNs()) / 1'000'000, 200));
      int r = ::poll(&p, 1, std::max(left_ms, 1));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }

  // Reads up to n bytes; 0 on EOF, -1 on error or deadline.
  ssize_t Read(int fd, void* buf, size_t n) {
    if (!Wait(fd, POLLIN)) return -1;
    ssize_t r;
    do r = ::recv(fd, buf, n, 0);
    while (r < 0 && errno == EINTR);
    if (r > 0) rx_bytes += static_cast<uint64_t>(r);
    return r;
  }

  bool ReadExact(int fd, char* buf, size_t n) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = Read(fd, buf + got, n - got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }

  bool WriteAll(int fd, const char* buf, size_t n) {
    size_t put = 0;
    while (put < n) {
      if (!Wait(fd, POLLOUT)) return false;
      ssize_t w = ::send(fd, buf + put, n - put, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      put += static_cast<size_t>(w);
      tx_bytes += static_cast<uint64_t>(w);
    }
    return true;
  }

  // The command line, byte by byte so that no data after it is consumed here.
  bool ReadCommand(int fd, std::string& line) {
    line.clear();
    char c;
    while (line.size() < 64) {
      if (Read(fd, &c, 1) != 1) return false;
      if (c == '\n') return true;
      line += c;
    }
    return false;
  }

  void Serve(int fd) {
    std::string cmd;
    if (!ReadCommand(fd, cmd)) return;
    if (cmd == "QUIT") {
      quit = true;
      WriteAll(fd, "BYE\n", 4);
    } else if (cmd == "RECV") {
      // Host -> instance stream: count until the host shuts down its side, then confirm.
      std::vector<char> buf(256 << 10);
      uint64_t got = 0;
      for (;;) {
        ssize_t r = Read(fd, buf.data(), buf.size());
        if (r < 0) return;
        if (r == 0) break;
        got += static_cast<uint64_t>(r);
      }
      std::string ok = "OK " + std::to_string(got) + "\n";
      WriteAll(fd, ok.data(), ok.size());
    } else if (cmd.rfind("SEND ", 0) == 0) {
      // Instance -> host stream for the given milliseconds, then close.
      int64_t ms = std::strtoll(cmd.c_str() + 5, nullptr, 10);
      int64_t until = MonotonicNs() + std::clamp<int64_t>(ms, 1, 600'000) * 1'000'000;
      std::vector<char> buf(256 << 10, 'x');
      while (MonotonicNs() < until && WriteAll(fd, buf.data(), buf.size())) {
      }
    } else if (cmd.rfind("ECHO ", 0) == 0) {
      size_t size = std::strtoull(cmd.c_str() + 5, nullptr, 10);
      if (size == 0 || size > kMaxEchoSize) return;
      std::vector<char> buf(size);
      while (ReadExact(fd, buf.data(), size) && WriteAll(fd, buf.data(), size)) ++echoes;
    }
  }
};

}  // namespace

int ModeNet(Context& ctx) {
  if (auto e = UnknownArg(ctx, {"port", "seconds", "bind"}); !e.empty()) return Fail(e);
  NumberArg port = ParseNumberArg(ctx, "port", 5201, 1, 65535);
  NumberArg seconds = ParseNumberArg(ctx, "seconds", 60, 0.01, 3600);
  for (const auto* a : {&port, &seconds})
    if (!a->error.empty()) return Fail(a->error);
  std::string bind_addr = ctx.Arg("bind", "0.0.0.0");

  UniqueFd lfd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!lfd) return Fail(std::string("net: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(lfd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port.value));
  if (::inet_pton(AF_INET, bind_addr.c_str(), &addr.sin_addr) != 1)
    return Fail("net: --bind=" + bind_addr + ": not an IPv4 address");
  if (::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Fail("net: bind " + bind_addr + ":" + Fig(port.value) + ": " + std::strerror(errno));
  if (::listen(lfd.get(), 8) != 0) return Fail(std::string("net: listen: ") + std::strerror(errno));
  AnnounceReady(ctx);

  Server s{&ctx, MonotonicNs() + static_cast<int64_t>(seconds.value * 1e9)};
  while (!s.quit && s.Wait(lfd.get(), POLLIN)) {
    UniqueFd cfd(::accept4(lfd.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!cfd) continue;
    ::setsockopt(cfd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++s.connections;
    s.Serve(cfd.get());
  }
  Result({{"connections", std::to_string(s.connections)},
          {"rx_bytes", std::to_string(s.rx_bytes)},
          {"tx_bytes", std::to_string(s.tx_bytes)},
          {"echoes", std::to_string(s.echoes)},
          {"quit", s.quit ? "1" : "0"}});
  Done(0);
  return 0;
}

}  // namespace cvb::workload
