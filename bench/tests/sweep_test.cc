// The result file's shape, which scripts and users depend on, from a sweep over fake launchers.
#include "sweep.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "script_launcher.h"

namespace cvb::bench {
namespace {

using launcher::testing::ScriptLauncher;

class SweepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-sweep-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    out_ = tmpl;
    Add("fast", "echo 'CVB READY mode=ready start_mono_ns=1 ready_mono_ns=3'; "
                "echo 'CVB DONE status=0'");
    Add("broken", "echo 'exec: no such file'; exit 1");
    config_.suites = {"startup"};
    config_.out_dir = out_;
    config_.suite_options.repetitions = 3;
    config_.suite_options.ready_timeout = std::chrono::seconds(5);
    config_.warmup = false;
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(out_)); }
  void Add(const std::string& name, const std::string& script) {
    registry_.Register(name, "native", [name, script](const launcher::LauncherConfig&) {
      return Result<std::unique_ptr<launcher::Launcher>>(
          std::make_unique<ScriptLauncher>(script, name));
    });
  }
  nlohmann::json Load() {
    auto text = ReadFile(out_ + "/startup.json");
    EXPECT_TRUE(text);
    return nlohmann::json::parse(text.value_or("{}"));
  }
  std::string out_;
  launcher::Registry registry_;
  SweepConfig config_;
};

TEST_F(SweepTest, WritesGoogleBenchmarkJsonWithNamesCountersAndContext) {
  config_.launchers = {"fast"};
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  auto j = Load();
  for (const char* k : {"git_sha", "kernel", "cpu_model", "cgroup_mode", "accelerator",
                        "repetitions", "launcher.fast.version", "date_utc"})
    EXPECT_TRUE(j["context"].contains(k)) << k;
  int iterations = 0;
  bool saw_median = false;
  for (const auto& b : j["benchmarks"]) {
    if (b["run_type"] == "iteration") {
      ++iterations;
      EXPECT_EQ(b["name"], "startup/fast");
      EXPECT_EQ(b["time_unit"], "ms");
      for (const char* c : {"create_ms", "ready_ms", "exit_ms", "teardown_ms",
                            "workload_start_to_ready_ms"})
        EXPECT_TRUE(b.contains(c)) << c;
      EXPECT_NEAR(b["real_time"].get<double>(), b["exit_ms"].get<double>(), 1e-6);
    } else if (b["aggregate_name"] == "median") {
      saw_median = true;
      EXPECT_EQ(b["name"], "startup/fast_median");
    }
  }
  EXPECT_EQ(iterations, 3);
  EXPECT_TRUE(saw_median);
}

TEST_F(SweepTest, FailingLauncherIsReportedAsErrorNotDropped) {
  config_.launchers = {"fast", "broken"};
  EXPECT_EQ(RunSweep(config_, registry_), 1);
  auto j = Load();
  bool saw_error = false;
  for (const auto& b : j["benchmarks"]) {
    if (b["name"].get<std::string>().rfind("startup/broken", 0) == 0 &&
        b.value("error_occurred", false)) {
      saw_error = true;
      EXPECT_NE(b["error_message"].get<std::string>().find("no such file"), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_error);
}

TEST_F(SweepTest, UnknownSuiteOrLauncherIsExitCode2) {
  config_.launchers = {"fast"};
  config_.suites = {"nope"};
  EXPECT_EQ(RunSweep(config_, registry_), 2);
  config_.suites = {"startup"};
  config_.launchers = {"ghost"};
  EXPECT_EQ(RunSweep(config_, registry_), 2);
  EXPECT_FALSE(PathExists(out_ + "/startup.json"));
}

// A launcher whose Check fails with the given error (a missing binary is ENOENT).
class CheckFails : public launcher::Launcher {
 public:
  explicit CheckFails(Error e) : error_(std::move(e)) {}
  std::string Name() const override { return "checkfails"; }
  std::string Kind() const override { return "native"; }
  Result<void> Check() override { return error_; }
  Result<void> Prepare(const image::Image&) override { return Ok(); }
  Result<std::unique_ptr<launcher::Instance>> Start(const launcher::WorkloadRequest&) override {
    return Failure("not startable");
  }
  std::map<std::string, std::string> Conditions() const override { return {}; }

 private:
  Error error_;
};

TEST_F(SweepTest, MissingBinaryIsExitCode3BrokenLauncherIs2) {
  for (auto [err, code] : {std::pair{ENOENT, kExitLauncherUnavailable}, std::pair{0, 2}}) {
    registry_.Register("checkfails", "native", [err = err](const launcher::LauncherConfig&) {
      return Result<std::unique_ptr<launcher::Launcher>>(
          std::make_unique<CheckFails>(Error{err, "binary 'x' not found"}));
    });
    config_.launchers = {"fast", "checkfails"};
    EXPECT_EQ(RunSweep(config_, registry_), code) << "errno " << err;
    EXPECT_FALSE(PathExists(out_ + "/startup.json"));
  }
}

// The per-launcher cap of the default sweep (scripts/sweep: VMs under TCG get fewer repetitions of
// the long suites): the slot's own name wins over its launcher's, never more than asked, never 0.
TEST(RepetitionsForTest, CapsNamedLaunchersOnly) {
  LauncherSlot vm{"fast/kernel:distro", std::make_unique<ScriptLauncher>("true", "fast")};
  LauncherSlot other{"other", std::make_unique<ScriptLauncher>("true", "other")};
  SuiteOptions o;
  EXPECT_EQ(RepetitionsFor(vm, 10, o), 10);
  o.params["repetitions_max"] = "fast=3";
  EXPECT_EQ(RepetitionsFor(vm, 10, o), 3);
  EXPECT_EQ(RepetitionsFor(vm, 2, o), 2);
  EXPECT_EQ(RepetitionsFor(other, 10, o), 10);
  o.params["repetitions_max"] = "fast=3, fast/kernel:distro=2";
  EXPECT_EQ(RepetitionsFor(vm, 10, o), 2);
  o.params["repetitions_max"] = "fast=0";
  EXPECT_EQ(RepetitionsFor(vm, 10, o), 1);
}

TEST_F(SweepTest, ParamsAreInTheContext) {
  config_.launchers = {"fast"};
  config_.suite_options.params["repetitions_max"] = "qemu=3";
  config_.suite_options.params["density_n"] = "1,10";
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  EXPECT_EQ(Load()["context"]["params"], "density_n=1,10 repetitions_max=qemu=3");
}

TEST_F(SweepTest, ABadParamIsExitCode2NamingTheKeyBeforeAnythingRuns) {
  config_.launchers = {"fast"};
  for (auto [key, value] : {std::pair{"nope", "1"}, std::pair{"density_n", "0"},
                            std::pair{"density_n", "ten"}, std::pair{"density_repetitions", "-2"},
                            std::pair{"seconds", "fast"}}) {
    config_.suite_options.params = {{key, value}};
    testing::internal::CaptureStderr();
    EXPECT_EQ(RunSweep(config_, registry_), 2) << key << "=" << value;
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find(std::string("--param ") + key + "=" + value), std::string::npos) << err;
    EXPECT_FALSE(PathExists(out_ + "/startup.json"));
  }
}

TEST_F(SweepTest, ASecondRunIntoTheSameDirectoryIsRefusedAndLeavesTheFirst) {
  config_.launchers = {"fast"};
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  std::string first = ReadFile(out_ + "/startup.json").value_or_empty();
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunSweep(config_, registry_), 2);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("already holds the record of another run"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(out_ + "/startup.json").value_or_empty(), first);
}

// A run cut short (here: its record truncated to the first repetition, as a SIGKILL after it
// leaves it) is completed by --resume: the recorded repetition is kept byte for byte, the
// missing ones are measured, the record ends complete with both attempts.
TEST_F(SweepTest, ResumeMeasuresOnlyTheMissingRepetitions) {
  config_.launchers = {"fast"};
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  auto doc = Load();
  nlohmann::json kept = doc["benchmarks"][0];
  doc["benchmarks"] = nlohmann::json::array({kept});
  doc["run"]["state"] = "partial";
  ASSERT_TRUE(WriteFile(out_ + "/startup.json", doc.dump(2)));
  config_.resume = true;
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  auto done = Load();
  EXPECT_EQ(done["run"]["state"], "complete");
  EXPECT_EQ(done["run"]["attempts"].size(), 2u);
  EXPECT_EQ(done["run"]["attempts"][1]["resumed"], true);
  ASSERT_GE(done["benchmarks"].size(), 3u);
  EXPECT_EQ(done["benchmarks"][0].dump(), kept.dump());
  int iterations = 0;
  for (const auto& b : done["benchmarks"])
    if (b["run_type"] == "iteration") {
      EXPECT_EQ(b["repetition_index"], iterations);
      ++iterations;
    }
  EXPECT_EQ(iterations, 3);
  // A complete record is left as it is.
  std::string complete = ReadFile(out_ + "/startup.json").value_or_empty();
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  EXPECT_EQ(ReadFile(out_ + "/startup.json").value_or_empty(), complete);
}

TEST_F(SweepTest, ResumeWithOtherSettingsIsRefusedNamingWhatDiffers) {
  config_.launchers = {"fast"};
  ASSERT_EQ(RunSweep(config_, registry_), 0);
  auto doc = Load();
  doc["run"]["state"] = "partial";
  ASSERT_TRUE(WriteFile(out_ + "/startup.json", doc.dump(2)));
  config_.resume = true;
  config_.suite_options.repetitions = 5;
  testing::internal::CaptureStderr();
  EXPECT_EQ(RunSweep(config_, registry_), 2);
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("repetitions: recorded 3, now 5"), std::string::npos) << err;
}

TEST(LargestN, TheSlotWinsOverItsLauncherAndUnnamedHaveNoLimit) {
  LargestN caps("runsc=100, qemu=64,qemu/kernel:distro=32,bad");
  auto slot = [](const std::string& display) {
    return LauncherSlot{display, std::make_unique<CheckFails>(Error{0, ""})};
  };
  // CheckFails is named "checkfails": only its display name can match here.
  EXPECT_EQ(caps.For(slot("qemu/kernel:distro")), 32);
  EXPECT_EQ(caps.For(slot("qemu")), 64);
  EXPECT_EQ(caps.For(slot("runsc")), 100);
  EXPECT_EQ(caps.For(slot("crun")), std::numeric_limits<int>::max());
  LargestN by_launcher("checkfails=16");
  EXPECT_EQ(by_launcher.For(slot("checkfails/kernel:minimal")), 16);
  LargestN slot_first("checkfails=16,checkfails/kernel:minimal=4");
  EXPECT_EQ(slot_first.For(slot("checkfails/kernel:minimal")), 4);
}

TEST(CountsUpTo, ALauncherCappedBelowTheSweepIsMeasuredAtItsCap) {
  std::vector<int> sweep_n{1, 10, 100, 1000};
  EXPECT_EQ(CountsUpTo(sweep_n, std::numeric_limits<int>::max()), sweep_n);
  EXPECT_EQ(CountsUpTo(sweep_n, 64), (std::vector<int>{1, 10, 64}));
  EXPECT_EQ(CountsUpTo(sweep_n, 100), (std::vector<int>{1, 10, 100}));
  EXPECT_EQ(CountsUpTo(sweep_n, 1000), sweep_n);
  EXPECT_EQ(CountsUpTo({16, 100}, 16), (std::vector<int>{16}));
  EXPECT_EQ(CountsUpTo({16, 100}, 4), (std::vector<int>{4}));
}

}  // namespace
}  // namespace cvb::bench
