#include "cvb/launcher/fingerprint.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "cvb/common/unique_fd.h"

namespace cvb::launcher {
namespace {

std::string Unreadable(const Error& e) { return "unreadable: " + e.message(); }

// Namespace types recorded; the *_for_children links describe children, not the instance.
const char* const kNamespaces[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};

Result<std::string> ReadLink(const std::string& path) {
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return ErrnoError("readlink " + path);
  return std::string(buf, static_cast<size_t>(n));
}

// /proc/<pid>/cgroup: {"memory": "/cvb-crun-1", "cpu,cpuacct": "/", "unified": "/"}.
std::map<std::string, std::string> ParseCgroupLines(const std::string& text) {
  std::map<std::string, std::string> out;
  for (const auto& line : Split(text, '\n')) {
    size_t a = line.find(':');
    size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    out[controllers.empty() ? "unified" : controllers] = line.substr(b + 1);
  }
  return out;
}

// The directory of a v1 hierarchy: /sys/fs/cgroup/cpu,cpuacct or one of its controller links.
std::string V1Dir(const std::string& root, const std::string& controllers) {
  if (PathExists(root + "/" + controllers)) return root + "/" + controllers;
  for (const auto& c : Split(controllers, ','))
    if (PathExists(root + "/" + c)) return root + "/" + c;
  return "";
}

// One limit file; rules = a list whose order carries no meaning (v1 devices.list lists the
// allowed devices in the order they were added): sorted, so two runtimes that allow the same
// devices read alike.
void Put(Fingerprint& fp, const std::string& key, const std::string& dir, const std::string& file,
         bool rules = false) {
  std::string path = dir + (dir.empty() || dir.back() != '/' ? "/" : "") + file;
  auto text = ReadFile(path);
  if (!text) {
    fp[key] = Unreadable(text.error());
    return;
  }
  if (!rules) {
    fp[key] = Trim(*text);
    return;
  }
  auto lines = Split(CompactLines(*text), ';');
  std::sort(lines.begin(), lines.end());
  std::string joined;
  for (const auto& l : lines) joined += (joined.empty() ? "" : ";") + l;
  fp[key] = joined;
}

std::string SeccompMode(const std::string& v) {
  if (v == "0") return "0 (disabled)";
  if (v == "1") return "1 (strict)";
  if (v == "2") return "2 (filter)";
  return v;
}

void ReadCgroups(pid_t pid, const ProcFingerprintSources& src, const std::string& proc,
                 Fingerprint& fp) {
  auto mine = ReadFile(proc + "/cgroup");
  if (!mine) {
    fp["cgroup"] = Unreadable(mine.error());
    return;
  }
  auto ref = ReadFile(src.proc_root + "/" + src.reference + "/cgroup");
  auto lines = ParseCgroupLines(*mine);
  auto ref_lines = ref ? ParseCgroupLines(*ref) : std::map<std::string, std::string>{};
  bool hybrid_or_v1 = false;
  for (const auto& [hierarchy, path] : lines) {
    auto r = ref_lines.find(hierarchy);
    fp["cgroup." + hierarchy] = r == ref_lines.end() ? "own (the host has no such line)"
                                : r->second == path  ? "host"
                                                     : "own";
    if (hierarchy == "unified" || hierarchy.rfind("name=", 0) == 0) continue;
    hybrid_or_v1 = true;
    std::string base = V1Dir(src.cgroup_root, hierarchy);
    // Put() then records every limit of it as unreadable, naming the missing hierarchy.
    std::string dir =
        base.empty() ? src.cgroup_root + "/(no " + hierarchy + " hierarchy mounted)" : base + path;
    // The root cgroup has no pids.max: nothing limits it.
    bool root = path == "/" && !base.empty();
    for (const auto& c : Split(hierarchy, ',')) {
      if (root && c == "pids") {
        fp["limit.pids"] = PathExists(dir + "pids.max")
                               ? Trim(ReadFile(dir + "pids.max").value_or_empty())
                               : "max (root cgroup)";
        continue;
      }
      if (c == "memory") Put(fp, "limit.memory", dir, "memory.limit_in_bytes");
      if (c == "pids") Put(fp, "limit.pids", dir, "pids.max");
      if (c == "cpu") {
        Put(fp, "limit.cpu_shares", dir, "cpu.shares");
        Put(fp, "limit.cpu_quota_us", dir, "cpu.cfs_quota_us");
      }
      if (c == "cpuset") Put(fp, "limit.cpuset_cpus", dir, "cpuset.cpus");
      if (c == "devices") Put(fp, "devices.list", dir, "devices.list", /*rules=*/true);
    }
  }
  auto unified = lines.find("unified");
  if (unified == lines.end()) return;
  auto device_programs = [&](const std::string& dir) {
    auto programs =
        src.device_programs ? src.device_programs(dir) : CgroupV2DevicePrograms(dir);
    fp["devices.v2_programs"] =
        programs ? std::to_string(*programs) : Unreadable(programs.error());
  };
  if (hybrid_or_v1) {
    // A hybrid host: device programs on the cgroup2 directory are enforced too (before the v1
    // rules), so a runtime that attaches one there shows it.
    std::string dir = src.cgroup_root + "/unified" + unified->second;
    if (PathExists(src.cgroup_root + "/unified")) device_programs(dir);
    return;
  }
  // A pure cgroup v2 host: the limits are in the one hierarchy, device rules are an eBPF program.
  std::string dir = src.cgroup_root + unified->second;
  Put(fp, "limit.memory", dir, "memory.max");
  Put(fp, "limit.pids", dir, "pids.max");
  Put(fp, "limit.cpu_quota_us", dir, "cpu.max");
  Put(fp, "limit.cpu_shares", dir, "cpu.weight");
  Put(fp, "limit.cpuset_cpus", dir, "cpuset.cpus.effective");
  device_programs(dir);
  (void)pid;
}

void ReadInterfaces(pid_t pid, const ProcFingerprintSources& src, const std::string& proc,
                    Fingerprint& fp) {
  auto dev = ReadFile(proc + "/net/dev");
  if (!dev) {
    fp["net.interfaces"] = Unreadable(dev.error());
    return;
  }
  auto names = ParseNetDevNames(*dev);
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
  fp["net.interfaces"] = list;
  auto flags =
      src.interface_flags ? src.interface_flags(pid, names) : InterfaceFlagsInNetns(pid, names);
  for (const auto& n : names) {
    if (!flags) {
      fp["net." + n] = Unreadable(flags.error());
      continue;
    }
    auto f = flags->find(n);
    fp["net." + n] = f == flags->end()      ? "unreadable: not found by name"
                     : (f->second & IFF_UP) ? "up"
                                            : "down";
  }
}

}  // namespace

Result<Fingerprint> ReadProcessFingerprint(pid_t pid, const ProcFingerprintSources& src) {
  std::string proc = src.proc_root + "/" + std::to_string(pid);
  auto status = ReadFile(proc + "/status");
  if (!status) return status.error().wrap("fingerprint of pid " + std::to_string(pid));
  Fingerprint fp;

  for (const char* ns : kNamespaces) {
    auto mine = ReadLink(proc + "/ns/" + ns);
    if (!mine) {
      // A kernel without that namespace type has no link for it (time before 5.6).
      if (mine.error().err != ENOENT) fp[std::string("ns.") + ns] = Unreadable(mine.error());
      continue;
    }
    auto ref = ReadLink(src.proc_root + "/" + src.reference + "/ns/" + ns);
    fp[std::string("ns.") + ns] = !ref ? Unreadable(ref.error()) : *ref == *mine ? "host" : "own";
  }

  auto fields = ParseStatusFields(*status);
  auto field = [&fields](const char* name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string("unreadable: no ") + name + " in status" : it->second;
  };
  fp["cap.eff"] = field("CapEff");
  fp["cap.bnd"] = field("CapBnd");
  fp["no_new_privs"] = field("NoNewPrivs");
  fp["seccomp"] = SeccompMode(field("Seccomp"));
  fp["seccomp_filters"] = field("Seccomp_filters");

  if (auto limits = ReadFile(proc + "/limits")) {
    for (const auto& [name, value] : ParseLimits(*limits)) fp["rlimit." + name] = value;
  } else {
    fp["rlimit"] = Unreadable(limits.error());
  }
  auto mountinfo = ReadFile(proc + "/mountinfo");
  fp["mounts"] = mountinfo ? std::to_string(CountLines(*mountinfo)) : Unreadable(mountinfo.error());
  for (const char* map : {"uid_map", "gid_map"}) {
    auto text = ReadFile(proc + "/" + map);
    fp[map] = text ? CompactLines(*text) : Unreadable(text.error());
  }
  ReadCgroups(pid, src, proc, fp);
  ReadInterfaces(pid, src, proc, fp);
  return fp;
}

Result<std::map<std::string, unsigned>> InterfaceFlagsInNetns(
    pid_t pid, const std::vector<std::string>& names) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return ErrnoError("open " + path);
  std::map<std::string, unsigned> flags;
  Result<void> outcome = Ok();
  // A thread of its own: setns(CLONE_NEWNET) moves only the calling thread, and the thread's
  // namespace goes with it, so this process's own network namespace never changes.
  std::thread reader([&] {
    if (::setns(ns.get(), CLONE_NEWNET) != 0) {
      outcome = ErrnoError("setns " + path);
      return;
    }
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) {
      outcome = ErrnoError("socket in the network namespace of " + std::to_string(pid));
      return;
    }
    for (const auto& n : names) {
      ifreq req{};
      if (n.size() >= sizeof req.ifr_name) continue;
      std::memcpy(req.ifr_name, n.c_str(), n.size());
      if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) == 0)
        flags[n] = static_cast<unsigned short>(req.ifr_flags);
    }
  });
  reader.join();
  if (!outcome) return outcome.error();
  return flags;
}

Result<uint32_t> CgroupV2DevicePrograms(const std::string& dir) {
  struct statfs fs;
  if (::statfs(dir.c_str(), &fs) != 0) return ErrnoError("statfs " + dir);
  if (fs.f_type != CGROUP2_SUPER_MAGIC) return Failure(dir + " is not on cgroup2");
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + dir);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(fd.get());
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.query_flags = BPF_F_QUERY_EFFECTIVE;
  if (::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) != 0)
    return ErrnoError("bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE) on " + dir);
  return attr.query.prog_cnt;
}

Result<Fingerprint> TakeFingerprint(Launcher& launcher, std::chrono::milliseconds timeout) {
  WorkloadRequest req;
  req.mode = "fingerprint";
  CVB_ASSIGN_OR_RETURN(auto inst, launcher.Start(req));
  auto ready = inst->WaitReady(timeout);
  if (!ready) {
    (void)inst->Teardown();
    return ready.error().wrap(launcher.Name() + ": fingerprint launch");
  }
  auto host = inst->HostFingerprint();
  Fingerprint fp = host ? *host : Fingerprint{{"host_view", Unreadable(host.error())}};
  auto stopped = inst->Stop(timeout);
  auto torn = inst->Teardown();
  if (!AddSelfReport(inst->results(), fp))
    fp["self"] = "unreadable: no FINGERPRINT line from the workload";
  if (!stopped) return stopped.error().wrap(launcher.Name() + ": fingerprint launch: stop");
  if (!torn) return torn.error().wrap(launcher.Name() + ": fingerprint launch: teardown");
  return fp;
}

bool AddSelfReport(const std::vector<workload::Message>& messages, Fingerprint& into) {
  for (const auto& m : messages) {
    if (m.kind != "FINGERPRINT") continue;
    for (const auto& [k, v] : m.fields) into["self." + k] = v;
    return true;
  }
  return false;
}

}  // namespace cvb::launcher
