// Capabilities (names → bit masks, through libcap), seccomp (spec → BPF program, through
// libseccomp) and rlimits: computed in the parent so that the child only makes system calls.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
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

// The tables the parser checks against and CompileSeccomp maps from (features lists them).
std::vector<std::string> SeccompActionNames();
std::vector<std::string> SeccompOperatorNames();
// "SCMP_ARCH_X86_64" -> libseccomp's token; 0 when libseccomp does not know it.
uint32_t ResolveSeccompArchitecture(const std::string& spec_name);
// The runtime spec's architectures that libseccomp resolves.
std::vector<std::string> SeccompArchitectureNames();
// linux.seccomp.flags cvrun passes to seccomp(2); SeccompFlagValue is 0 for any other name.
std::vector<std::string> SeccompFlagNames();
unsigned SeccompFlagValue(const std::string& name);
// Whether this kernel accepts the flag (probed with a NULL filter: EFAULT = known).
bool SeccompFlagSupported(const std::string& name);

}  // namespace cvb::runtime
