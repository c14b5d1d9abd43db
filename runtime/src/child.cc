// The container's init between clone3 and execve. Rules: no allocation, no stdio, no locks;
// every failure is reported as (step, errno, index) through the sync socket, then _exit.
#include "child.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cvb/common/raw_log.h"
#include "process_setup.h"

namespace cvb::runtime {

const char* ChildStepName(int32_t step) {
  switch (step) {
    case kStepSync: return "sync with parent";
    case kStepSetns: return "setns";
    case kStepCgroupNs: return "unshare cgroup namespace";
    case kStepHostname: return "sethostname";
    case kStepPropagation: return "make / rslave";
    case kStepRootfsBind: return "bind rootfs";
    case kStepMountTarget: return "resolve mount destination";
    case kStepMount: return "mount";
    case kStepMountAttr: return "mount_setattr";
    case kStepMountPropagation: return "mount propagation";
    case kStepDevices: return "create /dev devices";
    case kStepPivotRoot: return "pivot_root";
    case kStepSysctl: return "sysctl";
    case kStepMaskedPath: return "mask path";
    case kStepReadonlyPath: return "readonly path";
    case kStepReadonlyRoot: return "readonly root";
    case kStepCwd: return "chdir to process.cwd";
    case kStepRlimit: return "setrlimit";
    case kStepOomScoreAdj: return "oom_score_adj";
    case kStepCloseFds: return "close inherited fds";
    case kStepExecLookup: return "find executable";
    case kStepSeccomp: return "seccomp";
    case kStepUser: return "set user and groups";
    case kStepCapabilities: return "capabilities";
    case kStepNoNewPrivileges: return "no_new_privs";
    case kStepConsole: return "console";
    case kStepLoopback:
      return "bring lo up";
    case kStepStartHook:
      return "startContainer hook";
    case kStepCreateContainerHook:
      return "createContainer hook";
    default: return "setup";
  }
}

namespace {

int64_t Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

ChildReport g_report;  // static storage: no allocation, survives between steps

}  // namespace

[[noreturn]] void Fail(const ChildPlan& plan, int32_t step, int err, int32_t index,
                       int32_t detail) {
  g_report.ok = kReportFailed;
  g_report.step = step;
  g_report.err = err;
  g_report.index = index;
  g_report.detail = detail;
  ssize_t n = ::write(plan.sync_fd, &g_report, sizeof g_report);
  (void)n;
  _exit(1);
}

namespace {

// "/proc/self/fd/<fd>" into buf.
const char* FdPath(char* buf, int fd) {
  static const char kPrefix[] = "/proc/self/fd/";
  memcpy(buf, kPrefix, sizeof kPrefix);
  rawlog::FormatInt(fd, buf + sizeof kPrefix - 1);
  return buf;
}

// Resolves path inside root: symlinks and ".." cannot leave it.
int OpenInRoot(int root_fd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(O_PATH | O_CLOEXEC | flags);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, root_fd, path[0] ? path : ".", &how, sizeof how));
}

// Opens (creating as needed, directories for every component and a directory or an empty file
// for the last) the destination path inside root. Returns an O_PATH fd or -1 with errno set.
int MakeTarget(int root_fd, const char* rel, bool is_dir) {
  int fd = OpenInRoot(root_fd, rel, 0);
  if (fd >= 0 || errno != ENOENT) return fd;
  char buf[4096];
  size_t len = strlen(rel);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, rel, len + 1);
  int parent = -1;  // -1: the root itself
  size_t start = 0;
  while (start < len) {
    size_t end = start;
    while (end < len && buf[end] != '/') ++end;
    bool last = end == len;
    buf[end] = 0;
    int cur = OpenInRoot(root_fd, buf, 0);
    if (cur < 0 && errno == ENOENT) {
      int dir = parent >= 0 ? parent : root_fd;
      const char* name = buf + start;
      if (last && !is_dir) {
        int f = openat(dir, name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (f >= 0) ::close(f);
        else if (errno != EEXIST) return -1;
      } else if (mkdirat(dir, name, 0755) != 0 && errno != EEXIST) {
        if (parent >= 0) ::close(parent);
        return -1;
      }
      cur = OpenInRoot(root_fd, buf, 0);
    }
    if (parent >= 0) ::close(parent);
    if (cur < 0) return -1;
    parent = cur;
    if (!last) buf[end] = '/';
    start = end + 1;
  }
  return parent;
}

int MountSetattr(int dfd, const char* path, unsigned flags, uint64_t attr_set,
                 uint64_t attr_clr = 0) {
  mount_attr attr{};
  attr.attr_set = attr_set;
  attr.attr_clr = attr_clr;
  return static_cast<int>(syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr));
}

// A symlink at m.dest_rel (its directory made as needed) pointing at m.source.
void MakeSymlink(const ChildPlan& plan, int root_fd, const ChildMount& m, int i) {
  char parent[4096];
  size_t len = strlen(m.dest_rel);
  if (len >= sizeof parent) Fail(plan, kStepMountTarget, ENAMETOOLONG, i);
  memcpy(parent, m.dest_rel, len + 1);
  char* slash = strrchr(parent, '/');
  const char* name = m.dest_rel;
  if (slash) {
    *slash = 0;
    name = m.dest_rel + (slash - parent) + 1;
  } else {
    parent[0] = 0;
  }
  int dir = MakeTarget(root_fd, parent, true);
  if (dir < 0) Fail(plan, kStepMountTarget, errno, i);
  if (symlinkat(m.source, dir, name) != 0 && errno != EEXIST) Fail(plan, kStepMount, errno, i);
  ::close(dir);
}

void DoMounts(const ChildPlan& plan, int root_fd) {
  char path[40];
  for (int i = 0; i < plan.n_mounts; ++i) {
    const ChildMount& m = plan.mounts[i];
    if (m.kind == kMountSymlink) {
      MakeSymlink(plan, root_fd, m, i);
      continue;
    }
    if (m.kind == kMountReadOnly) {
      int top = OpenInRoot(root_fd, m.dest_rel, 0);
      if (top < 0) Fail(plan, kStepMountTarget, errno, i);
      if (MountSetattr(top, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY) != 0)
        Fail(plan, kStepMountAttr, errno, i);
      ::close(top);
      continue;
    }
    int fd = MakeTarget(root_fd, m.dest_rel, m.bind ? m.source_is_dir : true);
    if (fd < 0) Fail(plan, kStepMountTarget, errno, i);
    bool host_sysfs = false;
    if (::mount(m.source, FdPath(path, fd), m.fstype, m.flags, m.data) != 0) {
      // sysfs cannot be mounted without owning the network namespace: bind the host's, made
      // read-only (all of it, submounts too) below.
      if (!(errno == EPERM && m.fstype && strcmp(m.fstype, "sysfs") == 0) ||
          ::mount("/sys", path, nullptr, MS_BIND | MS_REC, nullptr) != 0)
        Fail(plan, kStepMount, errno, i);
      host_sysfs = true;
    }
    ::close(fd);
    if (m.attr_set || m.attr_clr || m.rec_attr_set || m.rec_attr_clr || m.propagation ||
        host_sysfs) {
      // Re-open: the fd above points below the new mount, this one at its root.
      int top = OpenInRoot(root_fd, m.dest_rel, 0);
      if (top < 0) Fail(plan, kStepMountTarget, errno, i);
      if ((m.attr_set || m.attr_clr) &&
          MountSetattr(top, "", AT_EMPTY_PATH | (m.recursive ? AT_RECURSIVE : 0), m.attr_set,
                       m.attr_clr) != 0)
        Fail(plan, kStepMountAttr, errno, i);
      if ((m.rec_attr_set || m.rec_attr_clr) &&
          MountSetattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, m.rec_attr_set, m.rec_attr_clr) != 0)
        Fail(plan, kStepMountAttr, errno, i);
      if (host_sysfs && MountSetattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE,
                                     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                         MOUNT_ATTR_NOEXEC) != 0)
        Fail(plan, kStepMountAttr, errno, i);
      if (m.propagation && ::mount(nullptr, FdPath(path, top), nullptr, m.propagation, nullptr) != 0)
        Fail(plan, kStepMountPropagation, errno, i);
      ::close(top);
    }
  }
}

void MakeDevices(const ChildPlan& plan, int root_fd) {
  int dev = OpenInRoot(root_fd, "dev", O_DIRECTORY);
  if (dev < 0) Fail(plan, kStepDevices, errno);
  char path[40];
  for (int i = 0; i < plan.n_devices; ++i) {
    const ChildDevice& d = plan.devices[i];
    // The node's directory is resolved (and made) inside the rootfs like a mount target: a
    // symlink cannot send the node outside it.
    bool top = strcmp(d.dir_rel, "dev") == 0;
    int dir = top ? dev : MakeTarget(root_fd, d.dir_rel, /*is_dir=*/true);
    if (dir < 0) Fail(plan, kStepDevices, errno, i);
    if (mknodat(dir, d.name, d.mode, d.dev) != 0) {
      if (errno == EEXIST) {
        if (!top) ::close(dir);
        continue;
      }
      if (errno != EPERM) Fail(plan, kStepDevices, errno, i);
      // In a user namespace mknod is not allowed: bind the host's node.
      int f = openat(dir, d.name, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (f < 0) Fail(plan, kStepDevices, errno, i);
      ::close(f);
      int target = openat(dir, d.name, O_PATH | O_CLOEXEC | O_NOFOLLOW);
      if (target < 0 || ::mount(d.host_path, FdPath(path, target), nullptr, MS_BIND, nullptr) != 0)
        Fail(plan, kStepDevices, errno, i);
      ::close(target);
    } else if ((d.uid || d.gid) && fchownat(dir, d.name, d.uid, d.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      Fail(plan, kStepDevices, errno, i);
    }
    if (!top) ::close(dir);
  }
  static const char* const kLinks[][2] = {{"/proc/self/fd", "fd"},
                                          {"/proc/self/fd/0", "stdin"},
                                          {"/proc/self/fd/1", "stdout"},
                                          {"/proc/self/fd/2", "stderr"},
                                          {"pts/ptmx", "ptmx"}};
  for (const auto& link : kLinks)
    if (symlinkat(link[0], dev, link[1]) != 0 && errno != EEXIST) Fail(plan, kStepDevices, errno);
  ::close(dev);
}

}  // namespace

void WriteAll(const ChildPlan& plan, const char* path, const char* value, int32_t step, int i) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) Fail(plan, step, errno, i);
  if (::write(fd, value, strlen(value)) < 0) Fail(plan, step, errno, i);
  ::close(fd);
}

// A new pty from the container's devpts: the master goes to the console socket, the slave
// becomes the controlling terminal and stdio of a new session.
void SetUpConsole(const ChildPlan& plan) {
  int master = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) Fail(plan, kStepConsole, errno);
  // /dev/ptmx is the container's: whatever it opened must be a pty multiplexer (5:2) before its
  // fd goes to the host's console socket.
  struct stat ptmx;
  if (fstat(master, &ptmx) != 0) Fail(plan, kStepConsole, errno);
  if (!S_ISCHR(ptmx.st_mode) || ptmx.st_rdev != makedev(5, 2)) Fail(plan, kStepConsole, ENOTTY);
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) != 0) Fail(plan, kStepConsole, errno);
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) Fail(plan, kStepConsole, errno);
  char data = 0;
  iovec iov{&data, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
  if (sendmsg(plan.console_socket_fd, &msg, 0) != 1) Fail(plan, kStepConsole, errno);
  ::close(master);
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) != 0) Fail(plan, kStepConsole, errno);
  for (int fd = 0; fd < 3; ++fd)
    if (dup2(slave, fd) < 0) Fail(plan, kStepConsole, errno);
  if (slave > 2) ::close(slave);
}

void CloseFds(const ChildPlan& plan) {
  // Keep 0-2, the preserved fds, the sync socket and the exec fifo; close the rest now so that
  // the container holds no fd of its caller even while it waits for `start`.
  unsigned keep[2] = {static_cast<unsigned>(plan.sync_fd), static_cast<unsigned>(plan.fifo_fd)};
  if (keep[0] > keep[1]) {
    unsigned t = keep[0];
    keep[0] = keep[1];
    keep[1] = t;
  }
  unsigned next = 3 + static_cast<unsigned>(plan.preserve_fds);
  for (unsigned k : keep) {
    if (static_cast<int>(k) < 0 || k < next) continue;
    if (k > next && syscall(SYS_close_range, next, k - 1, 0) != 0) Fail(plan, kStepCloseFds, errno);
    next = k + 1;
  }
  if (syscall(SYS_close_range, next, ~0U, 0) != 0) Fail(plan, kStepCloseFds, errno);
  // The preserved fds (socket activation's first) reach the process even when the caller marked
  // them close-on-exec, as runc passes them (dup2 into place clears the flag).
  for (int fd = 3; fd < 3 + plan.preserve_fds; ++fd)
    if (fd != plan.sync_fd && fd != plan.fifo_fd) fcntl(fd, F_SETFD, 0);
}

void SetUserAndCapabilities(const ChildPlan& plan) {
  if (plan.set_caps) {
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) Fail(plan, kStepCapabilities, errno);
    for (int c = 0; c <= plan.last_cap; ++c)
      if (!((plan.cap_bounding >> c) & 1) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 &&
          errno != EINVAL)
        Fail(plan, kStepCapabilities, errno, c);
  }
  if (setgroups(static_cast<size_t>(plan.n_groups), plan.groups) != 0 &&
      !(errno == EPERM && plan.n_groups == 0))
    Fail(plan, kStepUser, errno);
  if (setresgid(plan.gid, plan.gid, plan.gid) != 0) Fail(plan, kStepUser, errno);
  if (setresuid(plan.uid, plan.uid, plan.uid) != 0) Fail(plan, kStepUser, errno);
  if (!plan.set_caps) return;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  data[0].effective = static_cast<uint32_t>(plan.cap_effective);
  data[1].effective = static_cast<uint32_t>(plan.cap_effective >> 32);
  data[0].permitted = static_cast<uint32_t>(plan.cap_permitted);
  data[1].permitted = static_cast<uint32_t>(plan.cap_permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(plan.cap_inheritable);
  data[1].inheritable = static_cast<uint32_t>(plan.cap_inheritable >> 32);
  if (syscall(SYS_capset, &header, data) != 0) Fail(plan, kStepCapabilities, errno);
  for (int c = 0; c <= plan.last_cap; ++c) {
    // An ambient capability must be permitted and inheritable; like runc, a set the kernel
    // refuses is skipped rather than fatal.
    if (((plan.cap_ambient >> c) & 1) &&
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0 && errno != EPERM &&
        errno != EINVAL)
      Fail(plan, kStepCapabilities, errno, c);
  }
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

void ApplySeccomp(const ChildPlan& plan) {
  if (!plan.seccomp) return;
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, plan.seccomp_flags, plan.seccomp) != 0)
    Fail(plan, kStepSeccomp, errno);
}

namespace {

// A new network namespace has only lo, and it is down: bring it up, as runc and crun do.
void LoopbackUp(const ChildPlan& plan) {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) Fail(plan, kStepLoopback, errno);
  ifreq ifr{};
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) Fail(plan, kStepLoopback, errno);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) Fail(plan, kStepLoopback, errno);
  ::close(sock);
}

// mkdir -p plan.cwd, after pivot_root (every path resolves inside the container's root; ".."
// stops at it). Existing components are kept as they are.
void MakeCwd(const ChildPlan& plan) {
  char path[4096];
  size_t len = strlen(plan.cwd);
  if (len >= sizeof path) Fail(plan, kStepCwd, ENAMETOOLONG);
  memcpy(path, plan.cwd, len + 1);
  for (size_t i = 1; i <= len; ++i) {
    if (path[i] != '/' && path[i] != 0) continue;
    char saved = path[i];
    path[i] = 0;
    if (mkdir(path, 0755) != 0 && errno != EEXIST) Fail(plan, kStepCwd, errno);
    path[i] = saved;
  }
}

// The state JSON for startContainer hooks arrives with the commit message; static storage.
char g_state[256 * 1024];
size_t g_state_len = 0;

// Runs one hook with the state (g_state) on stdin. True when it exits 0; otherwise *err is the
// errno of a step that failed (pipe, fork, waitpid) or 0, and *detail the hook's exit status,
// -signal, or kHookTimedOut.
bool RunHook(const ChildHook& h, int32_t* err, int32_t* detail) {
  *err = 0;
  *detail = 0;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *err = errno;
    return false;
  }
  pid_t pid = fork();
  if (pid < 0) {
    *err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);  // dies with the init
    ::close(fds[1]);
    if (dup2(fds[0], 0) < 0) _exit(126);
    execve(h.path, h.argv, h.envp);
    _exit(127);
  }
  ::close(fds[0]);
  signal(SIGPIPE, SIG_IGN);
  ssize_t n = ::write(fds[1], g_state, g_state_len);
  (void)n;
  ::close(fds[1]);
  int status = 0;
  int64_t deadline = h.timeout_s ? Now() + int64_t{h.timeout_s} * 1000000000 : 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, deadline ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      *err = errno;
      return false;
    }
    if (deadline && Now() > deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      *detail = kHookTimedOut;
      return false;
    }
    if (deadline) {
      timespec ms{0, 1000000};
      nanosleep(&ms, nullptr);
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *detail = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return false;
}

// Runs the startContainer hooks in the container (after `start`, before exec), each with the
// state on stdin. A failing hook stops the container: nothing of the user's process runs.
void RunStartHooks(const ChildPlan& plan) {
  for (int i = 0; i < plan.n_start_hooks; ++i) {
    const ChildHook& h = plan.start_hooks[i];
    int32_t err, detail;
    if (RunHook(h, &err, &detail)) continue;
    if (err) rawlog::Write2(2, "cvrun: startContainer hook could not run: ", h.path);
    else if (detail == kHookTimedOut)
      rawlog::Write2(2, "cvrun: startContainer hook timed out: ", h.path);
    else rawlog::Write2(2, "cvrun: startContainer hook failed: ", h.path);
    _exit(1);
  }
}

// The createContainer hooks, in the container's namespaces after the mounts and before
// pivot_root (the runtime spec's place for them): first the parent runs prestart and
// createRuntime and sends the state, then each hook runs here. A failing hook fails the create.
void RunCreateHooks(const ChildPlan& plan) {
  g_report.ok = kReportHooks;
  if (::write(plan.sync_fd, &g_report, sizeof g_report) != sizeof g_report)
    Fail(plan, kStepSync, errno);
  ssize_t got = ::read(plan.sync_fd, g_state, sizeof g_state);
  if (got < 1 || g_state[0] != 'h') _exit(1);  // the parent failed a hook, or died: it cleans up
  g_state_len = static_cast<size_t>(got - 1);
  memmove(g_state, g_state + 1, g_state_len);
  // The init works with umask 0 (exact modes for what it makes); hooks get the usual 022.
  umask(022);
  for (int i = 0; i < plan.n_create_hooks; ++i) {
    int32_t err, detail;
    if (!RunHook(plan.create_hooks[i], &err, &detail))
      Fail(plan, kStepCreateContainerHook, err, i, detail);
  }
  umask(0);
}

}  // namespace

[[noreturn]] void ChildMain(const ChildPlan& plan) {
  g_report.stamps[kStampStart] = Now();
  // Die with the creating cvrun until it commits: a SIGKILLed create leaves no process.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  // The parent's end of the sync socket: closing our copy makes the parent's death an EOF.
  if (plan.parent_sync_fd >= 0) ::close(plan.parent_sync_fd);
  umask(0);
  char byte;
  if (plan.wait_go && ::read(plan.sync_fd, &byte, 1) != 1) _exit(1);
  // In a new user namespace we still carry the host's ids, which are unmapped there: become
  // the namespace's root (its capabilities stay) so that files we create have an owner.
  if (plan.new_user_ns && (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0))
    Fail(plan, kStepUser, errno);

  for (int i = 0; i < plan.n_join; ++i)
    if (setns(plan.join_fds[i], plan.join_types[i]) != 0) Fail(plan, kStepSetns, errno, i);
  if (plan.unshare_cgroupns && unshare(CLONE_NEWCGROUP) != 0) Fail(plan, kStepCgroupNs, errno);
  if (plan.loopback_up) LoopbackUp(plan);
  if (plan.hostname && sethostname(plan.hostname, strlen(plan.hostname)) != 0)
    Fail(plan, kStepHostname, errno);
  if (plan.domainname && setdomainname(plan.domainname, strlen(plan.domainname)) != 0)
    Fail(plan, kStepHostname, errno);
  g_report.stamps[kStampNamespaces] = Now();

  // Nothing we mount may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0)
    Fail(plan, kStepPropagation, errno);
  if (::mount(plan.rootfs, plan.rootfs, nullptr, MS_BIND | MS_REC, nullptr) != 0)
    Fail(plan, kStepRootfsBind, errno);
  int root_fd = ::open(plan.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) Fail(plan, kStepRootfsBind, errno);
  DoMounts(plan, root_fd);
  if (plan.n_devices) MakeDevices(plan, root_fd);
  g_report.stamps[kStampMounts] = Now();
  if (plan.hooks_sync) RunCreateHooks(plan);
  g_report.stamps[kStampHooks] = Now();

  if (fchdir(root_fd) != 0 || syscall(SYS_pivot_root, ".", ".") != 0)
    Fail(plan, kStepPivotRoot, errno);
  // The old root is stacked under the new one: detach it.
  if (umount2(".", MNT_DETACH) != 0 || chdir("/") != 0) Fail(plan, kStepPivotRoot, errno);
  ::close(root_fd);
  if (plan.rootfs_propagation &&
      ::mount(nullptr, "/", nullptr, plan.rootfs_propagation, nullptr) != 0)
    Fail(plan, kStepPropagation, errno);
  g_report.stamps[kStampPivot] = Now();

  // From here on every path resolves inside the container's root.
  for (int i = 0; i < plan.n_sysctl; ++i)
    WriteAll(plan, plan.sysctl_paths[i], plan.sysctl_values[i], kStepSysctl, i);
  for (int i = 0; i < plan.n_masked; ++i) {
    struct stat st;
    if (stat(plan.masked[i], &st) != 0) {
      if (errno == ENOENT) continue;
      Fail(plan, kStepMaskedPath, errno, i);
    }
    int r = S_ISDIR(st.st_mode)
                ? ::mount("tmpfs", plan.masked[i], "tmpfs", MS_RDONLY, "size=0,mode=0500")
                : ::mount("/dev/null", plan.masked[i], nullptr, MS_BIND, nullptr);
    if (r != 0) Fail(plan, kStepMaskedPath, errno, i);
  }
  for (int i = 0; i < plan.n_readonly; ++i) {
    const char* p = plan.readonly_paths[i];
    if (::mount(p, p, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      if (errno == ENOENT) continue;
      Fail(plan, kStepReadonlyPath, errno, i);
    }
    if (MountSetattr(AT_FDCWD, p, AT_RECURSIVE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                                    MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC) != 0)
      Fail(plan, kStepReadonlyPath, errno, i);
  }
  // A missing process.cwd is made (mode 0755), as runc and crun make it: inside the container's
  // root now, and before the root turns read-only.
  MakeCwd(plan);
  if (plan.readonly_root && MountSetattr(AT_FDCWD, "/", 0, MOUNT_ATTR_RDONLY) != 0)
    Fail(plan, kStepReadonlyRoot, errno);

  if (chdir(plan.cwd) != 0) Fail(plan, kStepCwd, errno);
  if (plan.console_socket_fd >= 0) SetUpConsole(plan);
  CloseFds(plan);
  // rlimits, oom_score_adj, executable, seccomp, user, capabilities, no_new_privs, umask: the
  // same steps as an exec'd process's (process_setup.h).
  const int exec_index = ConfineProcess(plan);

  g_report.stamps[kStampReady] = Now();
  g_report.ok = kReportReady;
  g_report.step = kStepNone;
  if (::write(plan.sync_fd, &g_report, sizeof g_report) != sizeof g_report) _exit(1);
  // Wait for the commit: the state is on disk. EOF means our creator died: give up. With
  // startContainer hooks the message carries the state JSON after the 'c'.
  ssize_t got = ::read(plan.sync_fd, g_state, sizeof g_state);
  if (got < 1) _exit(1);
  g_state_len = static_cast<size_t>(got - 1);
  memmove(g_state, g_state + 1, g_state_len);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  ::close(plan.sync_fd);
  if (plan.fifo_fd >= 0) {
    // `cvrun start` writes one byte.
    while (::read(plan.fifo_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    ::close(plan.fifo_fd);
  }
  if (plan.n_start_hooks) RunStartHooks(plan);
  execve(plan.exec_candidates[exec_index], plan.argv, plan.envp);
  rawlog::Write2(2, "cvrun: exec failed: ", plan.exec_candidates[exec_index]);
  _exit(127);
}

}  // namespace cvb::runtime
