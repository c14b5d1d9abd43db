// Unit tests against libvirt's built-in test:///default driver: no daemon, no QEMU.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cvb/common/file.h"
#include "cvb/vmdriver/libvirt.h"
#include "cvb/vmdriver/vm_spec.h"

namespace cvb::vmdriver {
namespace {

class TestDriver : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-vtest-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(WriteFile(dir_ + "/vmlinux", "k").ok());
    auto c = Connection::Open("test:///default");
    ASSERT_TRUE(c.ok()) << c.error().message();
    conn_ = std::move(*c);
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  std::string Xml(const std::string& name) {
    VmSpec s;
    s.name = name;
    s.kernel = dir_ + "/vmlinux";
    s.cmdline = "console=ttyS0";
    s.console_path = dir_ + "/console.sock";
    auto x = DomainXml(s);
    EXPECT_TRUE(x.ok());
    return x.ok() ? *x : "";
  }

  std::string dir_;
  Connection conn_;
};

TEST_F(TestDriver, TransientDomainLifecycle) {
  auto dom = conn_.CreateTransient(Xml("cvb-unit-1"));
  ASSERT_TRUE(dom.ok()) << dom.error().message();
  EXPECT_EQ(dom->Name(), "cvb-unit-1");
  auto state = dom->State();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(*state, VIR_DOMAIN_RUNNING);
  EXPECT_TRUE(dom->IsActive());
  auto names = conn_.ActiveDomainNames();
  ASSERT_TRUE(names.ok());
  EXPECT_NE(std::find(names->begin(), names->end(), "cvb-unit-1"), names->end());
  auto desc = dom->XmlDesc();
  ASSERT_TRUE(desc.ok());
  EXPECT_NE(desc->find("<on_reboot>destroy</on_reboot>"), std::string::npos);

  ASSERT_TRUE(dom->Destroy().ok());
  EXPECT_FALSE(dom->IsActive());
  // Destroying what is already gone is not an error.
  EXPECT_TRUE(dom->Destroy().ok());
  // A transient domain leaves nothing behind.
  auto lookup = conn_.Lookup("cvb-unit-1");
  ASSERT_FALSE(lookup.ok());
  EXPECT_NE(lookup.error().message().find("cvb-unit-1"), std::string::npos);
}

// The XML choices of vmdriver/README.md ("Domain XML and qemu.conf choices") as libvirt parses
// them: no device the qemu launcher's -nodefaults lacks (USB controller, balloon, video, input),
// no ACPI, no CPU model of our own under TCG (libvirt then asks for QEMU's default, qemu64, as
// raw QEMU gets), and the lifecycle that lets the guest's reboot -f end the domain.
TEST_F(TestDriver, XmlChoicesSurviveLibvirtsParser) {
  auto dom = conn_.CreateTransient(Xml("cvb-unit-choices"));
  ASSERT_TRUE(dom.ok()) << dom.error().message();
  auto desc = dom->XmlDesc();
  ASSERT_TRUE(desc.ok());
  const std::string& x = *desc;
  auto has = [&x](const std::string& s) { return x.find(s) != std::string::npos; };
  EXPECT_TRUE(has("<controller type='usb' index='0' model='none'/>")) << x;
  EXPECT_TRUE(has("<memballoon model='none'/>")) << x;
  for (const char* absent : {"<video", "<graphics", "<input", "<sound", "<acpi", "<cpu", "<rng",
                             "<watchdog", "<channel"})
    EXPECT_FALSE(has(absent)) << absent << " in\n" << x;
  for (const char* action : {"<on_poweroff>destroy", "<on_reboot>destroy", "<on_crash>destroy"})
    EXPECT_TRUE(has(action)) << action;
  ASSERT_TRUE(dom->Destroy().ok());
}

TEST_F(TestDriver, DuplicateNameIsACleanError) {
  auto first = conn_.CreateTransient(Xml("cvb-unit-dup"));
  ASSERT_TRUE(first.ok()) << first.error().message();
  auto second = conn_.CreateTransient(Xml("cvb-unit-dup"));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find("virDomainCreateXML"), std::string::npos);
  EXPECT_NE(second.error().message().find("cvb-unit-dup"), std::string::npos)
      << second.error().message();
  ASSERT_TRUE(first->Destroy().ok());
}

TEST_F(TestDriver, BadXmlIsACleanError) {
  auto dom = conn_.CreateTransient("<domain type='qemu'><name>cvb-x</name>");
  ASSERT_FALSE(dom.ok());
  EXPECT_NE(dom.error().message().find("libvirt error"), std::string::npos);
}

TEST_F(TestDriver, VersionsAndLiveness) {
  EXPECT_TRUE(conn_.Alive());
  auto v = conn_.LibvirtVersion();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->rfind("libvirt ", 0), 0u);
  Connection shared = conn_.Share();
  conn_.reset();  // the shared reference keeps it open
  EXPECT_TRUE(shared.Alive());
}

TEST(LibvirtConnect, UnreachableDaemonFailsFast) {
  auto c = Connection::Open("qemu+unix:///system?socket=/nonexistent/cvb-no-libvirtd.sock");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("virConnectOpen"), std::string::npos);
}

}  // namespace
}  // namespace cvb::vmdriver
