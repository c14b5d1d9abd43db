// StartupWatch: the moments a blocking virDomainCreateXML hides. libvirt returns only after it
// has forked QEMU, waited for QEMU's monitor, run its QMP set-up with the guest paused (-S) and
// started the vCPUs (`cont`). While that call blocks, a thread records on CLOCK_MONOTONIC
//   - a file appearing in a directory: libvirt's pid file for the domain (QEMU was forked), and
//   - a connection pending on a listening socket: QEMU connected its console, so QEMU has
//     initialised its chardevs; what follows until the call returns is machine set-up and
//     libvirt's QMP traffic.
// This is how the libvirt launcher splits its start-up into the management layer's own time and
// QEMU's, without libvirt's debug log.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "cvb/common/result.h"

namespace cvb::vmdriver {

class StartupWatch {
 public:
  struct Seen {
    std::optional<int64_t> file_created_ns;        // CLOCK_MONOTONIC
    std::optional<int64_t> connection_pending_ns;  // CLOCK_MONOTONIC
  };

  // Watches `dir` for `file` being created (skipped when dir does not exist: a remote or test
  // libvirt has no local pid files) and listen_fd for a pending connection (-1: not watched).
  // listen_fd must stay open until Finish().
  static Result<std::unique_ptr<StartupWatch>> Begin(const std::string& dir,
                                                     const std::string& file, int listen_fd);
  StartupWatch(const StartupWatch&) = delete;
  StartupWatch& operator=(const StartupWatch&) = delete;
  ~StartupWatch();  // stops the thread if Finish was not called

  // Stops watching and returns what was seen. A pending connection is left for accept().
  Seen Finish();

 private:
  StartupWatch() = default;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cvb::vmdriver
