#include "cvb/launcher/timeline.h"

#include <gtest/gtest.h>

namespace cvb::launcher {
namespace {

TEST(TimelineTest, CountersAreMillisecondsSinceLaunch) {
  Timeline t;
  t.MarkAt("launch", 1'000'000);
  t.MarkAt("create", 3'000'000);
  t.MarkAt("ready", 11'000'000);
  t.SetExtra("teardown_ms", 0.5);
  auto c = t.Counters();
  EXPECT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c["create_ms"], 2.0);
  EXPECT_DOUBLE_EQ(c["ready_ms"], 10.0);
  EXPECT_DOUBLE_EQ(c["teardown_ms"], 0.5);
  EXPECT_EQ(c.count("launch_ms"), 0u);
}

TEST(TimelineTest, RemarkReplacesAndKeepsOrder) {
  Timeline t;
  t.MarkAt("launch", 0);
  t.MarkAt("exit", 5);
  t.MarkAt("exit", 7);
  ASSERT_EQ(t.marks().size(), 2u);
  EXPECT_EQ(*t.At("exit"), 7);
}

TEST(TimelineTest, NoLaunchNoCounters) {
  Timeline t;
  t.MarkAt("ready", 5);
  EXPECT_FALSE(t.SinceLaunchMs("ready"));
  EXPECT_TRUE(t.Counters().empty());
}

}  // namespace
}  // namespace cvb::launcher
