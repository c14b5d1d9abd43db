// Capabilities (names → bit masks, through libcap), seccomp (spec → BPF program, through
// libseccomp) and rlimits: computed in the parent so that the child only makes system calls.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime {

struct CapabilityMasks {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
  int last_cap = 40;
};
Result<CapabilityMasks> ComputeCapabilities(const std::optional<Capabilities>& caps);

// A compiled seccomp filter; program() points into filter.
struct SeccompProgram {
  std::vector<sock_filter> filter;
  sock_fprog prog{};
  const sock_fprog* program() {
    prog.len = static_cast<unsigned short>(filter.size());
    prog.filter = filter.data();
    return &prog;
  }
};
Result<SeccompProgram> CompileSeccomp(const Seccomp& seccomp);

}  // namespace cvb::runtime
