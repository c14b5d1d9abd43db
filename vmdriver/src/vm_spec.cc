#include "cvb/vmdriver/vm_spec.h"

#include <sstream>

#include "cvb/common/affinity.h"
#include "cvb/common/file.h"

namespace cvb::vmdriver {

std::string XmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

bool NameOk(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

// QEMU's option parser splits on commas; a doubled comma is a literal one.
std::string QemuOptEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

}  // namespace

Result<void> ValidateSpec(const VmSpec& s) {
  if (!NameOk(s.name))
    return Failure("vm name '" + s.name + "': use 1-64 letters, digits, '-', '_' or '.'");
  if (s.memory_mib < 16)
    return Failure("vm memory " + std::to_string(s.memory_mib) + " MiB: too small");
  if (!s.cpuset.empty() && !ParseCpuList(s.cpuset))
    return Failure("vm cpuset '" + s.cpuset + "': expected a CPU list such as 1 or 0-1");
  if (s.vcpus < 1 || s.vcpus > 64)
    return Failure("vm vcpus " + std::to_string(s.vcpus) + ": out of range");
  if (s.machine != "pc" && s.machine != "q35" && s.machine != "microvm")
    return Failure("vm machine '" + s.machine + "': use pc, q35 or microvm");
  if (s.accel != "tcg" && s.accel != "kvm")
    return Failure("vm accel '" + s.accel + "': use tcg or kvm");
  if (s.kernel.empty()) return Failure("vm kernel: not set");
  if (!PathExists(s.kernel)) return Error{ENOENT, "vm kernel " + s.kernel};
  if (!s.initrd.empty() && !PathExists(s.initrd)) return Error{ENOENT, "vm initrd " + s.initrd};
  if (s.console != ConsoleKind::kPty && s.console_path.empty())
    return Failure("vm console: a socket or file path is needed");
  if (!s.disk.empty() && !PathExists(s.disk)) return Error{ENOENT, "vm disk " + s.disk};
  if (s.disk_cache != "none" && s.disk_cache != "writeback")
    return Failure("vm disk cache '" + s.disk_cache + "': use none or writeback");
  if (!s.tap.empty() && s.mac.empty()) return Failure("vm network: a MAC address is needed");
  if (s.cmdline.find('\n') != std::string::npos) return Failure("vm cmdline: contains a newline");
  return Ok();
}

Result<std::string> DomainXml(const VmSpec& s) {
  CVB_TRY(ValidateSpec(s));
  std::ostringstream x;
  // libvirt calls TCG domains "qemu".
  x << "<domain type='" << (s.accel == "kvm" ? "kvm" : "qemu") << "'>\n"
    << "  <name>" << XmlEscape(s.name) << "</name>\n"
    << "  <memory unit='MiB'>" << s.memory_mib << "</memory>\n"
    << (s.cpuset.empty() ? std::string("  <vcpu>")
                         : "  <vcpu placement='static' cpuset='" + s.cpuset + "'>")
    << s.vcpus << "</vcpu>\n"
    << "  <os>\n"
    << "    <type arch='x86_64' machine='" << s.machine << "'>hvm</type>\n"
    << "    <kernel>" << XmlEscape(s.kernel) << "</kernel>\n";
  if (!s.initrd.empty()) x << "    <initrd>" << XmlEscape(s.initrd) << "</initrd>\n";
  x << "    <cmdline>" << XmlEscape(s.cmdline) << "</cmdline>\n"
    << "  </os>\n";
  // No <acpi/> means no ACPI tables, as -machine acpi=off does for the qemu launcher.
  bool features = s.acpi || (s.accel == "tcg" && s.tb_cache_mib > 0);
  if (features) {
    x << "  <features>\n";
    if (s.acpi) x << "    <acpi/>\n";
    if (s.accel == "tcg" && s.tb_cache_mib > 0)
      x << "    <tcg>\n      <tb-cache unit='MiB'>" << s.tb_cache_mib
        << "</tb-cache>\n    </tcg>\n";
    x << "  </features>\n";
  }
  // KVM: the host CPU as is; TCG: QEMU's default model, as the qemu launcher gets.
  if (s.accel == "kvm") x << "  <cpu mode='host-passthrough'/>\n";
  x << "  <on_poweroff>destroy</on_poweroff>\n"
    << "  <on_reboot>destroy</on_reboot>\n"
    << "  <on_crash>destroy</on_crash>\n"
    << "  <devices>\n"
    << "    <emulator>" << XmlEscape(s.emulator) << "</emulator>\n";
  switch (s.console) {
    case ConsoleKind::kUnixConnect:
      x << "    <serial type='unix'>\n"
        << "      <source mode='connect' path='" << XmlEscape(s.console_path) << "'/>\n"
        << "      <target port='0'/>\n"
        << "    </serial>\n";
      break;
    case ConsoleKind::kFile:
      x << "    <serial type='file'>\n"
        << "      <source path='" << XmlEscape(s.console_path) << "'/>\n"
        << "      <target port='0'/>\n"
        << "    </serial>\n";
      break;
    case ConsoleKind::kPty:
      x << "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n";
      break;
  }
  if (!s.tap.empty()) {
    // managed='no': libvirt uses our tap as it is and does not delete it.
    x << "    <interface type='ethernet'>\n"
      << "      <mac address='" << XmlEscape(s.mac) << "'/>\n"
      << "      <target dev='" << XmlEscape(s.tap) << "' managed='no'/>\n"
      << "      <model type='virtio'/>\n";
    if (s.machine == "microvm")
      x << "      <address type='virtio-mmio'/>\n";
    else
      x << "      <rom enabled='no'/>\n";
    x << "    </interface>\n";
  }
  if (!s.disk.empty()) {
    x << "    <disk type='file' device='disk'>\n"
      << "      <driver name='qemu' type='raw' cache='" << s.disk_cache << "'/>\n"
      << "      <source file='" << XmlEscape(s.disk) << "'/>\n"
      << "      <target dev='vda' bus='virtio'/>\n";
    if (s.machine == "microvm") x << "      <address type='virtio-mmio'/>\n";
    x << "    </disk>\n";
  }
  // libvirt adds these by default; the qemu launcher's -nodefaults has none of them. (The default
  // USB controller is a PCI device: without this line libvirt refuses microvm, which has no PCI.)
  x << "    <controller type='usb' model='none'/>\n";
  x << "    <memballoon model='none'/>\n"
    << "  </devices>\n"
    << "</domain>\n";
  return x.str();
}

Result<std::vector<std::string>> QemuArgv(const VmSpec& s) {
  CVB_TRY(ValidateSpec(s));
  std::vector<std::string> a = {s.emulator,        "-name",    s.name, "-nodefaults",
                                "-no-user-config", "-display", "none", "-no-reboot"};
  a.push_back("-machine");
  a.push_back(s.machine + (s.acpi ? "" : ",acpi=off"));
  std::string accel = s.accel;
  if (s.accel == "tcg" && s.tb_cache_mib > 0) accel += ",tb-size=" + std::to_string(s.tb_cache_mib);
  a.insert(a.end(), {"-accel", accel});
  if (s.accel == "kvm") a.insert(a.end(), {"-cpu", "host"});
  a.insert(a.end(), {"-m", std::to_string(s.memory_mib), "-smp", std::to_string(s.vcpus)});
  a.insert(a.end(), {"-kernel", s.kernel});
  if (!s.initrd.empty()) a.insert(a.end(), {"-initrd", s.initrd});
  a.insert(a.end(), {"-append", s.cmdline});
  switch (s.console) {
    case ConsoleKind::kUnixConnect:
      a.insert(a.end(), {"-chardev", "socket,id=cons0,path=" + QemuOptEscape(s.console_path)});
      break;
    case ConsoleKind::kFile:
      a.insert(a.end(), {"-chardev", "file,id=cons0,path=" + QemuOptEscape(s.console_path)});
      break;
    case ConsoleKind::kPty:
      a.insert(a.end(), {"-chardev", "pty,id=cons0"});
      break;
  }
  a.insert(a.end(), {"-serial", "chardev:cons0"});
  if (!s.tap.empty()) {
    a.insert(a.end(),
             {"-netdev", "tap,id=net0,ifname=" + s.tap + ",script=no,downscript=no", "-device",
              s.machine == "microvm" ? "virtio-net-device,netdev=net0,mac=" + s.mac
                                     : "virtio-net-pci,netdev=net0,romfile=,mac=" + s.mac});
  }
  if (!s.disk.empty()) {
    a.insert(
        a.end(),
        {"-drive",
         "file=" + QemuOptEscape(s.disk) + ",format=raw,if=none,id=disk0,cache=" + s.disk_cache,
         "-device",
         s.machine == "microvm" ? "virtio-blk-device,drive=disk0" : "virtio-blk-pci,drive=disk0"});
  }
  return a;
}

Result<std::string> KernelCmdline(const VmSpec& spec, const std::string& profile_cmdline,
                                  const GuestCommand& c) {
  // reboot=t: the triple-fault reboot works without ACPI; panic=-1: a panicking guest (a corrupt
  // initramfs, an init that exits) reboots at once, so the VM ends instead of hanging.
  std::string cl = "console=ttyS0 reboot=t panic=-1 quiet";
  if (!spec.acpi) cl += " acpi=off";
  if (!profile_cmdline.empty()) cl += " " + profile_cmdline;
  auto plain = [](const std::string& v) {
    for (char ch : v) {
      if (ch == ' ' || ch == '\t' || ch == '\n' || ch == ',' || ch == '"' || ch == '\'' ||
          ch == '\\')
        return false;
    }
    return true;
  };
  if (c.mode.empty() || !plain(c.mode))
    return Failure("guest workload mode '" + c.mode + "': invalid");
  cl += " cvb.mode=" + c.mode;
  if (!c.args.empty()) {
    std::string joined;
    for (const auto& arg : c.args) {
      if (arg.empty() || !plain(arg))
        return Failure("guest workload argument '" + arg +
                       "': a VM's kernel command line cannot carry empty arguments, spaces, "
                       "commas, quotes or backslashes");
      joined += (joined.empty() ? "" : ",") + arg;
    }
    cl += " cvb.args=" + joined;
  }
  if (!c.guest_cidr.empty()) cl += " cvb.ip=" + c.guest_cidr;
  if (!c.gateway.empty()) cl += " cvb.gw=" + c.gateway;
  if (!c.disk_device.empty()) cl += " cvb.disk=" + c.disk_device;
  if (cl.size() > 2000) return Failure("guest kernel command line longer than 2000 bytes");
  return cl;
}

}  // namespace cvb::vmdriver
