// fingerprint mode: the workload's own view of the configuration it got, printed as one
// FINGERPRINT line before READY, then idle until SIGTERM (so the host can read its view of the
// same process meanwhile). It is the only view from inside gVisor and a guest. Never used by a
// timed launch: the harness runs it once per launcher, outside the measurements.
#include <dirent.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "cvb/common/unique_fd.h"
#include "cvb/workload/protocol.h"
#include "modes.h"

namespace cvb::workload {
namespace {

// Protocol values carry no spaces: "0 0 4294967295" -> "0,0,4294967295".
std::string NoSpaces(std::string s) {
  for (char& c : s)
    if (c == ' ' || c == '\t') c = ',';
  return s.empty() ? "-" : s;
}

std::string Unreadable(const Error& e) { return NoSpaces("unreadable:" + e.message()); }

// "lo:up,eth0:down", flags read in the workload's own network namespace.
std::string Interfaces() {
  auto dev = ReadFile("/proc/self/net/dev");
  if (!dev) return Unreadable(dev.error());
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  std::string out;
  for (const auto& name : ParseNetDevNames(*dev)) {
    std::string state = "unknown";
    ifreq req{};
    if (sock && name.size() < sizeof req.ifr_name) {
      std::memcpy(req.ifr_name, name.c_str(), name.size());
      if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) == 0)
        state = (req.ifr_flags & IFF_UP) ? "up" : "down";
    }
    out += (out.empty() ? "" : ",") + name + ":" + state;
  }
  return out.empty() ? "none" : out;
}

std::string DevNodes() {
  DIR* d = ::opendir("/dev");
  if (!d) return Unreadable(ErrnoError("opendir /dev"));
  int n = 0;
  while (dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) ++n;
  ::closedir(d);
  return std::to_string(n);
}

}  // namespace

Message SelfFingerprint() {
  Message m{"FINGERPRINT", {}};
  auto& f = m.fields;
  utsname u{};
  f["kernel"] = ::uname(&u) == 0 ? NoSpaces(u.release) : Unreadable(ErrnoError("uname"));
  f["cpus_online"] = std::to_string(::sysconf(_SC_NPROCESSORS_ONLN));
  if (auto meminfo = ReadFile("/proc/meminfo")) {
    auto total = ParseMeminfoField(*meminfo, "MemTotal");
    f["mem_total_kib"] = total ? std::to_string(*total / 1024) : Unreadable(total.error());
  } else {
    f["mem_total_kib"] = Unreadable(meminfo.error());
  }
  if (auto status = ReadFile("/proc/self/status")) {
    auto s = ParseStatusFields(*status);
    auto get = [&s](const char* k) { return s.count(k) ? NoSpaces(s[k]) : std::string("absent"); };
    f["cap_eff"] = get("CapEff");
    f["cap_bnd"] = get("CapBnd");
    f["no_new_privs"] = get("NoNewPrivs");
    f["seccomp"] = get("Seccomp");
    f["seccomp_filters"] = get("Seccomp_filters");
    f["uid"] = get("Uid");
  } else {
    f["status"] = Unreadable(status.error());
  }
  if (auto limits = ReadFile("/proc/self/limits")) {
    auto l = ParseLimits(*limits);
    f["rlimit_open_files"] = l.count("open_files") ? l["open_files"] : "absent";
    f["rlimit_processes"] = l.count("processes") ? l["processes"] : "absent";
  } else {
    f["rlimits"] = Unreadable(limits.error());
  }
  auto mountinfo = ReadFile("/proc/self/mountinfo");
  f["mounts"] = mountinfo ? std::to_string(CountLines(*mountinfo)) : Unreadable(mountinfo.error());
  for (const char* map : {"uid_map", "gid_map"}) {
    auto text = ReadFile(std::string("/proc/self/") + map);
    f[map] = text ? NoSpaces(CompactLines(*text)) : Unreadable(text.error());
  }
  f["net"] = Interfaces();
  f["dev_nodes"] = DevNodes();
  return m;
}

int ModeFingerprint(Context& ctx) {
  if (std::string bad = UnknownArg(ctx, {}); !bad.empty()) return Fail(bad);
  std::string line = FormatLine(SelfFingerprint()) + "\n";
  // One write: the line never interleaves with another.
  ssize_t r = ::write(1, line.data(), line.size());
  (void)r;
  AnnounceReady(ctx);
  while (!ctx.stopping()) ::pause();
  Done(0);
  return 0;
}

}  // namespace cvb::workload
