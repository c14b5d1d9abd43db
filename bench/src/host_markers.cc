#include "host_markers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <thread>

#include "cvb/common/file.h"
#include "cvb/common/host.h"
#include "cvb/common/proc.h"

namespace cvb::bench {
namespace {

std::string RandomHex8() {
  uint32_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v)
    v = static_cast<uint32_t>(::getpid() ^ ::time(nullptr));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

// A char device the host can open, for the device check: /dev/kvm as the issue suggests where
// it exists, else /dev/kmsg or /dev/loop-control (opened read-only and closed: no effect). None
// of them is in an OCI runtime's default device list.
std::string OpenableDevice(std::string* arg) {
  for (const char* p : {"/dev/kvm", "/dev/kmsg", "/dev/loop-control"}) {
    struct stat st;
    if (::stat(p, &st) != 0 || !S_ISCHR(st.st_mode)) continue;
    UniqueFd fd(::open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    if (!fd) continue;
    *arg = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    return std::string(p) + " " + *arg;
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<HostMarkers>> HostMarkers::Create(const std::string& workload_binary) {
  std::unique_ptr<HostMarkers> m(new HostMarkers());
  std::string hex = RandomHex8();
  m->token_ = "cvb-iso-" + hex;
  m->hostname_ = HostName();
  m->boot_id_ = Trim(ReadFile("/proc/sys/kernel/random/boot_id").value_or_empty());
  m->uname_ = UnameHash();

  m->file_ = "/tmp/" + m->token_;
  CVB_TRY(WriteFile(m->file_, m->token_, 0644));
  m->fd_file_ = "/tmp/" + m->token_ + "-fd";
  CVB_TRY(WriteFile(m->fd_file_, "fd marker", 0644));

  // The port: loopback, kernel-chosen, non-blocking so that draining it never waits.
  m->listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!m->listener_) return ErrnoError("isolation marker: socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(m->listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m->listener_.get(), 16) != 0 ||
      ::getsockname(m->listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return ErrnoError("isolation marker: listen on 127.0.0.1");
  m->port_ = ntohs(addr.sin_port);

  // The process: the workload idling with the marker as one argv element; ready once /proc
  // shows its cmdline (after exec).
  m->process_arg_ = m->token_ + "-proc";
  UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  SpawnOptions so;
  so.stdout_fd = devnull.get();
  CVB_ASSIGN_OR_RETURN(m->process_, Spawn({workload_binary, "idle", m->process_arg_}, so));
  std::string cmdline = "/proc/" + std::to_string(m->process_.pid()) + "/cmdline";
  for (int i = 0; i < 200; ++i) {
    if (CmdlineHasArg(ReadFile(cmdline).value_or_empty(), m->process_arg_)) break;
    if (i == 199)
      return Failure("isolation marker: process " + cmdline + " never showed its marker");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }

  // The interface: a veth pair (no dummy driver on every kernel); one end's name is the marker.
  std::string iface = "cvbi" + hex + "h";
  auto made = Run({"ip", "link", "add", iface, "type", "veth", "peer", "name", "cvbi" + hex + "p"});
  if (made && made->status.ok()) {
    m->iface_ = iface;
    m->iface_made_ = true;
  } else {
    m->notes_ +=
        "no marker interface (ip link add: " + (made ? Trim(made->err) : made.error().message()) +
        "); ";
  }

  m->device_ = OpenableDevice(&m->device_arg_);
  if (m->device_.empty()) m->notes_ += "no char device the host can open for the device check; ";
  return m;
}

HostMarkers::~HostMarkers() {
  inheritable_.reset();
  if (iface_made_) (void)Run({"ip", "link", "del", iface_});  // takes its peer with it
  if (!file_.empty()) ::unlink(file_.c_str());
  if (!fd_file_.empty()) ::unlink(fd_file_.c_str());
  // process_ (Child) is killed and reaped by its own destructor; listener_ closes.
}

std::vector<std::string> HostMarkers::ProbeArgs() const {
  std::vector<std::string> a = {"--token=" + token_, "--file=" + file_, "--fd=" + fd_file_,
                                "--process=" + process_arg_, "--port=" + std::to_string(port_)};
  if (!iface_.empty()) a.push_back("--iface=" + iface_);
  if (!hostname_.empty()) a.push_back("--hostname=" + hostname_);
  if (!device_arg_.empty()) a.push_back("--device=" + device_arg_);
  if (!boot_id_.empty()) a.push_back("--boot-id=" + boot_id_);
  if (!uname_.empty()) a.push_back("--uname=" + uname_);
  return a;
}

Result<void> HostMarkers::OpenInheritable() {
  // Deliberately without O_CLOEXEC: this is the leak the instance must not receive.
  inheritable_.reset(::open(fd_file_.c_str(), O_RDONLY));
  if (!inheritable_) return ErrnoError("isolation marker: open " + fd_file_);
  return Ok();
}

int HostMarkers::AcceptConnections() {
  int n = 0;
  for (;;) {
    UniqueFd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) break;
    ++n;
  }
  return n;
}

}  // namespace cvb::bench
