// The parts the "libvirt" and "qemu" launchers share (vm_launcher.h).
#include "vm_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"

namespace cvb::vmdriver::internal {

using launcher::Instance;
using launcher::LauncherConfig;
using launcher::WorkloadRequest;
using std::chrono::milliseconds;

namespace {

// The cvbench process that named a VM "cvb-<launcher>-<pid>-<n>", or -1.
pid_t OwnerOf(const std::string& vm_name, const std::string& launcher) {
  std::string prefix = "cvb-" + launcher + "-";
  if (vm_name.rfind(prefix, 0) != 0) return -1;
  return static_cast<pid_t>(std::atoi(vm_name.c_str() + prefix.size()));
}

bool Alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

Result<uint64_t> ParseUint(const std::string& key, const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
    return Failure("launcher parameter " + key + "=" + v + ": not a non-negative integer");
  return std::stoull(v);
}

std::string FirstLine(const std::string& s) {
  auto nl = s.find('\n');
  return Trim(nl == std::string::npos ? s : s.substr(0, nl));
}

// Whether the filesystem under dir supports O_DIRECT (tmpfs does not): cache=none needs it.
bool SupportsODirect(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// A sparse raw image with an ext4 filesystem, which the guest mounts at /data.
Result<void> MakeDiskImage(const std::string& path, uint64_t mib) {
  {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return ErrnoError("create " + path);
    if (::ftruncate(fd.get(), static_cast<off_t>(mib << 20)) != 0)
      return ErrnoError("ftruncate " + path);
  }
  // nodiscard/lazy init: do not spend the launch writing zeroes the guest never reads.
  CVB_ASSIGN_OR_RETURN(RunOutput r, Run({"mkfs.ext4", "-q", "-F", "-E",
                                         "nodiscard,lazy_itable_init=1,lazy_journal_init=1", path},
                                        std::chrono::seconds(60)));
  if (!r.status.ok())
    return Failure("mkfs.ext4 " + path + ": " + r.status.describe() + ": " + Trim(r.err));
  return Ok();
}

}  // namespace

// A cvbench that was SIGKILLed cannot tear down: its bare QEMU processes keep running (libvirt
// domains go with the connection, AUTODESTROY). Kill QEMU processes named by a qemu launcher whose
// owner is gone. The owner's pid is in the name, so a live run's VMs are never touched.
int KillOrphanQemus() {
  int killed = 0;
  std::vector<pid_t> pids;
  for (const auto& e : ListDirectory("/proc")) {
    pid_t p = static_cast<pid_t>(std::atoi(e.c_str()));
    if (p > 0) pids.push_back(p);
  }
  for (pid_t p : pids) {
    auto cmd = ReadFile("/proc/" + std::to_string(p) + "/cmdline");
    if (!cmd) continue;
    // argv is NUL separated: "...\0-name\0cvb-qemu-<pid>-<n>\0..."
    static const std::string kName = std::string("\0-name\0", 7);
    size_t at = cmd->find(kName);
    if (at == std::string::npos) continue;
    std::string name = cmd->c_str() + at + kName.size();
    pid_t owner = OwnerOf(name, "qemu");
    if (owner <= 0 || Alive(owner)) continue;
    auto comm = ProcessName(p);
    if (!comm || comm->rfind("qemu", 0) != 0) continue;
    if (::kill(p, SIGKILL) == 0) ++killed;
  }
  return killed;
}

Result<VmOptions> ParseOptions(const LauncherConfig& c) {
  VmOptions o;
  for (const auto& [k, v] : c.params) {
    if (k == "machine")
      o.machine = v;
    else if (k == "accel")
      o.accel = v;
    else if (k == "memory_mib") {
      CVB_ASSIGN_OR_RETURN(o.memory_mib, ParseUint(k, v));
    } else if (k == "vcpus") {
      CVB_ASSIGN_OR_RETURN(uint64_t n, ParseUint(k, v));
      o.vcpus = static_cast<int>(n);
    } else if (k == "tb_cache_mib") {
      CVB_ASSIGN_OR_RETURN(o.tb_cache_mib, ParseUint(k, v));
    } else if (k == "acpi")
      o.acpi = (v == "1" || v == "on" || v == "true");
    else if (k == "disk_mib") {
      CVB_ASSIGN_OR_RETURN(o.disk_mib, ParseUint(k, v));
    } else if (k == "disk_cache")
      o.disk_cache = v;
    else if (k == "cmdline")
      o.cmdline = v;
    else if (k == "cache_dir")
      o.cache_dir = v;
    else if (k == "uri")
      o.uri = v;
    else if (k == "emulator")
      o.emulator = v;
    else if (k == "kernel_path")
      o.kernel_path = v;
    else if (k == "initrd_path")
      o.initrd_path = v;
    else if (k == "daemon_wait_ms") {
      CVB_ASSIGN_OR_RETURN(uint64_t n, ParseUint(k, v));
      o.daemon_wait_ms = static_cast<int64_t>(n);
    } else if (k == "connect_timeout_ms") {
      CVB_ASSIGN_OR_RETURN(uint64_t n, ParseUint(k, v));
      o.connect_timeout_ms = static_cast<int64_t>(n);
    }
    // Other keys belong to other launchers sharing the command line: ignored.
  }
  if (o.cache_dir.empty()) o.cache_dir = image::CacheDir();
  return o;
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  auto text = ReadFile(path);
  if (!text || text->empty()) return "";
  std::string t = Trim(*text);
  if (t.size() > max_bytes) t = "..." + t.substr(t.size() - max_bytes);
  for (char& ch : t) {
    if (ch == '\n') ch = ' ';
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// VmInstance

Result<void> VmInstance::WaitReady(milliseconds timeout) {
  int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
  if (!console_watch_) return Failure(Who() + ": no console");
  if (!timeline_.At("first_byte")) {
    pollfd p{console_watch_.get(), POLLIN, 0};
    for (;;) {
      int64_t left = (deadline - MonotonicNs()) / 1'000'000;
      if (left <= 0) break;
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n > 0) {
        timeline_.Mark("first_byte");
        break;
      }
      if (n < 0 && errno != EINTR) break;
    }
  }
  auto r = channel_.WaitReady(deadline, timeline_);
  Sync();
  if (!r) {
    std::string extra = LogTail();
    return Error{r.error().err,
                 Who() + ": " + r.error().context + (extra.empty() ? "" : "; qemu: " + extra)};
  }
  ready_ = *r;
  AddPhaseExtras();
  return Ok();
}

Result<ExitStatus> VmInstance::WaitExit(milliseconds timeout) {
  int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
  auto d = channel_.Drain(deadline);
  Sync();
  if (!d)
    return Error{d.error().err,
                 Who() + ": still running after " + std::to_string(timeout.count()) + " ms"};
  CVB_TRY(WaitGone(deadline));
  ExitStatus st;
  if (channel_.done()) {
    if (auto v = channel_.done()->Number("status")) st.code = static_cast<int>(*v);
  } else {
    for (const auto& line : channel_.output()) {
      const std::string key = "cvb-init: exit status ";
      auto at = line.find(key);
      if (at != std::string::npos) st.code = std::atoi(line.c_str() + at + key.size());
    }
  }
  return st;
}

Result<void> VmInstance::Stop(milliseconds timeout) {
  int64_t deadline = MonotonicNs() + timeout.count() * 1'000'000;
  if (gone_) return Ok();
  // A VM has no process to send SIGTERM to: the VM as a whole is stopped hard (libvirt's
  // destroy: SIGTERM to QEMU, SIGKILL later), which is how an idle instance ends.
  int64_t t0 = MonotonicNs();
  CVB_TRY(HardStop());
  CVB_TRY(WaitGone(deadline));
  timeline_.SetExtra("destroy_ms", NsToMs(MonotonicNs() - t0));
  return Ok();
}

Result<void> VmInstance::Teardown() {
  if (torn_down_) return Ok();
  torn_down_ = true;
  int64_t t0 = MonotonicNs();
  Result<void> first = Ok();
  auto keep = [&first](Result<void> r) {
    if (!r && first.ok()) first = r;
  };
  if (started_ && !gone_) {
    keep(HardStop());
    keep(WaitGone(MonotonicNs() + 15'000'000'000));
  }
  channel_.Close();
  console_watch_.reset();
  listener_.Close();
  if (tap_) keep(tap_->Delete());
  tap_.reset();
  keep(CleanupExtra());
  if (!dir_.empty()) keep(RemoveTree(dir_));
  timeline_.SetExtra("teardown_ms", NsToMs(MonotonicNs() - t0));
  return first;
}

std::vector<pid_t> VmInstance::HostPids() {
  if (qemu_pid_ <= 0 || gone_) return {};
  if (::kill(qemu_pid_, 0) != 0) return {};
  return {qemu_pid_};
}

Result<QemuMemory> VmInstance::QemuMemoryNow() {
  if (qemu_pid_ <= 0) return Failure(Who() + ": QEMU pid unknown");
  return ReadQemuMemory(qemu_pid_, memory_mib_ << 20);
}

pid_t VmInstance::QemuPidFrom(pid_t peer) const {
  auto comm = peer > 0 ? ProcessName(peer) : Result<std::string>(Failure("no peer"));
  if (comm && comm->rfind("qemu", 0) == 0) return peer;
  if (auto text = ReadFile("/run/libvirt/qemu/" + name_ + ".pid")) {
    pid_t p = static_cast<pid_t>(std::atoi(text->c_str()));
    if (p > 0) return p;
  }
  return peer;
}

Result<void> VmInstance::ConnectConsole(int64_t deadline, bool mark) {
  for (;;) {
    pid_t peer = -1;
    auto fd = listener_.Accept(std::min(deadline, MonotonicNs() + 100'000'000), &peer);
    if (fd) {
      if (mark && !timeline_.At("console_connected")) timeline_.Mark("console_connected");
      if (qemu_pid_ <= 0) qemu_pid_ = QemuPidFrom(peer);
      console_watch_.reset(::fcntl(fd->get(), F_DUPFD_CLOEXEC, 0));
      channel_ = launcher::WorkloadChannel(std::move(*fd));
      listener_.Close();  // one connection only; the path is not needed any more
      return Ok();
    }
    if (fd.error().err != ETIMEDOUT) return fd.error().wrap(Who());
    CVB_TRY(CheckAlive());
    if (MonotonicNs() >= deadline)
      return Error{ETIMEDOUT, Who() + ": QEMU did not connect its console" +
                                  (LogTail().empty() ? "" : "; qemu: " + LogTail())};
  }
}

std::optional<double> VmInstance::Between(const std::string& from, const std::string& to) const {
  auto a = timeline_.At(from), b = timeline_.At(to);
  if (!a || !b) return std::nullopt;
  return NsToMs(*b - *a);
}

void VmInstance::Sync() {
  results_ = channel_.results();
  output_ = channel_.output();
}

Result<void> VmInstance::WaitGone(int64_t deadline) {
  if (gone_) return Ok();
  if (console_watch_) {
    pollfd p{console_watch_.get(), POLLRDHUP, 0};
    for (;;) {
      int64_t left = (deadline - MonotonicNs()) / 1'000'000;
      if (left <= 0) break;
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
      if (n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        if (!timeline_.At("exit")) timeline_.Mark("exit");
        break;
      }
    }
  }
  CVB_TRY(WaitProcessGone(deadline));
  if (!timeline_.At("exit")) timeline_.Mark("exit");
  gone_ = true;
  return Ok();
}

// ---------------------------------------------------------------------------------------------
// VmLauncher

Result<void> VmLauncher::Check() {
  if (FindProgram(opt_.emulator).empty())
    return Error{ENOENT, opt_.emulator + " not found (install qemu-system-x86)"};
  CVB_ASSIGN_OR_RETURN(accel_, ChooseAccel(opt_.accel));
  return Ok();
}

Result<void> VmLauncher::Prepare(const image::Image& image) {
  CVB_TRY(Check());
  if (int n = KillOrphanQemus(); n > 0)
    std::cerr << "cvbench: " << Name() << ": killed " << n
              << " QEMU process(es) left by a cvbench that died\n";
  std::string profile = config_.kernel.empty() ? "distro" : config_.kernel;
  auto progress = [this](const std::string& msg) {
    std::cerr << "cvbench: " << Name() << ": " << msg << "\n";
  };
  auto art = image::PrepareVmArtifacts(image, profile, opt_.cache_dir, progress);
  if (!art) return art.error().wrap(Name() + ": VM artefacts");
  art_ = std::move(*art);
  if (auto v = Run({opt_.emulator, "--version"}, std::chrono::seconds(10)); v && v->status.ok())
    qemu_version_ = FirstLine(v->out);
  prepared_ = true;
  return Ok();
}

Result<void> VmLauncher::Supports(const WorkloadRequest& r) const {
  // The distro kernel finds no virtio-mmio devices on microvm without ACPI (it lacks
  // VIRTIO_MMIO_CMDLINE_DEVICES); the minimal profile has it.
  if (opt_.machine == "microvm" && (r.needs_network || r.needs_disk) &&
      art_.kernel.profile != "minimal")
    return Failure(Name() +
                   ": machine microvm gives the guest network or disk only with the "
                   "minimal kernel profile (the " +
                   art_.kernel.profile + " kernel finds no virtio-mmio devices); use machine=pc");
  if ((r.needs_network || r.needs_disk) && ::geteuid() != 0)
    return Failure(Name() + ": network and disk need root (tap devices)");
  return Ok();
}

Result<std::unique_ptr<Instance>> VmLauncher::Start(const WorkloadRequest& req) {
  std::unique_ptr<VmInstance> inst = NewInstance();
  inst->timeline().Mark("launch");
  if (!prepared_) return Failure(Name() + ": Start before Prepare");
  CVB_TRY(Supports(req));
  CVB_TRY(BeforeStart(*inst));

  static std::atomic<int> seq{0};
  inst->name_ = "cvb-" + Name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
  std::string base = config_.work_dir.empty() ? "/tmp" : config_.work_dir;
  inst->dir_ = base + "/" + inst->name_;
  CVB_TRY(MakeDirs(inst->dir_, 0700));
  inst->log_path_ = LogPath(*inst);
  std::string sock = inst->dir_ + "/console.sock";
  if (sock.size() >= 100) sock = "/tmp/" + inst->name_ + ".sock";  // sun_path is 108 bytes
  CVB_ASSIGN_OR_RETURN(inst->listener_, ConsoleListener::Listen(sock));

  VmSpec spec;
  spec.name = inst->name_;
  spec.memory_mib =
      req.memory_bytes ? std::max<uint64_t>(req.memory_bytes >> 20, 64) : opt_.memory_mib;
  inst->memory_mib_ = spec.memory_mib;
  spec.vcpus = opt_.vcpus;
  spec.machine = opt_.machine;
  spec.acpi = opt_.acpi;
  spec.accel = accel_.accel;
  spec.tb_cache_mib = opt_.tb_cache_mib;
  spec.kernel = opt_.kernel_path.empty() ? art_.kernel.vmlinux : opt_.kernel_path;
  spec.initrd = opt_.initrd_path.empty() ? art_.initramfs : opt_.initrd_path;
  spec.console = ConsoleKind::kUnixConnect;
  spec.console_path = sock;
  spec.emulator = opt_.emulator;
  spec.cpuset = req.cpus;

  GuestCommand cmd;
  cmd.mode = req.mode;
  cmd.args = req.args;
  if (req.needs_network) {
    CVB_ASSIGN_OR_RETURN(Tap tap, Tap::Create());
    inst->tap_.emplace(std::move(tap));
    spec.tap = inst->tap_->name();
    spec.mac = inst->tap_->guest_mac();
    cmd.guest_cidr = inst->tap_->guest_ip() + "/" + std::to_string(inst->tap_->prefix_len());
    cmd.gateway = inst->tap_->host_ip();
    inst->timeline().Mark("tap_ready");
  }
  if (req.needs_disk) {
    spec.disk = inst->dir_ + "/disk.img";
    CVB_TRY(MakeDiskImage(spec.disk, opt_.disk_mib));
    spec.disk_cache = !opt_.disk_cache.empty()     ? opt_.disk_cache
                      : SupportsODirect(spec.disk) ? "none"
                                                   : "writeback";
    cmd.disk_device = "vda";
    inst->timeline().Mark("disk_ready");
  }
  std::string profile_cmdline = art_.kernel.cmdline;
  if (!opt_.cmdline.empty()) profile_cmdline += " " + opt_.cmdline;
  CVB_ASSIGN_OR_RETURN(spec.cmdline, KernelCmdline(spec, Trim(profile_cmdline), cmd));

  // The run directory keeps what QEMU or libvirt was given (qemu-argv.txt, domain.xml), once per
  // shape; recorded before the boot so that a VM that fails to boot leaves it too.
  CVB_ASSIGN_OR_RETURN(auto artefact, BootArtefact(spec));
  std::vector<std::string> per_instance{inst->name_, inst->dir_, sock};
  if (inst->tap_)
    per_instance.insert(per_instance.end(), {inst->tap_->name(), inst->tap_->guest_mac(),
                                             inst->tap_->guest_ip(), inst->tap_->host_ip()});
  if (auto r = artefacts_.Record(artefact.first, artefact.second, per_instance,
                                 launcher::RequestSummary(req));
      !r)
    return r.error().wrap(Name());

  inst->machine_ = MachineFingerprint(spec);
  CVB_TRY(inst->Boot(spec));
  CVB_TRY(inst->ConnectConsole(MonotonicNs() + opt_.connect_timeout_ms * 1'000'000,
                               MarksConsoleConnect()));
  return std::unique_ptr<Instance>(std::move(inst));
}

Result<launcher::Fingerprint> VmInstance::HostFingerprint() {
  if (gone_) return Failure(Who() + ": fingerprint of a VM that is gone");
  launcher::Fingerprint fp = machine_;
  fp["host_view"] = "the machine QEMU was asked for (the guest's own view: self.*)";
  return fp;
}

launcher::Fingerprint VmLauncher::MachineFingerprint(const VmSpec& spec) const {
  launcher::Fingerprint fp;
  fp["vm.accelerator"] = spec.accel;
  fp["vm.machine"] = spec.machine + (spec.acpi ? "" : ",acpi=off");
  fp["vm.vcpus"] = std::to_string(spec.vcpus);
  fp["vm.memory_mib"] = std::to_string(spec.memory_mib);
  std::string devices = "serial console (unix socket)";
  if (!spec.tap.empty()) devices += ",virtio-net (tap)";
  if (!spec.disk.empty()) devices += ",virtio-blk (cache=" + spec.disk_cache + ")";
  fp["vm.devices"] = devices;
  fp["vm.kernel"] = art_.kernel.profile + " " + art_.kernel.version;
  fp["vm.tb_cache_mib"] = spec.tb_cache_mib ? std::to_string(spec.tb_cache_mib) : "qemu default";
  return fp;
}

std::map<std::string, std::string> VmLauncher::Conditions() const {
  std::map<std::string, std::string> c;
  c["accelerator"] = accel_.accel;
  c["accelerator_reason"] = accel_.reason;
  c["machine"] = opt_.machine + (opt_.acpi ? "" : ",acpi=off");
  c["memory_mib"] = std::to_string(opt_.memory_mib);
  c["vcpus"] = std::to_string(opt_.vcpus);
  c["tb_cache_mib"] = opt_.tb_cache_mib ? std::to_string(opt_.tb_cache_mib) : "qemu default";
  c["kernel_profile"] = art_.kernel.profile;
  c["kernel_version"] = art_.kernel.version;
  c["kernel_bytes"] = std::to_string(art_.kernel_bytes);
  c["initramfs_bytes"] = std::to_string(art_.initramfs_bytes);
  c["qemu_version"] = qemu_version_;
  c["console"] = "serial over a unix socket (QEMU connects to the host)";
  if (!opt_.kernel_path.empty()) c["kernel_path"] = opt_.kernel_path;
  if (!opt_.initrd_path.empty()) c["initrd_path"] = opt_.initrd_path;
  return c;
}

}  // namespace cvb::vmdriver::internal
