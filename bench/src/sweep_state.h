// What every benchmark of a sweep shares: progress on stderr, the interrupt flag, and the capture
// of each repetition into the suite's durable record (result_file.h). Suites register their
// entries with RegisterMeasured and report through this state (SetTime, SetLabel, Fail,
// StopRequested) instead of Google Benchmark's State directly, so that every repetition is on disk
// the moment it finishes: Google Benchmark itself reports an entry only after its last repetition.
#pragma once

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "result_file.h"

namespace cvb::bench {

struct SweepState {
  std::atomic<bool> interrupted{false};
  int total_runs = 0;
  int done_runs = 0;
  int failures = 0;
  int64_t suite_start_ns = 0;  // set by the suite's first Progress
  // The current suite's record; repetitions are written into it as they finish.
  ResultFile* results = nullptr;
  // Set when a repetition could not be written (a full disk): the run stops like an interrupt,
  // and this names the file and the error.
  std::string write_error;
  // Set when an entry cannot be planned in the record (a resumed record whose plan differs).
  std::string plan_error;

  // "[12/40] startup/crun (3m10s so far, about 7m05s left)" on stderr.
  void Progress(const std::string& what);
  // Marks the repetition failed with the message (Google Benchmark's SkipWithError); the failed
  // repetition is recorded with its message.
  void Fail(benchmark::State& state, const std::string& message);
  // A context key of the suite (its rules, its scales), into the record's context.
  void AddContext(const std::string& key, const std::string& value);
  // The repetition's manual time (seconds) and label.
  void SetTime(benchmark::State& state, double seconds);
  void SetLabel(benchmark::State& state, const std::string& label);
  // True (and the repetition skipped, not recorded) when the run is stopping: an interrupt or a
  // result file that cannot be written. A resumed run measures that repetition.
  bool StopRequested(benchmark::State& state);
  bool stopping() const { return interrupted || !write_error.empty(); }

  // The entry whose repetition is running (or ran last).
  const std::string& current_entry() const { return current_; }

  // Used by RegisterMeasured around each repetition.
  void BeginRepetition(const std::string& name);
  void EndRepetition(const std::string& name, benchmark::State& state, double unit_per_second,
                     int64_t cpu_ns);

 private:
  double time_s_ = 0;
  std::string label_;
  std::string error_;
  bool skipped_ = false;
  std::string current_;
};

// Registers one measured entry: `body` runs one repetition (it holds Google Benchmark's
// `for (auto _ : st)` loop, which runs once) with manual time in `unit`, min/max beside Google
// Benchmark's aggregates. The entry is planned in sweep.results with `repetitions`; on a resumed
// record only the repetitions still missing are registered. Returns how many runs were registered.
// adaptive: `repetitions` is the minimum of an entry its suite extends in rounds
// (ResultFile::ExtendPlan); a resumed record registers what its extended plan still lacks.
int RegisterMeasured(SweepState& sweep, const std::string& name, int repetitions,
                     std::function<void(benchmark::State&)> body,
                     benchmark::TimeUnit unit = benchmark::kMillisecond, bool adaptive = false);

}  // namespace cvb::bench
