#include "context.h"

#include <time.h>

#include "cvb/common/file.h"
#include "cvb/common/host.h"
#include "cvb/common/subprocess.h"
#include "cvb/vmdriver/accel.h"

#ifndef CVB_SOURCE_DIR
#define CVB_SOURCE_DIR "."
#endif
#ifndef CVB_BUILD_GIT_SHA
#define CVB_BUILD_GIT_SHA "unknown"
#endif

namespace cvb::bench {

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
  // The VM launchers' own decision, with its reason: "kvm" or "tcg: <why>".
  auto accel = vmdriver::DecideAccel(vmdriver::ReadAccelFacts());
  c["accelerator"] = accel.accel == "kvm" ? "kvm" : "tcg: " + accel.reason;
  char date[32];
  time_t now = ::time(nullptr);
  tm utc;
  ::gmtime_r(&now, &utc);
  ::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &utc);
  c["date_utc"] = date;
  c["cvbench_version"] = "0.1.0";
  // KSM merges identical pages of VMs (and anything madvised): it changes density figures.
  auto ksm = ReadFile("/sys/kernel/mm/ksm/run");
  c["ksm_run"] = ksm ? Trim(*ksm) : "absent";
  return c;
}

}  // namespace cvb::bench
