// Throughput that decides: a sequential sampling rule for the throughput suite. Every entry gets
// its minimum of repetitions (--repetitions), randomly interleaved with native's as always; then,
// round after round, each container or VM entry whose figures do not all decide gets another
// batch, and so does native's entry of the same mode (so the baseline keeps pace, interleaved
// with them), until every figure decides or the entry's budget is spent.
//
// A figure decides when the bootstrap 95% interval of its ratio to native (typical of the
// entry's samples / typical of native's, typical = geometric mean of the middle 60%, 2000
// resamples: the estimator scripts/cvbench_analysis/verdicts.py judges claim 3 with) lies
// wholly inside the band 0.9-1.1 or wholly outside it. The figures are the ones claim 3 judges
// (DecisionFigures mirrors NATIVE_FIGURES in scripts/cvbench_analysis/claims/native.py; a test
// there checks the two agree). The report's verdict is computed again from the recorded samples
// by the Python rule: an interval that still straddles after the budget stays "Inconclusive".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cvb::bench {

struct SamplingRule {
  int min_repetitions = 10;  // each entry's first round
  int batch = 5;             // repetitions added per round to an undecided entry
  int max_repetitions = 30;  // per entry, unless the slot's repetitions_max caps it lower
  double band_lo = 0.9;
  double band_hi = 1.1;
  int resamples = 2000;
  double trim = 0.2;
  // The rule in words, for the run's context.
  std::string Describe() const;
};

// mode -> the figures claim 3 judges (all rates: higher is better).
const std::map<std::string, std::vector<std::string>>& DecisionFigures();

struct RatioInterval {
  double point = 0, lo = 0, hi = 0;  // NaN when a sample is empty
};

// typical(num) / typical(den) and its percentile bootstrap 95% interval, resampling both samples.
// Deterministic for a given seed.
RatioInterval BootstrapRatio(const std::vector<double>& num, const std::vector<double>& den,
                             uint64_t seed, int resamples = 2000, double trim = 0.2);

enum class BandDecision { kInside, kOutside, kStraddles };
BandDecision Judge(const RatioInterval& r, const SamplingRule& rule);

// One entry of the round: its samples so far and whether each decision figure decided.
struct EntryDecision {
  std::string entry;   // throughput/<slot>/mode:<m>
  std::string native;  // native's entry of the same mode
  int samples = 0;          // the entry's successful repetitions
  int native_samples = 0;
  bool failed = false;      // a repetition errored: not extended (its error is the result)
  std::vector<std::string> undecided;  // figures whose interval straddles a band edge
  bool decided() const { return !failed && undecided.empty(); }
};

// Judges each entry of `pairs` (entry -> native entry of the same mode, modes from the entry's
// name) from the recorded iteration objects (ResultFile::Iterations).
std::vector<EntryDecision> JudgeEntries(const std::vector<nlohmann::json>& iterations,
                                        const std::map<std::string, std::string>& pairs,
                                        const SamplingRule& rule);

// FNV-1a of the text: a seed that is the same on every host for the same entry and figure.
uint64_t StableSeed(const std::string& text);

}  // namespace cvb::bench
