#include "cvb/common/affinity.h"

#include <gtest/gtest.h>

namespace cvb {
namespace {

TEST(CpuList, ParsesAndFormatsTheKernelsForm) {
  auto l = ParseCpuList("0-2,5,7-8");
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(*l, (std::vector<int>{0, 1, 2, 5, 7, 8}));
  EXPECT_EQ(FormatCpuList(*l), "0-2,5,7-8");
  EXPECT_EQ(FormatCpuList({3, 1, 2}), "1-3");
  for (const char* bad : {"", "a", "2-1", "1,", "-1", "1-", "1 2"}) {
    auto r = ParseCpuList(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message().find(std::string("'") + bad + "'"), std::string::npos);
    }
  }
}

TEST(ScopedThreadAffinity, PinsTheCallingThreadAndRestoresIt) {
  auto before = AllowedCpus();
  ASSERT_TRUE(before);
  {
    auto pin = ScopedThreadAffinity::Pin({before->back()});
    ASSERT_TRUE(pin) << pin.error().message();
    EXPECT_EQ(*AllowedCpus(), std::vector<int>{before->back()});
  }
  EXPECT_EQ(*AllowedCpus(), *before);
}

}  // namespace
}  // namespace cvb
