#include "cvb/runtime/features.h"

#include <seccomp.h>
#include <sys/capability.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "mounts.h"
#include "namespaces.h"
#include "security.h"

namespace cvb::runtime {

const std::vector<std::string>& HookNames() {
  static const std::vector<std::string> names = {
      "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  return names;
}

std::string FeaturesJson() {
  using nlohmann::json;
  // Capabilities this kernel has (ComputeCapabilities skips higher ones: they cannot be granted).
  std::vector<std::string> caps;
  for (cap_value_t v = 0; v < static_cast<cap_value_t>(cap_max_bits()); ++v) {
    char* name = cap_to_name(v);
    if (!name) continue;
    std::string upper = name;
    cap_free(name);
    for (auto& c : upper) c = static_cast<char>(toupper(c));
    if (upper.rfind("CAP_", 0) == 0) caps.push_back(upper);
  }
  std::vector<std::string> supported_flags;
  for (const auto& flag : SeccompFlagNames())
    if (SeccompFlagSupported(flag)) supported_flags.push_back(flag);
  const scmp_version* lib = seccomp_version();
  json features = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.0.2"},
      {"hooks", HookNames()},
      {"mountOptions", AppliedMountOptions()},
      {"linux",
       {{"namespaces", NamespaceTypes()},
        {"capabilities", caps},
        {"cgroup",
         {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions", SeccompActionNames()},
          {"operators", SeccompOperatorNames()},
          {"archs", SeccompArchitectureNames()},
          {"knownFlags", SeccompFlagNames()},
          {"supportedFlags", supported_flags}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}},
        {"intelRdt", {{"enabled", false}}},
        {"mountExtensions", {{"idmap", {{"enabled", false}}}}}}},
      {"annotations",
       {{"io.github.seccomp.libseccomp.version", std::to_string(lib->major) + "." +
                                                     std::to_string(lib->minor) + "." +
                                                     std::to_string(lib->micro)}}}};
  return features.dump(2);
}

}  // namespace cvb::runtime
