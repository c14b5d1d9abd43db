// `cvb-workload isolation`: the probe inside every instance that checks what it can see and do of
// the host (cvb/workload/isolation.h lists the checks and their encoding). The harness makes the
// markers and passes them as arguments; every argument is optional, and a check without its
// marker reads -1 ("no-marker"), never a guess.
//   --token=T         the content of the marker file
//   --file=PATH       a marker file in the host's /tmp
//   --fd=PATH         the file behind an fd the harness left open (no CLOEXEC) across the launch
//   --process=ARG     one argv element of a marker process on the host
//   --iface=NAME      a marker interface on the host
//   --port=N          a port listening on the host's 127.0.0.1
//   --hostname=NAME   the host's hostname
//   --device=MAJ:MIN  a char device the host can open
//   --boot-id=UUID    the host kernel's boot_id
//   --uname=HASH      UnameHash() (cvb/common/host.h) of the host: the kernel check where
//                     boot_id is not readable
//                     (gVisor has none)
#pragma once

#include <string>

#include "modes.h"

namespace cvb::workload {

struct IsolationArgs {
  std::string token, file, fd_path, process, iface, hostname, boot_id, uname;
  int port = 0;
  int device_major = -1, device_minor = -1;
};

// Strict: an unknown key or a bad number is an error (text returned; "" on success).
std::string ParseIsolationArgs(const Context& ctx, IsolationArgs* out);

struct CheckOutcome {
  int value = -1;   // 1 visible/allowed, 0 isolated/denied, -1 not tested here
  std::string why;  // one token: errno name, what was found
};

// "CVB RESULT check=<name> value=<v> why=<why>" (spaces in why become '_'; empty why is "-").
std::string FormatCheck(const std::string& name, const CheckOutcome& outcome);

int ModeIsolation(Context& ctx);

}  // namespace cvb::workload
