// Integration tests: real VMs (TCG here) through the "qemu" and "libvirt" launchers, the READY
// line and the workload's exit, network and disk, and the bad inputs of issue 4, each followed by
// a check that nothing is left behind: no domain, no QEMU process, no cvb tap, no file.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/image.h"
#include "cvb/image/vm_artifacts.h"
#include "cvb/vmdriver/launchers.h"
#include "cvb/vmdriver/libvirt.h"
#include "cvb/vmdriver/tap.h"
#include "cvb/vmdriver/vm_spec.h"

namespace cvb::vmdriver {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::optional<image::Image> g_image;
std::string g_skip_all;      // why no VM test can run here
std::string g_skip_libvirt;  // why the libvirt tests cannot run
std::string g_tmp;           // holds files the tests make outside the launchers' work dir

std::vector<std::string> DirEntries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

// Removes a scratch directory however the test ends (an ASSERT returns early).
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cvb-vmwork-XXXXXX";
    if (::mkdtemp(tmpl)) path = tmpl;
  }
  ~TempDir() {
    if (!path.empty()) (void)RemoveTree(path);
  }
};

// Processes whose command line mentions text (QEMU carries its domain name in -name).
std::vector<pid_t> ProcessesMentioning(const std::string& text) {
  std::vector<pid_t> out;
  for (const auto& e : DirEntries("/proc")) {
    pid_t pid = std::atoi(e.c_str());
    if (pid <= 0 || pid == ::getpid()) continue;
    auto cmd = ReadFile("/proc/" + e + "/cmdline");
    if (cmd && cmd->find(text) != std::string::npos) out.push_back(pid);
  }
  return out;
}

class Env : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) {
      g_skip_all = "VM tests need root (tap devices, libvirt's system daemon)";
      return;
    }
    if (FindProgram("qemu-system-x86_64").empty()) {
      g_skip_all = "qemu-system-x86_64 not installed";
      return;
    }
    auto img = image::BuildImage();
    if (!img) {
      g_skip_all = "cannot build the image: " + img.error().message();
      return;
    }
    g_image = *img;
    char tmpl[] = "/tmp/cvb-vmit-XXXXXX";
    if (!::mkdtemp(tmpl)) {
      g_skip_all = "mkdtemp failed";
      return;
    }
    g_tmp = tmpl;
    // libvirtd is started the way scripts/setup starts it.
    auto conn = Connection::Open("qemu:///system");
    if (!conn) {
      std::string script = std::string(CVB_SOURCE_DIR) + "/scripts/libvirtd-start";
      auto r = Run({script}, seconds(120));
      conn = Connection::Open("qemu:///system");
      if (!conn)
        g_skip_libvirt = "libvirtd cannot be started (" + (r ? Trim(r->err) : r.error().message()) +
                         "): " + conn.error().message();
    }
  }
  void TearDown() override {
    if (!g_tmp.empty()) (void)RemoveTree(g_tmp);
  }
};

class VmTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!g_skip_all.empty()) GTEST_SKIP() << g_skip_all;
    if (GetParam() == "libvirt" && !g_skip_libvirt.empty()) GTEST_SKIP() << g_skip_libvirt;
    char tmpl[] = "/tmp/cvb-vmwork-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    prefix_ = "cvb-" + GetParam() + "-" + std::to_string(::getpid()) + "-";
  }
  void TearDown() override {
    if (!work_.empty()) (void)RemoveTree(work_);
  }

  Result<std::unique_ptr<launcher::Launcher>> Make(std::map<std::string, std::string> params = {}) {
    launcher::LauncherConfig c{GetParam(), work_, "distro", std::move(params)};
    auto l = GetParam() == "qemu" ? MakeQemuLauncher(c) : MakeLibvirtLauncher(c);
    if (!l) return l;
    CVB_TRY((*l)->Prepare(*g_image));
    return l;
  }

  void ExpectNoLeftovers() {
    // QEMU goes a moment after its domain: allow a short grace.
    int64_t until = MonotonicNs() + 5'000'000'000;
    while (!ProcessesMentioning(prefix_).empty() && MonotonicNs() < until) ::usleep(20000);
    EXPECT_TRUE(ProcessesMentioning(prefix_).empty())
        << "a QEMU process named " << prefix_ << "* is left";
    if (GetParam() == "libvirt") {
      auto conn = Connection::Open("qemu:///system");
      ASSERT_TRUE(conn.ok());
      auto names = conn->ActiveDomainNames();
      ASSERT_TRUE(names.ok());
      for (const auto& n : *names)
        EXPECT_NE(n.rfind(prefix_, 0), 0u) << "domain " << n << " is left";
      for (const auto& f : DirEntries("/var/log/libvirt/qemu"))
        EXPECT_NE(f.rfind(prefix_, 0), 0u) << "libvirt log " << f << " is left";
    }
    for (const auto& i : DirEntries("/sys/class/net"))
      EXPECT_NE(i.rfind("cvb-tap", 0), 0u) << "tap " << i << " is left";
    EXPECT_TRUE(DirEntries(work_).empty()) << "files left in " << work_;
    for (const auto& f : DirEntries("/tmp"))
      EXPECT_NE(f.rfind(prefix_, 0), 0u) << "/tmp/" << f << " is left";
  }

  std::string work_;
  std::string prefix_;
};

TEST_P(VmTest, BootsToReadyAndExits) {
  auto l = Make();
  ASSERT_TRUE(l.ok()) << l.error().message();
  auto cond = (*l)->Conditions();
  EXPECT_FALSE(cond["accelerator"].empty());
  EXPECT_FALSE(cond["accelerator_reason"].empty());
  EXPECT_FALSE(cond["kernel_version"].empty());
  {
    auto inst = (*l)->Start({});
    ASSERT_TRUE(inst.ok()) << inst.error().message();
    auto ready = (*inst)->WaitReady(seconds(90));
    ASSERT_TRUE(ready.ok()) << ready.error().message();
    ASSERT_TRUE((*inst)->ready_message().has_value());
    EXPECT_EQ((*inst)->ready_message()->kind, "READY");
    EXPECT_EQ((*inst)->ready_message()->Get("mode"), "ready");
    auto st = (*inst)->WaitExit(seconds(60));
    ASSERT_TRUE(st.ok()) << st.error().message();
    EXPECT_EQ(st->code, 0);
    ASSERT_TRUE((*inst)->Teardown().ok());
    const auto& t = (*inst)->timeline();
    for (const char* mark : {"launch", "api_returned", "first_byte", "ready", "exit"})
      EXPECT_TRUE(t.At(mark).has_value()) << mark;
    EXPECT_LE(*t.At("api_returned"), *t.At("first_byte"));
    EXPECT_LE(*t.At("first_byte"), *t.At("ready"));
    EXPECT_LE(*t.At("ready"), *t.At("exit"));
    EXPECT_EQ(t.extras().count("teardown_ms"), 1u);
    // The start-up split (README "Phases"): each launcher's marks in the order they happen, and
    // the extras that add up to the ready time.
    ASSERT_TRUE(t.At("console_connected").has_value());
    EXPECT_EQ(t.extras().count("qemu_spawn_ms"), 1u);
    EXPECT_EQ(t.extras().count("guest_boot_ms"), 1u);
    double ready_ms = *t.SinceLaunchMs("ready");
    if (GetParam() == "libvirt") {
      ASSERT_TRUE(t.At("qemu_forked").has_value());
      EXPECT_LE(*t.At("qemu_forked"), *t.At("console_connected"));
      EXPECT_LE(*t.At("console_connected"), *t.At("api_returned"));
      double sum = t.extras().at("libvirt_define_ms") + t.extras().at("qemu_spawn_ms") +
                   t.extras().at("libvirt_qmp_setup_ms") + t.extras().at("guest_boot_ms");
      EXPECT_NEAR(sum, ready_ms, 0.01);
    } else {
      EXPECT_LE(*t.At("api_returned"), *t.At("console_connected"));
      EXPECT_NEAR(t.extras().at("qemu_spawn_ms") + t.extras().at("guest_boot_ms"), ready_ms, 0.01);
    }
    std::cout << GetParam() << ": ready after " << ready_ms << " ms\n";
  }
  ExpectNoLeftovers();
}

TEST_P(VmTest, IdleInstanceHasMemoryAndStops) {
  auto l = Make({{"tb_cache_mib", "32"}});
  ASSERT_TRUE(l.ok()) << l.error().message();
  {
    launcher::WorkloadRequest req;
    req.mode = "idle";
    auto inst = (*l)->Start(req);
    ASSERT_TRUE(inst.ok()) << inst.error().message();
    ASSERT_TRUE((*inst)->WaitReady(seconds(90)).ok());
    auto pids = (*inst)->HostPids();
    ASSERT_EQ(pids.size(), 1u);
    auto* vm = dynamic_cast<VmInstanceInfo*>(inst->get());
    ASSERT_NE(vm, nullptr);
    EXPECT_EQ(vm->QemuPid(), pids[0]);
    // Both launchers' QEMU runs in a session other than the caller's (a CPU-share group of its
    // own under sched autogroup): README "like for like on a shared host". libvirt's session is
    // led by the process it daemonised QEMU from, the qemu launcher's by QEMU.
    EXPECT_NE(::getsid(pids[0]), ::getsid(0));
    if (GetParam() == "qemu") {
      EXPECT_EQ(::getsid(pids[0]), pids[0]);
    }
    auto mem = vm->QemuMemoryNow();
    ASSERT_TRUE(mem.ok()) << mem.error().message();
    EXPECT_EQ(mem->guest_ram_bytes, 128ull << 20);
    EXPECT_GT(mem->guest_ram_rss, 8ull << 20);  // the guest kernel touched its RAM
    EXPECT_GT(mem->total.pss, mem->guest_ram_pss);
    EXPECT_GT((*inst)->HostMemory().pss, 0u);
    ASSERT_TRUE((*inst)->Stop(seconds(30)).ok());
    EXPECT_TRUE((*inst)->HostPids().empty());
    EXPECT_TRUE((*inst)->timeline().At("exit").has_value());
    ASSERT_TRUE((*inst)->Teardown().ok());
  }
  ExpectNoLeftovers();
}

TEST_P(VmTest, NetworkAndDisk) {
  auto l = Make({{"disk_mib", "64"}});
  ASSERT_TRUE(l.ok()) << l.error().message();
  std::string tap_name;
  {
    launcher::WorkloadRequest req;
    req.mode = "idle";
    req.needs_network = true;
    req.needs_disk = true;
    ASSERT_TRUE((*l)->Supports(req).ok());
    auto inst = (*l)->Start(req);
    ASSERT_TRUE(inst.ok()) << inst.error().message();
    // /init reports a failed eth0 or /data set-up as a CVB ERROR line, which fails WaitReady.
    auto ready = (*inst)->WaitReady(seconds(90));
    ASSERT_TRUE(ready.ok()) << ready.error().message();
    std::string ip = (*inst)->NetworkAddress();
    ASSERT_FALSE(ip.empty());
    // A refused connection proves the guest's kernel answered on its address.
    int err = 0;
    for (int attempt = 0; attempt < 50; ++attempt) {
      int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(9);
      ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
      timeval tv{1, 0};
      ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      err = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 ? 0 : errno;
      ::close(s);
      if (err == ECONNREFUSED || err == 0) break;
      ::usleep(100000);
    }
    EXPECT_TRUE(err == ECONNREFUSED || err == 0) << "guest " << ip << ": " << std::strerror(err);
    ASSERT_TRUE((*inst)->Stop(seconds(30)).ok());
    ASSERT_TRUE((*inst)->Teardown().ok());
  }
  ExpectNoLeftovers();
}

TEST_P(VmTest, InitThatNeverSignalsReadyTimesOut) {
  image::InitramfsSpec spec;
  spec.rootfs = g_image->rootfs;
  spec.init_script =
      "#!/bin/busybox sh\necho cvb-test: booted but silent\nexec /bin/busybox sleep 1000\n";
  std::string initrd = g_tmp + "/silent-" + GetParam() + ".cpio";
  ASSERT_TRUE(image::WriteInitramfs(spec, initrd).ok());
  auto l = Make({{"initrd_path", initrd}});
  ASSERT_TRUE(l.ok()) << l.error().message();
  {
    auto inst = (*l)->Start({});
    ASSERT_TRUE(inst.ok()) << inst.error().message();
    int64_t t0 = MonotonicNs();
    auto ready = (*inst)->WaitReady(seconds(8));
    double waited_s = (MonotonicNs() - t0) / 1e9;
    ASSERT_FALSE(ready.ok());
    EXPECT_EQ(ready.error().err, ETIMEDOUT) << ready.error().message();
    EXPECT_LT(waited_s, 10.0);
    ASSERT_TRUE((*inst)->Teardown().ok());
  }
  ExpectNoLeftovers();
}

TEST_P(VmTest, CorruptKernelFailsQuickly) {
  std::string kernel = g_tmp + "/corrupt-vmlinux";
  std::string junk(1 << 16, '\0');
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 2654435761u) >> 13);
  ASSERT_TRUE(WriteFile(kernel, junk).ok());
  auto l = Make({{"kernel_path", kernel}});
  ASSERT_TRUE(l.ok()) << l.error().message();
  int64_t t0 = MonotonicNs();
  {
    auto inst = (*l)->Start({});
    // QEMU refuses the file at start, or the guest dies at once: either way no READY, soon.
    if (inst.ok()) {
      auto ready = (*inst)->WaitReady(seconds(15));
      EXPECT_FALSE(ready.ok());
    } else {
      EXPECT_FALSE(inst.error().message().empty());
      std::cout << GetParam() << ": " << inst.error().message() << "\n";
    }
  }
  EXPECT_LT((MonotonicNs() - t0) / 1e9, 30.0);
  ExpectNoLeftovers();
}

TEST_P(VmTest, MissingKernelIsAClearError) {
  auto l = Make({{"kernel_path", "/nonexistent/cvb-vmlinux"}});
  ASSERT_TRUE(l.ok()) << l.error().message();
  {
    auto inst = (*l)->Start({});
    ASSERT_FALSE(inst.ok());
    EXPECT_EQ(inst.error().err, ENOENT);
    EXPECT_NE(inst.error().message().find("/nonexistent/cvb-vmlinux"), std::string::npos);
  }
  ExpectNoLeftovers();
}

INSTANTIATE_TEST_SUITE_P(Launchers, VmTest, ::testing::Values("qemu", "libvirt"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(LibvirtFaults, DaemonNotRunningIsAClearErrorFast) {
  launcher::LauncherConfig c{"libvirt",
                             "/tmp",
                             "distro",
                             {{"uri", "qemu+unix:///system?socket=/nonexistent/libvirt-sock"}}};
  auto l = MakeLibvirtLauncher(c);
  ASSERT_TRUE(l.ok());
  int64_t t0 = MonotonicNs();
  auto check = (*l)->Check();
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.error().message().find("scripts/libvirtd-start"), std::string::npos)
      << check.error().message();
  EXPECT_LT((MonotonicNs() - t0) / 1e9, 5.0);
}

TEST(LibvirtFaults, DuplicateDomainNameOnTheRealDaemon) {
  if (!g_skip_all.empty()) GTEST_SKIP() << g_skip_all;
  if (!g_skip_libvirt.empty()) GTEST_SKIP() << g_skip_libvirt;
  auto art = image::PrepareVmArtifacts(*g_image, "distro", image::CacheDir(), nullptr);
  ASSERT_TRUE(art.ok()) << art.error().message();
  auto conn = Connection::Open("qemu:///system");
  ASSERT_TRUE(conn.ok());
  std::string name = "cvb-dup-" + std::to_string(::getpid());
  VmSpec s;
  s.name = name;
  s.kernel = art->kernel.vmlinux;
  s.initrd = art->initramfs;
  s.cmdline = "console=ttyS0";
  s.console = ConsoleKind::kFile;
  s.console_path = g_tmp + "/dup-console.log";
  auto xml = DomainXml(s);
  ASSERT_TRUE(xml.ok());
  {
    // Paused: the guest never runs, the name is taken all the same.
    auto first =
        conn->CreateTransient(*xml, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY);
    ASSERT_TRUE(first.ok()) << first.error().message();
    auto second = conn->CreateTransient(*xml, VIR_DOMAIN_START_PAUSED);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().message().find(name), std::string::npos) << second.error().message();
    ASSERT_TRUE(first->Destroy().ok());
  }
  auto names = conn->ActiveDomainNames();
  ASSERT_TRUE(names.ok());
  for (const auto& n : *names) EXPECT_NE(n, name);
  ::unlink(("/var/log/libvirt/qemu/" + name + ".log").c_str());
  int64_t until = MonotonicNs() + 5'000'000'000;
  while (!ProcessesMentioning("guest=" + name).empty() && MonotonicNs() < until) ::usleep(20000);
  EXPECT_TRUE(ProcessesMentioning("guest=" + name).empty());
}

TEST(LibvirtFaults, DaemonRestartedBetweenStarts) {
  if (!g_skip_all.empty()) GTEST_SKIP() << g_skip_all;
  if (!g_skip_libvirt.empty()) GTEST_SKIP() << g_skip_libvirt;
  auto pidtext = ReadFile("/run/libvirtd.pid");
  if (!pidtext) GTEST_SKIP() << "libvirtd was not started by scripts/libvirtd-start (no pid file)";
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  std::string work = tmp.path;
  {
    launcher::LauncherConfig c{"libvirt", work, "distro", {}};
    auto l = MakeLibvirtLauncher(c);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE((*l)->Prepare(*g_image).ok());
    // The daemon goes away and comes back (as a sweep would see after an admin's restart).
    pid_t pid = std::atoi(pidtext->c_str());
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    int64_t until = MonotonicNs() + 10'000'000'000;
    while (::kill(pid, 0) == 0 && MonotonicNs() < until) ::usleep(20000);
    auto r = cvb::Run({std::string(CVB_SOURCE_DIR) + "/scripts/libvirtd-start"}, seconds(120));
    ASSERT_TRUE(r.ok() && r->status.ok()) << (r.ok() ? r->err : r.error().message());
    auto inst = (*l)->Start({});
    ASSERT_TRUE(inst.ok()) << inst.error().message();
    auto ready = (*inst)->WaitReady(seconds(90));
    EXPECT_TRUE(ready.ok()) << ready.error().message();
    EXPECT_TRUE((*inst)->Teardown().ok());
  }
}

TEST(QemuFaults, OrphanQemuOfADeadRunIsKilledAtPrepare) {
  if (!g_skip_all.empty()) GTEST_SKIP() << g_skip_all;
  // A pid that certainly belongs to no live cvbench: a child that has exited and been reaped.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ::waitpid(dead, nullptr, 0);
  std::string name = "cvb-qemu-" + std::to_string(dead) + "-0";
  auto orphan = Spawn(
      {"qemu-system-x86_64", "-name", name, "-S", "-nodefaults", "-display", "none", "-m", "64"});
  ASSERT_TRUE(orphan.ok()) << orphan.error().message();
  // Spawn may return before the exec: wait until the process is QEMU, as a real orphan is.
  int64_t until = MonotonicNs() + 5'000'000'000;
  while (ProcessesMentioning(name).empty() && MonotonicNs() < until) ::usleep(10000);
  ASSERT_FALSE(ProcessesMentioning(name).empty());
  TempDir tmp;
  ASSERT_FALSE(tmp.path.empty());
  launcher::LauncherConfig c{"qemu", tmp.path, "distro", {}};
  auto l = MakeQemuLauncher(c);
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->Prepare(*g_image).ok());
  auto st = orphan->Wait(milliseconds(5000));
  ASSERT_TRUE(st.ok()) << "the orphan QEMU is still running: " << st.error().message()
                       << " comm=" << ProcessName(orphan->pid()).value_or("?")
                       << " owner alive=" << (::kill(dead, 0) == 0);
  EXPECT_EQ(st->signal, SIGKILL);
  EXPECT_TRUE(ProcessesMentioning(name).empty());
}
}  // namespace
}  // namespace cvb::vmdriver

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new cvb::vmdriver::Env);
  return RUN_ALL_TESTS();
}
