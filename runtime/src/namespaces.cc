#include "namespaces.h"

#include <sched.h>

namespace cvb::runtime {

namespace {
struct NamespaceEntry {
  const char* type;
  int flag;
};
// The namespace types cvrun creates and joins ("time" is not among them).
constexpr NamespaceEntry kNamespaces[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mount", CLONE_NEWNS},
    {"network", CLONE_NEWNET},   {"pid", CLONE_NEWPID}, {"user", CLONE_NEWUSER},
    {"uts", CLONE_NEWUTS}};
}  // namespace

int NamespaceFlag(const std::string& type) {
  for (const auto& ns : kNamespaces)
    if (type == ns.type) return ns.flag;
  return 0;
}

std::vector<std::string> NamespaceTypes() {
  std::vector<std::string> out;
  for (const auto& ns : kNamespaces) out.push_back(ns.type);
  return out;
}

Result<NamespacePlan> PlanNamespaces(const Spec& spec) {
  NamespacePlan plan;
  const Namespace* mnt = spec.FindNamespace("mount");
  if (!mnt)
    return Failure(
        "linux.namespaces: no mount namespace: cvrun builds the rootfs with mounts and "
        "pivot_root, which would change the host's own mounts; add {\"type\": \"mount\"}");
  if (!mnt->path.empty())
    return Failure(
        "linux.namespaces[" + std::to_string(mnt - spec.linux.namespaces.data()) +
        "].path: joining a mount namespace (" + mnt->path +
        ") is not supported: cvrun would build the rootfs and pivot_root inside it, which moves "
        "the root of every process already in that namespace");
  // The user namespace is joined first so that the others are joined with its credentials.
  static const char* const kOrder[] = {"user", "ipc", "uts", "network", "cgroup", "pid", "mount"};
  for (const char* type : kOrder) {
    const Namespace* ns = spec.FindNamespace(type);
    if (!ns) continue;
    int flag = NamespaceFlag(type);
    if (!ns->path.empty()) {
      if (flag == CLONE_NEWPID) plan.pid_path = ns->path;
      else plan.joins.push_back({ns->path, flag});
      continue;
    }
    if (flag == CLONE_NEWCGROUP) {
      plan.new_cgroup = true;
      continue;
    }
    plan.clone_flags |= static_cast<uint64_t>(flag);
    if (flag == CLONE_NEWUSER) plan.new_user = true;
  }
  if (plan.joins.size() > 8) return Failure("linux.namespaces: too many namespaces to join");
  return plan;
}

}  // namespace cvb::runtime
