// Registers the VM launchers; each lives in its own file (libvirt_launcher.cc, qemu_launcher.cc)
// over the shared parts in vm_launcher.h.
#include "cvb/vmdriver/launchers.h"

namespace cvb::vmdriver {

using launcher::ParamKind;

std::vector<launcher::ParamSpec> VmParams() {
  return {
      {"machine", ParamKind::kChoice, "QEMU machine type", {"pc", "q35", "microvm"}},
      {"accel", ParamKind::kChoice, "accelerator (accel.h)", {"auto", "tcg", "kvm", "kvm!"}},
      {"memory_mib", ParamKind::kPositiveInt, "guest RAM"},
      {"vcpus", ParamKind::kPositiveInt, "guest CPUs"},
      {"tb_cache_mib", ParamKind::kNonNegativeInt, "TCG translation cache (0: QEMU's default)"},
      {"acpi", ParamKind::kSwitch, "ACPI in the guest"},
      {"disk_mib", ParamKind::kPositiveInt, "size of the scratch disk image"},
      {"disk_cache", ParamKind::kChoice, "the scratch disk's cache mode", {"none", "writeback"}},
      {"cmdline", ParamKind::kText, "extra guest kernel options"},
      {"cache_dir", ParamKind::kText, "artefact cache"},
      {"uri", ParamKind::kText, "libvirt connection URI"},
      {"emulator", ParamKind::kText, "QEMU binary"},
      {"connect_timeout_ms", ParamKind::kPositiveInt, "how long QEMU may take to connect"},
      {"daemon_wait_ms", ParamKind::kNonNegativeInt,
       "(libvirt) how long a start waits for libvirtd to come back"},
      {"kernel_path", ParamKind::kText, "boot this kernel instead of the prepared one"},
      {"initrd_path", ParamKind::kText, "boot this initramfs instead of the prepared one"},
  };
}

void RegisterVmLaunchers(launcher::Registry& registry) {
  registry.Register("libvirt", "vm", MakeLibvirtLauncher, "kernel");
  registry.Register("qemu", "vm", MakeQemuLauncher, "kernel");
}

}  // namespace cvb::vmdriver
