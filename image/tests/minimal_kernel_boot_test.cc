// Integration test of the minimal guest kernel: builds it (or reuses the cached build), then boots
// it under QEMU TCG on microvm with acpi=off and a tiny busybox initramfs made here, and checks
// what /init reports over the serial console: the virtio-mmio disk and NIC that QEMU announces on
// the command line were found; ext4, file locks, inotify and SysV IPC are there.
//
// The first build takes minutes; CI keeps ~/.cache between runs, so usually it is a cache hit.

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/guest_kernel.h"
#include "cvb/image/image.h"

namespace cvb::image {
namespace {

constexpr char kBusybox[] = "/bin/busybox";
constexpr char kReadyMarker[] = "CVB-MINIMAL-READY";

// An initramfs in the "newc" cpio format (what the kernel unpacks): written by hand because it is
// a few lines and keeps the test free of the cpio tool. Uncompressed, as the profile prefers.
class NewcWriter {
 public:
  void Dir(const std::string& name) { Add(name, 040755, "", 0, 0); }
  void File(const std::string& name, const std::string& data, int mode) {
    Add(name, 0100000 | mode, data, 0, 0);
  }
  void CharDev(const std::string& name, int major, int minor) {
    Add(name, 020600, "", major, minor);
  }
  std::string Finish() {
    Add("TRAILER!!!", 0, "", 0, 0);
    return std::move(out_);
  }

 private:
  void Add(const std::string& name, unsigned mode, const std::string& data, int rmajor,
           int rminor) {
    char header[111];
    std::snprintf(header, sizeof(header),
                  "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ++ino_, mode, 0u,
                  0u, (mode & 040000) ? 2u : 1u, 0u, static_cast<unsigned>(data.size()), 0u, 0u,
                  static_cast<unsigned>(rmajor), static_cast<unsigned>(rminor),
                  static_cast<unsigned>(name.size() + 1), 0u);
    out_.append(header, 110);
    out_ += name;
    out_.push_back('\0');
    Pad();
    out_ += data;
    Pad();
  }
  void Pad() {
    while (out_.size() % 4) out_.push_back('\0');
  }
  std::string out_;
  unsigned ino_ = 0;
};

// /init: mounts what busybox needs, probes the features the workload modes rely on, prints one
// line per probe and the ready marker, then reboots (-no-reboot makes QEMU exit).
constexpr char kInit[] = R"init(#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "CVB-CHECK kernel=$(uname -r) arch=$(uname -m)"
echo "CVB-CHECK ext4=$(grep -cw ext4 /proc/filesystems)"
echo "CVB-CHECK block=$(ls /sys/block | tr '\n' ,)"
echo "CVB-CHECK net=$(ls /sys/class/net | tr '\n' ,)"
# Debian's busybox has no flock applet; these /proc entries exist only with the kernel features.
[ -e /proc/locks ] && echo "CVB-CHECK locks=ok"
[ -d /proc/sys/fs/inotify ] && echo "CVB-CHECK inotify=ok"
[ -d /proc/sysvipc ] && echo "CVB-CHECK sysvipc=ok"
echo CVB-MINIMAL-READY
reboot -f
)init";

std::string MakeInitramfs(const std::string& busybox) {
  NewcWriter cpio;
  for (const char* d : {"bin", "sbin", "dev", "proc", "sys", "tmp", "usr", "usr/bin", "usr/sbin"}) {
    cpio.Dir(d);
  }
  // The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
  cpio.CharDev("dev/console", 5, 1);
  auto bb = ReadFile(busybox);
  if (!bb.ok()) return "";
  cpio.File("bin/busybox", *bb, 0755);
  cpio.File("init", kInit, 0755);
  return cpio.Finish();
}

std::string SourceVersion() {
  auto out = Run({"dpkg-query", "-W", "-f=${Status}", "linux-source-6.1"}, std::chrono::seconds(30));
  return out.ok() && out->status.ok() && out->out == "install ok installed" ? "yes" : "";
}

// The test may install the source package (as scripts/setup would) when it can: CI on a fresh
// machine. Returns why it cannot, or "" when the package is there.
std::string EnsureKernelSource() {
  if (!SourceVersion().empty()) return "";
  if (::geteuid() != 0 || FindProgram("apt-get").empty()) {
    return "linux-source-6.1 is not installed and this test cannot install it (not root or no "
           "apt-get); run scripts/setup";
  }
  std::fprintf(stderr, "installing linux-source-6.1 and the kernel build tools with apt-get\n");
  auto r = Run({"apt-get", "install", "-y", "--no-install-recommends", "linux-source-6.1", "make",
                "gcc", "flex", "bison", "bc", "libelf-dev", "xz-utils"},
               std::chrono::minutes(10));
  if (!SourceVersion().empty()) return "";
  return "linux-source-6.1 is not installed and `apt-get install` failed: " +
         (r.ok() ? r->err.substr(0, 400) : r.error().message());
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/cvb-minimal-kernel-test-XXXXXX";
    if (::mkdtemp(tmpl)) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveTree(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class MinimalKernelBoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (FindProgram("qemu-system-x86_64").empty()) GTEST_SKIP() << "qemu-system-x86_64 missing";
    if (!PathExists(kBusybox)) GTEST_SKIP() << kBusybox << " (busybox-static) missing";
    if (std::string why = EnsureKernelSource(); !why.empty()) GTEST_SKIP() << why;
    auto kernel = PrepareMinimalKernel(CacheDir(), [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    });
    ASSERT_TRUE(kernel.ok()) << kernel.error().message();
    kernel_ = *kernel;
  }
  GuestKernel kernel_;
};

TEST_F(MinimalKernelBoot, DescribesTheProfile) {
  EXPECT_EQ(kernel_.profile, "minimal");
  EXPECT_TRUE(kernel_.version.starts_with("6.1")) << kernel_.version;
  EXPECT_TRUE(PathExists(kernel_.vmlinux)) << kernel_.vmlinux;
  EXPECT_TRUE(kernel_.modules_dir.empty());
  EXPECT_TRUE(kernel_.modules.empty());
  EXPECT_NE(kernel_.cmdline.find("noapictimer"), std::string::npos) << kernel_.cmdline;

  // A second call is a cache hit: same kernel, no rebuild.
  int64_t start = MonotonicNs();
  auto again = PrepareMinimalKernel(CacheDir(), {});
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->vmlinux, kernel_.vmlinux);
  EXPECT_LT(MonotonicNs() - start, 5'000'000'000) << "the cached kernel was not reused";
}

TEST_F(MinimalKernelBoot, BootsOnMicrovmAndFindsVirtioMmioDevices) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  std::string initramfs = MakeInitramfs(kBusybox);
  ASSERT_FALSE(initramfs.empty());
  ASSERT_TRUE(WriteFile(tmp.path() + "/initramfs.cpio", initramfs).ok());
  // An empty 8 MiB disk: enough for the guest to see /sys/block/vda.
  ASSERT_TRUE(WriteFile(tmp.path() + "/disk.img", std::string(8 << 20, '\0')).ok());

  std::vector<std::string> argv = {
      "qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "tcg", "-m", "128", "-smp", "1",
      "-nographic", "-no-reboot", "-no-user-config",
      "-kernel", kernel_.vmlinux, "-initrd", tmp.path() + "/initramfs.cpio",
      // What the VM launchers put first: panic=-1 makes a kernel panic reboot and reboot=t
      // makes `reboot -f` triple-fault at once; -no-reboot turns either into QEMU exiting.
      "-append", "console=ttyS0 reboot=t panic=-1 " + kernel_.cmdline,
      "-drive", "id=d0,if=none,format=raw,file=" + tmp.path() + "/disk.img",
      "-device", "virtio-blk-device,drive=d0",
      "-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-device,netdev=n0"};
  int64_t start = MonotonicNs();
  // Under TCG this boots in well under a second; the margin is for a loaded CI machine.
  auto run = cvb::Run(argv, std::chrono::seconds(90));
  ASSERT_TRUE(run.ok()) << run.error().message();
  double seconds = (MonotonicNs() - start) / 1e9;
  const std::string& console = run->out;
  ASSERT_NE(console.find(kReadyMarker), std::string::npos)
      << "no ready line from /init (" << run->status.describe() << "); console:\n"
      << console << "\nstderr:\n" << run->err;
  std::fprintf(stderr, "booted, ran /init and exited in %.2f s\n", seconds);
  EXPECT_TRUE(run->status.ok()) << run->status.describe() << "\n" << run->err;
  EXPECT_NE(console.find("arch=x86_64"), std::string::npos) << console;
  EXPECT_NE(console.find("ext4=1"), std::string::npos) << console;
  EXPECT_NE(console.find("block=vda,"), std::string::npos) << console;
  EXPECT_NE(console.find("eth0,"), std::string::npos) << console;
  EXPECT_NE(console.find("locks=ok"), std::string::npos) << console;
  EXPECT_NE(console.find("inotify=ok"), std::string::npos) << console;
  EXPECT_NE(console.find("sysvipc=ok"), std::string::npos) << console;
}

}  // namespace
}  // namespace cvb::image
