// Google Benchmark's console table on stdout. The JSON is not Google Benchmark's reporter's: each
// suite's record (result_file.h) writes every repetition as it finishes, in the same shape.
#pragma once

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

namespace cvb::bench {

class ConsoleOnlyReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& context) override { return console_.ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    // Entries are named "<suite>/<launcher>[/<dimension>...]" exactly: Google Benchmark's own
    // suffixes (iterations:1/repeats:N/manual_time) say nothing a reader needs.
    std::vector<Run> renamed = runs;
    for (auto& run : renamed) {
      run.run_name.iterations.clear();
      run.run_name.repetitions.clear();
      run.run_name.time_type.clear();
      for (auto it = run.counters.begin(); it != run.counters.end();) {
        if (std::isfinite(it->second.value)) ++it;
        else it = run.counters.erase(it);
      }
    }
    console_.ReportRuns(renamed);
  }
  void Finalize() override { console_.Finalize(); }

 private:
  benchmark::ConsoleReporter console_{benchmark::ConsoleReporter::OO_Tabular};
};

}  // namespace cvb::bench
