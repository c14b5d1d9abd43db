// Ordinary least squares y = fixed + slope * x with a 95% confidence interval on the slope: how
// density turns its (N, memory) points into "MiB per additional instance".
#pragma once

#include <cstddef>
#include <vector>

namespace cvb::bench {

struct LinearFit {
  double slope = 0;
  double fixed = 0;       // intercept: what the first instance costs beyond the slope
  double slope_ci95 = 0;  // half-width of the 95% interval of the slope (t distribution)
  double r2 = 0;
  std::size_t points = 0;
  bool ok = false;  // at least two distinct x
};

// Two-sided 97.5% quantile of Student's t with `dof` degrees of freedom (a table to 30, then
// the Cornish-Fisher expansion around the normal's 1.96).
double StudentT975(int dof);

// Fits every (x, y) pair; the interval needs at least three points (with two it is infinite).
LinearFit FitLine(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace cvb::bench
