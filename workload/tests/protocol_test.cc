#include "cvb/workload/protocol.h"

#include <gtest/gtest.h>

namespace cvb::workload {
namespace {

TEST(ProtocolTest, ParsesReadyLineWithFields) {
  auto m = ParseLine("CVB READY mode=idle start_mono_ns=10 ready_mono_ns=25");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, "READY");
  EXPECT_EQ(m->Get("mode"), "idle");
  EXPECT_EQ(m->Number("ready_mono_ns"), 25.0);
}

TEST(ProtocolTest, FindsMessageBehindConsoleNoise) {
  auto m = ParseLine("[    1.234] init: CVB RESULT ops_per_s=1.5e9");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, "RESULT");
  EXPECT_DOUBLE_EQ(*m->Number("ops_per_s"), 1.5e9);
}

TEST(ProtocolTest, ErrorKeepsSpaces) {
  auto m = ParseLine("CVB ERROR msg=open /data/x: No such file");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->Get("msg"), "open /data/x: No such file");
}

TEST(ProtocolTest, IgnoresOtherLines) {
  EXPECT_FALSE(ParseLine("Linux version 6.1.0"));
  EXPECT_FALSE(ParseLine("CVB UNKNOWN x=1"));
}

TEST(ProtocolTest, NonNumberIsNullopt) {
  auto m = ParseLine("CVB RESULT a=abc b=");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->Number("a"));
  EXPECT_FALSE(m->Number("b"));
  EXPECT_FALSE(m->Number("missing"));
}

TEST(ProtocolTest, FormatRoundTrips) {
  Message m{"RESULT", {{"gb_per_s", "12.5"}, {"kind", "triad"}}};
  auto back = ParseLine(FormatLine(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->fields, m.fields);
}

}  // namespace
}  // namespace cvb::workload
