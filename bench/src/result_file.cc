#include "result_file.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cvb/common/file.h"

namespace cvb::bench {
namespace {

constexpr char kFormat[] = "cvbench-suite-record/1";

// Google Benchmark's statistics (statistics.cc), so that aggregates read as they always did.
double Mean(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}
double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  double mean = Mean(v);
  double squares = 0;
  for (double x : v) squares += x * x;
  double n = static_cast<double>(v.size());
  return std::sqrt(n / (n - 1.0) * (squares / n - mean * mean));
}
double Cv(const std::vector<double>& v) { return v.size() < 2 ? 0.0 : StdDev(v) / Mean(v); }
double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double Max(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

struct Statistic {
  const char* name;
  const char* unit;
  double (*fn)(const std::vector<double>&);
};
double MedianOf(const std::vector<double>& v) { return Median(v); }
constexpr Statistic kStatistics[] = {
    {"mean", "time", Mean}, {"median", "time", MedianOf}, {"stddev", "time", StdDev},
    {"cv", "percentage", Cv}, {"min", "time", Min},        {"max", "time", Max},
};

// Bookkeeping keys of an iteration object; every other number is a counter.
bool IsBookkeeping(const std::string& key) {
  static const char* const kKeys[] = {
      "name",        "family_index", "per_family_instance_index", "run_name", "run_type",
      "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
      "time_unit",   "label", "error_occurred", "error_message", "attempt", "aggregate_name",
      "aggregate_unit"};
  for (const char* k : kKeys)
    if (key == k) return true;
  return false;
}

std::string Describe(const nlohmann::json& doc) {
  const auto& run = doc["run"];
  std::string out = "suite " + run.value("suite", std::string("?")) + ", " +
                    run.value("state", std::string("?"));
  if (run.contains("attempts") && !run["attempts"].empty())
    out += ", started " + run["attempts"][0].value("started_utc", std::string("?"));
  if (doc.contains("context") && doc["context"].contains("git_sha"))
    out += ", git " + doc["context"]["git_sha"].get<std::string>().substr(0, 7);
  return out;
}

}  // namespace

std::string ResultFile::Refusal(const std::string& path) {
  if (!PathExists(path)) return "";
  std::string what = "a file";
  if (auto text = ReadFile(path); text) {
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (!doc.is_discarded() && doc.is_object() && doc.contains("run"))
      what = "the record of another run (" + Describe(doc) + ")";
    else if (!doc.is_discarded() && doc.is_object() && doc.contains("benchmarks"))
      what = "the results of another run (written by an older cvbench)";
  }
  return path + " already holds " + what +
         ": a new run never writes into another run's directory; give another --out, or "
         "--resume to continue that run";
}

Result<ResultFile> ResultFile::Create(const std::string& path, const std::string& suite,
                                      nlohmann::json context, nlohmann::json config) {
  if (std::string refusal = Refusal(path); !refusal.empty()) return Failure(refusal);
  nlohmann::json doc;
  doc["context"] = std::move(context);
  doc["benchmarks"] = nlohmann::json::array();
  doc["run"] = {{"format", kFormat},
                {"suite", suite},
                {"state", "partial"},
                {"config", std::move(config)},
                {"planned", nlohmann::json::array()},
                {"attempts", nlohmann::json::array()}};
  ResultFile file(path, std::move(doc));
  CVB_TRY(file.Write());
  return file;
}

Result<ResultFile> ResultFile::Open(const std::string& path) {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Failure(path + ": not JSON (a result file is never left half-written: was it edited?)");
  if (!doc.contains("run") || !doc["run"].is_object() ||
      doc["run"].value("format", std::string()) != kFormat)
    return Failure(path + ": not a resumable cvbench record (no run." + "format " + kFormat +
                   "); it was written by an older cvbench");
  ResultFile file(path, std::move(doc));
  for (const auto& b : file.doc_["benchmarks"]) {
    if (b.value("run_type", std::string()) != "iteration") continue;
    file.done_[b.value("name", std::string())]++;
  }
  file.attempt_ = static_cast<int>(file.doc_["run"]["attempts"].size()) - 1;
  return file;
}

bool ResultFile::complete() const { return doc_["run"].value("state", std::string()) == "complete"; }

const nlohmann::json& ResultFile::config() const { return doc_["run"]["config"]; }

std::string ResultFile::Mismatch(const nlohmann::json& recorded, const nlohmann::json& wanted) {
  for (const auto& [key, value] : wanted.items()) {
    if (!recorded.contains(key)) return key + " (not recorded)";
    if (value.is_object() && recorded[key].is_object()) {
      std::string inner = Mismatch(recorded[key], value);
      if (!inner.empty()) return key + "." + inner;
      continue;
    }
    if (recorded[key] != value)
      return key + ": recorded " + recorded[key].dump() + ", now " + value.dump();
  }
  for (const auto& [key, value] : recorded.items())
    if (!wanted.contains(key)) return key + ": recorded " + value.dump() + ", now not given";
  return "";
}

Result<void> ResultFile::BeginAttempt(const nlohmann::json& info) {
  auto& attempts = doc_["run"]["attempts"];
  attempt_ = static_cast<int>(attempts.size());
  nlohmann::json a = info;
  a["attempt"] = attempt_;
  attempts.push_back(std::move(a));
  if (attempt_ > 0) doc_["run"]["state"] = "partial";
  return Write();
}

void ResultFile::SetContext(const std::string& key, const std::string& value) {
  if (attempt_ == 0 || !doc_["context"].contains(key)) doc_["context"][key] = value;
}

Result<void> ResultFile::NoteAttempt(const std::string& key, const std::string& value) {
  auto& attempts = doc_["run"]["attempts"];
  if (attempts.empty()) return Failure(path_ + ": no attempt to note " + key + " on");
  attempts.back()[key] = value;
  return Write();
}

const nlohmann::json* ResultFile::Planned(const std::string& name) const {
  for (const auto& p : doc_["run"]["planned"])
    if (p.value("name", std::string()) == name) return &p;
  return nullptr;
}

Result<void> ResultFile::Plan(const PlannedEntry& entry) {
  if (const nlohmann::json* p = Planned(entry.name)) {
    // An adaptive entry planned with its minimum; a record extended since holds more.
    bool extended = entry.adaptive && p->value("adaptive", false) &&
                    p->value("repetitions", 0) >= entry.repetitions;
    if ((p->value("repetitions", 0) != entry.repetitions && !extended) ||
        p->value("time_unit", std::string()) != entry.time_unit)
      return Failure(path_ + ": entry " + entry.name + " was planned with " +
                     std::to_string(p->value("repetitions", 0)) + " repetitions, now " +
                     std::to_string(entry.repetitions));
    return Ok();
  }
  if (doc_["run"].value("plan_sealed", false))
    return Failure(path_ + ": entry " + entry.name +
                   " is not in the recorded run's plan (the resumed run would measure something "
                   "the first did not)");
  nlohmann::json planned = {
      {"name", entry.name}, {"repetitions", entry.repetitions}, {"time_unit", entry.time_unit}};
  if (entry.adaptive) planned["adaptive"] = true;
  doc_["run"]["planned"].push_back(std::move(planned));
  return Ok();
}

int ResultFile::PlannedRepetitions(const std::string& name) const {
  const nlohmann::json* p = Planned(name);
  return p ? p->value("repetitions", 0) : 0;
}

Result<void> ResultFile::ExtendPlan(const std::string& name, int repetitions, int round) {
  for (auto& p : doc_["run"]["planned"]) {
    if (p.value("name", std::string()) != name) continue;
    if (!p.value("adaptive", false))
      return Failure(path_ + ": entry " + name + " is not sampled adaptively: its plan is fixed");
    int before = p.value("repetitions", 0);
    if (repetitions <= before) return Ok();
    p["repetitions"] = repetitions;
    p["extended"].push_back({{"round", round}, {"from", before}, {"to", repetitions}});
    return Write();
  }
  return Failure(path_ + ": entry " + name + " is not planned");
}

Result<void> ResultFile::SealPlan() {
  if (doc_["run"].value("plan_sealed", false)) return Ok();
  doc_["run"]["plan_sealed"] = true;
  return Write();
}

int ResultFile::Done(const std::string& name) const {
  auto it = done_.find(name);
  return it == done_.end() ? 0 : it->second;
}

bool ResultFile::AllDone() const {
  for (const auto& p : doc_["run"]["planned"])
    if (Done(p.value("name", std::string())) < p.value("repetitions", 0)) return false;
  return true;
}

Result<void> ResultFile::Record(const RepetitionRecord& rep) {
  const nlohmann::json* planned = Planned(rep.name);
  if (!planned) return Failure(path_ + ": repetition of an unplanned entry " + rep.name);
  int family = 0;
  for (const auto& p : doc_["run"]["planned"]) {
    if (p.value("name", std::string()) == rep.name) break;
    ++family;
  }
  nlohmann::json it = {{"name", rep.name},
                       {"run_name", rep.name},
                       {"run_type", "iteration"},
                       {"family_index", family},
                       {"per_family_instance_index", 0},
                       {"repetitions", planned->value("repetitions", 0)},
                       {"repetition_index", Done(rep.name)},
                       {"threads", 1},
                       {"iterations", 1},
                       {"real_time", rep.real_time},
                       {"cpu_time", rep.cpu_time},
                       {"time_unit", planned->value("time_unit", std::string("ms"))},
                       {"attempt", attempt_}};
  // Google Benchmark writes NaN (not JSON) for a counter that is not finite: such a value says
  // nothing, so it is left out and the file stays valid JSON.
  for (const auto& [k, v] : rep.counters)
    if (std::isfinite(v) && !IsBookkeeping(k)) it[k] = v;
  if (!std::isfinite(rep.real_time)) it["real_time"] = 0;
  if (!std::isfinite(rep.cpu_time)) it["cpu_time"] = 0;
  if (!rep.label.empty()) it["label"] = rep.label;
  if (!rep.error.empty()) {
    it["error_occurred"] = true;
    it["error_message"] = rep.error;
  }
  doc_["benchmarks"].push_back(it);
  auto written = Write();
  if (!written) {
    doc_["benchmarks"].erase(doc_["benchmarks"].end() - 1);
    return written;
  }
  done_[rep.name]++;
  return Ok();
}

std::vector<nlohmann::json> ResultFile::Iterations() const {
  std::vector<nlohmann::json> out;
  for (const auto& b : doc_["benchmarks"])
    if (b.value("run_type", std::string()) == "iteration") out.push_back(b);
  return out;
}

void ResultFile::AddAggregates() {
  auto& benchmarks = doc_["benchmarks"];
  // Aggregates of an earlier completion (a record completed, then resumed) are recomputed.
  nlohmann::json kept = nlohmann::json::array();
  for (auto& b : benchmarks)
    if (b.value("run_type", std::string()) != "aggregate") kept.push_back(std::move(b));
  benchmarks = std::move(kept);
  int family = 0;
  for (const auto& p : doc_["run"]["planned"]) {
    std::string name = p.value("name", std::string());
    std::vector<const nlohmann::json*> runs;
    for (const auto& b : benchmarks)
      if (b.value("run_type", std::string()) == "iteration" && b.value("name", std::string()) == name &&
          !b.value("error_occurred", false))
        runs.push_back(&b);
    if (runs.size() >= 2) {
      std::map<std::string, std::vector<double>> series;
      for (const auto* r : runs)
        for (const auto& [k, v] : r->items())
          if (v.is_number() && (k == "real_time" || k == "cpu_time" || !IsBookkeeping(k)))
            series[k].push_back(v.get<double>());
      for (const Statistic& s : kStatistics) {
        nlohmann::json agg = {{"name", name + "_" + s.name},
                              {"run_name", name},
                              {"run_type", "aggregate"},
                              {"aggregate_name", s.name},
                              {"aggregate_unit", s.unit},
                              {"family_index", family},
                              {"per_family_instance_index", 0},
                              {"repetitions", p.value("repetitions", 0)},
                              {"threads", 1},
                              {"iterations", static_cast<int>(runs.size())},
                              {"time_unit", p.value("time_unit", std::string("ms"))}};
        for (const auto& [k, v] : series) {
          double x = s.fn(v);
          if (std::isfinite(x)) agg[k] = x;
        }
        benchmarks.push_back(std::move(agg));
      }
    }
    ++family;
  }
}

Result<void> ResultFile::Write() { return WriteFileDurable(path_, doc_.dump(2) + "\n"); }

}  // namespace cvb::bench
