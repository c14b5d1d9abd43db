#include "throughput_sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace cvb::bench {
namespace {

// The mean of the middle of sorted logs (each end trimmed): the log of the typical value.
double TrimmedLogMean(std::vector<double>& logs, double trim) {
  std::sort(logs.begin(), logs.end());
  size_t n = logs.size();
  size_t k = static_cast<size_t>(n * trim);
  size_t lo = k, hi = n - k;
  if (hi <= lo) lo = 0, hi = n;
  double sum = 0;
  for (size_t i = lo; i < hi; ++i) sum += logs[i];
  return sum / static_cast<double>(hi - lo);
}

std::vector<double> PositiveLogs(const std::vector<double>& v) {
  std::vector<double> out;
  for (double x : v)
    if (x > 0 && std::isfinite(x)) out.push_back(std::log(x));
  return out;
}

std::string ModeOf(const std::string& entry) {
  size_t at = entry.find("/mode:");
  if (at == std::string::npos) return "";
  size_t end = entry.find('/', at + 6);
  return entry.substr(at + 6, end == std::string::npos ? std::string::npos : end - at - 6);
}

}  // namespace

std::string SamplingRule::Describe() const {
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "sequential: every entry gets %d repetitions; then, in rounds, each entry whose "
                "figures do not all decide gets %d more, and native's entry of the same mode too, "
                "until every figure decides or the entry has %d (or its repetitions_max). A figure "
                "decides when the bootstrap 95%% interval of its ratio to native (trimmed "
                "geometric means, middle %.0f%%, %d resamples) lies wholly inside %.2g-%.2g or "
                "wholly outside; the figures are claim 3's (cpu: int/fp ops; mem: triad, copy; "
                "disk: seq read/write, random read/write; net: stream, rr/s)",
                min_repetitions, batch, max_repetitions, 100 * (1 - 2 * trim), resamples, band_lo,
                band_hi);
  return buf;
}

const std::map<std::string, std::vector<std::string>>& DecisionFigures() {
  static const std::map<std::string, std::vector<std::string>> figures = {
      {"cpu", {"int_ops_per_s", "fp_ops_per_s"}},
      {"mem", {"triad_gb_per_s", "copy_gb_per_s"}},
      {"disk", {"seq_read_mb_per_s", "seq_write_mb_per_s", "rand_read_iops", "rand_write_iops"}},
      {"net", {"stream_mb_per_s", "rr_per_s"}},
  };
  return figures;
}

uint64_t StableSeed(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

RatioInterval BootstrapRatio(const std::vector<double>& num, const std::vector<double>& den,
                             uint64_t seed, int resamples, double trim) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> a = PositiveLogs(num), b = PositiveLogs(den);
  if (a.empty() || b.empty() || resamples < 1) return {nan, nan, nan};
  RatioInterval r;
  {
    std::vector<double> ca = a, cb = b;
    r.point = std::exp(TrimmedLogMean(ca, trim) - TrimmedLogMean(cb, trim));
  }
  std::mt19937_64 rng(seed);
  std::vector<double> diffs(resamples), da(a.size()), db(b.size());
  std::uniform_int_distribution<size_t> pick_a(0, a.size() - 1), pick_b(0, b.size() - 1);
  for (int i = 0; i < resamples; ++i) {
    for (auto& x : da) x = a[pick_a(rng)];
    for (auto& x : db) x = b[pick_b(rng)];
    diffs[i] = TrimmedLogMean(da, trim) - TrimmedLogMean(db, trim);
  }
  std::sort(diffs.begin(), diffs.end());
  // Percentiles 2.5 and 97.5 with linear interpolation (numpy's default).
  auto quantile = [&](double q) {
    double pos = q * (resamples - 1);
    size_t i = static_cast<size_t>(pos);
    double f = pos - i;
    return i + 1 < diffs.size() ? diffs[i] * (1 - f) + diffs[i + 1] * f : diffs[i];
  };
  r.lo = std::exp(quantile(0.025));
  r.hi = std::exp(quantile(0.975));
  return r;
}

BandDecision Judge(const RatioInterval& r, const SamplingRule& rule) {
  if (!std::isfinite(r.lo) || !std::isfinite(r.hi)) return BandDecision::kStraddles;
  if (rule.band_lo <= r.lo && r.hi <= rule.band_hi) return BandDecision::kInside;
  if (r.hi < rule.band_lo || r.lo > rule.band_hi) return BandDecision::kOutside;
  return BandDecision::kStraddles;
}

std::vector<EntryDecision> JudgeEntries(const std::vector<nlohmann::json>& iterations,
                                        const std::map<std::string, std::string>& pairs,
                                        const SamplingRule& rule) {
  // entry -> figure -> samples; entries with an errored repetition.
  std::map<std::string, std::map<std::string, std::vector<double>>> samples;
  std::map<std::string, int> counts;
  std::map<std::string, bool> failed;
  for (const auto& it : iterations) {
    std::string name = it.value("run_name", it.value("name", std::string()));
    if (it.value("error_occurred", false)) {
      failed[name] = true;
      continue;
    }
    ++counts[name];
    for (const auto& [k, v] : it.items())
      if (v.is_number()) samples[name][k].push_back(v.get<double>());
  }
  std::vector<EntryDecision> out;
  for (const auto& [entry, native] : pairs) {
    EntryDecision d;
    d.entry = entry;
    d.native = native;
    d.samples = counts[entry];
    d.native_samples = counts[native];
    d.failed = failed[entry];
    auto figures = DecisionFigures().find(ModeOf(entry));
    if (figures != DecisionFigures().end()) {
      for (const auto& f : figures->second) {
        auto ratio = BootstrapRatio(samples[entry][f], samples[native][f],
                                    StableSeed(entry + "|" + f), rule.resamples, rule.trim);
        if (Judge(ratio, rule) == BandDecision::kStraddles) d.undecided.push_back(f);
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace cvb::bench
