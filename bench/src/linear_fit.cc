#include "linear_fit.h"

#include <cmath>
#include <limits>
#include <set>

namespace cvb::bench {

double StudentT975(int dof) {
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                  2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                  2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                  2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return std::numeric_limits<double>::infinity();
  if (dof <= 30) return kTable[dof - 1];
  // Cornish-Fisher expansion around the normal quantile: within 1e-3 of the exact value above 30.
  const double z = 1.959964, d = dof;
  return z + (z * z * z + z) / (4 * d) +
         (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

LinearFit FitLine(const std::vector<double>& x, const std::vector<double>& y) {
  LinearFit f;
  std::size_t n = std::min(x.size(), y.size());
  f.points = n;
  if (std::set<double>(x.begin(), x.begin() + n).size() < 2) return f;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) * (y[i] - my);
  }
  f.slope = sxy / sxx;
  f.fixed = my - f.slope * mx;
  double sse = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double r = y[i] - (f.fixed + f.slope * x[i]);
    sse += r * r;
  }
  f.r2 = syy > 0 ? 1 - sse / syy : 1;
  if (n > 2) {
    double se = std::sqrt(sse / (n - 2) / sxx);
    f.slope_ci95 = StudentT975(static_cast<int>(n - 2)) * se;
  } else {
    f.slope_ci95 = std::numeric_limits<double>::infinity();
  }
  f.ok = true;
  return f;
}

}  // namespace cvb::bench
