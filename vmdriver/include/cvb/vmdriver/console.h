// The guest's serial console reaches the host through a unix socket that the host listens on
// and QEMU connects to (chardev socket, client mode). Unlike a file it needs no polling, unlike a
// pty nothing is lost before the host opens it, and SO_PEERCRED names the QEMU process, which is
// how the libvirt launcher finds the pid whose memory it measures.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "cvb/common/result.h"
#include "cvb/common/unique_fd.h"

namespace cvb::vmdriver {

class ConsoleListener {
 public:
  ConsoleListener() = default;
  ConsoleListener(const ConsoleListener&) = delete;
  ConsoleListener& operator=(const ConsoleListener&) = delete;
  ConsoleListener(ConsoleListener&& o) noexcept;
  ConsoleListener& operator=(ConsoleListener&& o) noexcept;
  // Closes the socket and unlinks its path.
  ~ConsoleListener() { Close(); }

  static Result<ConsoleListener> Listen(const std::string& path);
  // Waits for QEMU's connection until deadline_ns (CLOCK_MONOTONIC); *peer_pid gets its pid.
  Result<UniqueFd> Accept(int64_t deadline_ns, pid_t* peer_pid);
  const std::string& path() const { return path_; }
  // The listening socket: readable once QEMU's connection is pending (StartupWatch polls it).
  int fd() const { return fd_.get(); }
  void Close();

 private:
  UniqueFd fd_;
  std::string path_;
};

}  // namespace cvb::vmdriver
