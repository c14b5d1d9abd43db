// What the "libvirt" and "qemu" launchers share (private to vmdriver/src): options, the VM
// instance (console, waits, teardown) and the launcher's Prepare/Start. Each launcher's own file
// (libvirt_launcher.cc, qemu_launcher.cc) adds only the step that starts and stops QEMU, so the
// difference in their timelines is what that step costs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cvb/common/result.h"
#include "cvb/image/vm_artifacts.h"
#include "cvb/launcher/artefacts.h"
#include "cvb/launcher/launcher.h"
#include "cvb/launcher/workload_channel.h"
#include "cvb/vmdriver/accel.h"
#include "cvb/vmdriver/console.h"
#include "cvb/vmdriver/launchers.h"
#include "cvb/vmdriver/tap.h"
#include "cvb/vmdriver/vm_spec.h"

namespace cvb::vmdriver::internal {

inline constexpr const char* kLibvirtQemuLogDir = "/var/log/libvirt/qemu";

struct VmOptions {
  std::string machine = "pc";
  std::string accel = "auto";
  uint64_t memory_mib = 128;
  int vcpus = 1;
  uint64_t tb_cache_mib = 0;
  bool acpi = false;
  uint64_t disk_mib =
      1024;                // sparse: costs nothing until the guest writes; disk mode writes 256 MiB
  std::string disk_cache;  // empty: decided per disk (none where O_DIRECT works)
  std::string cmdline;
  std::string cache_dir;
  std::string uri = "qemu:///system";
  std::string emulator = "/usr/bin/qemu-system-x86_64";
  int64_t connect_timeout_ms = 20000;
  // (libvirt) how long a start waits for libvirtd to answer again after the connection died.
  int64_t daemon_wait_ms = 60000;
  std::string kernel_path;  // boot this kernel instead of the profile's (comparisons, tests)
  std::string initrd_path;  // boot this initramfs instead of the image's
};

Result<VmOptions> ParseOptions(const launcher::LauncherConfig& config);

// A cvbench that was SIGKILLed cannot tear down: its bare QEMU processes keep running. Kills the
// QEMU processes named by a qemu launcher whose owner is gone; returns how many.
int KillOrphanQemus();

// The last bytes of a log file on one line ("" when absent or empty).
std::string TailOfFile(const std::string& path, size_t max_bytes = 600);

// ---------------------------------------------------------------------------------------------
// An instance: one VM, its console and whatever Start made for it.
class VmInstance : public launcher::Instance, public VmInstanceInfo {
 public:
  ~VmInstance() override = default;  // subclasses call Teardown() in their destructors

  Result<void> WaitReady(std::chrono::milliseconds timeout) override;
  Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) override;
  Result<void> Stop(std::chrono::milliseconds timeout) override;
  Result<void> Teardown() override;
  std::vector<pid_t> HostPids() override;
  std::string NetworkAddress() const override { return tap_ ? tap_->guest_ip() : ""; }
  // The machine QEMU was asked for (machine_); the guest's own view comes from the workload.
  Result<launcher::Fingerprint> HostFingerprint() override;

  pid_t QemuPid() const override { return qemu_pid_; }
  std::string DomainName() const override { return name_; }
  Result<QemuMemory> QemuMemoryNow() override;

  // Set up by the launcher.
  std::string name_;
  std::string dir_;
  std::string log_path_;
  uint64_t memory_mib_ = 0;
  launcher::Fingerprint machine_;  // vm.* keys of HostFingerprint (VmLauncher::MachineFingerprint)
  ConsoleListener listener_;
  std::optional<Tap> tap_;
  pid_t qemu_pid_ = -1;
  bool started_ = false;  // QEMU (or the domain) was started

  // The console's peer is QEMU when QEMU connected the socket itself; should a libvirt version
  // connect it and hand QEMU the fd, the peer is libvirtd: then libvirt's pid file is asked.
  pid_t QemuPidFrom(pid_t peer) const;

  // Starts QEMU for spec; marks "api_returned" (and "running").
  virtual Result<void> Boot(const VmSpec& spec) = 0;
  // Fails when QEMU is known to have died (checked while waiting for its console).
  virtual Result<void> CheckAlive() = 0;

  // Derived phase durations (timeline extras, ms) from the marks; called once READY was seen.
  virtual void AddPhaseExtras() {}

  // Accepts QEMU's console connection and hands it to the line channel; marks
  // "console_connected" when `mark` and the launcher has not marked it yet.
  Result<void> ConnectConsole(int64_t deadline, bool mark);

 protected:
  std::string Who() const { return "vm " + name_; }
  std::string LogTail() const { return log_path_.empty() ? "" : TailOfFile(log_path_); }
  void Sync();
  // Milliseconds from one mark to another, when both are there.
  std::optional<double> Between(const std::string& from, const std::string& to) const;

  // Waits until the VM has ended: QEMU closes its end of the console when it exits. Marks "exit".
  Result<void> WaitGone(int64_t deadline);
  // The launcher-specific part: the QEMU process (or domain) is really gone.
  virtual Result<void> WaitProcessGone(int64_t deadline) = 0;
  virtual Result<void> HardStop() = 0;
  virtual Result<void> CleanupExtra() { return Ok(); }

  launcher::WorkloadChannel channel_;
  UniqueFd console_watch_;  // a dup of the console socket, polled for hang-up only
  bool gone_ = false;
  bool torn_down_ = false;
};

// ---------------------------------------------------------------------------------------------
class VmLauncher : public launcher::Launcher {
 public:
  VmLauncher(launcher::LauncherConfig config, VmOptions options)
      : config_(std::move(config)), opt_(std::move(options)), artefacts_(config_.artefacts_dir) {}

  std::string Kind() const override { return "vm"; }
  Result<void> Check() override;
  Result<void> Prepare(const image::Image& image) override;
  bool PinsCpus() const override { return true; }
  Result<void> Supports(const launcher::WorkloadRequest& r) const override;
  Result<std::unique_ptr<launcher::Instance>> Start(const launcher::WorkloadRequest& req) override;
  std::map<std::string, std::string> Conditions() const override;

 protected:
  virtual std::unique_ptr<VmInstance> NewInstance() = 0;
  virtual Result<void> BeforeStart(VmInstance&) { return Ok(); }
  virtual std::string LogPath(const VmInstance& inst) const = 0;
  virtual bool MarksConsoleConnect() const = 0;
  // What this launcher hands its hypervisor for spec, as (file name, exact content) for the run
  // directory: QEMU's argv one argument per line, or the domain XML.
  virtual Result<std::pair<std::string, std::string>> BootArtefact(const VmSpec& spec) const = 0;
  // The VM row of the instance fingerprint: what this launch asks QEMU for.
  launcher::Fingerprint MachineFingerprint(const VmSpec& spec) const;

  launcher::LauncherConfig config_;
  VmOptions opt_;
  AccelInfo accel_;
  image::VmArtifacts art_;
  std::string qemu_version_;
  bool prepared_ = false;
  launcher::ArtefactRecorder artefacts_;
};

}  // namespace cvb::vmdriver::internal
