#include "cvb/common/host.h"

#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sstream>

#include "cvb/common/file.h"
#include "cvb/common/proc.h"

namespace cvb {

const char* CgroupModeName(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kV1: return "v1";
    case CgroupMode::kV2: return "v2";
    case CgroupMode::kHybrid: return "hybrid";
    default: return "unknown";
  }
}

CgroupMode DetectCgroupMode() {
  struct statfs fs;
  if (::statfs("/sys/fs/cgroup", &fs) != 0) return CgroupMode::kUnknown;
  if (fs.f_type == CGROUP2_SUPER_MAGIC) return CgroupMode::kV2;
  if (fs.f_type != TMPFS_MAGIC) return CgroupMode::kUnknown;
  if (::statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
    return CgroupMode::kHybrid;
  return CgroupMode::kV1;
}

std::string KernelRelease() {
  utsname u;
  if (::uname(&u) != 0) return "unknown";
  return u.release;
}

std::string CpuModel() {
  auto text = ReadFile("/proc/cpuinfo");
  if (!text) return "unknown";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return Trim(line.substr(colon + 1));
    }
  }
  return "unknown";
}

int OnlineCpus() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

uint64_t TotalMemoryBytes() {
  auto v = ReadMeminfo("MemTotal");
  return v ? *v : 0;
}

std::string UnameHash() {
  struct utsname u {};
  if (::uname(&u) != 0) return "";
  return ContentHash(std::string(u.sysname) + "\n" + u.release + "\n" + u.version + "\n" +
                     u.machine);
}

}  // namespace cvb
