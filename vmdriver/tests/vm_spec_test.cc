// Unit tests: domain XML and QEMU argv from one VmSpec, the guest command line, validation.
#include "cvb/vmdriver/vm_spec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "cvb/common/file.h"

namespace cvb::vmdriver {
namespace {

class VmSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-vmspec-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(WriteFile(dir_ + "/vmlinux", "k").ok());
    ASSERT_TRUE(WriteFile(dir_ + "/initrd", "i").ok());
    ASSERT_TRUE(WriteFile(dir_ + "/disk.img", "d").ok());
    spec_.name = "cvb-test-1";
    spec_.kernel = dir_ + "/vmlinux";
    spec_.initrd = dir_ + "/initrd";
    spec_.cmdline = "console=ttyS0 cvb.mode=ready";
    spec_.console_path = dir_ + "/console.sock";
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  std::string dir_;
  VmSpec spec_;
};

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

bool HasArgs(const std::vector<std::string>& argv, const std::string& a, const std::string& b) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == a && argv[i + 1] == b) return true;
  }
  return false;
}

TEST_F(VmSpecTest, DomainXmlHasTheBootAndNoDefaultDevices) {
  spec_.tb_cache_mib = 16;
  auto xml = DomainXml(spec_);
  ASSERT_TRUE(xml.ok()) << xml.error().message();
  EXPECT_TRUE(Contains(*xml, "<domain type='qemu'>")) << *xml;  // libvirt's name for TCG
  EXPECT_TRUE(Contains(*xml, "<name>cvb-test-1</name>"));
  EXPECT_TRUE(Contains(*xml, "<memory unit='MiB'>128</memory>"));
  EXPECT_TRUE(Contains(*xml, "machine='pc'"));
  EXPECT_TRUE(Contains(*xml, "<kernel>" + dir_ + "/vmlinux</kernel>"));
  EXPECT_TRUE(Contains(*xml, "<initrd>" + dir_ + "/initrd</initrd>"));
  EXPECT_TRUE(Contains(*xml, "<cmdline>console=ttyS0 cvb.mode=ready</cmdline>"));
  EXPECT_TRUE(Contains(*xml, "<tb-cache unit='MiB'>16</tb-cache>"));
  EXPECT_TRUE(Contains(*xml, "<on_reboot>destroy</on_reboot>"));
  EXPECT_TRUE(Contains(*xml, "<source mode='connect' path='" + dir_ + "/console.sock'/>"));
  EXPECT_TRUE(Contains(*xml, "<memballoon model='none'/>"));
  EXPECT_FALSE(Contains(*xml, "<acpi/>"));
  EXPECT_FALSE(Contains(*xml, "<interface"));
  EXPECT_FALSE(Contains(*xml, "<disk"));
}

TEST_F(VmSpecTest, DomainXmlKvmNetworkDiskAndEscaping) {
  spec_.accel = "kvm";
  spec_.acpi = true;
  spec_.tap = "cvb-tap3";
  spec_.mac = "52:54:00:cb:00:03";
  spec_.disk = dir_ + "/disk.img";
  spec_.cmdline = "a=<b> & 'c'";
  auto xml = DomainXml(spec_);
  ASSERT_TRUE(xml.ok()) << xml.error().message();
  EXPECT_TRUE(Contains(*xml, "<domain type='kvm'>"));
  EXPECT_TRUE(Contains(*xml, "<cpu mode='host-passthrough'/>"));
  EXPECT_TRUE(Contains(*xml, "<acpi/>"));
  EXPECT_TRUE(Contains(*xml, "<interface type='ethernet'>"));
  EXPECT_TRUE(Contains(*xml, "<target dev='cvb-tap3' managed='no'/>"));
  EXPECT_TRUE(Contains(*xml, "<target dev='vda' bus='virtio'/>"));
  EXPECT_TRUE(Contains(*xml, "cache='none'"));
  EXPECT_TRUE(Contains(*xml, "<cmdline>a=&lt;b&gt; &amp; &apos;c&apos;</cmdline>"));
  EXPECT_FALSE(Contains(*xml, "<tb-cache"));
}

TEST_F(VmSpecTest, QemuArgvMatchesTheXml) {
  spec_.tb_cache_mib = 16;
  spec_.tap = "cvb-tap0";
  spec_.mac = "52:54:00:cb:00:00";
  spec_.disk = dir_ + "/disk.img";
  auto argv = QemuArgv(spec_);
  ASSERT_TRUE(argv.ok()) << argv.error().message();
  EXPECT_EQ((*argv)[0], spec_.emulator);
  EXPECT_TRUE(HasArgs(*argv, "-machine", "pc,acpi=off"));
  EXPECT_TRUE(HasArgs(*argv, "-accel", "tcg,tb-size=16"));
  EXPECT_TRUE(HasArgs(*argv, "-m", "128"));
  EXPECT_TRUE(HasArgs(*argv, "-kernel", spec_.kernel));
  EXPECT_TRUE(HasArgs(*argv, "-initrd", spec_.initrd));
  EXPECT_TRUE(HasArgs(*argv, "-append", spec_.cmdline));
  EXPECT_TRUE(HasArgs(*argv, "-serial", "chardev:cons0"));
  EXPECT_TRUE(HasArgs(*argv, "-chardev", "socket,id=cons0,path=" + spec_.console_path));
  EXPECT_TRUE(HasArgs(*argv, "-netdev", "tap,id=net0,ifname=cvb-tap0,script=no,downscript=no"));
  EXPECT_NE(std::find(argv->begin(), argv->end(), "-no-reboot"), argv->end());
  EXPECT_NE(std::find(argv->begin(), argv->end(), "-nodefaults"), argv->end());
}

TEST_F(VmSpecTest, ValidationNamesTheProblem) {
  VmSpec s = spec_;
  s.name = "bad name";
  EXPECT_FALSE(DomainXml(s).ok());
  s = spec_;
  s.kernel = dir_ + "/missing";
  auto r = DomainXml(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, ENOENT);
  EXPECT_TRUE(Contains(r.error().message(), "missing"));
  s = spec_;
  s.machine = "isapc";
  EXPECT_FALSE(QemuArgv(s).ok());
  s = spec_;
  s.accel = "hvf";
  EXPECT_FALSE(DomainXml(s).ok());
  s = spec_;
  s.console_path.clear();
  EXPECT_FALSE(DomainXml(s).ok());
}

TEST_F(VmSpecTest, MicrovmUsesVirtioMmioDevices) {
  spec_.machine = "microvm";
  spec_.tap = "cvb-tap0";
  spec_.mac = "52:54:00:cb:00:00";
  spec_.disk = dir_ + "/disk.img";
  auto xml = DomainXml(spec_);
  ASSERT_TRUE(xml.ok()) << xml.error().message();
  EXPECT_TRUE(Contains(*xml, "<address type='virtio-mmio'/>"));
  EXPECT_TRUE(Contains(*xml, "<controller type='usb' model='none'/>"));  // no PCI on microvm
  auto argv = QemuArgv(spec_);
  ASSERT_TRUE(argv.ok());
  EXPECT_TRUE(HasArgs(*argv, "-device", "virtio-net-device,netdev=net0,mac=52:54:00:cb:00:00"));
  EXPECT_TRUE(HasArgs(*argv, "-device", "virtio-blk-device,drive=disk0"));
  EXPECT_TRUE(HasArgs(*argv, "-machine", "microvm,acpi=off"));
}

TEST_F(VmSpecTest, KernelCmdlineCarriesTheWorkload) {
  GuestCommand c;
  c.mode = "cpu";
  c.args = {"--seconds=2", "x"};
  c.guest_cidr = "10.213.0.2/30";
  c.gateway = "10.213.0.1";
  c.disk_device = "vda";
  auto cl = KernelCmdline(spec_, "cryptomgr.notests", c);
  ASSERT_TRUE(cl.ok()) << cl.error().message();
  EXPECT_TRUE(Contains(*cl, "console=ttyS0"));
  EXPECT_TRUE(Contains(*cl, " acpi=off"));
  EXPECT_TRUE(Contains(*cl, " cryptomgr.notests"));
  EXPECT_TRUE(Contains(*cl, " cvb.mode=cpu cvb.args=--seconds=2,x"));
  EXPECT_TRUE(Contains(*cl, " cvb.ip=10.213.0.2/30 cvb.gw=10.213.0.1 cvb.disk=vda"));
  c.args = {"two words"};
  EXPECT_FALSE(KernelCmdline(spec_, "", c).ok());
  c.args = {"a,b"};
  EXPECT_FALSE(KernelCmdline(spec_, "", c).ok());
  c.args = {""};
  EXPECT_FALSE(KernelCmdline(spec_, "", c).ok());
}

}  // namespace
}  // namespace cvb::vmdriver
