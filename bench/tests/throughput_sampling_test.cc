#include "throughput_sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace cvb::bench {
namespace {

std::vector<double> Around(double centre, double spread, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0, spread);
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(centre * std::exp(d(rng)));
  return v;
}

TEST(BootstrapRatio, PointIsTheRatioOfTrimmedGeometricMeansAndTheIntervalHoldsIt) {
  std::vector<double> num = {10, 10, 10, 10, 1000};  // one outlier, trimmed away
  std::vector<double> den = {5, 5, 5, 5, 5};
  auto r = BootstrapRatio(num, den, 1);
  EXPECT_NEAR(r.point, 2.0, 1e-9);
  EXPECT_LE(r.lo, r.point);
  EXPECT_GE(r.hi, r.point);
  auto again = BootstrapRatio(num, den, 1);
  EXPECT_EQ(r.lo, again.lo);  // deterministic for a seed
  EXPECT_TRUE(std::isnan(BootstrapRatio({}, den, 1).lo));
  EXPECT_TRUE(std::isnan(BootstrapRatio({-1, 0}, den, 1).point));  // no positive sample
}

TEST(BootstrapRatio, MoreSamplesNarrowTheInterval) {
  auto few = BootstrapRatio(Around(1.0, 0.1, 8, 1), Around(1.0, 0.1, 8, 2), 3);
  auto many = BootstrapRatio(Around(1.0, 0.1, 200, 1), Around(1.0, 0.1, 200, 2), 3);
  EXPECT_LT(many.hi - many.lo, (few.hi - few.lo) / 2);
}

TEST(Judge, InsideOutsideOrStraddling) {
  SamplingRule rule;
  EXPECT_EQ(Judge({1.0, 0.95, 1.05}, rule), BandDecision::kInside);
  EXPECT_EQ(Judge({0.5, 0.4, 0.6}, rule), BandDecision::kOutside);
  EXPECT_EQ(Judge({1.3, 1.2, 1.4}, rule), BandDecision::kOutside);
  EXPECT_EQ(Judge({1.0, 0.85, 1.05}, rule), BandDecision::kStraddles);
  EXPECT_EQ(Judge({NAN, NAN, NAN}, rule), BandDecision::kStraddles);
}

nlohmann::json Iteration(const std::string& name, double int_ops, double fp_ops) {
  return {{"name", name}, {"run_name", name}, {"run_type", "iteration"},
          {"int_ops_per_s", int_ops}, {"fp_ops_per_s", fp_ops}};
}

TEST(JudgeEntries, ATightNativeLikeEntryDecidesANoisyOneDoesNot) {
  std::vector<nlohmann::json> its;
  auto native = Around(1e9, 0.01, 10, 1), tight = Around(1e9, 0.01, 10, 2),
       noisy = Around(1e9, 0.3, 10, 3), slow = Around(0.5e9, 0.01, 10, 4);
  for (int i = 0; i < 10; ++i) {
    its.push_back(Iteration("throughput/native/mode:cpu", native[i], native[i]));
    its.push_back(Iteration("throughput/cvrun/mode:cpu", tight[i], tight[i]));
    its.push_back(Iteration("throughput/crun/mode:cpu", noisy[i], tight[i]));
    its.push_back(Iteration("throughput/qemu/mode:cpu", slow[i], slow[i]));
  }
  its.push_back({{"run_name", "throughput/runc/mode:cpu"}, {"error_occurred", true}});
  std::map<std::string, std::string> pairs;
  for (const char* l : {"cvrun", "crun", "qemu", "runc"})
    pairs[std::string("throughput/") + l + "/mode:cpu"] = "throughput/native/mode:cpu";
  std::map<std::string, EntryDecision> by;
  for (auto& d : JudgeEntries(its, pairs, SamplingRule{})) by[d.entry] = d;
  EXPECT_TRUE(by["throughput/cvrun/mode:cpu"].decided());
  EXPECT_EQ(by["throughput/cvrun/mode:cpu"].samples, 10);
  EXPECT_EQ(by["throughput/cvrun/mode:cpu"].native_samples, 10);
  EXPECT_EQ(by["throughput/crun/mode:cpu"].undecided,
            std::vector<std::string>{"int_ops_per_s"});  // fp is tight, int is noisy
  EXPECT_TRUE(by["throughput/qemu/mode:cpu"].decided());  // wholly outside: decided too
  EXPECT_TRUE(by["throughput/runc/mode:cpu"].failed);
  EXPECT_FALSE(by["throughput/runc/mode:cpu"].decided());
}

TEST(SamplingRule, DescribesItsNumbers) {
  SamplingRule r;
  r.min_repetitions = 12;
  r.max_repetitions = 40;
  std::string text = r.Describe();
  EXPECT_NE(text.find("12 repetitions"), std::string::npos) << text;
  EXPECT_NE(text.find("has 40"), std::string::npos) << text;
  EXPECT_NE(text.find("0.9-1.1"), std::string::npos) << text;
}

}  // namespace
}  // namespace cvb::bench
