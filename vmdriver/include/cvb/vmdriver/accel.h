// Which accelerator really runs a guest here. /dev/kvm alone proves little: on the project's
// hosts it is nested PVM-based KVM (kvm_pvm module, no vmx/svm in the CPU flags), which cannot run
// a stock guest kernel. The answer carries its reason so every result can say why it used TCG.
#pragma once

#include <string>

#include "cvb/common/result.h"

namespace cvb::vmdriver {

struct AccelInfo {
  std::string accel;   // "kvm" or "tcg"
  std::string reason;  // why, in a sentence fit for a report
};

// Facts the decision rests on, separated so tests can feed them.
struct AccelFacts {
  bool dev_kvm_exists = false;
  bool dev_kvm_openable = false;
  bool kvm_pvm_loaded = false;  // /sys/module/kvm_pvm
  bool cpu_virt_flag = false;   // vmx or svm in /proc/cpuinfo
};
AccelFacts ReadAccelFacts();
AccelInfo DecideAccel(const AccelFacts& facts);

// want: "auto" (decide), "tcg" (always possible) or "kvm" (error when KVM cannot run guests here,
// naming why; "kvm!" skips the check, for hosts whose facts mislead).
Result<AccelInfo> ChooseAccel(const std::string& want);

}  // namespace cvb::vmdriver
