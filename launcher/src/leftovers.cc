#include "cvb/launcher/leftovers.h"

#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "cvb/common/subprocess.h"
#include "cvb/launcher/oci.h"
#include "cvb/launcher/engine_daemons.h"
#include "cvb/launcher/podman.h"

namespace cvb::launcher {
namespace {

bool IsNumber(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A zombie owner is dead too: a SIGKILLed cvbench re-parented to this host's PID 1 stays one.
bool Dead(pid_t pid) { return ProcessGone(pid); }

// "cvb-n12-p4711" -> {12, 4711}; false for other names.
bool ParseNetnsName(const std::string& name, int* index, pid_t* owner) {
  if (name.rfind("cvb-n", 0) != 0) return false;
  size_t p = name.find("-p", 5);
  if (p == std::string::npos) return false;
  std::string i = name.substr(5, p - 5), o = name.substr(p + 2);
  if (!IsNumber(i) || !IsNumber(o)) return false;
  *index = std::atoi(i.c_str());
  *owner = static_cast<pid_t>(std::atol(o.c_str()));
  return true;
}

// "cvb-crun-4711-3" -> "crun" when the owner is 4711; "" otherwise.
std::string RuntimeOfId(const std::string& id, pid_t owner) {
  std::string mid = "-" + std::to_string(owner) + "-";
  if (id.rfind("cvb-", 0) != 0) return "";
  size_t at = id.rfind(mid);
  if (at == std::string::npos || at <= 4 || !IsNumber(id.substr(at + mid.size()))) return "";
  return id.substr(4, at - 4);
}

bool NamesOwner(const std::string& name, pid_t owner) { return !RuntimeOfId(name, owner).empty(); }

// Directories named after the owner's containers in every cgroup hierarchy, deepest first (a
// runtime may nest them under the caller's cgroup: a bounded walk, cgroup trees are small).
std::vector<std::string> OwnedCgroups(const std::string& root, pid_t owner) {
  std::vector<std::string> found;
  std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
    for (const auto& e : ListDirectory(dir)) {
      std::string p = dir + "/" + e;
      if (!PathExists(p + "/cgroup.procs")) continue;  // a file, or not a cgroup
      if (NamesOwner(e, owner)) found.push_back(p);
      if (depth < 5) walk(p, depth + 1);
    }
  };
  for (const auto& h : ListDirectory(root)) walk(root + "/" + h, 1);
  std::sort(found.begin(), found.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return found;
}

// Kills what is still in the cgroup and removes the directory (and sub-cgroups a runtime made).
Result<void> RemoveCgroup(const std::string& dir) {
  for (const auto& sub : ListDirectory(dir))
    if (PathExists(dir + "/" + sub + "/cgroup.procs")) CVB_TRY(RemoveCgroup(dir + "/" + sub));
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto procs = ReadFile(dir + "/cgroup.procs");
    if (!procs) break;
    std::vector<pid_t> pids;
    for (const auto& p : Split(*procs, '\n'))
      pids.push_back(static_cast<pid_t>(std::atol(p.c_str())));
    for (pid_t p : pids)
      if (p > 0) ::kill(p, SIGKILL);
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
    ReapOrphans();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
  return ErrnoError("rmdir " + dir);
}

}  // namespace

std::vector<pid_t> DeadSweepOwners(const LeftoverRoots& roots) {
  std::set<pid_t> owners;
  for (const auto& e : ListDirectory(roots.work_root))
    if (IsNumber(e) && Dead(static_cast<pid_t>(std::atol(e.c_str()))))
      owners.insert(static_cast<pid_t>(std::atol(e.c_str())));
  for (const auto& e : ListDirectory(roots.netns_root)) {
    int index;
    pid_t owner;
    if (ParseNetnsName(e, &index, &owner) && Dead(owner)) owners.insert(owner);
  }
  return {owners.begin(), owners.end()};
}

std::vector<std::string> ReapDeadSweeps(const LeftoverRoots& roots) {
  std::vector<std::string> report;
  auto note = [&](pid_t owner, const std::string& what) {
    report.push_back("cvbench " + std::to_string(owner) + ": " + what);
  };
  std::map<std::string, OciRuntimeSpec> specs;
  for (auto& s : BuiltinOciRuntimes()) specs[s.name] = s;
  for (pid_t owner : DeadSweepOwners(roots)) {
    std::string work = roots.work_root + "/" + std::to_string(owner);
    // 0. podman containers (podman.h): through podman and the dead sweep's own store, which
    //    kills them through their runtime and stops their conmons; what podman cannot remove
    //    is still in the store's cgroup parent, cvb-podman-<runtime>-<owner>-0 (step 2).
    for (const auto& rt : ListDirectory(work + "/podman")) {
      std::string store = PodmanStoreDir(work, rt);
      std::string podman = FindProgram("podman");
      if (podman.empty()) break;
      auto listed = Run(
          [&] {
            std::vector<std::string> a{podman};
            for (const auto& s : PodmanStoreArgs(store)) a.push_back(s);
            a.insert(a.end(), {"ps", "-a", "--format", "{{.Names}}"});
            return a;
          }(),
          std::chrono::seconds(60),
          [&] {
            SpawnOptions so;
            so.extra_env = PodmanEnv(store);
            return so;
          }());
      for (const char* what : {"rm -a -f -t 0", "rmi -a -f"}) {
        std::vector<std::string> argv{podman};
        for (const auto& s : PodmanStoreArgs(store)) argv.push_back(s);
        for (const auto& w : Split(what, ' ')) argv.push_back(w);
        SpawnOptions so;
        so.extra_env = PodmanEnv(store);
        auto r = Run(argv, std::chrono::seconds(120), so);
        if (!r || !r->status.ok())
          note(owner, "could not podman " + std::string(what) + " in " + store + ": " +
                          (r ? Trim(r->err) : r.error().message()));
      }
      if (listed && listed->status.ok())
        for (const auto& name : Split(listed->out, '\n'))
          note(owner, "removed podman container " + Trim(name) + " (" + rt + ")");
      ReapOrphans();
    }
    // 0b. Docker's and containerd's (engine_daemons.h): through the daemons that run now.
    for (const auto& line : ReapEngineLeftovers(owner)) note(owner, line);
    // 1. Containers, through the runtime that made them and the dead sweep's state root.
    for (const auto& id : ListDirectory(work + "/run")) {
      std::string rt = RuntimeOfId(id, owner);
      auto spec = specs.find(rt);
      if (spec == specs.end()) continue;
      std::string binary = FindProgram(spec->second.binary);
      std::string state = work + "/state/" + rt;
      if (binary.empty() || !PathExists(state)) continue;
      std::vector<std::string> argv{binary, "--root", state};
      argv.insert(argv.end(), spec->second.global_args.begin(), spec->second.global_args.end());
      argv.insert(argv.end(), {"delete", "--force", id});
      auto r = Run(argv, std::chrono::seconds(30));
      if (r && r->status.ok()) note(owner, "deleted container " + id + " (" + rt + ")");
      // A container that never got past create has no state: its cgroups go below.
    }
    ReapOrphans();
    // 2. Cgroups named after the owner's containers (what a delete missed, or a create that
    //    died before the runtime recorded its state), with anything still in them.
    for (const auto& dir : OwnedCgroups(roots.cgroup_root, owner)) {
      auto r = RemoveCgroup(dir);
      note(owner, r ? "removed cgroup " + dir
                    : "could not remove cgroup " + dir + ": " + r.error().message());
    }
    ReapOrphans();
    // 3. Network namespaces (files under /run/netns; their mounts lived in the dead process's
    //    mount namespace) and the host ends of their veth pairs.
    for (const auto& e : ListDirectory(roots.netns_root)) {
      int index;
      pid_t ns_owner;
      if (!ParseNetnsName(e, &index, &ns_owner) || ns_owner != owner) continue;
      std::string veth = "cvb-vh" + std::to_string(index);
      if (::if_nametoindex(veth.c_str()) != 0) {
        auto r = Run({"ip", "link", "del", veth}, std::chrono::seconds(20));
        note(owner, r && r->status.ok() ? "removed veth " + veth : "could not remove veth " + veth);
      }
      std::string path = roots.netns_root + "/" + e;
      (void)::umount2(path.c_str(), MNT_DETACH);
      if (::unlink(path.c_str()) == 0)
        note(owner, "removed network namespace " + path);
      else
        note(owner,
             "could not remove network namespace: " + ErrnoError("unlink " + path).message());
    }
    // 4. Scratch directories of its containers (an overlay's mount went with its mount
    //    namespace; detach anyway in case it is ours).
    for (const auto& root : roots.scratch_roots)
      for (const auto& e : ListDirectory(root)) {
        if (!NamesOwner(e, owner)) continue;
        std::string merged = root + "/" + e + "/merged";
        (void)::umount2(merged.c_str(), MNT_DETACH);
        auto r = RemoveTree(root + "/" + e);
        note(owner, r ? "removed scratch directory " + root + "/" + e
                      : "could not remove " + root + "/" + e + ": " + r.error().message());
      }
    // 5. The work dir itself.
    if (PathExists(work)) {
      auto r = RemoveTree(work);
      note(owner, r ? "removed work directory " + work
                    : "could not remove " + work + ": " + r.error().message());
    }
  }
  return report;
}

}  // namespace cvb::launcher
