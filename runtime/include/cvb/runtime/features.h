// `cvrun features`: the runtime-spec "features" structure (features.md, features-linux.md),
// generated from the tables the parser and the planners use, so that it lists exactly what cvrun
// applies: the mount options it applies itself (not the ones it ignores or refuses, nor filesystem
// data), the namespace types it knows, the seccomp actions / operators / architectures / flags it
// maps, the capabilities of this kernel, the hook names it runs. What cvrun has no support for
// (AppArmor, SELinux, Intel RDT, id-mapped mounts, systemd cgroups) is reported as disabled.
#pragma once

#include <string>
#include <vector>

namespace cvb::runtime {

// The recognised hook names (config.json's hooks members that cvrun runs).
const std::vector<std::string>& HookNames();

// The features JSON document, pretty-printed.
std::string FeaturesJson();

}  // namespace cvb::runtime
