#include "cvb/launcher/workload_channel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cvb/common/clock.h"

namespace cvb::launcher {
namespace {

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    channel_ = WorkloadChannel(UniqueFd(fds[0]));
    w_.reset(fds[1]);
    timeline_.Mark("launch");
  }
  void Write(const std::string& s) {
    ASSERT_EQ(::write(w_.get(), s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  int64_t Soon() { return MonotonicNs() + 2'000'000'000; }

  WorkloadChannel channel_;
  UniqueFd w_;
  Timeline timeline_;
};

TEST_F(ChannelTest, ReadyAfterNoiseMarksReadyAndFirstLine) {
  Write("[ 0.1] booting\nCVB READY mode=ready start_mono_ns=1 ready_mono_ns=2\n");
  auto m = channel_.WaitReady(Soon(), timeline_);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->Get("mode"), "ready");
  EXPECT_TRUE(timeline_.At("ready"));
  EXPECT_TRUE(timeline_.At("first_line"));
  EXPECT_LE(*timeline_.At("first_line"), *timeline_.At("ready"));
  EXPECT_EQ(channel_.output(), std::vector<std::string>{"[ 0.1] booting"});
}

TEST_F(ChannelTest, EofBeforeReadyReportsOutput) {
  Write("exec failed: no such file\n");
  w_.reset();
  auto m = channel_.WaitReady(Soon(), timeline_);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("exec failed"), std::string::npos);
  EXPECT_FALSE(timeline_.At("ready"));
}

TEST_F(ChannelTest, WorkloadErrorFailsReady) {
  Write("CVB ERROR msg=cannot open /data\n");
  auto m = channel_.WaitReady(Soon(), timeline_);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("cannot open /data"), std::string::npos);
}

TEST_F(ChannelTest, TimeoutIsEtimedout) {
  auto m = channel_.WaitReady(MonotonicNs() + 20'000'000, timeline_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, ETIMEDOUT);
}

TEST_F(ChannelTest, DrainCollectsResultsUntilDone) {
  Write("CVB READY mode=cpu\nCVB RESULT ops_per_s=5\nnoise\nCVB RESULT x=1\nCVB DONE status=0\n");
  ASSERT_TRUE(channel_.WaitReady(Soon(), timeline_));
  ASSERT_TRUE(channel_.Drain(Soon()));
  ASSERT_EQ(channel_.results().size(), 2u);
  EXPECT_EQ(*channel_.results()[0].Number("ops_per_s"), 5.0);
  ASSERT_TRUE(channel_.done());
}

}  // namespace
}  // namespace cvb::launcher
