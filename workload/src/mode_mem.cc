// mem mode: STREAM-style bandwidth (copy, scale, add, triad over three arrays of --mib MiB each,
// much larger than a last-level cache) and a RandomAccess-style figure (random 64-bit xor
// updates in a table of --ra_mib MiB, in millions of updates per second), as Felter et al. used.
// Single-threaded, like the cpu mode. Bandwidth counts the bytes STREAM counts (copy/scale: two
// arrays, add/triad: three) and reports the best round, as STREAM does; the rounds share
// --seconds. The figures are printed with a checksum so no loop is dead code.
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "cvb/common/clock.h"
#include "modes.h"

namespace cvb::workload {
namespace {

template <typename T>
using Buffer = std::unique_ptr<T[], FreeDeleter>;

template <typename T>
Buffer<T> Allocate(size_t n) {
  void* p = nullptr;
  if (::posix_memalign(&p, 4096, n * sizeof(T)) != 0) return nullptr;
  return Buffer<T>(static_cast<T*>(p));
}

__attribute__((noinline)) void Copy(double* __restrict c, const double* __restrict a, size_t n) {
  for (size_t i = 0; i < n; ++i) c[i] = a[i];
}
__attribute__((noinline)) void Scale(double* __restrict b, const double* __restrict c, double s,
                                     size_t n) {
  for (size_t i = 0; i < n; ++i) b[i] = s * c[i];
}
__attribute__((noinline)) void Add(double* __restrict c, const double* __restrict a,
                                   const double* __restrict b, size_t n) {
  for (size_t i = 0; i < n; ++i) c[i] = a[i] + b[i];
}
__attribute__((noinline)) void Triad(double* __restrict a, const double* __restrict b,
                                     const double* __restrict c, double s, size_t n) {
  for (size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

// Updates table[r & mask] ^= r for `count` pseudo-random r (xorshift64): each update is a
// dependent read-modify-write at a random place, so the figure is memory latency bound.
__attribute__((noinline)) uint64_t RandomUpdates(uint64_t* table, uint64_t mask, uint64_t count,
                                                 uint64_t r) {
  for (uint64_t i = 0; i < count; ++i) {
    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    table[r & mask] ^= r;
  }
  return r;
}

}  // namespace

int ModeMem(Context& ctx) {
  if (auto e = UnknownArg(ctx, {"seconds", "mib", "ra_mib"}); !e.empty()) return Fail(e);
  NumberArg seconds = ParseNumberArg(ctx, "seconds", 2, 0.01, 3600);
  NumberArg mib = ParseNumberArg(ctx, "mib", 64, 1, 65536);
  NumberArg ra_mib = ParseNumberArg(ctx, "ra_mib", 64, 1, 65536);
  for (const auto* a : {&seconds, &mib, &ra_mib})
    if (!a->error.empty()) return Fail(a->error);

  const size_t n = static_cast<size_t>(mib.value * (1 << 20)) / sizeof(double);
  // The random-access table is a power of two of 64-bit words, at most ra_mib.
  uint64_t words = 1;
  while (words * 2 * sizeof(uint64_t) <= ra_mib.value * (1 << 20)) words *= 2;
  auto a = Allocate<double>(n), b = Allocate<double>(n), c = Allocate<double>(n);
  auto table = Allocate<uint64_t>(words);
  if (!a || !b || !c || !table) return Fail("mem: cannot allocate 3 x " + Fig(mib.value) +
                                            " MiB + " + Fig(ra_mib.value) + " MiB");
  // Touch every page before READY: the first-touch faults are the instance's memory set-up, not
  // its bandwidth.
  for (size_t i = 0; i < n; ++i) a[i] = 1.0, b[i] = 2.0, c[i] = 0.0;
  for (uint64_t i = 0; i < words; ++i) table[i] = i;
  AnnounceReady(ctx);

  const double s = 3.0;
  const double bytes[4] = {2.0 * n * sizeof(double), 2.0 * n * sizeof(double),
                           3.0 * n * sizeof(double), 3.0 * n * sizeof(double)};
  double best[4] = {0, 0, 0, 0};
  // Three quarters of the time for STREAM, one quarter for random access; at least one round.
  const int64_t stream_budget = static_cast<int64_t>(seconds.value * 0.75e9);
  int64_t start = MonotonicNs();
  int rounds = 0;
  do {
    for (int k = 0; k < 4; ++k) {
      int64_t t0 = MonotonicNs();
      switch (k) {
        case 0: Copy(c.get(), a.get(), n); break;
        case 1: Scale(b.get(), c.get(), s, n); break;
        case 2: Add(c.get(), a.get(), b.get(), n); break;
        case 3: Triad(a.get(), b.get(), c.get(), s, n); break;
      }
      double dt = (MonotonicNs() - t0) / 1e9;
      if (dt > 0) best[k] = std::max(best[k], bytes[k] / dt / 1e9);
    }
    ++rounds;
  } while (MonotonicNs() - start < stream_budget && !ctx.stopping());

  const int64_t ra_budget = static_cast<int64_t>(seconds.value * 0.25e9);
  uint64_t r = 0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(start), updates = 0;
  const uint64_t batch = std::max<uint64_t>(words / 16, 4096);
  int64_t t0 = MonotonicNs(), t = t0;
  do {
    r = RandomUpdates(table.get(), words - 1, batch, r);
    updates += batch;
    t = MonotonicNs();
  } while (t - t0 < ra_budget && !ctx.stopping());
  double ra_s = (t - t0) / 1e9;

  double checksum = a[n / 2] + b[n / 3] + c[n - 1] + static_cast<double>(table[r & (words - 1)] % 1000);
  Result({{"copy_gb_per_s", Fig(best[0])},
          {"scale_gb_per_s", Fig(best[1])},
          {"add_gb_per_s", Fig(best[2])},
          {"triad_gb_per_s", Fig(best[3])},
          {"random_access_mups", Fig(updates / ra_s / 1e6)},
          {"stream_rounds", std::to_string(rounds)},
          {"array_mib", Fig(mib.value)},
          {"table_mib", Fig(words * sizeof(uint64_t) / double(1 << 20))},
          {"checksum", Fig(checksum)}});
  Done(0);
  return 0;
}

}  // namespace cvb::workload
