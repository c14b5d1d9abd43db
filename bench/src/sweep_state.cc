#include "sweep_state.h"

#include <time.h>

#include <cstdio>

#include "cvb/common/clock.h"

namespace cvb::bench {
namespace {

std::string Duration(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", long(s / 3600), long(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", long(s / 60), long(s % 60));
  return buf;
}

int64_t ProcessCpuNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double UnitPerSecond(benchmark::TimeUnit unit) {
  switch (unit) {
    case benchmark::kNanosecond: return 1e9;
    case benchmark::kMicrosecond: return 1e6;
    case benchmark::kMillisecond: return 1e3;
    case benchmark::kSecond: return 1;
  }
  return 1e3;
}

const char* UnitName(benchmark::TimeUnit unit) {
  switch (unit) {
    case benchmark::kNanosecond: return "ns";
    case benchmark::kMicrosecond: return "us";
    case benchmark::kMillisecond: return "ms";
    case benchmark::kSecond: return "s";
  }
  return "ms";
}

}  // namespace

void SweepState::Progress(const std::string& what) {
  int64_t now = MonotonicNs();
  if (done_runs == 0 || suite_start_ns == 0) suite_start_ns = now;
  ++done_runs;
  // The time left, from the mean time of the runs done so far: entries differ (N = 1000 vs 1),
  // so it is a rough guide that gets better as the suite goes.
  std::string eta;
  if (done_runs > 1) {
    int64_t per = (now - suite_start_ns) / (done_runs - 1);
    eta = " (" + Duration(now - suite_start_ns) + " so far, about " +
          Duration(per * (total_runs - done_runs + 1)) + " left)";
  }
  std::fprintf(stderr, "[%d/%d] %s%s\n", done_runs, total_runs, what.c_str(), eta.c_str());
}

void SweepState::Fail(benchmark::State& state, const std::string& message) {
  // A failure that is the interruption's (a runtime command killed by Ctrl-C) is not a result:
  // the repetition is left for a resumed run.
  if (stopping()) {
    skipped_ = true;
    state.SkipWithError(("stopped: " + message).c_str());
    return;
  }
  ++failures;
  std::fprintf(stderr, "cvbench: %s\n", message.c_str());
  error_ = message;
  state.SkipWithError(message.c_str());
}

void SweepState::AddContext(const std::string& key, const std::string& value) {
  if (results) results->SetContext(key, value);
}

void SweepState::SetTime(benchmark::State& state, double seconds) {
  time_s_ = seconds;
  state.SetIterationTime(seconds);
}

void SweepState::SetLabel(benchmark::State& state, const std::string& label) {
  label_ = label;
  state.SetLabel(label);
}

bool SweepState::StopRequested(benchmark::State& state) {
  if (!stopping()) return false;
  skipped_ = true;
  state.SkipWithError(interrupted ? "interrupted" : "stopped: results cannot be written");
  return true;
}

void SweepState::BeginRepetition(const std::string& name) {
  current_ = name;
  time_s_ = 0;
  label_.clear();
  error_.clear();
  skipped_ = false;
}

void SweepState::EndRepetition(const std::string& name, benchmark::State& state,
                               double unit_per_second, int64_t cpu_ns) {
  if (skipped_ || !results) return;
  RepetitionRecord rep;
  rep.name = name;
  rep.real_time = time_s_ * unit_per_second;
  rep.cpu_time = static_cast<double>(cpu_ns) / 1e9 * unit_per_second;
  for (const auto& [k, c] : state.counters) rep.counters[k] = c.value;
  rep.label = label_;
  rep.error = error_;
  if (rep.error.empty() && state.error_occurred()) rep.error = "failed (no message)";
  if (auto r = results->Record(rep); !r) {
    write_error = r.error().message();
    std::fprintf(stderr,
                 "cvbench: cannot write the results: %s; stopping (the file keeps every "
                 "repetition recorded before)\n",
                 write_error.c_str());
  }
}

int RegisterMeasured(SweepState& sweep, const std::string& name, int repetitions,
                     std::function<void(benchmark::State&)> body, benchmark::TimeUnit unit,
                     bool adaptive) {
  int left = repetitions;
  if (sweep.results) {
    if (auto p = sweep.results->Plan({name, repetitions, UnitName(unit), adaptive}); !p) {
      if (sweep.plan_error.empty()) sweep.plan_error = p.error().message();
      return 0;
    }
    left = sweep.results->PlannedRepetitions(name) - sweep.results->Done(name);
  }
  if (left <= 0) return 0;
  double per_second = UnitPerSecond(unit);
  benchmark::RegisterBenchmark(name.c_str(),
                               [&sweep, name, body = std::move(body),
                                per_second](benchmark::State& st) {
                                 sweep.BeginRepetition(name);
                                 int64_t cpu0 = ProcessCpuNs();
                                 body(st);
                                 sweep.EndRepetition(name, st, per_second, ProcessCpuNs() - cpu0);
                               })
      ->UseManualTime()
      ->Unit(unit)
      ->Iterations(1)
      ->Repetitions(left)
      ->ComputeStatistics("min",
                          [](const std::vector<double>& v) {
                            return *std::min_element(v.begin(), v.end());
                          })
      ->ComputeStatistics("max", [](const std::vector<double>& v) {
        return *std::max_element(v.begin(), v.end());
      });
  return left;
}

}  // namespace cvb::bench
