// The suite record: valid and durable after every repetition, refusing another run's file, and
// resumable without touching what was recorded.
#include "result_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "cvb/common/file.h"

namespace cvb::bench {
namespace {

class ResultFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-result-file-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/startup.json";
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(dir_)); }
  nlohmann::json OnDisk() {
    return nlohmann::json::parse(ReadFile(path_).value_or("null"), nullptr, false);
  }
  static RepetitionRecord Rep(const std::string& name, double t) {
    RepetitionRecord r;
    r.name = name;
    r.real_time = t;
    r.counters["exit_ms"] = t;
    return r;
  }
  ResultFile NewFile() {
    auto f = ResultFile::Create(path_, "startup", {{"git_sha", "abc"}}, {{"git_sha", "abc"}});
    EXPECT_TRUE(f) << f.error().message();
    EXPECT_TRUE(f->BeginAttempt({{"started_utc", "t0"}}));
    EXPECT_TRUE(f->Plan({"startup/a", 3, "ms"}));
    EXPECT_TRUE(f->Plan({"startup/b", 2, "ms"}));
    EXPECT_TRUE(f->SealPlan());
    return std::move(*f);
  }
  std::string dir_, path_;
};

TEST_F(ResultFileTest, TheFileIsValidAndPartialAfterEveryRepetition) {
  ResultFile f = NewFile();
  auto disk = OnDisk();
  ASSERT_FALSE(disk.is_discarded());
  EXPECT_EQ(disk["context"]["git_sha"], "abc");  // the context is there before any repetition
  EXPECT_EQ(disk["run"]["state"], "partial");
  EXPECT_EQ(disk["run"]["planned"].size(), 2u);
  ASSERT_TRUE(f.Record(Rep("startup/a", 1.5)));
  disk = OnDisk();
  ASSERT_EQ(disk["benchmarks"].size(), 1u);
  EXPECT_EQ(disk["benchmarks"][0]["repetition_index"], 0);
  EXPECT_EQ(disk["benchmarks"][0]["repetitions"], 3);
  EXPECT_EQ(disk["benchmarks"][0]["exit_ms"], 1.5);
  EXPECT_EQ(disk["benchmarks"][0]["attempt"], 0);
  EXPECT_FALSE(f.AllDone());
  EXPECT_EQ(f.Done("startup/a"), 1);
}

TEST_F(ResultFileTest, CompleteAddsGoogleBenchmarkAggregatesAndMarksIt) {
  ResultFile f = NewFile();
  for (double t : {1.0, 2.0, 6.0}) ASSERT_TRUE(f.Record(Rep("startup/a", t)));
  RepetitionRecord failed = Rep("startup/b", 0);
  failed.error = "exec: no such file";
  ASSERT_TRUE(f.Record(failed));
  ASSERT_TRUE(f.Record(Rep("startup/b", 4)));
  ASSERT_TRUE(f.AllDone());
  ASSERT_TRUE(f.Complete([](nlohmann::json&) { return Ok(); }));
  auto disk = OnDisk();
  EXPECT_EQ(disk["run"]["state"], "complete");
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& b : disk["benchmarks"]) by_name[b["name"]] = b;
  EXPECT_DOUBLE_EQ(by_name["startup/a_mean"]["real_time"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(by_name["startup/a_median"]["exit_ms"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(by_name["startup/a_min"]["real_time"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(by_name["startup/a_max"]["real_time"].get<double>(), 6.0);
  EXPECT_NEAR(by_name["startup/a_stddev"]["real_time"].get<double>(), 2.6457513, 1e-6);
  EXPECT_EQ(by_name["startup/a_cv"]["aggregate_unit"], "percentage");
  // One repetition of b did not fail: no aggregates (Google Benchmark wants two).
  EXPECT_FALSE(by_name.count("startup/b_mean"));
  EXPECT_EQ(by_name.count("startup/b"), 1u);
}

TEST_F(ResultFileTest, AnotherRunsFileIsRefusedNamingIt) {
  ResultFile f = NewFile();
  auto again = ResultFile::Create(path_, "startup", {}, {});
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message().find(path_ + " already holds the record of another run"),
            std::string::npos)
      << again.error().message();
  EXPECT_NE(again.error().message().find("--resume"), std::string::npos);
  EXPECT_EQ(OnDisk()["run"]["planned"].size(), 2u);  // untouched
}

TEST_F(ResultFileTest, AResumeKeepsEveryRecordedRepetitionByteForByte) {
  {
    ResultFile f = NewFile();
    ASSERT_TRUE(f.Record(Rep("startup/a", 1.25)));
    ASSERT_TRUE(f.Record(Rep("startup/b", 2.5)));
  }
  std::string before = ReadFile(path_).value_or_empty();
  auto recorded = OnDisk()["benchmarks"];
  auto f = ResultFile::Open(path_);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(f->Done("startup/a"), 1);
  ASSERT_TRUE(f->BeginAttempt({{"resumed", true}}));
  EXPECT_EQ(f->attempt(), 1);
  ASSERT_TRUE(f->Plan({"startup/a", 3, "ms"}));
  ASSERT_TRUE(f->Plan({"startup/b", 2, "ms"}));
  EXPECT_FALSE(f->Plan({"startup/c", 2, "ms"}));  // not in the first run's plan
  EXPECT_FALSE(f->Plan({"startup/a", 5, "ms"}));  // another repetition count
  ASSERT_TRUE(f->Record(Rep("startup/a", 7)));
  auto disk = OnDisk();
  for (size_t i = 0; i < recorded.size(); ++i)
    EXPECT_EQ(disk["benchmarks"][i].dump(), recorded[i].dump());
  EXPECT_EQ(disk["benchmarks"][2]["attempt"], 1);
  EXPECT_EQ(disk["benchmarks"][2]["repetition_index"], 1);
  EXPECT_EQ(disk["run"]["attempts"].size(), 2u);
}

TEST_F(ResultFileTest, APlanCutShortIsCompletedByTheResumedRun) {
  {
    auto f = ResultFile::Create(path_, "startup", {}, {});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->BeginAttempt({}));
    ASSERT_TRUE(f->Plan({"startup/a", 3, "ms"}));  // killed before the plan was sealed
  }
  auto f = ResultFile::Open(path_);
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->BeginAttempt({{"resumed", true}}));
  EXPECT_TRUE(f->Plan({"startup/a", 3, "ms"}));
  EXPECT_TRUE(f->Plan({"startup/b", 2, "ms"}));
  ASSERT_TRUE(f->SealPlan());
  EXPECT_EQ(OnDisk()["run"]["planned"].size(), 2u);
}

TEST_F(ResultFileTest, AnAdaptiveEntryIsExtendedInRoundsAndResumedFromItsExtendedPlan) {
  {
    auto f = ResultFile::Create(path_, "throughput", {}, {});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->BeginAttempt({}));
    ASSERT_TRUE(f->Plan({"throughput/a", 2, "s", /*adaptive=*/true}));
    ASSERT_TRUE(f->Plan({"throughput/fixed", 2, "s"}));
    ASSERT_TRUE(f->SealPlan());
    ASSERT_TRUE(f->Record(Rep("throughput/a", 1)));
    ASSERT_TRUE(f->Record(Rep("throughput/a", 1)));
    EXPECT_FALSE(f->ExtendPlan("throughput/fixed", 4, 1));  // a fixed plan stays fixed
    ASSERT_TRUE(f->ExtendPlan("throughput/a", 4, 1));
    EXPECT_EQ(f->PlannedRepetitions("throughput/a"), 4);
    ASSERT_TRUE(f->Record(Rep("throughput/a", 1)));  // killed in round 1, one of two done
  }
  auto disk = OnDisk();
  EXPECT_EQ(disk["run"]["planned"][0]["repetitions"], 4);
  EXPECT_EQ(disk["run"]["planned"][0]["extended"][0]["from"], 2);
  auto f = ResultFile::Open(path_);
  ASSERT_TRUE(f) << f.error().message();
  ASSERT_TRUE(f->BeginAttempt({{"resumed", true}}));
  // The resumed suite plans its minimum again; the record keeps the extended plan.
  ASSERT_TRUE(f->Plan({"throughput/a", 2, "s", true}));
  EXPECT_FALSE(f->Plan({"throughput/a", 2, "s", false}));  // not adaptive: a different plan
  EXPECT_EQ(f->PlannedRepetitions("throughput/a") - f->Done("throughput/a"), 1);
  EXPECT_FALSE(f->AllDone());
}

TEST_F(ResultFileTest, MismatchNamesTheFirstDifferingKey) {
  nlohmann::json a = {{"git_sha", "abc"}, {"params", {{"density_n", "1,10"}}}};
  nlohmann::json b = a;
  EXPECT_EQ(ResultFile::Mismatch(a, b), "");
  b["params"]["density_n"] = "1,10,100";
  EXPECT_EQ(ResultFile::Mismatch(a, b), "params.density_n: recorded \"1,10\", now \"1,10,100\"");
  b = a;
  b["params"]["ksm"] = "on";
  EXPECT_EQ(ResultFile::Mismatch(a, b), "params.ksm (not recorded)");
  b = a;
  b.erase("git_sha");
  EXPECT_EQ(ResultFile::Mismatch(a, b), "git_sha: recorded \"abc\", now not given");
}

TEST_F(ResultFileTest, AFileThatIsNotARecordIsNotResumed) {
  ASSERT_TRUE(WriteFile(path_, "{\"benchmarks\": []}"));
  auto f = ResultFile::Open(path_);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message().find("older cvbench"), std::string::npos);
  EXPECT_NE(ResultFile::Refusal(path_).find("written by an older cvbench"), std::string::npos);
}

}  // namespace
}  // namespace cvb::bench
