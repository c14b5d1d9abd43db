// The --param knobs every layer reads (suites, launchers, VM launchers), declared with their kind
// so that `cvbench run` refuses a bad one before anything starts, naming the key: an unknown key,
// a word where a number belongs, N = 0, a negative repetition count. Each layer lists its own
// knobs next to the code that reads them (ProcessLauncherParams here, vmdriver::VmParams,
// bench's SuiteParams); a knob read anywhere must be declared, or the check refuses it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::launcher {

enum class ParamKind {
  kPositiveInt,      // 1, 2, ...
  kNonNegativeInt,   // 0, 1, ...
  kPositiveNumber,   // > 0, decimals allowed
  kPositiveIntList,  // "1,10,100"
  kCapsByName,       // "qemu=64,libvirt/kernel:distro=16": a launcher or slot = a positive int
  kRepsByN,          // "3" or "3,100=1": repetitions, and from N = 100 up
  kChoice,           // one of `choices`
  kChoiceList,       // a comma-separated subset of `choices`
  kSwitch,           // 0 or 1 (also off/on, false/true)
  kText,             // any non-empty text (a path, a URI, kernel options)
};

struct ParamSpec {
  std::string key;
  ParamKind kind;
  std::string help;
  std::vector<std::string> choices = {};  // kChoice, kChoiceList
  double max = 0;                         // numbers: the largest allowed (0: no limit)
};

// The value checked against its spec; the error names the key, the value and what was expected.
Result<void> CheckParam(const ParamSpec& spec, const std::string& value);
// Every key known and every value of its kind; the first failure is returned.
Result<void> CheckParams(const std::map<std::string, std::string>& params,
                         const std::vector<ParamSpec>& specs);

// The knobs of the process launchers (native, OCI runtimes, podman).
std::vector<ParamSpec> ProcessLauncherParams();

}  // namespace cvb::launcher
