// An instance fingerprint: the configuration an instance really got, read after READY, so that a
// comparison of two launchers can show whether they did the same job for the same bundle.
//
// Two views, merged into one flat map of string -> string:
//   host view (no prefix; Instance::HostFingerprint): read from the host about the instance's
//     host process — /proc/<pid>/{ns/*,status,limits,mountinfo,uid_map,gid_map,cgroup,net/dev},
//     the cgroup directories it joined and their limits, device rules, interface state in its
//     network namespace. For VMs: the machine QEMU was asked for (vm.*).
//   self view ("self." prefix): what the workload reported about itself from inside (its
//     `fingerprint` mode prints one FINGERPRINT line before READY), the only view that sees the
//     workload under gVisor and in a guest.
// A field that could not be read is recorded as "unreadable: <why>", never left out silently.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/launcher/launcher.h"
#include "cvb/workload/protocol.h"

namespace cvb::launcher {

// Where the host view is read from; tests point the roots at a fake tree.
struct ProcFingerprintSources {
  std::string proc_root = "/proc";
  std::string cgroup_root = "/sys/fs/cgroup";
  // The process namespaces and cgroups are compared with: "host" means "the same as this one's".
  std::string reference = "self";
  // Flags (IFF_*) of the named interfaces in pid's network namespace. Default:
  // InterfaceFlagsInNetns.
  std::function<Result<std::map<std::string, unsigned>>(pid_t, const std::vector<std::string>&)>
      interface_flags;
  // Device programs in force on a cgroup v2 directory. Default:
  // CgroupV2DevicePrograms.
  std::function<Result<uint32_t>(const std::string& dir)> device_programs;
};

// The host view of process pid. Fails only when /proc/<pid> is not there; any single field that
// cannot be read is recorded as unreadable. Keys:
//   ns.<type>          "own" or "host" (inode of /proc/<pid>/ns/<type> vs the reference's)
//   cgroup.<hierarchy> "own" or "host" per line of /proc/<pid>/cgroup (v1 controllers, "unified")
//   limit.memory, limit.pids, limit.cpu_shares, limit.cpu_quota_us, limit.cpuset_cpus
//                      limits in force in the joined cgroups (v1 files; v2 memory.max, pids.max,
//                      cpu.max, cpu.weight)
//   devices.list       v1 device rules of the devices cgroup, sorted, joined by ";"
//   devices.v2_programs number of eBPF device programs in force on the cgroup2 directory (pure v2
//                      hosts; hybrid hosts too, where such programs are enforced beside v1's rules)
//   cap.eff, cap.bnd, no_new_privs, seccomp, seccomp_filters   from /proc/<pid>/status
//   rlimit.<name>      soft/hard from /proc/<pid>/limits
//   mounts             lines of /proc/<pid>/mountinfo
//   uid_map, gid_map   compacted ("0 0 4294967295")
//   net.interfaces     names from /proc/<pid>/net/dev; net.<if> "up" or "down"
Result<Fingerprint> ReadProcessFingerprint(pid_t pid, const ProcFingerprintSources& sources = {});

// IFF_* flags of each named interface, read by a short-lived thread that joins pid's network
// namespace (setns is per thread for network namespaces); names it cannot find are left out.
Result<std::map<std::string, unsigned>> InterfaceFlagsInNetns(
    pid_t pid, const std::vector<std::string>& names);

// Number of eBPF device programs in force on a cgroup v2 directory (BPF_PROG_QUERY with
// BPF_F_QUERY_EFFECTIVE through the raw bpf() syscall: no bpftool needed). Fails on a directory
// that is not on cgroup2.
Result<uint32_t> CgroupV2DevicePrograms(const std::string& dir);

// The workload's FINGERPRINT message among messages, added as "self.<key>" entries; false when
// there is none.
bool AddSelfReport(const std::vector<workload::Message>& messages, Fingerprint& into);

// One untimed launch of the `fingerprint` workload mode: Start, READY, the host view
// (Instance::HostFingerprint) while it idles, Stop, the self view, Teardown. Host-view failures
// are recorded as host_view = "unreadable: ..."; a launch that fails is an error.
Result<Fingerprint> TakeFingerprint(Launcher& launcher, std::chrono::milliseconds timeout);

}  // namespace cvb::launcher
