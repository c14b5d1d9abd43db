#include "params.h"

#include "cvb/vmdriver/launchers.h"

namespace cvb::bench {

using launcher::ParamKind;

std::vector<launcher::ParamSpec> SuiteParams() {
  return {
      // every suite
      {"profile", ParamKind::kChoiceList,
       "confinement profiles of the bundle runtimes, each its own slot; "
       "docker-default keeps the launcher's name)",
       {"docker-default", "spec-default"}},
      {"repetitions_max", ParamKind::kCapsByName, "repetitions per launcher or slot, at most"},
      {"budget_mib", ParamKind::kPositiveNumber, "MemAvailable drop that stops a fleet"},
      // throughput
      {"modes", ParamKind::kChoiceList, "throughput modes", {"cpu", "mem", "disk", "net"}},
      {"seconds", ParamKind::kPositiveNumber, "cpu and mem mode duration", {}, 3600},
      {"mem_mib", ParamKind::kPositiveNumber, "mem mode array size", {}, 65536},
      {"ra_mib", ParamKind::kPositiveNumber, "mem mode random-access table", {}, 65536},
      {"disk_file_mib", ParamKind::kPositiveNumber, "disk mode file size", {}, 1 << 20},
      {"disk_seconds", ParamKind::kPositiveNumber, "disk mode duration", {}, 3600},
      {"net_seconds", ParamKind::kPositiveNumber, "net mode duration", {}, 3600},
      {"net_port", ParamKind::kPositiveInt, "net mode port", {}, 65535},
      {"throughput_max_repetitions", ParamKind::kPositiveInt,
       "throughput: repetitions per entry at most, over every round of the sampling rule", {},
       100000},
      {"throughput_batch", ParamKind::kPositiveInt,
       "throughput: repetitions a round adds to an undecided entry", {}, 1000},
      // density
      {"density_n", ParamKind::kPositiveIntList, "instances per density step"},
      {"density_max_n", ParamKind::kCapsByName, "largest N per launcher or slot"},
      {"density_repetitions", ParamKind::kRepsByN, "repetitions per N"},
      {"settle_ms", ParamKind::kNonNegativeInt, "longest settle wait"},
      {"drop_caches", ParamKind::kSwitch, "drop caches before each reading"},
      {"density_parallel", ParamKind::kPositiveInt, "containers started at a time"},
      {"density_vm_parallel", ParamKind::kPositiveInt, "VMs started at a time"},
      {"ksm", ParamKind::kChoiceList, "KSM as a dimension of VM entries", {"off", "on"}},
      {"ksm_pages_to_scan", ParamKind::kPositiveInt, "KSM pages_to_scan"},
      {"ksm_sleep_ms", ParamKind::kNonNegativeInt, "KSM sleep_millisecs"},
      {"ksm_settle_ms", ParamKind::kNonNegativeInt, "longest wait for KSM to settle"},
      // scaleout
      {"scaleout_n", ParamKind::kPositiveIntList, "instances per scale-out step"},
      {"scaleout_max_n", ParamKind::kCapsByName, "largest N per launcher or slot"},
      {"parallel", ParamKind::kPositiveInt, "instances started at once (at least 2 are used)"},
      {"scaleout_repetitions", ParamKind::kPositiveInt, "concurrent-start repetitions"},
      {"scaleout_sequential_repetitions", ParamKind::kPositiveInt, "sequential-start repetitions"},
  };
}

std::vector<launcher::ParamSpec> AllParams() {
  std::vector<launcher::ParamSpec> all = SuiteParams();
  for (auto& s : launcher::ProcessLauncherParams()) all.push_back(std::move(s));
  for (auto& s : vmdriver::VmParams()) all.push_back(std::move(s));
  return all;
}

Result<void> CheckRunParams(const std::map<std::string, std::string>& params) {
  return launcher::CheckParams(params, AllParams());
}

}  // namespace cvb::bench
