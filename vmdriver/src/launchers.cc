// Registers the VM launchers; each lives in its own file (libvirt_launcher.cc, qemu_launcher.cc)
// over the shared parts in vm_launcher.h.
#include "cvb/vmdriver/launchers.h"

namespace cvb::vmdriver {

void RegisterVmLaunchers(launcher::Registry& registry) {
  registry.Register("libvirt", "vm", MakeLibvirtLauncher);
  registry.Register("qemu", "vm", MakeQemuLauncher);
}

}  // namespace cvb::vmdriver
