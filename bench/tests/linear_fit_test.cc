#include "linear_fit.h"

#include <gtest/gtest.h>

#include <cmath>

namespace cvb::bench {
namespace {

TEST(LinearFit, ExactLineHasZeroInterval) {
  auto f = FitLine({1, 10, 100, 1000}, {5.5, 10, 55, 505});  // 5 + 0.5 N
  ASSERT_TRUE(f.ok);
  EXPECT_NEAR(f.slope, 0.5, 1e-12);
  EXPECT_NEAR(f.fixed, 5.0, 1e-9);
  EXPECT_NEAR(f.slope_ci95, 0.0, 1e-9);
  EXPECT_NEAR(f.r2, 1.0, 1e-12);
}

TEST(LinearFit, NoisyPointsMatchScipy) {
  // scipy.stats.linregress([1,1,10,10,100,100], [1.2,0.4,4.1,6.3,50.2,48.9]):
  // slope 0.492568, stderr 0.0086478; t.ppf(0.975, 4) = 2.77645.
  auto f = FitLine({1, 1, 10, 10, 100, 100}, {1.2, 0.4, 4.1, 6.3, 50.2, 48.9});
  ASSERT_TRUE(f.ok);
  EXPECT_NEAR(f.slope, 0.492568, 1e-6);
  EXPECT_NEAR(f.slope_ci95, 2.77645 * 0.0086478, 1e-4);
  EXPECT_EQ(f.points, 6u);
}

TEST(LinearFit, OneDistinctXIsNoFit) {
  EXPECT_FALSE(FitLine({4, 4, 4}, {1, 2, 3}).ok);
  EXPECT_FALSE(FitLine({}, {}).ok);
  auto two = FitLine({1, 2}, {1, 2});
  EXPECT_TRUE(two.ok);
  EXPECT_TRUE(std::isinf(two.slope_ci95));  // two points say nothing about the spread
}

TEST(LinearFit, StudentQuantiles) {
  EXPECT_NEAR(StudentT975(1), 12.706, 1e-3);
  EXPECT_NEAR(StudentT975(10), 2.228, 1e-3);
  EXPECT_NEAR(StudentT975(31), 2.03951, 1e-3);  // scipy.stats.t.ppf(0.975, dof)
  EXPECT_NEAR(StudentT975(60), 2.00030, 1e-3);
  EXPECT_NEAR(StudentT975(1000), 1.96234, 1e-3);
}

}  // namespace
}  // namespace cvb::bench
