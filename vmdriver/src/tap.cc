#include "cvb/vmdriver/tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "cvb/common/unique_fd.h"

namespace cvb::vmdriver {
namespace {

constexpr int kMaxTaps = 4096;  // 10.213.0.0/16 in /30 blocks: room for 16384; 4096 is plenty

std::string Addr(int index, int host) {
  int base = index * 4;
  return "10.213." + std::to_string(base >> 8) + "." + std::to_string((base & 255) + host);
}

// TUNSETIFF on /dev/net/tun; with IFF_TUN_EXCL the call fails with EBUSY when the name exists,
// so two creators can never share one tap.
Result<UniqueFd> OpenTap(const std::string& name, int extra_flags) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) return ErrnoError("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | extra_flags);
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) return ErrnoError("TUNSETIFF " + name);
  return fd;
}

Result<void> SetAddress(const std::string& name, const std::string& ip, int prefix) {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return ErrnoError("socket AF_INET");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
  sin->sin_family = AF_INET;
  ::inet_pton(AF_INET, ip.c_str(), &sin->sin_addr);
  if (::ioctl(s.get(), SIOCSIFADDR, &ifr) != 0) return ErrnoError("SIOCSIFADDR " + name + " " + ip);
  sin->sin_addr.s_addr = htonl(prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix));
  if (::ioctl(s.get(), SIOCSIFNETMASK, &ifr) != 0) return ErrnoError("SIOCSIFNETMASK " + name);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return ErrnoError("SIOCGIFFLAGS " + name);
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return ErrnoError("SIOCSIFFLAGS up " + name);
  return Ok();
}

}  // namespace

bool InterfaceExists(const std::string& name) { return ::if_nametoindex(name.c_str()) != 0; }

Tap::Tap(Tap&& o) noexcept : name_(std::move(o.name_)), index_(o.index_) {
  o.name_.clear();
  o.index_ = -1;
}

Tap& Tap::operator=(Tap&& o) noexcept {
  if (this != &o) {
    (void)Delete();
    name_ = std::move(o.name_);
    index_ = o.index_;
    o.name_.clear();
    o.index_ = -1;
  }
  return *this;
}

std::string Tap::host_ip() const { return Addr(index_, 1); }
std::string Tap::guest_ip() const { return Addr(index_, 2); }

std::string Tap::guest_mac() const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "52:54:00:cb:%02x:%02x", (index_ >> 8) & 0xff, index_ & 0xff);
  return buf;
}

Result<Tap> Tap::Create() {
  for (int i = 0; i < kMaxTaps; ++i) {
    std::string name = "cvb-tap" + std::to_string(i);
    if (InterfaceExists(name)) continue;
    auto fd = OpenTap(name, IFF_TUN_EXCL);
    if (!fd) {
      if (fd.error().err == EBUSY || fd.error().err == EEXIST) continue;  // lost a race
      return fd.error().wrap("creating tap " + name);
    }
    // Persistent, so it outlives this fd until QEMU opens it; Delete() clears it again.
    if (::ioctl(fd->get(), TUNSETPERSIST, 1) != 0) return ErrnoError("TUNSETPERSIST " + name);
    Tap tap;
    tap.name_ = name;
    tap.index_ = i;
    fd->reset();
    auto addr = SetAddress(name, tap.host_ip(), 30);
    if (!addr) return addr.error().wrap("configuring tap " + name);  // ~Tap deletes it
    return tap;
  }
  return Failure("no free cvb-tap<N> name below " + std::to_string(kMaxTaps));
}

Result<void> Tap::Delete() {
  if (name_.empty()) return Ok();
  std::string name = std::move(name_);
  name_.clear();
  if (!InterfaceExists(name)) return Ok();
  // Attach to it once more and drop persistence: the device goes when its last user (this fd,
  // or QEMU if it still runs) closes.
  auto fd = OpenTap(name, 0);
  if (!fd) return fd.error().wrap("deleting tap " + name);
  if (::ioctl(fd->get(), TUNSETPERSIST, 0) != 0) return ErrnoError("TUNSETPERSIST 0 " + name);
  return Ok();
}

}  // namespace cvb::vmdriver
