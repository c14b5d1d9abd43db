#include "instance_resources.h"

#include <dirent.h>
#include <net/if.h>
#include <sys/mount.h>
#include <unistd.h>

#include <mutex>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb::launcher {
namespace {

// 10.213.128.0/17 in /30 blocks.
constexpr int kMaxNetworks = 8192;
constexpr auto kIpTimeout = std::chrono::seconds(20);

std::string Addr(int index, int host) {
  int off = 0x8000 + index * 4 + host;
  return "10.213." + std::to_string(off >> 8) + "." + std::to_string(off & 255);
}

Result<void> Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  CVB_ASSIGN_OR_RETURN(RunOutput r, Run(argv, kIpTimeout));
  if (!r.status.ok())
    return Failure(JoinArgv(argv) + ": " + r.status.describe() + ": " + Trim(r.err));
  return Ok();
}

// Index choice and `ip netns add` under one lock: instances started from several threads (the
// scale-out suite) never pick the same name. Other processes are kept apart by `ip netns add`
// failing on an existing name.
std::mutex g_index_mu;

}  // namespace

ContainerNetwork::ContainerNetwork(ContainerNetwork&& o) noexcept
    : index_(o.index_), owner_(o.owner_) {
  o.index_ = -1;
}

ContainerNetwork& ContainerNetwork::operator=(ContainerNetwork&& o) noexcept {
  if (this != &o) {
    (void)Remove();
    index_ = o.index_;
    owner_ = o.owner_;
    o.index_ = -1;
  }
  return *this;
}

// The owner's pid in the name: the next cvbench finds what a killed one left (leftovers.h).
std::string ContainerNetwork::netns_name() const {
  return "cvb-n" + std::to_string(index_) + "-p" + std::to_string(owner_);
}

namespace {
// Any namespace file of index i, whoever owns it.
bool NetnsIndexTaken(int i) {
  std::string prefix = "cvb-n" + std::to_string(i) + "-p";
  DIR* d = ::opendir("/run/netns");
  if (!d) return false;
  bool taken = false;
  while (dirent* e = ::readdir(d))
    if (std::string(e->d_name).rfind(prefix, 0) == 0) taken = true;
  ::closedir(d);
  return taken || PathExists("/run/netns/cvb-n" + std::to_string(i));  // older builds' names
}
}  // namespace
std::string ContainerNetwork::host_interface() const { return "cvb-vh" + std::to_string(index_); }
std::string ContainerNetwork::container_interface() const {
  return "cvb-vc" + std::to_string(index_);
}
std::string ContainerNetwork::host_ip() const { return Addr(index_, 1); }
std::string ContainerNetwork::container_ip() const { return Addr(index_, 2); }

Result<ContainerNetwork> ContainerNetwork::Create() {
  if (FindProgram("ip").empty()) return Error{ENOENT, "container network: 'ip' (iproute2) not found"};
  ContainerNetwork net;
  {
    std::lock_guard<std::mutex> lock(g_index_mu);
    net.owner_ = ::getpid();
    for (int i = 0; i < kMaxNetworks && net.index_ < 0; ++i) {
      // A leftover file from a crashed sweep (its mount went with its mount namespace) or a
      // namespace of a concurrent sweep: skip the index.
      if (NetnsIndexTaken(i) || ::if_nametoindex(("cvb-vh" + std::to_string(i)).c_str()) != 0)
        continue;
      std::string ns = "cvb-n" + std::to_string(i) + "-p" + std::to_string(net.owner_);
      if (Ip({"netns", "add", ns})) net.index_ = i;
    }
  }
  if (net.index_ < 0)
    return Failure("container network: no free cvb-n<N>-p<pid> namespace below " +
                   std::to_string(kMaxNetworks));
  // From here on, `net` going out of scope on an error removes everything made so far.
  std::string ns = net.netns_name(), vh = net.host_interface(), vc = net.container_interface();
  CVB_TRY(Ip({"link", "add", vh, "type", "veth", "peer", "name", vc, "netns", ns}));
  CVB_TRY(Ip({"addr", "add", net.host_ip() + "/30", "dev", vh}));
  CVB_TRY(Ip({"link", "set", vh, "up"}));
  CVB_TRY(Ip({"-n", ns, "addr", "add", net.container_ip() + "/30", "dev", vc}));
  CVB_TRY(Ip({"-n", ns, "link", "set", vc, "up"}));
  CVB_TRY(Ip({"-n", ns, "link", "set", "lo", "up"}));
  return net;
}

Result<void> ContainerNetwork::Remove() {
  if (index_ < 0) return Ok();
  std::string ns = netns_name(), vh = host_interface();
  index_ = -1;
  Result<void> result = Ok();
  // Deleting the host end deletes its peer too; the namespace would take the peer with it anyway.
  if (::if_nametoindex(vh.c_str()) != 0) result = Ip({"link", "del", vh});
  if (PathExists("/run/netns/" + ns)) {
    auto r = Ip({"netns", "del", ns});
    if (!r && result) result = r;
  }
  if (!result) return result.error().wrap("removing container network " + ns);
  return Ok();
}

ScratchDir& ScratchDir::operator=(ScratchDir&& o) noexcept {
  if (this != &o) {
    (void)Remove();
    path_ = std::move(o.path_);
    base_ = std::move(o.base_);
    overlay_ = o.overlay_;
    o.path_.clear();
    o.base_.clear();
    o.overlay_ = false;
  }
  return *this;
}

Result<ScratchDir> ScratchDir::Create(const std::string& root, const std::string& name) {
  CVB_TRY(MakeDirs(root, 0755));
  ScratchDir d;
  std::string path = root + "/" + name;
  if (PathExists(path)) CVB_TRY(RemoveTree(path));
  CVB_TRY(MakeDirs(path, 0700));
  d.path_ = path;
  d.base_ = path;
  return d;
}

Result<ScratchDir> ScratchDir::CreateOverlay(const std::string& root, const std::string& name) {
  CVB_ASSIGN_OR_RETURN(ScratchDir d, Create(root, name));
  for (const char* sub : {"lower", "upper", "work", "merged"})
    CVB_TRY(MakeDirs(d.base_ + "/" + sub, 0700));
  std::string opts = "lowerdir=" + d.base_ + "/lower,upperdir=" + d.base_ +
                     "/upper,workdir=" + d.base_ + "/work";
  std::string merged = d.base_ + "/merged";
  if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0)
    return ErrnoError("mount overlay on " + merged);  // ~ScratchDir removes the directories
  d.overlay_ = true;
  d.path_ = merged;
  return d;
}

Result<void> ScratchDir::Remove() {
  if (base_.empty()) return Ok();
  std::string base = std::move(base_), path = std::move(path_);
  base_.clear();
  path_.clear();
  if (overlay_) {
    overlay_ = false;
    // Detached: a container that still holds it (a failed delete) must not keep us from
    // removing the directories underneath.
    if (::umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
      return ErrnoError("umount " + path);
  }
  return RemoveTree(base);
}

std::string ScratchRoot(const std::map<std::string, std::string>& params) {
  auto it = params.find("scratch_dir");
  return it != params.end() && !it->second.empty() ? it->second : "/var/tmp/cvbench";
}

}  // namespace cvb::launcher
