// Confinement profiles: what a bundle confines its process with beyond namespaces — capabilities,
// no_new_privs, masked and read-only paths, a seccomp filter. Two profiles:
//
//   docker-default  what `docker run` gives a container, read from Debian's package of Docker's
//                   own sources (golang-github-docker-docker-dev, the same Docker 20.10 as
//                   docker.io): the seccomp profile profiles/seccomp/default.json resolved as
//                   dockerd resolves it (this architecture and its sub-architectures, the rules
//                   whose includes/excludes match the capabilities and the running kernel), the
//                   capabilities of oci/caps/defaults.go, the masked and read-only paths of
//                   oci/defaults.go, and no_new_privs off (Docker sets it only with
//                   --security-opt no-new-privileges). Nothing is hand-copied: a package that
//                   is missing or changed shape fails the profile, naming the file.
//   spec-default    the bundle cvbench always had (`runc spec`'s defaults: three capabilities,
//                   no_new_privs on, the same masked and read-only paths, no seccomp filter).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cvb/common/result.h"

namespace cvb::image {

struct Confinement {
  std::string name;  // "docker-default", "spec-default"
  std::vector<std::string> capabilities;  // bounding = effective = permitted
  bool ambient = false;                   // also in the ambient set (spec-default's bundle)
  bool no_new_privileges = true;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::optional<nlohmann::json> seccomp;  // OCI linux.seccomp, resolved; nullopt: no filter
  // Where each part came from (package, version, files), for the run's context.
  std::string source;
  // Syscall names the resolved filter lists (all actions), and those it allows.
  int seccomp_syscalls = 0;
  int seccomp_allowed = 0;
};

// The profile names, the default first.
const std::vector<std::string>& ConfinementNames();
inline constexpr char kDefaultConfinement[] = "docker-default";

// Loads a profile. `root` prefixes every file read (tests pass a fake tree); `kernel_release`
// is the running kernel's ("6.1.0-13-amd64"), for the profile's minKernel rules.
Result<Confinement> LoadConfinement(const std::string& name, const std::string& root = "",
                                    const std::string& kernel_release = "");

// Docker's resolution of a seccomp profile (moby's profiles/seccomp/seccomp_linux.go,
// setupSeccomp): the native architecture with the sub-architectures archMap lists for it; each
// rule kept when its excludes match nothing (arches, a bounding capability, minKernel reached)
// and its includes all match; "name" or "names"; args kept as they are.
Result<nlohmann::json> ResolveSeccompProfile(const nlohmann::json& profile,
                                             const std::vector<std::string>& capabilities,
                                             const std::string& kernel_release,
                                             const std::string& native_arch = "amd64");

// The string list in a Go source's `func <function>() []string { return []string{ ... } }` or
// struct field `<field>: []string{ ... }`: how the capability and path lists are read from
// Docker's sources. Fails naming the file when the list is not found.
Result<std::vector<std::string>> GoStringList(const std::string& go_source,
                                              const std::string& anchor,
                                              const std::string& file_for_errors);

}  // namespace cvb::image
