#include "cvb/launcher/containerd.h"
#include "cvb/launcher/docker.h"
#include "cvb/launcher/launcher.h"
#include "cvb/launcher/native.h"
#include "cvb/launcher/null.h"
#include "cvb/launcher/oci.h"
#include "cvb/launcher/podman.h"

namespace cvb::launcher {

void Registry::Register(const std::string& name, const std::string& kind,
                        LauncherFactory factory, const std::string& dimension) {
  factories_[name] = std::move(factory);
  kinds_[name] = kind;
  dimensions_[name] = dimension;
}

std::string Registry::DimensionOf(const std::string& name) const {
  auto it = dimensions_.find(name);
  return it == dimensions_.end() ? "" : it->second;
}

std::string Registry::KindOf(const std::string& name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? "unknown" : it->second;
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, f] : factories_) names.push_back(name);
  return names;
}

Result<std::unique_ptr<Launcher>> Registry::Make(const LauncherConfig& config) const {
  auto it = factories_.find(config.name);
  if (it == factories_.end()) {
    std::string known;
    for (const auto& n : Names()) known += (known.empty() ? "" : ", ") + n;
    return Error{EINVAL, "unknown launcher '" + config.name + "' (known: " + known + ")"};
  }
  return it->second(config);
}

void RegisterProcessLaunchers(Registry& registry) {
  registry.Register("native", "native", MakeNativeLauncher);
  registry.Register("null", "native", MakeNullLauncher);
  for (const auto& spec : BuiltinOciRuntimes()) {
    registry.Register(
        spec.name, "container",
        [spec](const LauncherConfig& config) { return MakeOciLauncher(config, spec); }, "profile");
  }
  for (const auto& name : PodmanLauncherNames())
    registry.Register(name, "container", MakePodmanLauncher);
  for (const auto& name : DockerLauncherNames())
    registry.Register(name, "container", MakeDockerLauncher);
  for (const auto& name : ContainerdLauncherNames())
    registry.Register(name, "container", MakeContainerdLauncher);
}

}  // namespace cvb::launcher
