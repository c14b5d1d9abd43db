#include "cvb/launcher/params.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "cvb/common/file.h"

namespace cvb::launcher {
namespace {

// A whole decimal integer with no sign, no spaces, no trailing text.
bool ParseInteger(const std::string& s, long long& out) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::atoll(s.c_str());
  return true;
}

std::string Expect(const ParamSpec& spec, const std::string& value, const std::string& what) {
  return "--param " + spec.key + "=" + value + ": expected " + what;
}

Result<void> CheckInt(const ParamSpec& spec, const std::string& value, const std::string& piece,
                      long long min) {
  long long n = 0;
  std::string what = min > 0 ? "a positive integer" : "a non-negative integer";
  if (spec.max > 0) what += " up to " + std::to_string(static_cast<long long>(spec.max));
  if (!ParseInteger(Trim(piece), n) || n < min || (spec.max > 0 && n > spec.max))
    return Failure(Expect(spec, value, what) +
                   (piece == value ? "" : " in each item ('" + piece + "' is not)"));
  return Ok();
}

std::string Choices(const ParamSpec& spec) {
  std::string out;
  for (const auto& c : spec.choices) out += (out.empty() ? "" : ", ") + c;
  return out;
}

}  // namespace

Result<void> CheckParam(const ParamSpec& spec, const std::string& value) {
  switch (spec.kind) {
    case ParamKind::kPositiveInt:
      return CheckInt(spec, value, value, 1);
    case ParamKind::kNonNegativeInt:
      return CheckInt(spec, value, value, 0);
    case ParamKind::kPositiveNumber: {
      char* end = nullptr;
      errno = 0;
      double v = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != 0 || errno != 0 || !std::isfinite(v) || !(v > 0) ||
          (spec.max > 0 && v > spec.max))
        return Failure(Expect(spec, value,
                              "a number above 0" +
                                  (spec.max > 0
                                       ? " up to " + std::to_string(static_cast<long long>(spec.max))
                                       : std::string())));
      return Ok();
    }
    case ParamKind::kPositiveIntList: {
      auto items = Split(value, ',');
      if (items.empty()) return Failure(Expect(spec, value, "a comma-separated list of positive integers"));
      for (const auto& item : items) CVB_TRY(CheckInt(spec, value, item, 1));
      return Ok();
    }
    case ParamKind::kCapsByName: {
      for (const auto& item : Split(value, ',')) {
        size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0)
          return Failure(Expect(spec, value, "launcher=N items ('" + item + "' is not one)"));
        CVB_TRY(CheckInt(spec, value, item.substr(eq + 1), 1));
      }
      return Ok();
    }
    case ParamKind::kRepsByN: {
      auto items = Split(value, ',');
      if (items.empty()) return Failure(Expect(spec, value, "repetitions, e.g. 3 or 3,100=1"));
      for (const auto& item : items) {
        size_t eq = item.find('=');
        if (eq == std::string::npos) {
          CVB_TRY(CheckInt(spec, value, item, 1));
        } else {
          CVB_TRY(CheckInt(spec, value, item.substr(0, eq), 1));
          CVB_TRY(CheckInt(spec, value, item.substr(eq + 1), 1));
        }
      }
      return Ok();
    }
    case ParamKind::kChoice:
      if (std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end())
        return Failure(Expect(spec, value, "one of " + Choices(spec)));
      return Ok();
    case ParamKind::kChoiceList: {
      auto items = Split(value, ',');
      if (items.empty()) return Failure(Expect(spec, value, "a list of " + Choices(spec)));
      for (const auto& item : items)
        if (std::find(spec.choices.begin(), spec.choices.end(), Trim(item)) == spec.choices.end())
          return Failure(Expect(spec, value, "a list of " + Choices(spec) + " ('" + item +
                                                 "' is not one)"));
      return Ok();
    }
    case ParamKind::kSwitch:
      for (const char* ok : {"0", "1", "off", "on", "false", "true"})
        if (value == ok) return Ok();
      return Failure(Expect(spec, value, "0 or 1"));
    case ParamKind::kText:
      if (value.empty()) return Failure(Expect(spec, value, "a value"));
      return Ok();
  }
  return Ok();
}

Result<void> CheckParams(const std::map<std::string, std::string>& params,
                         const std::vector<ParamSpec>& specs) {
  for (const auto& [key, value] : params) {
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&key](const ParamSpec& s) { return s.key == key; });
    if (spec == specs.end()) {
      std::vector<std::string> known;
      for (const auto& s : specs) known.push_back(s.key);
      std::sort(known.begin(), known.end());
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return Failure("--param " + key + "=" + value + ": unknown key (known: " + list + ")");
    }
    CVB_TRY(CheckParam(*spec, value));
  }
  return Ok();
}

std::vector<ParamSpec> ProcessLauncherParams() {
  return {
      {"container_disk", ParamKind::kChoice,
       "the scratch disk of a container: a bind-mounted host directory or an overlay upper",
       {"volume", "overlay"}},
      {"scratch_dir", ParamKind::kText, "where scratch disks are made (default /var/tmp/cvbench)"},
      // daemon_wait_ms, read by the engine launchers too, is declared with the VM launchers'.
      {"engine_name", ParamKind::kText,
       "the instance of cvbench's own dockerd/containerd the docker/ and containerd/ launchers "
       "use (default cvbench: scripts/dockerd-start --name)"},
  };
}

}  // namespace cvb::launcher
