// Namespace planning: which namespaces clone3 creates, which are joined (setns in the child,
// or in the parent for pid, which only affects children), and what must wait for the parent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime {

struct NamespaceJoin {
  std::string path;
  int type;  // CLONE_NEW*
};

struct NamespacePlan {
  uint64_t clone_flags = 0;        // CLONE_NEW* for clone3 (never CLONE_NEWCGROUP: see below)
  std::vector<NamespaceJoin> joins;  // setns in the child, user namespace first
  std::string pid_path;            // setns(CLONE_NEWPID) in the parent before clone3
  bool new_user = false;
  // A new cgroup namespace must be made after the child sits in its cgroup, so the child
  // unshares it itself.
  bool new_cgroup = false;
};

int NamespaceFlag(const std::string& type);  // "pid" → CLONE_NEWPID; 0 if unknown
std::vector<std::string> NamespaceTypes();    // every type NamespaceFlag knows
Result<NamespacePlan> PlanNamespaces(const Spec& spec);

}  // namespace cvb::runtime
