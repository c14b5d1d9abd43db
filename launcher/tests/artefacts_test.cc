#include "cvb/launcher/artefacts.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "cvb/common/file.h"

namespace cvb::launcher {
namespace {

class ArtefactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-artefacts-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/instances/crun";
  }
  void TearDown() override { (void)RemoveTree(root_); }
  std::string root_, dir_;
};

TEST_F(ArtefactsTest, WritesEachShapeOnceExactlyAsTheFirstInstanceGotIt) {
  ArtefactRecorder r(dir_);
  auto first = r.Record("config.json", R"({"cgroupsPath":"cvb-crun-1-0","args":["ready"]})",
                        {"cvb-crun-1-0"}, "mode ready");
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, dir_ + "/config.json");
  // Same shape, another instance: nothing new.
  auto same = r.Record("config.json", R"({"cgroupsPath":"cvb-crun-1-1","args":["ready"]})",
                       {"cvb-crun-1-1"}, "mode ready");
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, "");
  // Another shape (a /data volume): config-2.json.
  auto disk = r.Record(
      "config.json",
      R"({"cgroupsPath":"cvb-crun-1-2","args":["disk"],"src":"/var/tmp/cvbench/cvb-crun-1-2"})",
      {"cvb-crun-1-2", "/var/tmp/cvbench/cvb-crun-1-2"}, "mode disk");
  ASSERT_TRUE(disk);
  EXPECT_EQ(*disk, dir_ + "/config-2.json");
  EXPECT_EQ(ReadFile(dir_ + "/config.json").value_or_empty(),
            R"({"cgroupsPath":"cvb-crun-1-0","args":["ready"]})");
  EXPECT_NE(ReadFile(dir_ + "/config-2.json").value_or_empty().find("\"disk\""), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/config-3.json"));

  auto index = nlohmann::json::parse(ReadFile(dir_ + "/index.json").value_or_empty());
  ASSERT_EQ(index.size(), 2u);
  EXPECT_EQ(index[0]["file"], "config.json");
  EXPECT_EQ(index[0]["request"], "mode ready");
  EXPECT_EQ(index[1]["file"], "config-2.json");
  EXPECT_EQ(index[1]["per_instance_values"][1], "/var/tmp/cvbench/cvb-crun-1-2");
}

TEST_F(ArtefactsTest, NamesAreNumberedBeforeTheExtensionAndKeptApart) {
  ArtefactRecorder r(dir_);
  ASSERT_TRUE(r.Record("qemu-argv.txt", "a\nb\n", {}, "x"));
  auto second = r.Record("qemu-argv.txt", "a\nc\n", {}, "y");
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, dir_ + "/qemu-argv-2.txt");
  // The same content under another name is another artefact.
  auto xml = r.Record("domain.xml", "a\nb\n", {}, "x");
  ASSERT_TRUE(xml);
  EXPECT_EQ(*xml, dir_ + "/domain.xml");
}

TEST_F(ArtefactsTest, AValueInsideAnotherIsReplacedWhole) {
  // The id is part of the netns path: the longer value must be replaced first, or the shapes of
  // two instances would still differ in the path's rest.
  ArtefactRecorder r(dir_);
  ASSERT_TRUE(r.Record("config.json", "id=c1 ns=/run/netns/c1-x", {"c1", "/run/netns/c1-x"}, ""));
  auto again = r.Record("config.json", "id=c2 ns=/run/netns/c2-y", {"c2", "/run/netns/c2-y"}, "");
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, "");
}

TEST_F(ArtefactsTest, OffRecordsNothingAndBadNamesAreRefused) {
  ArtefactRecorder off("");
  auto r = off.Record("config.json", "{}", {}, "");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
  ArtefactRecorder on(dir_);
  EXPECT_FALSE(on.Record("../escape.json", "{}", {}, ""));
  EXPECT_FALSE(on.Record("", "{}", {}, ""));
  EXPECT_FALSE(PathExists(root_ + "/instances/escape.json"));
}

TEST_F(ArtefactsTest, AFailedWriteIsReportedAndRetriedByTheNextInstance) {
  std::string blocker = root_ + "/file";
  ASSERT_TRUE(WriteFile(blocker, "x"));
  ArtefactRecorder bad(blocker + "/sub");  // a directory under a regular file cannot be made
  auto r = bad.Record("config.json", "{}", {}, "");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("config.json"), std::string::npos);
  ASSERT_TRUE(RemoveTree(blocker));
  auto retry = bad.Record("config.json", "{}", {}, "");
  ASSERT_TRUE(retry);
  EXPECT_EQ(*retry, blocker + "/sub/config.json");
}

TEST_F(ArtefactsTest, ConcurrentInstancesOfOneShapeWriteOneFile) {
  ArtefactRecorder r(dir_);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&r, i] {
      std::string id = "cvb-" + std::to_string(i);
      (void)r.Record("config.json", "{\"id\":\"" + id + "\"}", {id}, "fleet");
    });
  for (auto& t : threads) t.join();
  EXPECT_TRUE(PathExists(dir_ + "/config.json"));
  EXPECT_FALSE(PathExists(dir_ + "/config-2.json"));
}

TEST(ArtefactDirNameTest, DisplayNameBecomesOnePathComponent) {
  EXPECT_EQ(ArtefactDirName("libvirt/kernel:minimal"), "libvirt-kernel:minimal");
  EXPECT_EQ(ArtefactDirName("crun"), "crun");
}

}  // namespace
}  // namespace cvb::launcher
