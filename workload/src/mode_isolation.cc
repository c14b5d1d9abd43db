// `cvb-workload isolation` (isolation_probe.h): each check only tests access, so that the native
// control, which runs on the host itself, cannot change the host: files under /proc/sys and /sys
// are opened for writing and closed without a write; the device node and the tmpfs live in a
// probe-private directory and are removed at once; the port is only connected to.
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "cvb/common/file.h"
#include "cvb/common/host.h"
#include "cvb/common/proc.h"
#include "cvb/common/unique_fd.h"
#include "cvb/workload/isolation.h"
#include "isolation_probe.h"

namespace cvb::workload {

std::string ParseIsolationArgs(const Context& ctx, IsolationArgs* out) {
  std::string unknown = UnknownArg(ctx, {"token", "file", "fd", "process", "iface", "port",
                                         "hostname", "device", "boot-id", "uname"});
  if (!unknown.empty()) return unknown;
  IsolationArgs a;
  a.token = ctx.Arg("token", "");
  a.file = ctx.Arg("file", "");
  a.fd_path = ctx.Arg("fd", "");
  a.process = ctx.Arg("process", "");
  a.iface = ctx.Arg("iface", "");
  a.hostname = ctx.Arg("hostname", "");
  a.boot_id = ctx.Arg("boot-id", "");
  a.uname = ctx.Arg("uname", "");
  NumberArg port = ParseNumberArg(ctx, "port", 0, 1, 65535);
  if (!port.error.empty()) return port.error;
  a.port = static_cast<int>(port.value);
  if (port.value != a.port) return "--port=" + ctx.Arg("port", "") + ": expected an integer";
  std::string dev = ctx.Arg("device", "");
  if (!dev.empty()) {
    unsigned maj = 0, mnr = 0;
    char tail = 0;
    if (std::sscanf(dev.c_str(), "%u:%u%c", &maj, &mnr, &tail) != 2)
      return "--device=" + dev + ": expected MAJOR:MINOR";
    a.device_major = static_cast<int>(maj);
    a.device_minor = static_cast<int>(mnr);
  }
  if (!a.file.empty() && a.token.empty()) return "--file needs --token (the content to expect)";
  *out = a;
  return "";
}

std::string FormatCheck(const std::string& name, const CheckOutcome& outcome) {
  std::string why = outcome.why.empty() ? "-" : outcome.why;
  for (char& c : why)
    if (c == ' ' || c == '\t' || c == '\n') c = '_';
  return "CVB RESULT check=" + name + " value=" + std::to_string(outcome.value) + " why=" + why;
}

namespace {

std::string ErrName(int err) {
  const char* n = ::strerrorname_np(err);
  return n ? n : "errno" + std::to_string(err);
}

CheckOutcome Visible(std::string why) { return {1, std::move(why)}; }
CheckOutcome Isolated(std::string why) { return {0, std::move(why)}; }
CheckOutcome Untested(std::string why) { return {-1, std::move(why)}; }

CheckOutcome HostProcess(const IsolationArgs& a, int* visible) {
  std::vector<pid_t> pids = VisiblePids();
  *visible = static_cast<int>(pids.size());
  if (a.process.empty()) return Untested("no-marker");
  if (pids.empty()) return Untested("no-/proc");
  for (pid_t p : pids) {
    if (p == ::getpid()) continue;
    auto cmd = ReadFile("/proc/" + std::to_string(p) + "/cmdline");
    if (cmd && CmdlineHasArg(*cmd, a.process)) return Visible("pid" + std::to_string(p));
  }
  return Isolated("not-among-" + std::to_string(pids.size()) + "-processes");
}

CheckOutcome HostHostname(const IsolationArgs& a) {
  if (a.hostname.empty()) return Untested("no-marker");
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return Untested("gethostname:" + ErrName(errno));
  if (a.hostname == buf) return Visible("same");
  return Isolated(std::string("own:") + buf);
}

std::vector<std::string> InterfaceNames(bool* readable) {
  *readable = true;
  if (auto dev = ReadFile("/proc/net/dev")) return ParseNetDevNames(*dev);
  std::vector<std::string> names;
  DIR* d = ::opendir("/sys/class/net");
  if (!d) {
    *readable = false;
    return names;
  }
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

CheckOutcome HostInterface(const IsolationArgs& a, int* visible) {
  bool readable = false;
  std::vector<std::string> names = InterfaceNames(&readable);
  *visible = static_cast<int>(names.size());
  if (a.iface.empty()) return Untested("no-marker");
  if (!readable) return Untested("no-/proc/net/dev-nor-/sys/class/net");
  for (const auto& n : names)
    if (n == a.iface) return Visible("listed");
  return Isolated("not-among-" + std::to_string(names.size()) + "-interfaces");
}

CheckOutcome HostFd(const IsolationArgs& a, int* above_2) {
  auto fds = OpenFds("self");
  *above_2 = 0;
  std::string found;
  for (const auto& [fd, target] : fds) {
    if (fd <= 2) continue;
    ++*above_2;
    if (!a.fd_path.empty() && target == a.fd_path) found = "fd" + std::to_string(fd);
  }
  if (a.fd_path.empty()) return Untested("no-marker");
  if (fds.empty()) return Untested("no-/proc/self/fd");
  if (!found.empty()) return Visible(found);
  return Isolated(std::to_string(*above_2) + "-fds-above-2");
}

CheckOutcome HostFile(const IsolationArgs& a) {
  if (a.file.empty()) return Untested("no-marker");
  UniqueFd fd(::open(a.file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Isolated(ErrName(errno));
  char buf[256];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0) return Isolated("read:" + ErrName(errno));
  if (std::string(buf, static_cast<size_t>(n)) == a.token) return Visible("read-the-token");
  return Isolated("other-content");
}

CheckOutcome HostPort(const IsolationArgs& a) {
  if (a.port <= 0) return Untested("no-marker");
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!s) return Untested("socket:" + ErrName(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(a.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
    return Visible("connected");
  if (errno != EINPROGRESS) return Isolated(ErrName(errno));
  pollfd p{s.get(), POLLOUT, 0};
  int r = ::poll(&p, 1, 2000);
  if (r == 0) return Isolated("timeout-2s");
  if (r < 0) return Untested("poll:" + ErrName(errno));
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return Untested("getsockopt:" + ErrName(errno));
  return err == 0 ? Visible("connected") : Isolated(ErrName(err));
}

// Opens for writing and closes: the permission check is in open(); nothing is written.
CheckOutcome OpensForWriting(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd) return Visible(path + ":opened-not-written");
  int err = errno;
  if (err == ENOENT) return Untested(path + ":ENOENT");
  return Isolated(path + ":" + ErrName(err));
}

CheckOutcome ProcSysWrite() { return OpensForWriting("/proc/sys/kernel/hostname"); }

CheckOutcome SysWrite() {
  // Root-writable attributes, the first that exists here (kernels and sandboxes differ).
  for (const char* p : {"/sys/class/net/lo/mtu", "/sys/kernel/mm/transparent_hugepage/enabled",
                        "/sys/kernel/uevent_helper", "/sys/kernel/profiling"}) {
    if (::access(p, F_OK) == 0) return OpensForWriting(p);
  }
  return Untested("no-known-/sys-attribute");
}

CheckOutcome CapSysAdmin(const std::string& status, int* count) {
  std::string eff = StatusField(status, "CapEff");
  *count = CountCapabilities(eff);
  if (eff.empty()) return Untested("no-CapEff");
  constexpr int kCapSysAdmin = 21;
  return HasCapability(eff, kCapSysAdmin) ? Visible("CapEff=" + eff) : Isolated("CapEff=" + eff);
}

CheckOutcome NoSeccomp(const std::string& status) {
  std::string mode = StatusField(status, "Seccomp");
  if (mode.empty()) return Untested("no-Seccomp-field");
  return mode == "0" ? Visible("Seccomp=0") : Isolated("Seccomp=" + mode);
}

// A directory of the probe's own in the first writable place: the device node and the tmpfs.
std::string MakePrivateDir() {
  for (const char* base : {"/tmp", "/dev", "/run", "/var/tmp"}) {
    std::string templ = std::string(base) + "/cvb-iso-XXXXXX";
    if (::mkdtemp(templ.data())) return templ;
  }
  return "";
}

std::string TryOpenDevice(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  return fd ? "ok" : ErrName(errno);
}

CheckOutcome DeviceOpen(const IsolationArgs& a, const std::string& dir) {
  if (a.device_major < 0) return Untested("no-marker");
  dev_t want = makedev(a.device_major, a.device_minor);
  // A node the instance already has (a runtime that passes the host's /dev through)...
  std::string existing = "none";
  bool opened = false;
  if (DIR* d = ::opendir("/dev")) {
    while (dirent* e = ::readdir(d)) {
      std::string p = std::string("/dev/") + e->d_name;
      struct stat st;
      if (::lstat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == want) {
        std::string r = TryOpenDevice(p);
        existing = p + ":" + r;
        opened |= r == "ok";
        break;
      }
    }
    ::closedir(d);
  }
  // ...or one it makes itself.
  std::string made = "no-dir";
  if (!dir.empty()) {
    std::string node = dir + "/dev";
    if (::mknod(node.c_str(), S_IFCHR | 0600, want) != 0) {
      made = "mknod:" + ErrName(errno);
    } else {
      std::string r = TryOpenDevice(node);
      made = "mknod-open:" + r;
      opened |= r == "ok";
      ::unlink(node.c_str());
    }
  }
  std::string why = "existing=" + existing + ",made=" + made;
  return opened ? Visible(why) : Isolated(why);
}

CheckOutcome MountTmpfs(const std::string& dir) {
  if (dir.empty()) return Untested("no-writable-dir");
  if (::mount("cvb-iso", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=16k,mode=700") != 0) {
    int err = errno;
    if (err == ENODEV) return Untested("no-tmpfs-in-kernel");
    return Isolated(ErrName(err));
  }
  // Detached at once: nothing stays mounted even if the probe dies right after.
  if (::umount2(dir.c_str(), MNT_DETACH) != 0) return Visible("mounted;umount:" + ErrName(errno));
  return Visible("mounted-and-unmounted");
}

CheckOutcome HostKernel(const IsolationArgs& a) {
  if (a.boot_id.empty() && a.uname.empty()) return Untested("no-marker");
  auto id = ReadFile("/proc/sys/kernel/random/boot_id");
  if (id && !a.boot_id.empty())
    return Trim(*id) == a.boot_id ? Visible("same-boot_id") : Isolated("own-boot_id");
  if (a.uname.empty()) return Untested("no-boot_id");
  return UnameHash() == a.uname ? Visible("no-boot_id;same-uname")
                                : Isolated("no-boot_id;own-uname");
}

void Print(const std::string& line) {
  std::string with_nl = line + "\n";
  ssize_t r = ::write(1, with_nl.data(), with_nl.size());
  (void)r;
}

}  // namespace

int ModeIsolation(Context& ctx) {
  IsolationArgs a;
  std::string bad = ParseIsolationArgs(ctx, &a);
  if (!bad.empty()) return Fail(bad);
  AnnounceReady(ctx);
  std::string status = ReadFile("/proc/self/status").value_or_empty();
  int processes = 0, interfaces = 0, fds = 0, caps = 0;
  std::string dir = MakePrivateDir();
  std::vector<std::pair<const char*, CheckOutcome>> out = {
      {"host_process", HostProcess(a, &processes)},
      {"host_hostname", HostHostname(a)},
      {"host_interface", HostInterface(a, &interfaces)},
      {"host_fd", HostFd(a, &fds)},
      {"host_file", HostFile(a)},
      {"host_port", HostPort(a)},
      {"proc_sys_write", ProcSysWrite()},
      {"sys_write", SysWrite()},
      {"cap_sys_admin", CapSysAdmin(status, &caps)},
      {"no_seccomp", NoSeccomp(status)},
      {"device_open", DeviceOpen(a, dir)},
      {"mount_tmpfs", MountTmpfs(dir)},
      {"host_kernel", HostKernel(a)},
  };
  if (!dir.empty()) ::rmdir(dir.c_str());
  for (const auto& [name, outcome] : out) Print(FormatCheck(name, outcome));
  Result({{"processes_visible", std::to_string(processes)},
          {"fds_above_2", std::to_string(fds)},
          {"interfaces_visible", std::to_string(interfaces)},
          {"cap_eff_count", std::to_string(caps)}});
  Done(0);
  return 0;
}

}  // namespace cvb::workload
