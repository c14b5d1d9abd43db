#include "context.h"

#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <vector>

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
#ifndef CVB_BUILD_TYPE
#define CVB_BUILD_TYPE ""
#endif
#ifndef CVB_COMPILER
#define CVB_COMPILER ""
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
  // Frequency scaling and huge pages change every time and memory figure; the build and the
  // hypervisor stack say what produced them.
  c["cpu_governor"] = ReadCpuGovernor();
  c["thp_enabled"] = ReadThpSetting("enabled");
  c["thp_defrag"] = ReadThpSetting("defrag");
  c["build_type"] = BuildType();
  c["compiler"] = CompilerDescription();
  c["qemu_version"] = ProgramVersionLine("qemu-system-x86_64");
  c["libvirt_version"] = ProgramVersionLine("libvirtd");
  return c;
}

std::string ReadCpuGovernor(const std::string& sys_root) {
  std::string cpu_dir = sys_root + "/devices/system/cpu";
  std::vector<std::pair<int, std::string>> governors;  // (cpu number, governor)
  DIR* d = ::opendir(cpu_dir.c_str());
  if (d) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.size() < 4 || name.compare(0, 3, "cpu") != 0 ||
          !std::all_of(name.begin() + 3, name.end(), [](char ch) { return std::isdigit(ch); }))
        continue;
      auto g = ReadFile(cpu_dir + "/" + name + "/cpufreq/scaling_governor");
      if (g) governors.emplace_back(std::atoi(name.c_str() + 3), Trim(*g));
    }
    ::closedir(d);
  }
  if (governors.empty()) return "none (no cpufreq)";
  std::sort(governors.begin(), governors.end());
  std::set<std::string> distinct;
  for (const auto& [cpu, g] : governors) distinct.insert(g);
  if (distinct.size() == 1) return *distinct.begin();
  std::string out;
  for (const auto& [cpu, g] : governors)
    out += (out.empty() ? "" : ",") + ("cpu" + std::to_string(cpu)) + "=" + g;
  return out;
}

std::string ReadThpSetting(const std::string& file, const std::string& sys_root) {
  auto text = ReadFile(sys_root + "/kernel/mm/transparent_hugepage/" + file);
  if (!text) return "absent";
  std::string t = Trim(*text);
  size_t open = t.find('[');
  size_t close = open == std::string::npos ? open : t.find(']', open);
  if (close == std::string::npos) return t;
  return t.substr(open + 1, close - open - 1);
}

std::string ProgramVersionLine(const std::string& program) {
  std::string path = FindProgram(program);
  if (path.empty()) return "absent (" + program + " not found)";
  auto r = Run({path, "--version"}, std::chrono::seconds(10));
  if (!r || !r->status.ok()) return "unknown (" + program + " --version failed)";
  for (const auto& line : Split(r->out, '\n'))
    if (!Trim(line).empty()) return Trim(line);
  return "unknown (" + program + " --version printed nothing)";
}

std::string BuildType() {
  std::string t = CVB_BUILD_TYPE;
  return t.empty() ? "unset" : t;
}

std::string CompilerDescription() {
  std::string c = CVB_COMPILER;
  if (!c.empty()) return c;
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return "GNU " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

}  // namespace cvb::bench
