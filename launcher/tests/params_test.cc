// --param checks: each kind accepts what it should and refuses the rest, naming the key.
#include "cvb/launcher/params.h"

#include <gtest/gtest.h>

namespace cvb::launcher {
namespace {

std::string Why(const ParamSpec& spec, const std::string& value) {
  auto r = CheckParam(spec, value);
  return r ? "" : r.error().message();
}

TEST(Params, IntegersRefuseWordsSignsZeroAndTrailingText) {
  ParamSpec n{"density_parallel", ParamKind::kPositiveInt, ""};
  EXPECT_EQ(Why(n, "4"), "");
  EXPECT_EQ(Why(n, "0"), "--param density_parallel=0: expected a positive integer");
  EXPECT_NE(Why(n, "-1"), "");
  EXPECT_NE(Why(n, "four"), "");
  EXPECT_NE(Why(n, "4x"), "");
  EXPECT_NE(Why(n, ""), "");
  ParamSpec z{"settle_ms", ParamKind::kNonNegativeInt, ""};
  EXPECT_EQ(Why(z, "0"), "");
  EXPECT_NE(Why(z, "-5"), "");
  ParamSpec port{"net_port", ParamKind::kPositiveInt, "", {}, 65535};
  EXPECT_NE(Why(port, "70000"), "");
}

TEST(Params, ListsAndMaps) {
  ParamSpec list{"density_n", ParamKind::kPositiveIntList, ""};
  EXPECT_EQ(Why(list, "1,10,100"), "");
  EXPECT_NE(Why(list, "1,0,100").find("density_n=1,0,100"), std::string::npos);
  EXPECT_NE(Why(list, "1,x"), "");
  ParamSpec caps{"density_max_n", ParamKind::kCapsByName, ""};
  EXPECT_EQ(Why(caps, "qemu=64,libvirt/kernel:distro=16"), "");
  EXPECT_NE(Why(caps, "qemu"), "");
  EXPECT_NE(Why(caps, "qemu=0"), "");
  ParamSpec reps{"density_repetitions", ParamKind::kRepsByN, ""};
  EXPECT_EQ(Why(reps, "3,100=1"), "");
  EXPECT_NE(Why(reps, "-3"), "");
  EXPECT_NE(Why(reps, "3,100=0"), "");
}

TEST(Params, NumbersChoicesAndSwitches) {
  ParamSpec sec{"seconds", ParamKind::kPositiveNumber, "", {}, 3600};
  EXPECT_EQ(Why(sec, "0.3"), "");
  EXPECT_NE(Why(sec, "0"), "");
  EXPECT_NE(Why(sec, "nan"), "");
  EXPECT_NE(Why(sec, "1e9"), "");
  ParamSpec modes{"modes", ParamKind::kChoiceList, "", {"cpu", "mem"}};
  EXPECT_EQ(Why(modes, "cpu,mem"), "");
  EXPECT_NE(Why(modes, "cpu,gpu").find("'gpu' is not one"), std::string::npos);
  ParamSpec sw{"drop_caches", ParamKind::kSwitch, ""};
  EXPECT_EQ(Why(sw, "0"), "");
  EXPECT_NE(Why(sw, "2"), "");
}

TEST(Params, AnUnknownKeyIsRefusedListingTheKnownOnes) {
  std::vector<ParamSpec> specs = {{"b", ParamKind::kText, ""}, {"a", ParamKind::kText, ""}};
  auto r = CheckParams({{"zz", "1"}}, specs);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "--param zz=1: unknown key (known: a, b)");
  EXPECT_TRUE(CheckParams({{"a", "x"}}, specs));
}

}  // namespace
}  // namespace cvb::launcher
