// Google Benchmark's console table on stdout and its JSON into a file of ours, from one run.
#pragma once

#include <benchmark/benchmark.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <string>

namespace cvb::bench {

class TeeReporter : public benchmark::BenchmarkReporter {
 public:
  explicit TeeReporter(std::ostream* json_out) {
    json_.SetOutputStream(json_out);
    json_.SetErrorStream(&std::cerr);
  }
  bool ReportContext(const Context& context) override {
    console_.ReportContext(context);
    return json_.ReportContext(context);
  }
  void ReportRuns(const std::vector<Run>& runs) override {
    // Entries are named "<suite>/<launcher>[/<dimension>...]" exactly: Google Benchmark's own
    // suffixes (iterations:1/repeats:N/manual_time) say nothing a reader of results needs, and
    // the repetitions are in the context.
    std::vector<Run> renamed = runs;
    for (auto& run : renamed) {
      run.run_name.iterations.clear();
      run.run_name.repetitions.clear();
      run.run_name.time_type.clear();
      // Google Benchmark writes NaN (not JSON) for the cv of an all-zero counter: such an
      // aggregate says nothing, so it is left out and the file stays valid JSON.
      for (auto it = run.counters.begin(); it != run.counters.end();) {
        if (std::isfinite(it->second.value)) ++it;
        else it = run.counters.erase(it);
      }
      if (!std::isfinite(run.real_accumulated_time)) run.real_accumulated_time = 0;
      if (!std::isfinite(run.cpu_accumulated_time)) run.cpu_accumulated_time = 0;
    }
    console_.ReportRuns(renamed);
    json_.ReportRuns(renamed);
  }
  void Finalize() override {
    console_.Finalize();
    json_.Finalize();
  }

 private:
  benchmark::ConsoleReporter console_{benchmark::ConsoleReporter::OO_Tabular};
  benchmark::JSONReporter json_;
};

}  // namespace cvb::bench
