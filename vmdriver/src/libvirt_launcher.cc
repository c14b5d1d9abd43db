// The "libvirt" launcher: the VM as a transient libvirt domain (virDomainCreateXML of DomainXml).
// What it shares with the "qemu" launcher is in vm_launcher.h.
#include <signal.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/vmdriver/libvirt.h"
#include "cvb/vmdriver/startup_watch.h"
#include "vm_launcher.h"

namespace cvb::vmdriver {
namespace {

using internal::kLibvirtQemuLogDir;
using internal::VmInstance;
using internal::VmLauncher;
using internal::VmOptions;
using launcher::LauncherConfig;
using std::chrono::milliseconds;

class LibvirtInstance : public VmInstance {
 public:
  using Reconnect = std::function<Result<Connection>()>;
  LibvirtInstance(Connection conn, Reconnect reconnect)
      : conn_(std::move(conn)), reconnect_(std::move(reconnect)) {}
  ~LibvirtInstance() override { (void)Teardown(); }

  Result<void> Boot(const VmSpec& spec) override {
    CVB_ASSIGN_OR_RETURN(std::string xml, DomainXml(spec));
    // The call below blocks until libvirt has forked QEMU, set it up over QMP and started the
    // guest: the watch records the moments inside it (startup_watch.h).
    CVB_ASSIGN_OR_RETURN(auto watch, StartupWatch::Begin(pid_dir_, name_ + ".pid", listener_.fd()));
    // AUTODESTROY: if cvbench dies, libvirt destroys the domain when our connection drops.
    auto dom = conn_.CreateTransient(xml, VIR_DOMAIN_START_AUTODESTROY);
    if (!dom && !conn_.Alive() && reconnect_) {
      // libvirtd was restarted since our last call (the client notices only when a call fails):
      // connect again and retry once.
      timeline_.Mark("reconnect");
      CVB_ASSIGN_OR_RETURN(conn_, reconnect_());
      dom = conn_.CreateTransient(xml, VIR_DOMAIN_START_AUTODESTROY);
    }
    timeline_.Mark("api_returned");
    StartupWatch::Seen seen = watch->Finish();
    if (!dom) return dom.error().wrap(Who());
    if (seen.file_created_ns) timeline_.MarkAt("qemu_forked", *seen.file_created_ns);
    if (seen.connection_pending_ns)
      timeline_.MarkAt("console_connected", *seen.connection_pending_ns);
    dom_ = std::move(*dom);
    started_ = true;
    auto state = dom_.State();
    if (state && *state == VIR_DOMAIN_RUNNING) timeline_.Mark("running");
    return Ok();
  }

  // libvirt's split of the start-up (ms): before QEMU exists, QEMU starting up to its console,
  // QMP set-up with the guest paused (plus QEMU's machine set-up), and the guest's boot.
  void AddPhaseExtras() override {
    if (auto v = Between("launch", "qemu_forked")) timeline_.SetExtra("libvirt_define_ms", *v);
    if (auto v = Between("qemu_forked", "console_connected"))
      timeline_.SetExtra("qemu_spawn_ms", *v);
    if (auto v = Between("console_connected", "api_returned"))
      timeline_.SetExtra("libvirt_qmp_setup_ms", *v);
    if (auto v = Between("api_returned", "ready")) timeline_.SetExtra("guest_boot_ms", *v);
  }

  std::string pid_dir_;  // where libvirtd keeps the domains' pid files ("" when not local)

  Result<void> CheckAlive() override {
    if (started_ && !dom_.IsActive()) {
      gone_ = true;
      return Failure(Who() + ": the domain stopped before its console connected: " + LogTail());
    }
    return Ok();
  }

 protected:
  Result<void> WaitProcessGone(int64_t deadline) override {
    if (!dom_) return Ok();
    while (dom_.IsActive()) {
      if (MonotonicNs() >= deadline) return Error{ETIMEDOUT, Who() + ": domain still active"};
      std::this_thread::sleep_for(milliseconds(5));
    }
    // libvirtd reaps QEMU a moment after the domain turns inactive.
    while (qemu_pid_ > 0 && ::kill(qemu_pid_, 0) == 0) {
      auto name = ProcessName(qemu_pid_);
      if (!name || name->rfind("qemu", 0) != 0) break;  // reaped (pid reused or zombie gone)
      if (MonotonicNs() >= deadline) return Error{ETIMEDOUT, Who() + ": QEMU process still there"};
      std::this_thread::sleep_for(milliseconds(5));
    }
    return Ok();
  }
  Result<void> HardStop() override {
    if (!dom_) return Ok();
    auto destroyed = dom_.Destroy();
    if (destroyed || conn_.Alive()) return destroyed;
    // libvirtd died under us: its QEMU keeps running without it. Ours is ended directly (the
    // instance then fails with the daemon's error; libvirtd, once back, drops the domain).
    return KillOurQemu(MonotonicNs() + 10'000'000'000);
  }
  Result<void> CleanupExtra() override {
    // A boot cut short by libvirtd's death (virDomainCreateXML failed after it forked QEMU) or a
    // domain libvirt could no longer destroy leaves a QEMU named after this instance: it must not
    // outlive the instance.
    auto stray = KillOurQemu(MonotonicNs() + 10'000'000'000);
    dom_.reset();
    // libvirt keeps one log file per domain name; ours are unique, so they would pile up.
    std::string log = std::string(kLibvirtQemuLogDir) + "/" + name_ + ".log";
    if (::unlink(log.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink " + log);
    return stray;
  }

  // SIGKILLs QEMU processes whose guest name is this instance's ("-name guest=<name>,..."), and
  // waits until they are gone. Ok when there is none.
  Result<void> KillOurQemu(int64_t deadline) {
    std::string needle = std::string("\0-name\0guest=", 13) + name_ + ",";
    std::vector<pid_t> ours;
    for (const auto& e : ListDirectory("/proc")) {
      if (e.find_first_not_of("0123456789") != std::string::npos) continue;
      auto cmd = ReadFile("/proc/" + e + "/cmdline");
      if (!cmd || cmd->find(needle) == std::string::npos) continue;
      auto comm = ProcessName(static_cast<pid_t>(std::atoi(e.c_str())));
      if (!comm || comm->rfind("qemu", 0) != 0) continue;
      ours.push_back(static_cast<pid_t>(std::atoi(e.c_str())));
    }
    for (pid_t p : ours) ::kill(p, SIGKILL);
    for (pid_t p : ours) {
      while (::kill(p, 0) == 0) {
        auto comm = ProcessName(p);
        if (!comm || comm->rfind("qemu", 0) != 0) break;  // gone (zombie reaped, pid reused)
        if (MonotonicNs() >= deadline)
          return Error{ETIMEDOUT, Who() + ": QEMU " + std::to_string(p) + " survives SIGKILL"};
        std::this_thread::sleep_for(milliseconds(10));
      }
    }
    return Ok();
  }

 private:
  Connection conn_;
  Reconnect reconnect_;
  Domain dom_;
};

class LibvirtLauncher : public VmLauncher {
 public:
  using VmLauncher::VmLauncher;
  std::string Name() const override { return config_.name.empty() ? "libvirt" : config_.name; }

  Result<void> Check() override {
    CVB_TRY(VmLauncher::Check());
    return Connect();
  }

  std::map<std::string, std::string> Conditions() const override {
    auto c = VmLauncher::Conditions();
    c["libvirt_version"] = libvirt_version_;
    c["libvirt_uri"] = opt_.uri;
    c["libvirt_hypervisor"] = hypervisor_version_;
    return c;
  }

 protected:
  std::unique_ptr<VmInstance> NewInstance() override {
    auto inst = std::make_unique<LibvirtInstance>(conn_.Share(), [this]() -> Result<Connection> {
      CVB_TRY(Connect());
      return conn_.Share();
    });
    // The system daemon's pid files (qemu.conf default); a session or remote daemon has its own.
    if (opt_.uri == "qemu:///system") inst->pid_dir_ = "/run/libvirt/qemu";
    return inst;
  }
  Result<std::pair<std::string, std::string>> BootArtefact(const VmSpec& spec) const override {
    CVB_ASSIGN_OR_RETURN(std::string xml, DomainXml(spec));
    return std::make_pair(std::string("domain.xml"), xml);
  }
  // A connection known to be dead (a failed call saw the daemon go) is replaced up front. When
  // libvirtd is down, the start waits for it, up to daemon_wait_ms (default 60 s: a restart of
  // libvirtd takes well under that here), then fails saying so: the entries after a daemon's
  // death fail fast, or succeed once it is back.
  Result<void> BeforeStart(VmInstance&) override {
    if (conn_.Alive()) return Ok();
    int64_t deadline = MonotonicNs() + opt_.daemon_wait_ms * 1'000'000;
    for (;;) {
      auto connected = Connect();
      if (connected) return Ok();
      if (MonotonicNs() >= deadline)
        return connected.error().wrap("libvirtd did not answer within " +
                                      std::to_string(opt_.daemon_wait_ms / 1000) +
                                      " s (--param daemon_wait_ms)");
      std::this_thread::sleep_for(milliseconds(500));
    }
  }
  std::string LogPath(const VmInstance& inst) const override {
    return std::string(kLibvirtQemuLogDir) + "/" + inst.name_ + ".log";
  }
  // QEMU connected during virDomainCreateXML; accepting afterwards times nothing.
  bool MarksConsoleConnect() const override { return false; }

 private:
  Result<void> Connect() {
    auto c = Connection::Open(opt_.uri);
    if (!c)
      return c.error().wrap("libvirt: cannot reach " + opt_.uri +
                            " (is libvirtd running? start it with scripts/libvirtd-start)");
    conn_ = std::move(*c);
    if (auto v = conn_.LibvirtVersion()) libvirt_version_ = *v;
    if (auto v = conn_.HypervisorVersion()) hypervisor_version_ = *v;
    return Ok();
  }

  Connection conn_;
  std::string libvirt_version_;
  std::string hypervisor_version_;
};

}  // namespace

Result<std::unique_ptr<launcher::Launcher>> MakeLibvirtLauncher(const LauncherConfig& config) {
  CVB_ASSIGN_OR_RETURN(VmOptions o, internal::ParseOptions(config));
  return std::unique_ptr<launcher::Launcher>(std::make_unique<LibvirtLauncher>(config, o));
}

}  // namespace cvb::vmdriver
