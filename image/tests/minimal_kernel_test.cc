// Unit test of the minimal guest kernel's configuration fragment (image/kernel/minimal.config),
// as embedded in the binary: everything the workload modes and busybox need must be asked for.
// (The build itself checks that Kconfig kept every option; see minimal_kernel.cc.)

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "cvb/image/minimal_kernel_config.h"

namespace cvb::image {
namespace {

// Symbol (without CONFIG_) -> value ("n" for "# CONFIG_X is not set"). Reports lines that are
// neither a comment nor an assignment, and symbols assigned twice, as test failures.
std::map<std::string, std::string> ParseFragment(std::string_view text) {
  std::map<std::string, std::string> options;
  int line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    std::string name, value;
    constexpr std::string_view kNotSet = " is not set";
    if (line.starts_with("# CONFIG_") && line.ends_with(kNotSet)) {
      name = line.substr(9, line.size() - 9 - kNotSet.size());
      value = "n";
    } else if (line.starts_with("#")) {
      continue;
    } else if (line.starts_with("CONFIG_") && line.find('=') != std::string::npos) {
      name = line.substr(7, line.find('=') - 7);
      value = line.substr(line.find('=') + 1);
    } else {
      ADD_FAILURE() << "line " << line_no << " is neither a comment nor an assignment: " << line;
      continue;
    }
    EXPECT_EQ(options.count(name), 0u) << "CONFIG_" << name << " is set twice";
    options[name] = value;
  }
  return options;
}

TEST(MinimalKernelConfig, EnablesWhatTheWorkloadModesNeed) {
  auto options = ParseFragment(kMinimalKernelConfig);
  // Why each is needed (kept short; the fragment's comments say more):
  const char* kRequired[] = {
      "64BIT",                        // x86-64 userland; tinyconfig is 32-bit otherwise
      "CC_OPTIMIZE_FOR_PERFORMANCE",  // -O2: -Os boots ~0.18 s slower under TCG
      "HYPERVISOR_GUEST", "PVH",      // QEMU boots vmlinux directly
      "SMP", "NO_HZ_IDLE",            // multi-vCPU profiles; idle guest stops ticking
      "TTY", "PRINTK", "SERIAL_8250", "SERIAL_8250_CONSOLE",  // console channel to the host
      "BLK_DEV_INITRD",                                         // initramfs root
      "BINFMT_ELF", "BINFMT_SCRIPT", "MULTIUSER",               // busybox, /init script
      "PCI", "VIRTIO_PCI", "VIRTIO_MMIO", "VIRTIO_MMIO_CMDLINE_DEVICES",  // pc/q35 and microvm
      "VIRTIO_BLK", "VIRTIO_NET", "VIRTIO_CONSOLE",
      "NET", "INET", "UNIX", "PACKET",            // network modes, AF_PACKET
      "BLOCK", "EXT4_FS",                         // disk mode (O_DIRECT through ext4's iomap)
      "FILE_LOCKING", "FUTEX", "EPOLL", "EVENTFD", "TIMERFD", "SIGNALFD", "POSIX_TIMERS",
      "AIO", "IO_URING", "ADVISE_SYSCALLS", "SYSVIPC", "INOTIFY_USER",
      "PROC_FS", "SYSFS", "DEVTMPFS", "SHMEM", "TMPFS",
  };
  for (const char* name : kRequired) {
    auto it = options.find(name);
    EXPECT_TRUE(it != options.end() && it->second == "y") << "CONFIG_" << name << " is not =y";
  }
  // Costs boot time under emulation and nothing uses them.
  for (const char* name : {"LEGACY_PTYS", "CC_OPTIMIZE_FOR_SIZE", "SERIO", "VT"}) {
    auto it = options.find(name);
    EXPECT_TRUE(it != options.end() && it->second == "n")
        << "CONFIG_" << name << " must be explicitly off (tinyconfig or a default may enable it)";
  }
  // Everything is built in: the initramfs loads no modules for this profile.
  auto modules = options.find("MODULES");
  EXPECT_TRUE(modules == options.end() || modules->second == "n");
}

TEST(MinimalKernelConfig, EveryOptionGroupSaysWhy) {
  // A group is a run of assignment lines; the line before it must be a comment.
  std::string_view text = kMinimalKernelConfig;
  bool previous_was_blank = true;
  int line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) {
      previous_was_blank = true;
      continue;
    }
    bool is_option = line.starts_with("CONFIG_") ||
                     (line.starts_with("# CONFIG_") && line.ends_with(" is not set"));
    if (is_option && previous_was_blank) {
      ADD_FAILURE() << "line " << line_no << " starts an option group without a comment: "
                    << line;
    }
    previous_was_blank = false;
  }
}

}  // namespace
}  // namespace cvb::image
