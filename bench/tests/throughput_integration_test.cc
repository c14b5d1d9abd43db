// Every throughput mode for real, briefly, on native and on the OCI runtimes installed here (as
// root), through the suite's own measurement; then nothing may be left: no cvb network
// namespace, veth, netns bind mount or scratch directory - also when a start fails halfway.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/image/image.h"
#include "cvb/launcher/launcher.h"
#include "cvb/launcher/oci.h"
#include "throughput.h"

namespace cvb::bench {
namespace {

std::string CvbLeftovers(const std::string& scratch) {
  std::string found;
  if (auto links = Run({"ip", "-o", "link"}); links)
    for (const auto& l : Split(links->out, '\n'))
      if (l.find("cvb-vh") != std::string::npos || l.find("cvb-vc") != std::string::npos)
        found += "link: " + l + "\n";
  if (auto ns = Run({"ip", "netns", "list"}); ns)
    for (const auto& l : Split(ns->out, '\n'))
      if (l.rfind("cvb-n", 0) == 0) found += "netns: " + l + "\n";
  if (auto mi = ReadFile("/proc/self/mountinfo"); mi)
    for (const auto& l : Split(*mi, '\n'))
      if (l.find("/run/netns/cvb-n") != std::string::npos ||
          l.find(scratch) != std::string::npos)
        found += "mount: " + l + "\n";
  if (auto ls = Run({"find", scratch, "-mindepth", "1"}); ls && !Trim(ls->out).empty())
    found += "scratch: " + ls->out;
  return found;
}

class ThroughputIntegrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    if (::geteuid() == 0) {
      auto c = launcher::EnterOciHostConditions();
      ASSERT_TRUE(c) << c.error().message();
    }
    ASSERT_TRUE(BecomeSubreaper());
  }

  void SetUp() override {
    name_ = GetParam();
    if (name_ != "native") {
      if (::geteuid() != 0) GTEST_SKIP() << name_ << " needs root";
      bool present = name_ == "cvrun" ? PathExists(image::SelfExeDir() + "/cvrun")
                                      : !FindProgram(name_).empty();
      if (!present) GTEST_SKIP() << name_ << " is not installed (cvrun: build the cvrun target)";
    }
    char tmpl[] = "/var/tmp/cvb-tp-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    scratch_ = work_ + "/scratch";
    auto image = image::BuildImage();
    ASSERT_TRUE(image) << image.error().message();
    image_ = *image;
    launcher::RegisterProcessLaunchers(registry_);
    auto l = registry_.Make({name_, work_, "", {{"scratch_dir", scratch_}}});
    ASSERT_TRUE(l) << l.error().message();
    launcher_ = std::move(*l);
    ASSERT_TRUE(launcher_->Check());
    ASSERT_TRUE(launcher_->Prepare(image_));
    options_.seconds = 0.3;
    options_.mem_mib = 16;
    options_.ra_mib = 16;
    options_.disk_file_mib = 16;
    options_.disk_seconds = 0.2;
    options_.net_seconds = 0.2;
    options_.net_port = 30000 + ::getpid() % 20000;
    options_.ready_timeout = std::chrono::seconds(30);
  }

  void TearDown() override {
    launcher_.reset();
    if (work_.empty()) return;
    EXPECT_EQ(CvbLeftovers(scratch_), "");
    EXPECT_TRUE(RemoveTree(work_));
  }

  std::string name_, work_, scratch_;
  image::Image image_;
  launcher::Registry registry_;
  std::unique_ptr<launcher::Launcher> launcher_;
  ThroughputOptions options_;
};

TEST_P(ThroughputIntegrationTest, EveryModeYieldsItsFigures) {
  for (const auto& [mode, spec] : ThroughputModes()) {
    launcher::WorkloadRequest req = ThroughputRequest(mode, launcher_->Kind(), options_);
    // Every bundle runtime runs every mode here, runsc's net mode included (its own netstack,
    // --network=sandbox, over the instance's veth: oci.cc NetMaskWrapper).
    auto supported = launcher_->Supports(req);
    ASSERT_TRUE(supported) << name_ << " " << mode << ": " << supported.error().message();
    auto f = MeasureThroughput(*launcher_, mode, options_);
    ASSERT_TRUE(f) << name_ << " " << mode << ": " << f.error().message();
    for (const auto& k : spec.figures) {
      ASSERT_TRUE(f->count(k)) << mode << " " << k;
      EXPECT_GT(f->at(k), 0) << mode << " " << k;
    }
    if (mode == "disk") {
      EXPECT_TRUE(f->count("direct"));
    }
    std::printf("%s %s:", name_.c_str(), mode.c_str());
    for (const auto& [k, v] : *f) std::printf(" %s=%.4g", k.c_str(), v);
    std::printf("\n");
    EXPECT_EQ(CvbLeftovers(scratch_), "") << "after " << mode;
  }
}

// The "rootfs" case: /data is an overlayfs with its upper layer on the host disk, as an engine's
// writable container layer; the overlay mount must be gone afterwards.
TEST_P(ThroughputIntegrationTest, DiskThroughAnOverlayLayer) {
  if (launcher_->Kind() != "container") GTEST_SKIP() << "containers only";
  auto l = registry_.Make({name_, work_, "", {{"scratch_dir", scratch_}, {"container_disk", "overlay"}}});
  ASSERT_TRUE(l);
  ASSERT_TRUE((*l)->Check());
  ASSERT_TRUE((*l)->Prepare(image_));
  EXPECT_NE((*l)->Conditions()["container_disk"].find("overlay"), std::string::npos);
  auto f = MeasureThroughput(**l, "disk", options_);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_GT(f->at("seq_write_mb_per_s"), 0);
  std::printf("%s disk via overlay: direct=%g seq_write_mb_per_s=%.4g rand_read_iops=%.4g\n",
              name_.c_str(), f->at("direct"), f->at("seq_write_mb_per_s"), f->at("rand_read_iops"));
}

// Native over a veth pair: the server in a network namespace of its own, reached at the veth's
// address (not loopback); namespace and veth gone afterwards (TearDown checks leftovers).
TEST_P(ThroughputIntegrationTest, NativeNetOverVeth) {
  if (launcher_->Kind() != "native") GTEST_SKIP() << "native only";
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ip netns, veth)";
  auto req = ThroughputRequest("net", "native", options_, true);
  auto inst = launcher_->Start(req);
  ASSERT_TRUE(inst) << inst.error().message();
  EXPECT_NE((*inst)->NetworkAddress(), "127.0.0.1");
  EXPECT_EQ((*inst)->NetworkAddress().rfind("10.213.", 0), 0u) << (*inst)->NetworkAddress();
  ASSERT_TRUE((*inst)->Stop(std::chrono::seconds(5)));
  ASSERT_TRUE((*inst)->Teardown());
  inst->reset();
  auto f = MeasureThroughput(*launcher_, "net", options_, true);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_GT(f->at("stream_mb_per_s"), 0);
  EXPECT_GT(f->at("rr_per_s"), 0);
  std::printf("native net over veth: stream_mb_per_s=%.4g rr_p50_us=%.4g\n",
              f->at("stream_mb_per_s"), f->at("rr_p50_us"));
}

INSTANTIATE_TEST_SUITE_P(Launchers, ThroughputIntegrationTest,
                         ::testing::Values("native", "cvrun", "crun", "runc", "runsc"));

// A runtime whose create fails after the network namespace, veth pair and /data directory were
// made: the failed Start must remove all of them.
TEST(ThroughputCleanupTest, FailedStartLeavesNoNetworkOrScratch) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  char tmpl[] = "/var/tmp/cvb-tp-fail-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string work = tmpl, scratch = work + "/scratch";
  // Answers --version (a runtime that cannot even do that fails Check) and fails everything else.
  std::string runtime = work + "/cvbfalse";
  {
    std::ofstream script(runtime);
    script << "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'cvbfalse 0'; exit 0; }\nexit 1\n";
  }
  ASSERT_EQ(::chmod(runtime.c_str(), 0755), 0);
  auto image = image::BuildImage();
  ASSERT_TRUE(image);
  auto l = launcher::MakeOciLauncher({"cvbfalse", work, "", {{"scratch_dir", scratch}}},
                                     {"cvbfalse", runtime, {}, "", {}, false});
  ASSERT_TRUE(l);
  ASSERT_TRUE((*l)->Check());
  ASSERT_TRUE((*l)->Prepare(*image));
  launcher::WorkloadRequest req;
  req.mode = "net";
  req.needs_network = true;
  req.needs_disk = true;
  auto inst = (*l)->Start(req);
  EXPECT_FALSE(inst);
  EXPECT_EQ(CvbLeftovers(scratch), "");
  l->reset();
  EXPECT_TRUE(RemoveTree(work));
}

}  // namespace
}  // namespace cvb::bench
