// Unit tests of the smaller pieces: accelerator decision, smaps split, console socket, modules
// and the initramfs archive.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/vm_artifacts.h"
#include "cvb/vmdriver/accel.h"
#include "cvb/vmdriver/console.h"
#include "cvb/vmdriver/qemu_memory.h"
#include "cvb/vmdriver/startup_watch.h"

namespace cvb::vmdriver {
namespace {

TEST(Accel, TellsTheTruthAboutKvm) {
  AccelFacts f;
  EXPECT_EQ(DecideAccel(f).accel, "tcg");
  EXPECT_NE(DecideAccel(f).reason.find("no /dev/kvm"), std::string::npos);
  f.dev_kvm_exists = f.dev_kvm_openable = true;
  f.kvm_pvm_loaded = true;  // this project's hosts
  EXPECT_EQ(DecideAccel(f).accel, "tcg");
  EXPECT_NE(DecideAccel(f).reason.find("PVM"), std::string::npos);
  f.kvm_pvm_loaded = false;
  EXPECT_EQ(DecideAccel(f).accel, "tcg");  // no vmx/svm
  f.cpu_virt_flag = true;
  EXPECT_EQ(DecideAccel(f).accel, "kvm");
  EXPECT_EQ(ChooseAccel("tcg")->accel, "tcg");
  EXPECT_FALSE(ChooseAccel("xen").ok());
}

TEST(QemuMemory, SeparatesGuestRam) {
  const std::string smaps =
      "55d0c0000000-55d0c0100000 r-xp 00000000 fe:01 123 /usr/bin/qemu-system-x86_64\n"
      "Rss:                1024 kB\nPss:                 512 kB\n"
      "Private_Clean:       100 kB\nPrivate_Dirty:         0 kB\nSwap: 0 kB\n"
      "7f0000000000-7f0008000000 rw-p 00000000 00:00 0 \n"  // 128 MiB: guest RAM
      "Rss:               81920 kB\nPss:               81920 kB\n"
      "Private_Clean:         0 kB\nPrivate_Dirty:     81920 kB\nSwap: 0 kB\n"
      "7f1000000000-7f1040000000 rwxp 00000000 00:00 0 \n"  // 1 GiB: TCG translation cache
      "Rss:               30000 kB\nPss:               30000 kB\n"
      "Private_Clean:         0 kB\nPrivate_Dirty:     30000 kB\nSwap: 0 kB\n"
      "7f2000000000-7f2001000000 rw-p 00000000 00:00 0 \n"  // 16 MiB of QEMU's own heap
      "Rss:                2048 kB\nPss:                2048 kB\n"
      "Private_Clean:         0 kB\nPrivate_Dirty:      2048 kB\nSwap: 0 kB\n";
  auto m = ParseQemuSmaps(smaps, 128ull << 20);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->guest_ram_bytes, 128ull << 20);
  EXPECT_EQ(m->guest_ram_rss, 81920ull * 1024);
  EXPECT_EQ(m->total.pss, (512ull + 81920 + 30000 + 2048) * 1024);
  EXPECT_EQ(m->tcg_cache_pss, 30000ull * 1024);  // the rwx mapping, nothing else
  EXPECT_EQ(m->vmm_pss(), (512ull + 2048) * 1024);
  EXPECT_EQ(m->total.uss, (100ull + 81920 + 30000 + 2048) * 1024);
  EXPECT_FALSE(ParseQemuSmaps("", 1).ok());
}

TEST(Console, AcceptNamesThePeerAndTimesOut) {
  std::string path = "/tmp/cvb-console-test-" + std::to_string(::getpid()) + ".sock";
  auto l = ConsoleListener::Listen(path);
  ASSERT_TRUE(l.ok()) << l.error().message();
  pid_t peer = 0;
  auto none = l->Accept(MonotonicNs() + 50'000'000, &peer);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().err, ETIMEDOUT);

  UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  auto s = l->Accept(MonotonicNs() + 1'000'000'000, &peer);
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(peer, ::getpid());
  l->Close();
  EXPECT_FALSE(PathExists(path));  // the listener removes its socket file
}

// The watch sees what happens while it runs, in order, and nothing that does not happen: a file
// of another name, a socket nobody connects to.
TEST(StartupWatch, RecordsTheFileAndTheConnectionWhenTheyHappen) {
  char tmpl[] = "/tmp/cvb-watch-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  struct RemoveAtEnd {  // also when an ASSERT returns early
    std::string path;
    ~RemoveAtEnd() { (void)RemoveTree(path); }
  } cleanup{dir};
  std::string path = dir + "/console.sock";
  auto l = ConsoleListener::Listen(path);
  ASSERT_TRUE(l.ok()) << l.error().message();

  auto quiet = StartupWatch::Begin(dir, "vm.pid", l->fd());
  ASSERT_TRUE(quiet.ok()) << quiet.error().message();
  ASSERT_TRUE(WriteFile(dir + "/other.pid", "1").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto nothing = (*quiet)->Finish();
  EXPECT_FALSE(nothing.file_created_ns);
  EXPECT_FALSE(nothing.connection_pending_ns);

  int64_t t0 = MonotonicNs();
  auto w = StartupWatch::Begin(dir, "vm.pid", l->fd());
  ASSERT_TRUE(w.ok()) << w.error().message();
  ASSERT_TRUE(WriteFile(dir + "/vm.pid", "1").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  int64_t t1 = MonotonicNs();
  UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strcpy(a.sun_path, path.c_str());
  ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto seen = (*w)->Finish();
  ASSERT_TRUE(seen.file_created_ns);
  ASSERT_TRUE(seen.connection_pending_ns);
  EXPECT_GE(*seen.file_created_ns, t0);
  EXPECT_LT(*seen.file_created_ns, t1);
  EXPECT_GE(*seen.connection_pending_ns, t1);
  // The connection is still there for the launcher to accept.
  pid_t peer = 0;
  EXPECT_TRUE(l->Accept(MonotonicNs() + 1'000'000'000, &peer).ok());

  // No such directory (a remote daemon's pid files): only the socket is watched.
  auto remote = StartupWatch::Begin(dir + "/absent", "vm.pid", -1);
  ASSERT_TRUE(remote.ok()) << remote.error().message();
  EXPECT_FALSE((*remote)->Finish().file_created_ns);
  l->Close();
}

// A fake module: .modinfo strings are NUL separated, depends= always present.
void FakeModule(const std::string& path, const std::string& depends) {
  std::string data = std::string(
                         "\x7f"
                         "ELF junk",
                         9) +
                     std::string("\0license=GPL\0depends=", 21) + depends +
                     std::string("\0vermagic=6.1\0", 14);
  ASSERT_TRUE(WriteFile(path, data).ok());
}

class Modules : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-mods-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MakeDirs(dir_ + "/kernel").ok());
    FakeModule(dir_ + "/kernel/virtio_ring.ko", "");
    FakeModule(dir_ + "/kernel/virtio.ko", "virtio_ring");
    FakeModule(dir_ + "/kernel/virtio_pci.ko", "virtio_ring,virtio");
    FakeModule(dir_ + "/kernel/failover.ko", "");
    FakeModule(dir_ + "/kernel/net_failover.ko", "failover");
    FakeModule(dir_ + "/kernel/virtio_net.ko", "virtio_ring,virtio,net_failover");
    FakeModule(dir_ + "/kernel/virtio_blk.ko", "virtio,virtio_ring");
  }
  void TearDown() override { (void)RemoveTree(dir_); }
  std::string dir_;
};

TEST_F(Modules, DependsAndOrder) {
  auto deps = image::ModuleDepends(dir_ + "/kernel/virtio_net.ko");
  ASSERT_TRUE(deps.ok()) << deps.error().message();
  EXPECT_EQ(*deps, (std::vector<std::string>{"virtio_ring", "virtio", "net_failover"}));
  EXPECT_TRUE(image::ModuleDepends(dir_ + "/kernel/virtio_ring.ko")->empty());

  std::vector<std::string> in = {"kernel/virtio_net.ko", "kernel/virtio_blk.ko",
                                 "kernel/virtio_pci.ko", "kernel/net_failover.ko",
                                 "kernel/failover.ko",   "kernel/virtio.ko",
                                 "kernel/virtio_ring.ko"};
  auto order = image::OrderModules(dir_, in);
  ASSERT_TRUE(order.ok()) << order.error().message();
  auto pos = [&](const std::string& m) {
    return std::find(order->begin(), order->end(), "kernel/" + m + ".ko") - order->begin();
  };
  EXPECT_EQ(order->size(), in.size());
  EXPECT_LT(pos("virtio_ring"), pos("virtio"));
  EXPECT_LT(pos("virtio"), pos("virtio_pci"));
  EXPECT_LT(pos("failover"), pos("net_failover"));
  EXPECT_LT(pos("net_failover"), pos("virtio_net"));

  auto missing = image::OrderModules(dir_, {"kernel/virtio_net.ko"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("virtio_ring"), std::string::npos);
}

TEST_F(Modules, InitramfsIsANewcArchiveWithInitConsoleAndModules) {
  ASSERT_TRUE(MakeDirs(dir_ + "/rootfs/bin").ok());
  ASSERT_TRUE(WriteFile(dir_ + "/rootfs/bin/cvb-workload", "#!/bin/sh\n", 0755).ok());
  ASSERT_EQ(::symlink("cvb-workload", (dir_ + "/rootfs/bin/sh").c_str()), 0);
  image::InitramfsSpec spec;
  spec.rootfs = dir_ + "/rootfs";
  spec.kernel.modules_dir = dir_;
  spec.kernel.modules = {"kernel/virtio_ring.ko", "kernel/virtio.ko",       "kernel/virtio_pci.ko",
                         "kernel/failover.ko",    "kernel/net_failover.ko", "kernel/virtio_net.ko",
                         "kernel/virtio_blk.ko"};
  auto a = image::BuildInitramfs(spec, dir_ + "/cache");
  ASSERT_TRUE(a.ok()) << a.error().message();
  auto again = image::BuildInitramfs(spec, dir_ + "/cache");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*a, *again);  // reproducible bytes, same hash

  if (FindProgram("cpio").empty()) GTEST_SKIP() << "cpio not installed: cannot list the archive";
  auto listing = cvb::Run({"sh", "-c", "cpio -itv < '" + *a + "'"});
  ASSERT_TRUE(listing.ok());
  ASSERT_TRUE(listing->status.ok()) << listing->err;
  const std::string& t = listing->out;
  for (const char* name :
       {" init\n", " bin/cvb-workload\n", " bin/sh -> cvb-workload\n", " dev/console\n",
        " lib/modules/cvb/virtio_net.ko\n", " etc/cvb/modules-net\n", " etc/cvb/modules-blk\n"})
    EXPECT_NE(t.find(name), std::string::npos) << name << " missing from\n" << t;
  EXPECT_NE(t.find("crw-------"), std::string::npos) << t;  // /dev/console is a char device
  auto extract = cvb::Run({"sh", "-c",
                           "cd '" + dir_ +
                               "' && cpio -id --quiet etc/cvb/modules-net "
                               "etc/cvb/modules-blk < '" +
                               *a + "'"});
  ASSERT_TRUE(extract.ok() && extract->status.ok());
  EXPECT_EQ(*ReadFile(dir_ + "/etc/cvb/modules-net"),
            "virtio_ring.ko\nvirtio.ko\nvirtio_pci.ko\nfailover.ko\nnet_failover.ko\n"
            "virtio_net.ko\n");
  EXPECT_EQ(*ReadFile(dir_ + "/etc/cvb/modules-blk"),
            "virtio_ring.ko\nvirtio.ko\nvirtio_pci.ko\nvirtio_blk.ko\n");
}

}  // namespace
}  // namespace cvb::vmdriver
