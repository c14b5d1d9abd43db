#include "cvb/image/confinement.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "cvb/common/file.h"
#include "cvb/common/host.h"

namespace cvb::image {
namespace {

// Debian's package of Docker's own Go sources (the docker.io package's source, 20.10), unpacked
// by scripts/setup into a directory of cvbench's own (installing it would pull ~250 Go source
// packages): the package's files under it, its control file in DEBIAN/.
constexpr char kDockerSourcePackage[] = "golang-github-docker-docker-dev";
constexpr char kDockerSourceUnpacked[] = "/var/lib/cvbench/pkg/golang-github-docker-docker-dev";
constexpr char kDockerSource[] = "/usr/share/gocode/src/github.com/docker/docker";

// moby's names for architectures (libseccomp's) -> the OCI/libseccomp constant.
const std::map<std::string, std::string>& SeccompArchOf() {
  static const std::map<std::string, std::string> m = {
      {"x86", "SCMP_ARCH_X86"},         {"amd64", "SCMP_ARCH_X86_64"},
      {"arm", "SCMP_ARCH_ARM"},         {"arm64", "SCMP_ARCH_AARCH64"},
      {"ppc64le", "SCMP_ARCH_PPC64LE"}, {"s390x", "SCMP_ARCH_S390X"},
  };
  return m;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> Strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.is_object() && j.contains(key) && j[key].is_array())
    for (const auto& s : j[key])
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

// "6.1.0-13-amd64" -> {6, 1}; {0, 0} when it does not parse (dockerd fails then; so do we).
Result<std::pair<int, int>> KernelMajorMinor(const std::string& release) {
  int a = 0, b = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &a, &b) != 2)
    return Failure("kernel release '" + release + "' does not parse as <major>.<minor>");
  return std::make_pair(a, b);
}

Result<bool> KernelAtLeast(const std::string& release, const std::string& min) {
  CVB_ASSIGN_OR_RETURN(auto have, KernelMajorMinor(release));
  CVB_ASSIGN_OR_RETURN(auto want, KernelMajorMinor(min));
  return have >= want;
}

Confinement SpecDefault() {
  Confinement c;
  c.name = "spec-default";
  c.capabilities = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.ambient = true;
  c.no_new_privileges = true;
  c.masked_paths = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                    "/proc/scsi"};
  c.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  c.source = "cvbench's bundle as it always was (runc spec's defaults: 3 capabilities, "
             "no_new_privs, no seccomp filter)";
  return c;
}

// The Version field of an unpacked package's DEBIAN/control ("" when absent).
std::string UnpackedPackageVersion(const std::string& unpacked) {
  auto control = ReadFile(unpacked + "/DEBIAN/control");
  if (!control) return "";
  size_t v = control->find("\nVersion: ");
  if (v == std::string::npos) return "";
  size_t e = control->find('\n', v + 1);
  return control->substr(v + 10, e == std::string::npos ? std::string::npos : e - v - 10);
}

Result<Confinement> DockerDefault(const std::string& root, const std::string& kernel_release) {
  const std::string unpacked = root + kDockerSourceUnpacked;
  const std::string base = unpacked + kDockerSource;
  auto need = [&](const std::string& rel) -> Result<std::string> {
    auto text = ReadFile(base + "/" + rel);
    if (!text)
      return text.error().wrap(std::string("profile docker-default: ") + kDockerSourcePackage +
                               " (Docker's sources, unpacked by scripts/setup) is missing " +
                               base + "/" + rel);
    return text;
  };
  CVB_ASSIGN_OR_RETURN(std::string caps_go, need("oci/caps/defaults.go"));
  CVB_ASSIGN_OR_RETURN(std::string defaults_go, need("oci/defaults.go"));
  CVB_ASSIGN_OR_RETURN(std::string profile_text, need("profiles/seccomp/default.json"));
  Confinement c;
  c.name = "docker-default";
  CVB_ASSIGN_OR_RETURN(c.capabilities, GoStringList(caps_go, "func DefaultCapabilities()",
                                                    base + "/oci/caps/defaults.go"));
  CVB_ASSIGN_OR_RETURN(c.masked_paths,
                       GoStringList(defaults_go, "MaskedPaths:", base + "/oci/defaults.go"));
  CVB_ASSIGN_OR_RETURN(c.readonly_paths,
                       GoStringList(defaults_go, "ReadonlyPaths:", base + "/oci/defaults.go"));
  c.ambient = false;
  c.no_new_privileges = false;  // Docker: only with --security-opt no-new-privileges
  auto profile = nlohmann::json::parse(profile_text, nullptr, false);
  if (profile.is_discarded() || !profile.is_object())
    return Failure("profile docker-default: " + base + "/profiles/seccomp/default.json is not JSON");
  CVB_ASSIGN_OR_RETURN(nlohmann::json seccomp,
                       ResolveSeccompProfile(profile, c.capabilities, kernel_release));
  for (const auto& rule : seccomp["syscalls"]) {
    int n = static_cast<int>(rule["names"].size());
    c.seccomp_syscalls += n;
    if (rule.value("action", std::string()) == "SCMP_ACT_ALLOW") c.seccomp_allowed += n;
  }
  c.seccomp = std::move(seccomp);
  std::string version = UnpackedPackageVersion(unpacked);
  c.source = std::string(kDockerSourcePackage) + " " + (version.empty() ? "(version unknown)" : version) +
             ": profiles/seccomp/default.json resolved for amd64 and kernel " + kernel_release +
             ", oci/caps/defaults.go, oci/defaults.go; no_new_privs off as dockerd leaves it";
  return c;
}

}  // namespace

const std::vector<std::string>& ConfinementNames() {
  static const std::vector<std::string> names = {"docker-default", "spec-default"};
  return names;
}

Result<std::vector<std::string>> GoStringList(const std::string& go_source,
                                              const std::string& anchor,
                                              const std::string& file_for_errors) {
  size_t at = go_source.find(anchor);
  if (at == std::string::npos)
    return Failure(file_for_errors + ": no '" + anchor + "' (Docker's sources changed shape?)");
  size_t open = go_source.find("[]string{", at);
  if (open == std::string::npos)
    return Failure(file_for_errors + ": no []string{ after '" + anchor + "'");
  size_t close = go_source.find('}', open);
  if (close == std::string::npos) return Failure(file_for_errors + ": unterminated list");
  std::vector<std::string> out;
  for (size_t i = open + 9; i < close; ++i) {
    if (go_source[i] != '"') continue;
    size_t end = go_source.find('"', i + 1);
    if (end == std::string::npos || end > close) break;
    out.push_back(go_source.substr(i + 1, end - i - 1));
    i = end;
  }
  if (out.empty()) return Failure(file_for_errors + ": the list after '" + anchor + "' is empty");
  return out;
}

Result<nlohmann::json> ResolveSeccompProfile(const nlohmann::json& profile,
                                             const std::vector<std::string>& capabilities,
                                             const std::string& kernel_release,
                                             const std::string& native_arch) {
  if (!profile.contains("defaultAction") || !profile["defaultAction"].is_string())
    return Failure("seccomp profile: no defaultAction");
  if (profile.contains("architectures") && profile.contains("archMap"))
    return Failure("seccomp profile: both architectures and archMap");
  nlohmann::json out;
  out["defaultAction"] = profile["defaultAction"];
  if (profile.contains("defaultErrnoRet")) out["defaultErrnoRet"] = profile["defaultErrnoRet"];
  nlohmann::json arches = nlohmann::json::array();
  for (const auto& a : Strings(profile, "architectures")) arches.push_back(a);
  auto native = SeccompArchOf().find(native_arch);
  if (native == SeccompArchOf().end())
    return Failure("seccomp profile: no libseccomp name known for architecture " + native_arch);
  if (profile.contains("archMap"))
    for (const auto& m : profile["archMap"])
      if (m.value("architecture", std::string()) == native->second) {
        arches.push_back(native->second);
        for (const auto& sub : Strings(m, "subArchitectures")) arches.push_back(sub);
        break;
      }
  if (!arches.empty()) out["architectures"] = arches;
  out["syscalls"] = nlohmann::json::array();
  for (const auto& call : profile.value("syscalls", nlohmann::json::array())) {
    const nlohmann::json excludes = call.value("excludes", nlohmann::json::object());
    const nlohmann::json includes = call.value("includes", nlohmann::json::object());
    if (Contains(Strings(excludes, "arches"), native_arch)) continue;
    bool excluded_by_cap = false;
    for (const auto& c : Strings(excludes, "caps")) excluded_by_cap |= Contains(capabilities, c);
    if (excluded_by_cap) continue;
    if (excludes.contains("minKernel")) {
      CVB_ASSIGN_OR_RETURN(bool reached, KernelAtLeast(kernel_release, excludes["minKernel"]));
      if (reached) continue;
    }
    auto inc_arches = Strings(includes, "arches");
    if (!inc_arches.empty() && !Contains(inc_arches, native_arch)) continue;
    bool missing_cap = false;
    for (const auto& c : Strings(includes, "caps")) missing_cap |= !Contains(capabilities, c);
    if (missing_cap) continue;
    if (includes.contains("minKernel")) {
      CVB_ASSIGN_OR_RETURN(bool reached, KernelAtLeast(kernel_release, includes["minKernel"]));
      if (!reached) continue;
    }
    if (call.contains("name") && call.contains("names"))
      return Failure("seccomp profile: a rule with both name and names");
    nlohmann::json rule = {{"action", call.value("action", std::string())}};
    if (call.contains("name"))
      rule["names"] = nlohmann::json::array({call["name"]});
    else
      rule["names"] = call.value("names", nlohmann::json::array());
    if (call.contains("errnoRet") && !call["errnoRet"].is_null()) rule["errnoRet"] = call["errnoRet"];
    if (call.contains("args") && call["args"].is_array() && !call["args"].empty()) {
      nlohmann::json args = nlohmann::json::array();
      for (const auto& a : call["args"]) {
        nlohmann::json arg = {{"index", a.value("index", 0)},
                              {"value", a.value("value", static_cast<uint64_t>(0))},
                              {"op", a.value("op", std::string())}};
        if (a.contains("valueTwo") && a["valueTwo"] != 0) arg["valueTwo"] = a["valueTwo"];
        args.push_back(arg);
      }
      rule["args"] = args;
    }
    out["syscalls"].push_back(std::move(rule));
  }
  return out;
}

Result<Confinement> LoadConfinement(const std::string& name, const std::string& root,
                                    const std::string& kernel_release) {
  if (name == "spec-default") return SpecDefault();
  if (name == "docker-default")
    return DockerDefault(root, kernel_release.empty() ? KernelRelease() : kernel_release);
  std::string known;
  for (const auto& n : ConfinementNames()) known += (known.empty() ? "" : ", ") + n;
  return Failure("unknown confinement profile '" + name + "' (known: " + known + ")");
}

}  // namespace cvb::image
