#include "cvb/vmdriver/accel.h"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "cvb/common/file.h"
#include "cvb/common/unique_fd.h"

namespace cvb::vmdriver {

AccelFacts ReadAccelFacts() {
  AccelFacts f;
  f.dev_kvm_exists = PathExists("/dev/kvm");
  if (f.dev_kvm_exists) {
    UniqueFd fd(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    f.dev_kvm_openable = fd.valid();
  }
  f.kvm_pvm_loaded = PathExists("/sys/module/kvm_pvm");
  if (auto cpuinfo = ReadFile("/proc/cpuinfo")) {
    std::istringstream in(*cpuinfo);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line);
      std::string w;
      while (words >> w) {
        if (w == "vmx" || w == "svm") f.cpu_virt_flag = true;
      }
      break;  // every CPU lists the same flags
    }
  }
  return f;
}

AccelInfo DecideAccel(const AccelFacts& f) {
  if (!f.dev_kvm_exists) return {"tcg", "no /dev/kvm: TCG (software emulation)"};
  if (!f.dev_kvm_openable) return {"tcg", "/dev/kvm cannot be opened read-write: TCG"};
  if (f.kvm_pvm_loaded)
    return {"tcg",
            "/dev/kvm is nested PVM-based KVM (kvm_pvm loaded), which cannot run a stock guest "
            "kernel: TCG"};
  if (!f.cpu_virt_flag)
    return {"tcg", "/dev/kvm present but the CPU shows no vmx/svm (not hardware KVM): TCG"};
  return {"kvm", "hardware KVM: /dev/kvm usable and the CPU has vmx/svm"};
}

Result<AccelInfo> ChooseAccel(const std::string& want) {
  if (want.empty() || want == "auto") return DecideAccel(ReadAccelFacts());
  if (want == "tcg") return AccelInfo{"tcg", "TCG requested (accel=tcg)"};
  if (want == "kvm!") return AccelInfo{"kvm", "KVM forced (accel=kvm!) without checking"};
  if (want == "kvm") {
    AccelInfo d = DecideAccel(ReadAccelFacts());
    if (d.accel != "kvm") return Failure("accel=kvm asked for, but " + d.reason);
    return d;
  }
  return Failure("accel '" + want + "': use auto, tcg, kvm or kvm!");
}

}  // namespace cvb::vmdriver
