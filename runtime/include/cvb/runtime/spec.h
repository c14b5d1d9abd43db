// The OCI runtime-spec 1.0.x config.json as plain structs. ParseSpec validates as it reads and
// every error names the JSON path of the offending field, e.g.
// "linux.resources.memory.limit: expected an integer".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::runtime {

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  int resource = 0;  // RLIMIT_NOFILE
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
};

// Capability names as written ("CAP_KILL"); validated against libcap's list.
struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Process {
  bool terminal = false;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
};

struct Root {
  std::string path;  // as written; absolute or relative to the bundle
  bool readonly = false;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  // Without "env" (absent or null; "env": [] is an empty environment) a hook gets what runc gives
  // it: the runtime's environment for prestart, createRuntime, poststart and poststop, the
  // container process's for createContainer and startContainer (they run in the container's
  // init).
  std::vector<std::string> env;
  bool env_set = false;
  std::optional<int> timeout_s;
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  std::string type;  // pid, network, mount, ipc, uts, user, cgroup
  std::string path;  // join this namespace instead of creating one
};

struct Device {
  std::string type;  // c, b, u, p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;  // memory + swap, as in the spec
  std::optional<uint64_t> swappiness;
  std::optional<int64_t> kernel_tcp;       // memory.kernelTCP
  std::optional<bool> disable_oom_killer;  // memory.disableOOMKiller
};

// linux.resources.devices[]: a device cgroup rule.
struct DeviceRule {
  bool allow = false;
  std::string type = "a";        // a, c, b
  std::optional<int64_t> major;  // none: any (*)
  std::optional<int64_t> minor;
  std::string access = "rwm";
};

struct BlockIoDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;  // weightDevice
  uint64_t rate = 0;                            // throttle*Device
};

struct BlockIo {
  std::optional<uint16_t> weight, leaf_weight;
  std::vector<BlockIoDevice> weight_device;
  std::vector<BlockIoDevice> throttle_read_bps, throttle_write_bps, throttle_read_iops,
      throttle_write_iops;
};

struct HugepageLimit {
  std::string page_size;  // "2MB"
  uint64_t limit = 0;
};

struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<std::pair<std::string, uint32_t>> priorities;  // interface, priority
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> period;
  std::string cpus;
  std::string mems;
};

struct Resources {
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<int64_t> pids_limit;
  std::vector<DeviceRule> devices;
  std::optional<BlockIo> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<NetworkResources> network;
  std::map<std::string, std::string> unified;  // cgroup v2 files, written as is
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_EQ ...
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;
  std::vector<std::string> flags;
  std::vector<SeccompSyscall> syscalls;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  Resources resources;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;
};

struct Spec {
  std::string oci_version;
  Process process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;

  bool HasNamespace(std::string_view type) const;
  const Namespace* FindNamespace(std::string_view type) const;
};

// Parses and validates config.json text. Does not look at the filesystem.
Result<Spec> ParseSpec(std::string_view json_text);
// A linux.resources object on its own (`cvrun update --resources`). Errors name the field as
// "linux.resources.<path>"; members cvrun does not apply (cpu.realtimeRuntime, ...) are refused.
Result<Resources> ParseResourcesJson(std::string_view json_text);
// Parses an OCI process object on its own (`cvrun exec --process FILE`); errors name the field
// as "process.<field>".
Result<Process> ParseProcessJson(std::string_view json_text);
// Reads <bundle>/config.json, parses it and checks that the rootfs exists. root.path is made
// absolute (relative paths are relative to the bundle). With config_text, the text that was
// parsed is stored there (create keeps that very text: a second read could see another file).
Result<Spec> LoadSpec(const std::string& bundle_dir, std::string* config_text = nullptr);
// Parses config.json text read from `source` (named in errors) and makes root.path absolute
// against bundle_dir. Does not look at the filesystem (exec and the hooks read create's copy).
Result<Spec> ParseBundleSpec(std::string_view json_text, const std::string& source,
                             const std::string& bundle_dir);
// The default config.json that `cvrun spec` writes (runc's defaults, rootfs "rootfs").
std::string DefaultSpecJson();
// `cvrun spec --rootless`: the default made runnable by a user without privileges, as runc's
// `spec --rootless` makes it: no network namespace (a new one would have only lo and no way
// out) and a new user namespace mapping the caller's euid/egid to 0 (one id each), /sys bound
// from the host (read-only, nosuid, noexec, nodev: sysfs cannot be mounted without owning a
// network namespace), no uid=/gid= mount options, and no linux.resources (an unprivileged user
// cannot make cgroups).
std::string RootlessSpecJson(uid_t euid, gid_t egid);

}  // namespace cvb::runtime
