#include "cvb/image/image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cvb/common/file.h"

namespace cvb::image {
namespace {

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-image-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Any static-enough file works as the "workload" for layout tests.
    ASSERT_TRUE(WriteFile(dir_ + "/workload", "#!/bin/sh\necho fake\n", 0755));
    src_.workload_binary = dir_ + "/workload";
    src_.busybox = "/bin/busybox";
    src_.cache_dir = dir_ + "/cache";
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(dir_)); }
  std::string dir_;
  ImageSource src_;
};

TEST_F(ImageTest, BuildsRootfsWithBusyboxAppletsAndWorkload) {
  if (!PathExists("/bin/busybox")) GTEST_SKIP() << "busybox-static not installed";
  auto img = BuildImage(src_);
  ASSERT_TRUE(img) << img.error().message();
  EXPECT_TRUE(PathExists(img->rootfs + "/bin/cvb-workload"));
  EXPECT_TRUE(PathExists(img->rootfs + "/bin/busybox"));
  struct stat st;
  ASSERT_EQ(::lstat((img->rootfs + "/bin/sh").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  char target[256] = {};
  ASSERT_GT(::readlink((img->rootfs + "/bin/sh").c_str(), target, sizeof target - 1), 0);
  EXPECT_EQ(target[0], '.') << "applet links must be relative to stay inside any root";
  for (const char* d : {"proc", "sys", "dev", "tmp", "data"})
    EXPECT_TRUE(PathExists(img->rootfs + "/" + d)) << d;
  auto sizes = MeasureImage(*img);
  ASSERT_TRUE(sizes);
  EXPECT_GT(sizes->busybox_bytes, 100000u);
  EXPECT_GE(sizes->rootfs_bytes, sizes->busybox_bytes + sizes->workload_bytes);
}

TEST_F(ImageTest, CachedByContent) {
  if (!PathExists("/bin/busybox")) GTEST_SKIP() << "busybox-static not installed";
  auto a = BuildImage(src_);
  auto b = BuildImage(src_);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->hash, b->hash);
  ASSERT_TRUE(WriteFile(src_.workload_binary, "#!/bin/sh\necho changed\n", 0755));
  auto c = BuildImage(src_);
  ASSERT_TRUE(c);
  EXPECT_NE(c->hash, a->hash);
}

TEST_F(ImageTest, MissingWorkloadNamesTheFile) {
  src_.workload_binary = dir_ + "/nope";
  auto img = BuildImage(src_);
  ASSERT_FALSE(img);
  EXPECT_NE(img.error().message().find(dir_ + "/nope"), std::string::npos);
  EXPECT_FALSE(PathExists(src_.cache_dir + "/images"));
}

TEST(OciConfigTest, DefaultConfigIsIsolatedAndReadOnly) {
  Image img;
  img.rootfs = "/cache/images/x/rootfs";
  BundleOptions o;
  o.args = {"/bin/cvb-workload", "ready"};
  o.memory_limit = 1 << 20;
  o.cgroups_path = "cvb-x";
  auto c = MakeOciConfig(img, o);
  EXPECT_EQ(c["root"]["path"], "/cache/images/x/rootfs");
  EXPECT_EQ(c["root"]["readonly"], true);
  EXPECT_EQ(c["process"]["terminal"], false);
  EXPECT_EQ(c["process"]["noNewPrivileges"], true);
  EXPECT_EQ(c["process"]["args"][1], "ready");
  std::vector<std::string> ns;
  for (const auto& n : c["linux"]["namespaces"]) ns.push_back(n["type"]);
  EXPECT_EQ(ns, (std::vector<std::string>{"pid", "mount", "uts", "ipc", "network"}));
  EXPECT_EQ(c["linux"]["resources"]["memory"]["limit"], 1 << 20);
  EXPECT_EQ(c["linux"]["cgroupsPath"], "cvb-x");
  EXPECT_FALSE(c["linux"]["maskedPaths"].empty());
}

TEST(OciConfigTest, NetnsPathJoinsInsteadOfCreating) {
  Image img;
  img.rootfs = "/r";
  BundleOptions o;
  o.netns_path = "/run/netns/cvb-x";
  auto c = MakeOciConfig(img, o);
  int network = 0;
  for (const auto& n : c["linux"]["namespaces"]) {
    if (n["type"] == "network") {
      ++network;
      EXPECT_EQ(n["path"], "/run/netns/cvb-x");
    }
  }
  EXPECT_EQ(network, 1);
}

}  // namespace
}  // namespace cvb::image
