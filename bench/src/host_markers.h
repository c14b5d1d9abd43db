// The markers the isolation suite leaves on the host for one instance to look for (workload's
// isolation probe, cvb/workload/isolation.h): a file in /tmp, a file behind an fd left open
// across the launch, a process, a veth pair, a listening loopback port, plus what identifies
// the host (hostname, boot_id) and a char device the host can open. Every marker is unique to
// the instance (a random token in its name) and removed by the destructor, on error paths too.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/common/subprocess.h"
#include "cvb/common/unique_fd.h"

namespace cvb::bench {

class HostMarkers {
 public:
  // workload_binary runs as the marker process (`cvb-workload idle <marker>`). A marker that
  // cannot be made here (no `ip`, no openable device) is left out and named in notes(); the
  // probe then reads that check as not tested, never as isolated.
  static Result<std::unique_ptr<HostMarkers>> Create(const std::string& workload_binary);
  ~HostMarkers();
  HostMarkers(const HostMarkers&) = delete;
  HostMarkers& operator=(const HostMarkers&) = delete;

  // `--key=value` arguments of the probe (plain: they also travel on a VM's kernel command line).
  std::vector<std::string> ProbeArgs() const;
  // Opens the fd marker without O_CLOEXEC: whatever the harness starts until CloseInheritable()
  // inherits it (the instance must not see it). Call around Launcher::Start only.
  Result<void> OpenInheritable();
  void CloseInheritable() { inheritable_.reset(); }
  // Connections the listening port accepted (drained now): the host's side of host_port.
  int AcceptConnections();

  const std::string& token() const { return token_; }
  const std::string& interface_name() const { return iface_; }
  const std::string& file() const { return file_; }
  const std::string& device() const { return device_; }  // "/dev/kmsg 1:11" or ""
  const std::string& notes() const { return notes_; }

 private:
  HostMarkers() = default;

  std::string token_, file_, fd_file_, process_arg_, iface_, hostname_, boot_id_, uname_;
  std::string device_, device_arg_, notes_;
  bool iface_made_ = false;
  int port_ = 0;
  Child process_;
  UniqueFd listener_;
  UniqueFd inheritable_;
};

}  // namespace cvb::bench
