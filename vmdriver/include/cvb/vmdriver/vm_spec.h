// VmSpec: one VM described once, rendered two ways: as libvirt domain XML (the libvirt launcher)
// and as a QEMU command line (the qemu launcher). Both renderings ask QEMU for the same machine,
// devices and boot, so the difference between the launchers is what libvirt adds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::vmdriver {

enum class ConsoleKind {
  kUnixConnect,  // QEMU connects to a unix socket the host listens on (what the launchers use)
  kFile,         // QEMU appends to a file (libvirt opens it in append mode: remove it first)
  kPty,          // QEMU allocates a pty
};

struct VmSpec {
  std::string name;  // domain name; cvbench names start with "cvb"
  uint64_t memory_mib = 128;
  int vcpus = 1;
  std::string machine = "pc";  // pc, q35 or microvm
  bool acpi = false;           // ACPI tables; off boots faster and needs reboot -f to end the VM
  std::string accel = "tcg";   // tcg or kvm
  uint64_t tb_cache_mib = 0;   // TCG translation cache size; 0 = QEMU's default
  std::string kernel;          // vmlinux (PVH) or bzImage
  std::string initrd;
  std::string cmdline;
  ConsoleKind console = ConsoleKind::kUnixConnect;
  std::string console_path;         // socket or file; unused for kPty
  std::string tap;                  // existing tap device for a virtio-net NIC; empty = no network
  std::string mac;                  // the NIC's MAC address
  std::string disk;                 // raw image attached as virtio-blk (vda); empty = no disk
  std::string disk_cache = "none";  // QEMU cache mode: none (O_DIRECT on the host) or writeback
  std::string emulator = "/usr/bin/qemu-system-x86_64";
  // Host CPUs QEMU runs on (a CPU list, "1"); "" = unpinned. libvirt: the vCPUs' and emulator's
  // cpuset (<vcpu cpuset>); raw QEMU: the affinity it is spawned with (every thread inherits).
  std::string cpuset;
};

// Checks the spec (names, paths present, machine/accel values). On microvm the NIC and disk are
// virtio-mmio devices, which only a kernel with VIRTIO_MMIO_CMDLINE_DEVICES finds without ACPI
// (the minimal profile); the launchers check that (Supports), the spec does not know the kernel.
Result<void> ValidateSpec(const VmSpec& spec);
// Transient libvirt domain XML: no default devices (no USB, balloon, video), on_reboot/poweroff/
// crash = destroy, so the guest's `reboot -f` ends the domain.
Result<std::string> DomainXml(const VmSpec& spec);
// The equivalent QEMU argv (argv[0] = spec.emulator); -no-reboot plays on_reboot=destroy.
Result<std::vector<std::string>> QemuArgv(const VmSpec& spec);

// The guest kernel command line for one workload: console, boot speed-ups, then the profile's
// own options, then cvb.* keys for the initramfs's /init (see image/vm_artifacts.h). Fails on an
// argument /init could not carry (spaces, commas, quotes).
struct GuestCommand {
  std::string mode = "ready";
  std::vector<std::string> args;
  std::string guest_cidr;  // e.g. 10.213.0.2/30; empty = no network
  std::string gateway;
  std::string disk_device;  // e.g. vda; empty = no disk
};
Result<std::string> KernelCmdline(const VmSpec& spec, const std::string& profile_cmdline,
                                  const GuestCommand& command);

std::string XmlEscape(const std::string& s);

}  // namespace cvb::vmdriver
