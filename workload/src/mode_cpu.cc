// cpu mode: a fixed compute kernel, integer then floating point, each for half of --seconds.
// Single-threaded on purpose: every instance (a container's process, a 1-vCPU guest) gets the
// same one-core job, so the ratio to native isolates the instance's overhead, not its core count.
//
// The compiler must not shorten the work: every chain is loop-carried (each step needs the
// previous value), the iteration count is known only at run time, and the final values go into
// a checksum that is printed, so no step is dead code.
#include <cstdint>

#include "cvb/common/clock.h"
#include "modes.h"

namespace cvb::workload {
namespace {

constexpr uint64_t kBatch = 1 << 20;  // steps between clock reads

// Four independent 64-bit LCG chains with a xor-shift mix: per step and chain one multiply,
// one add, one shift and one xor = 4 integer operations; 16 per step.
constexpr double kIntOpsPerStep = 16;
__attribute__((noinline)) uint64_t IntBatch(uint64_t* s, uint64_t steps) {
  uint64_t a = s[0], b = s[1], c = s[2], d = s[3];
  for (uint64_t i = 0; i < steps; ++i) {
    a = a * 6364136223846793005ull + 1442695040888963407ull;
    b = b * 3935559000370003845ull + 2691343689449507681ull;
    c = c * 2862933555777941757ull + 3037000493ull;
    d = d * 3202034522624059733ull + 4354685564936845319ull;
    a ^= b >> 29;
    b ^= c >> 31;
    c ^= d >> 27;
    d ^= a >> 33;
  }
  s[0] = a, s[1] = b, s[2] = c, s[3] = d;
  return a ^ b ^ c ^ d;
}

// Eight independent chains x = x * m + k: one multiply and one add each = 16 flops per step.
// m < 1 keeps every chain bounded (it converges to k / (1 - m)), so no value becomes inf/NaN or
// denormal, whose slow paths would measure the FPU's exceptions instead of its throughput.
constexpr double kFpOpsPerStep = 16;
__attribute__((noinline)) double FpBatch(double* x, uint64_t steps, double m, double k) {
  double x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3], x4 = x[4], x5 = x[5], x6 = x[6], x7 = x[7];
  for (uint64_t i = 0; i < steps; ++i) {
    x0 = x0 * m + k;
    x1 = x1 * m + k;
    x2 = x2 * m + k;
    x3 = x3 * m + k;
    x4 = x4 * m + k;
    x5 = x5 * m + k;
    x6 = x6 * m + k;
    x7 = x7 * m + k;
  }
  x[0] = x0, x[1] = x1, x[2] = x2, x[3] = x3, x[4] = x4, x[5] = x5, x[6] = x6, x[7] = x7;
  return x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}

}  // namespace

int ModeCpu(Context& ctx) {
  if (auto e = UnknownArg(ctx, {"seconds"}); !e.empty()) return Fail(e);
  NumberArg seconds = ParseNumberArg(ctx, "seconds", 2, 0.01, 3600);
  if (!seconds.error.empty()) return Fail(seconds.error);
  AnnounceReady(ctx);
  const int64_t budget_ns = static_cast<int64_t>(seconds.value * 0.5e9);

  uint64_t state[4] = {1, 2, 3, static_cast<uint64_t>(MonotonicNs())};
  uint64_t int_sum = 0, int_steps = 0;
  int64_t t0 = MonotonicNs(), t = t0;
  while (t - t0 < budget_ns && !ctx.stopping()) {
    int_sum += IntBatch(state, kBatch);
    int_steps += kBatch;
    t = MonotonicNs();
  }
  double int_s = (t - t0) / 1e9;

  // Multiplier and addend from run-time values, so they cannot be folded into constants.
  double m = 1.0 - 1.0 / (1 << 20) * (1 + (state[0] & 1));
  double k = 1e-6 * static_cast<double>(1 + (state[1] & 3));
  double x[8] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8};
  double fp_sum = 0;
  uint64_t fp_steps = 0;
  t0 = MonotonicNs(), t = t0;
  while (t - t0 < budget_ns && !ctx.stopping()) {
    fp_sum += FpBatch(x, kBatch, m, k);
    fp_steps += kBatch;
    t = MonotonicNs();
  }
  double fp_s = (t - t0) / 1e9;
  if (int_steps == 0 || fp_steps == 0) return Fail("cpu: stopped before measuring");

  Result({{"int_ops_per_s", Fig(int_steps * kIntOpsPerStep / int_s)},
          {"fp_ops_per_s", Fig(fp_steps * kFpOpsPerStep / fp_s)},
          {"int_seconds", Fig(int_s)},
          {"fp_seconds", Fig(fp_s)},
          {"checksum", Fig(static_cast<double>(int_sum % 1000003) + fp_sum)}});
  Done(0);
  return 0;
}

}  // namespace cvb::workload
