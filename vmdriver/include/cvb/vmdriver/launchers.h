// The VM launchers: "libvirt" (a transient libvirt domain) and "qemu" (the same VM as a bare
// QEMU process), booting the image's VM artefacts (image/vm_artifacts.h). Both read the guest's
// console over a unix socket and mark, on the host clock:
//   launch            Start() called
//   tap_ready         (needs_network) tap created and addressed
//   disk_ready        (needs_disk) raw ext4 image made
//   qemu_forked       (libvirt) libvirt's pid file for the domain appeared: QEMU was forked
//   api_returned      virDomainCreateXML returned / QEMU spawned
//   console_connected QEMU connected its serial console (its chardevs exist; libvirt: seen while
//                     virDomainCreateXML still blocks, QMP set-up follows with the guest paused)
//   running           (libvirt) the domain reported running
//   first_byte        first console byte (the guest kernel or /init speaking)
//   first_line        first complete console line: with the quiet kernel, /init's "started"
//                     line, so launch..first_line is the kernel's boot and first_line..ready
//                     is /init plus the workload
//   ready             the workload's READY line
//   exit              the VM ended (QEMU closed the console / exited)
// Extras: destroy_ms (Stop's hard stop), teardown_ms (Teardown: stop if needed + cleanup), and
// the start-up split once READY (vmdriver/README.md): qemu_spawn_ms and guest_boot_ms (both),
// libvirt_define_ms and libvirt_qmp_setup_ms (libvirt).
//
// LauncherConfig::kernel selects the guest kernel profile ("distro" default, "minimal").
// LauncherConfig::params keys (all optional):
//   machine=pc|q35|microvm   default pc (microvm boots no virtio devices with acpi=off)
//   accel=auto|tcg|kvm|kvm!  default auto (see accel.h)
//   memory_mib=128  vcpus=1  tb_cache_mib=0 (0 = QEMU's default)
//   acpi=0|1        default 0 (faster boot; the guest ends itself with reboot -f)
//   disk_mib=1024   size of the needs_disk image (sparse); disk_cache=none|writeback (default: none where
//                   the host filesystem supports O_DIRECT)
//   cmdline=...     extra guest kernel options
//   cache_dir=...   artefact cache (default image::CacheDir())
//   uri=qemu:///system   (libvirt) connection URI
//   emulator=/usr/bin/qemu-system-x86_64
//   connect_timeout_ms=20000  how long QEMU may take to connect its console
//   daemon_wait_ms=60000  (libvirt) how long a start waits for libvirtd to answer again after it
//                         died (the entry in flight fails with the daemon's error; the next
//                         wait, then run or fail fast saying libvirtd did not come back)
//   kernel_path=..., initrd_path=...  boot these instead of the prepared artefacts
#pragma once

#include <sys/types.h>

#include <optional>

#include "cvb/launcher/launcher.h"
#include "cvb/launcher/params.h"
#include "cvb/vmdriver/qemu_memory.h"

namespace cvb::vmdriver {

// The knobs above, declared for `cvbench run`'s check of every --param.
std::vector<launcher::ParamSpec> VmParams();

// Registers "libvirt" and "qemu".
void RegisterVmLaunchers(cvb::launcher::Registry& registry);

Result<std::unique_ptr<launcher::Launcher>> MakeLibvirtLauncher(
    const launcher::LauncherConfig& config);
Result<std::unique_ptr<launcher::Launcher>> MakeQemuLauncher(
    const launcher::LauncherConfig& config);

// What both VM launchers' instances offer beyond launcher::Instance (dynamic_cast to use it).
class VmInstanceInfo {
 public:
  virtual ~VmInstanceInfo() = default;
  // The QEMU process, once its console connected.
  virtual pid_t QemuPid() const = 0;
  // QEMU's memory split into guest RAM and the rest.
  virtual Result<QemuMemory> QemuMemoryNow() = 0;
  virtual std::string DomainName() const = 0;
};

}  // namespace cvb::vmdriver
