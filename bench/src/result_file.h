// A suite's result file as a durable record. <out>/<suite>.json is valid JSON at every instant of a
// run: it is written first with the context and the plan (every entry with its repetitions), then
// rewritten whole after every repetition (WriteFileDurable: temporary file, fsync, rename, fsync
// of the directory), so that a SIGKILL or a power loss at any point leaves a file holding every
// repetition finished before it. A repetition is the unit: entries' repetitions run randomly
// interleaved, so an entry is only whole near the end of its suite.
//
// The shape is Google Benchmark's JSON ("context"; "benchmarks": one "iteration" object per
// repetition in the order they finished, then each entry's aggregates once the suite is complete)
// plus a "run" object:
//   "state": "partial" | "complete"
//   "suite", "config": what must match for --resume (git sha, image hash, launchers, params...)
//   "planned": [{"name", "repetitions", "time_unit"}]  every entry of the suite
//   "attempts": [{"attempt", "started_utc", "pid", "order", ...}]  the first run and every resume
// Each iteration object names its "attempt"; a resumed run only adds objects, so the repetitions
// recorded before are kept byte for byte.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::bench {

struct PlannedEntry {
  std::string name;
  int repetitions = 0;
  std::string time_unit = "ms";
  // Sampled adaptively: `repetitions` is the minimum; the suite may extend the plan in rounds
  // (ExtendPlan) until its rule decides or the budget is spent.
  bool adaptive = false;
};

// One finished repetition as the suite measured it.
struct RepetitionRecord {
  std::string name;
  double real_time = 0;  // in the entry's time unit
  double cpu_time = 0;   // cvbench's own CPU time during the repetition, same unit
  std::map<std::string, double> counters;
  std::string label;
  std::string error;  // non-empty: the repetition failed (error_occurred)
};

class ResultFile {
 public:
  // A new record at path. Refuses (naming the path and the run in it) when a file is there: a run
  // never writes into another run's file; --resume opens it instead. The file exists, durable,
  // when this returns.
  static Result<ResultFile> Create(const std::string& path, const std::string& suite,
                                   nlohmann::json context, nlohmann::json config);
  // Why a file at path keeps a new run out ("" when there is none): names the run that is there.
  static std::string Refusal(const std::string& path);
  // An existing record, to resume. Fails naming the path when it is not a cvbench result file.
  static Result<ResultFile> Open(const std::string& path);

  const std::string& path() const { return path_; }
  const nlohmann::json& document() const { return doc_; }
  bool complete() const;
  // The recorded run's config; Mismatch names the first key where `config` differs ("" if none).
  const nlohmann::json& config() const;
  static std::string Mismatch(const nlohmann::json& recorded, const nlohmann::json& wanted);

  // Starts an attempt (the first, or a resume): `info` is merged into its attempts[] object.
  // Written durably.
  Result<void> BeginAttempt(const nlohmann::json& info);
  int attempt() const { return attempt_; }
  // A note on the current attempt (how it ended: "interrupted"), written durably.
  Result<void> NoteAttempt(const std::string& key, const std::string& value);

  // A context key a suite adds while it registers (density's settling rule...): the first attempt
  // sets it; a resumed one keeps the recorded value. Written with the next write.
  void SetContext(const std::string& key, const std::string& value);

  // Declares an entry of the suite (written with SealPlan). Once a record's plan is sealed, a
  // resumed run's entries must be planned already with the same repetitions and unit (the same
  // config gives the same plan); before that (a run killed while planning) they are added.
  Result<void> Plan(const PlannedEntry& entry);
  // Every entry is planned: written durably, and from now on the plan is fixed, except that an
  // adaptive entry's repetitions may grow (ExtendPlan).
  Result<void> SealPlan();
  // Raises an adaptive entry's planned repetitions to `repetitions` (round `round` of its
  // suite's sampling rule), written durably; the planned entry keeps each extension.
  Result<void> ExtendPlan(const std::string& name, int repetitions, int round);
  // The entry's planned repetitions (0 when not planned).
  int PlannedRepetitions(const std::string& name) const;
  // Repetitions of the entry recorded so far (errored ones included: they are results).
  int Done(const std::string& name) const;
  // Appends the repetition as an iteration object and rewrites the file durably; on failure
  // (ENOSPC, EIO...) the file on disk still holds every earlier repetition.
  Result<void> Record(const RepetitionRecord& rep);
  // Every planned entry has all its repetitions.
  bool AllDone() const;
  // The iteration objects recorded so far, in the order they finished.
  std::vector<nlohmann::json> Iterations() const;

  // Marks the record complete: each entry's aggregates (mean, median, stddev, cv, min, max of
  // real_time, cpu_time and every counter, as Google Benchmark computes them: entries with at
  // least two repetitions that did not fail), then `finish` on the whole document (derived
  // figures such as throughput's ratios), then a durable write. When `finish` fails the record is
  // still written complete, with the error in run.finish_error.
  template <typename Finish>
  Result<void> Complete(Finish&& finish) {
    AddAggregates();
    doc_["run"]["state"] = "complete";
    auto finished = finish(doc_);
    if (!finished) doc_["run"]["finish_error"] = finished.error().message();
    CVB_TRY(Write());
    if (!finished) return finished.error();
    return Ok();
  }

 private:
  ResultFile(std::string path, nlohmann::json doc) : path_(std::move(path)), doc_(std::move(doc)) {}
  Result<void> Write();
  void AddAggregates();
  const nlohmann::json* Planned(const std::string& name) const;

  std::string path_;
  nlohmann::json doc_;
  int attempt_ = 0;
  std::map<std::string, int> done_;
};

}  // namespace cvb::bench
