#include "context.h"

#include <time.h>

#include "cvb/common/file.h"
#include "cvb/common/host.h"
#include "cvb/common/subprocess.h"

#ifndef CVB_SOURCE_DIR
#define CVB_SOURCE_DIR "."
#endif
#ifndef CVB_BUILD_GIT_SHA
#define CVB_BUILD_GIT_SHA "unknown"
#endif

namespace cvb::bench {

std::string DetectAccelerator() {
  if (!PathExists("/dev/kvm")) return "tcg: no /dev/kvm";
  // Nested PVM ("kvm_pvm") exposes /dev/kvm but cannot run a stock kernel; real KVM needs the
  // CPU's vmx or svm flag.
  if (PathExists("/sys/module/kvm_pvm"))
    return "tcg: /dev/kvm is nested PVM (kvm_pvm), which cannot boot a stock kernel";
  auto cpuinfo = ReadFile("/proc/cpuinfo");
  if (cpuinfo && cpuinfo->find(" vmx") == std::string::npos &&
      cpuinfo->find(" svm") == std::string::npos)
    return "tcg: no vmx/svm CPU flag";
  return "kvm";
}

std::map<std::string, std::string> HostContext() {
  std::map<std::string, std::string> c;
  auto sha = Run({"git", "-C", CVB_SOURCE_DIR, "rev-parse", "HEAD"}, std::chrono::seconds(5));
  c["git_sha"] = sha && sha->status.ok() ? Trim(sha->out) : CVB_BUILD_GIT_SHA;
  auto dirty = Run({"git", "-C", CVB_SOURCE_DIR, "status", "--porcelain", "--untracked-files=no"},
                   std::chrono::seconds(5));
  c["git_dirty"] = dirty && dirty->status.ok() ? (Trim(dirty->out).empty() ? "no" : "yes")
                                               : "unknown";
  c["kernel"] = KernelRelease();
  c["cpu_model"] = CpuModel();
  c["cpus_online"] = std::to_string(OnlineCpus());
  c["mem_total_bytes"] = std::to_string(TotalMemoryBytes());
  c["hostname"] = HostName();
  c["cgroup_mode"] = CgroupModeName(DetectCgroupMode());
  c["accelerator"] = DetectAccelerator();
  char date[32];
  time_t now = ::time(nullptr);
  tm utc;
  ::gmtime_r(&now, &utc);
  ::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
  c["date_utc"] = date;
  c["cvbench_version"] = "0.1.0";
  return c;
}

}  // namespace cvb::bench
