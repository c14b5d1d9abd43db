// The "qemu" launcher: the VM as a bare QEMU process (posix_spawn of QemuArgv), no management
// layer. What it shares with the "libvirt" launcher is in vm_launcher.h.
#include <fcntl.h>

#include <optional>
#include <signal.h>
#include <unistd.h>

#include "cvb/common/affinity.h"
#include "cvb/common/clock.h"
#include "cvb/common/subprocess.h"
#include "vm_launcher.h"

namespace cvb::vmdriver {
namespace {

using internal::VmInstance;
using internal::VmLauncher;
using internal::VmOptions;
using launcher::LauncherConfig;
using std::chrono::milliseconds;

class QemuInstance : public VmInstance {
 public:
  ~QemuInstance() override { (void)Teardown(); }

  Result<void> Boot(const VmSpec& spec) override {
    CVB_ASSIGN_OR_RETURN(auto argv, QemuArgv(spec));
    UniqueFd log(::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!log) return ErrnoError("open " + log_path_);
    SpawnOptions opts;
    opts.stdout_fd = log.get();
    opts.stderr_fd = log.get();
    // Its own session, as libvirt starts its QEMU (daemonised, setsid): a Ctrl-C at the terminal
    // reaches cvbench, which tears down in order, and with sched autogroup QEMU gets a CPU share
    // of its own like libvirt's QEMU instead of sharing the caller's session (measured on a busy
    // host: the same distro-kernel boot took 19.4 s inside the caller's session, 11.3 s under
    // libvirt).
    opts.new_session = true;
    // spec.cpuset: QEMU and every thread it makes inherit the spawning thread's affinity.
    std::optional<ScopedThreadAffinity> pinned;
    if (!spec.cpuset.empty()) {
      CVB_ASSIGN_OR_RETURN(auto cpus, ParseCpuList(spec.cpuset));
      CVB_ASSIGN_OR_RETURN(auto pin, ScopedThreadAffinity::Pin(cpus));
      pinned.emplace(std::move(pin));
    }
    CVB_ASSIGN_OR_RETURN(child_, Spawn(argv, opts));
    pinned.reset();
    started_ = true;
    qemu_pid_ = child_.pid();
    timeline_.Mark("api_returned");
    return Ok();
  }

  // The same split as the libvirt launcher's where it applies: QEMU spawned and started up to
  // its console, then the guest's boot (which here includes QEMU's machine set-up).
  void AddPhaseExtras() override {
    if (auto v = Between("launch", "console_connected")) timeline_.SetExtra("qemu_spawn_ms", *v);
    if (auto v = Between("console_connected", "ready")) timeline_.SetExtra("guest_boot_ms", *v);
  }

  Result<void> CheckAlive() override {
    if (auto st = child_.TryWait()) {
      gone_ = true;
      return Failure(Who() + ": QEMU exited at start (" + st->describe() + "): " + LogTail());
    }
    return Ok();
  }

 protected:
  Result<void> WaitProcessGone(int64_t deadline) override {
    if (!child_.running()) return Ok();
    int64_t left = std::max<int64_t>(1, (deadline - MonotonicNs()) / 1'000'000);
    auto st = child_.Wait(milliseconds(left));
    if (!st) return Error{st.error().err, Who() + ": QEMU still running"};
    return Ok();
  }
  Result<void> HardStop() override {
    if (!child_.running()) return Ok();
    // As libvirt's destroy does: SIGTERM, then SIGKILL if QEMU does not go within 3 s.
    child_.Kill(SIGTERM);
    if (!child_.Wait(milliseconds(3000))) {
      child_.Kill(SIGKILL);
      (void)child_.Wait();
    }
    return Ok();
  }

 private:
  Child child_;
};

class QemuLauncher : public VmLauncher {
 public:
  using VmLauncher::VmLauncher;
  std::string Name() const override { return config_.name.empty() ? "qemu" : config_.name; }

 protected:
  std::unique_ptr<VmInstance> NewInstance() override { return std::make_unique<QemuInstance>(); }
  std::string LogPath(const VmInstance& inst) const override { return inst.dir_ + "/qemu.log"; }
  // QEMU connects while it initialises, after spawn returned: a phase of its own.
  bool MarksConsoleConnect() const override { return true; }
  Result<std::pair<std::string, std::string>> BootArtefact(const VmSpec& spec) const override {
    CVB_ASSIGN_OR_RETURN(auto argv, QemuArgv(spec));
    std::string text;
    for (const auto& a : argv) text += a + "\n";
    return std::make_pair(std::string("qemu-argv.txt"), text);
  }
};

}  // namespace

Result<std::unique_ptr<launcher::Launcher>> MakeQemuLauncher(const LauncherConfig& config) {
  CVB_ASSIGN_OR_RETURN(VmOptions o, internal::ParseOptions(config));
  return std::unique_ptr<launcher::Launcher>(std::make_unique<QemuLauncher>(config, o));
}

}  // namespace cvb::vmdriver
