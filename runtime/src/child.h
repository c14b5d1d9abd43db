// What the container's init does between clone3 and execve. Everything it needs is computed
// by the parent into a ChildPlan of plain arrays and C strings before clone3, so the child
// allocates nothing: it only makes system calls and reports a failure as (step, errno, index)
// through the sync socket.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>

namespace cvb::runtime {

enum ChildStep : int32_t {
  kStepNone = 0,
  kStepSync,
  kStepSetns,
  kStepCgroupNs,
  kStepHostname,
  kStepPropagation,
  kStepRootfsBind,
  kStepMountTarget,
  kStepMount,
  kStepMountAttr,
  kStepMountPropagation,
  kStepDevices,
  kStepPivotRoot,
  kStepSysctl,
  kStepMaskedPath,
  kStepReadonlyPath,
  kStepReadonlyRoot,
  kStepCwd,
  kStepRlimit,
  kStepOomScoreAdj,
  kStepCloseFds,
  kStepExecLookup,
  kStepSeccomp,
  kStepUser,
  kStepCapabilities,
  kStepNoNewPrivileges,
  kStepConsole,
  kStepLoopback,
  kStepStartHook,
  kStepCreateContainerHook,
};
const char* ChildStepName(int32_t step);

// Child timestamps (CLOCK_MONOTONIC ns), reported with the ready message.
enum ChildStamp {
  kStampStart,
  kStampNamespaces,
  kStampMounts,
  kStampHooks,  // createContainer hooks done (== kStampMounts when there are none)
  kStampPivot,
  kStampReady,
  kStamps
};

enum ChildReportKind : int32_t {
  kReportFailed = 0,
  kReportReady = 1,  // ready to exec
  // Mounts are done, pivot_root is not: the parent runs prestart and createRuntime hooks and
  // answers with 'h' + the state JSON, then the init runs the createContainer hooks.
  kReportHooks = 2,
};

struct ChildReport {
  int32_t ok;     // ChildReportKind
  int32_t step;   // ChildStep
  int32_t err;    // errno (0 when the failure is not a syscall's)
  int32_t index;  // which mount / path / namespace / hook, or -1
  // A failed hook: its exit status (>= 0), -signal, or kHookTimedOut.
  int32_t detail;
  int64_t stamps[kStamps];
};
constexpr int32_t kHookTimedOut = INT32_MIN;

enum ChildMountKind : int32_t {
  kMountFs = 0,    // mount(2) at dest_rel (a bind when `bind`), then its attributes
  kMountSymlink,   // a symlink at dest_rel whose target is `source` (cpu -> cpu,cpuacct)
  kMountReadOnly,  // the mount at dest_rel made read-only, after what was mounted under it
};

struct ChildMount {
  int32_t kind;  // ChildMountKind
  const char* source;
  const char* fstype;    // nullptr for bind
  const char* data;      // nullptr when none
  const char* dest_rel;  // destination relative to the rootfs, no leading '/'
  unsigned long flags;
  unsigned long propagation;  // MS_PRIVATE|MS_REC ... or 0
  uint64_t attr_set;          // MOUNT_ATTR_* applied after a bind mount
  uint64_t attr_clr;
  uint64_t rec_attr_set;  // applied with AT_RECURSIVE after the mount (rro, rnosuid ...)
  uint64_t rec_attr_clr;
  bool bind;
  bool recursive;
  bool source_is_dir;
  bool dev_tmpfs;  // this is /dev: default devices go here
};

struct ChildDevice {
  const char* dir_rel;  // its directory relative to the rootfs ("dev", "dev/net")
  const char* name;     // the node's name in it
  mode_t mode;       // S_IFCHR|0666 ...
  dev_t dev;
  uid_t uid;
  gid_t gid;
  const char* host_path;  // bind-mounted when mknod is not allowed (user namespaces)
};

// A hook the init runs in the container's namespaces: createContainer (after the mounts, before
// pivot_root: its path resolves in the runtime's filesystem) and startContainer (after `start`,
// before the process execs, inside the container's root).
struct ChildHook {
  const char* path;
  char* const* argv;
  char* const* envp;
  int timeout_s;  // 0: none
};

struct ChildPlan {
  int sync_fd = -1;
  int parent_sync_fd = -1;
  int fifo_fd = -1;  // -1 for `run`: exec right after the commit
  pid_t parent_pid = 0;
  bool wait_go = false;
  bool new_user_ns = false;

  int join_fds[8];
  int join_types[8];
  int n_join = 0;
  bool unshare_cgroupns = false;
  bool loopback_up = false;  // a new network namespace: bring lo up
  const char* hostname = nullptr;
  const char* domainname = nullptr;

  const char* rootfs = nullptr;
  unsigned long root_propagation = 0;  // applied to "/" before anything (MS_SLAVE|MS_REC)
  unsigned long rootfs_propagation = 0;  // linux.rootfsPropagation, after pivot_root
  const ChildMount* mounts = nullptr;
  int n_mounts = 0;
  const ChildDevice* devices = nullptr;
  int n_devices = 0;
  bool readonly_root = false;
  const char* const* masked = nullptr;
  int n_masked = 0;
  const char* const* readonly_paths = nullptr;
  int n_readonly = 0;
  const char* const* sysctl_paths = nullptr;
  const char* const* sysctl_values = nullptr;
  int n_sysctl = 0;

  const char* cwd = "/";
  const int* rlimit_resources = nullptr;
  const struct rlimit* rlimit_values = nullptr;
  int n_rlimits = 0;
  const char* oom_score_adj = nullptr;  // decimal text or nullptr
  int umask = 022;

  uid_t uid = 0;
  gid_t gid = 0;
  const gid_t* groups = nullptr;
  int n_groups = 0;
  bool set_caps = true;
  int last_cap = 40;
  uint64_t cap_bounding = 0, cap_effective = 0, cap_permitted = 0, cap_inheritable = 0,
           cap_ambient = 0;
  bool no_new_privileges = false;
  const sock_fprog* seccomp = nullptr;
  unsigned seccomp_flags = 0;  // SECCOMP_FILTER_FLAG_*
  const ChildHook* start_hooks = nullptr;
  int n_start_hooks = 0;
  // prestart / createRuntime / createContainer hooks exist: stop after the mounts for them.
  bool hooks_sync = false;
  const ChildHook* create_hooks = nullptr;  // createContainer: run by the init before pivot_root
  int n_create_hooks = 0;

  int preserve_fds = 0;
  int console_socket_fd = -1;  // process.terminal: the pty master goes here (SCM_RIGHTS)
  const char* const* exec_candidates = nullptr;
  int n_exec_candidates = 0;
  // args[0] holds a '/': it is the one candidate, and a file there that cannot be executed (no
  // x bit, a directory) fails with EACCES ("permission denied", Docker's exit 126) rather than
  // ENOENT, as runc's lookup reports it. A PATH search that finds nothing is ENOENT either way.
  bool exec_by_path = false;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // The config sets no HOME: envp holds this slot (kHomeValueMax + 6 bytes), which the process
  // fills from the container's /etc/passwd before its user changes (process_env.h).
  char* home_env = nullptr;
  size_t home_env_size = 0;
};

// Never returns: execs the container's process or _exits.
[[noreturn]] void ChildMain(const ChildPlan& plan);

// Steps of ChildMain that `exec`'s joining process shares (allocation-free; a failure is reported
// as a ChildReport through plan.sync_fd, then _exit):
[[noreturn]] void Fail(const ChildPlan& plan, int32_t step, int err, int32_t index = -1,
                       int32_t detail = 0);
// Writes value to path (O_WRONLY, existing file).
void WriteAll(const ChildPlan& plan, const char* path, const char* value, int32_t step, int i);
// A pty from the container's devpts (/dev/ptmx must be 5:2): the master goes through
// plan.console_socket_fd, the slave becomes the controlling terminal and stdio of a new session.
void SetUpConsole(const ChildPlan& plan);
// Closes every fd above 2 except the preserved ones, plan.sync_fd and plan.fifo_fd.
void CloseFds(const ChildPlan& plan);
// Bounding set, groups, gid, uid, then the capability sets and ambient capabilities.
void SetUserAndCapabilities(const ChildPlan& plan);
void ApplySeccomp(const ChildPlan& plan);

}  // namespace cvb::runtime
