// The throughput suite's logic without real instances: knobs, requests, baseline ratios, the
// net client against the real workload server on loopback, and a sweep over fake launchers
// (entries, counters, ratios, and a launcher that refuses a mode).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "net_client.h"
#include "script_launcher.h"
#include "sweep.h"
#include "throughput.h"

namespace cvb::bench {
namespace {

TEST(ThroughputOptionsTest, DefaultsAndKnobs) {
  auto d = ParseThroughputOptions({});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->modes, (std::vector<std::string>{"cpu", "mem", "disk", "net"}));
  auto o = ParseThroughputOptions({{"modes", "mem, cpu,mem"}, {"seconds", "0.5"}, {"mem_mib", "8"}});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->modes, (std::vector<std::string>{"mem", "cpu"}));
  EXPECT_EQ(o->seconds, 0.5);
  EXPECT_EQ(o->mem_mib, 8);
}

TEST(ThroughputOptionsTest, BadKnobsAreErrorsNamingThem) {
  auto m = ParseThroughputOptions({{"modes", "cpu,gpu"}});
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find("gpu"), std::string::npos);
  for (const char* v : {"0", "-1", "abc", ""}) {
    auto s = ParseThroughputOptions({{"seconds", v}});
    ASSERT_FALSE(s) << v;
    EXPECT_NE(s.error().message().find("seconds"), std::string::npos);
  }
  EXPECT_FALSE(ParseThroughputOptions({{"modes", " , "}}));
}

TEST(ThroughputRequestTest, SameArgsEverywhereNativeServerOnLoopback) {
  ThroughputOptions o;
  auto mem = ThroughputRequest("mem", "vm", o);
  EXPECT_EQ(mem.args, (std::vector<std::string>{"--seconds=2", "--mib=64", "--ra_mib=64"}));
  // The guest's RAM must hold the arrays and the table.
  EXPECT_GE(mem.memory_bytes, (3ull * 64 + 64) << 20);
  auto disk = ThroughputRequest("disk", "container", o);
  EXPECT_TRUE(disk.needs_disk);
  EXPECT_FALSE(disk.needs_network);
  auto net_c = ThroughputRequest("net", "container", o);
  auto net_n = ThroughputRequest("net", "native", o);
  EXPECT_TRUE(net_c.needs_network);
  EXPECT_EQ(std::count(net_c.args.begin(), net_c.args.end(), "--bind=127.0.0.1"), 0);
  EXPECT_EQ(std::count(net_n.args.begin(), net_n.args.end(), "--bind=127.0.0.1"), 1);
  for (const auto& a : net_c.args) EXPECT_EQ(a.find(' '), std::string::npos);  // VM cmdline-safe
}

TEST(NativeBaselineTest, RatiosAgainstMedianOfNativeSamples) {
  NativeBaseline b;
  EXPECT_FALSE(b.Has("cpu"));
  EXPECT_TRUE(b.Ratios("cpu", {{"int_ops_per_s", 5}}).empty());
  b.Add("cpu", {{"int_ops_per_s", 10}, {"fp_ops_per_s", 4}, {"checksum", 7}});
  b.Add("cpu", {{"int_ops_per_s", 30}, {"fp_ops_per_s", 4}});
  b.Add("cpu", {{"int_ops_per_s", 20}, {"fp_ops_per_s", 4}});
  EXPECT_EQ(b.Samples("cpu"), 3u);
  auto r = b.Ratios("cpu", {{"int_ops_per_s", 10}, {"fp_ops_per_s", 8}, {"checksum", 7}});
  EXPECT_DOUBLE_EQ(r["int_ops_per_s_ratio_to_native"], 0.5);
  EXPECT_DOUBLE_EQ(r["fp_ops_per_s_ratio_to_native"], 2.0);
  EXPECT_FALSE(r.count("checksum_ratio_to_native"));  // not a figure
  EXPECT_FALSE(b.Has("mem"));
}

TEST(NetClientTest, PercentileByNearestRank) {
  EXPECT_EQ(Percentile({}, 50), 0);
  EXPECT_EQ(Percentile({5, 1, 3, 2, 4}, 50), 3);
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_EQ(Percentile(v, 99), 99);
  EXPECT_EQ(Percentile(v, 100), 100);
}

TEST(NetClientTest, MeasuresAgainstTheWorkloadServerOnLoopback) {
  int port = 30000 + ::getpid() % 20000;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  SpawnOptions so;
  so.stdout_fd = w.get();
  auto child = Spawn({image::SelfExeDir() + "/cvb-workload", "net", "--bind=127.0.0.1",
                      "--port=" + std::to_string(port), "--seconds=20"},
                     so);
  ASSERT_TRUE(child) << child.error().message();
  w.reset();
  NetClientOptions o;
  o.address = "127.0.0.1";
  o.port = port;
  o.stream_seconds = 0.2;
  o.rr_seconds = 0.2;
  auto f = RunNetClient(o);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_GT(f->stream_mb_per_s, 1);
  EXPECT_GT(f->stream_rx_mb_per_s, 1);
  EXPECT_GT(f->rr_per_s, 10);
  EXPECT_GT(f->rr_p50_us, 0);
  EXPECT_GE(f->rr_p99_us, f->rr_p50_us);
  ASSERT_TRUE(SendNetQuit(o));
  auto st = child->Wait(std::chrono::seconds(5));
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok());
  std::string out(4096, 0);
  out.resize(std::max<ssize_t>(0, ::read(r.get(), out.data(), out.size())));
  EXPECT_NE(out.find("quit=1"), std::string::npos) << out;
}

TEST(NetClientTest, NoServerIsATimelyError) {
  NetClientOptions o;
  o.address = "127.0.0.1";
  o.port = 1;  // nothing listens there
  o.connect_timeout = std::chrono::milliseconds(300);
  auto f = RunNetClient(o);
  EXPECT_FALSE(f);
}

// A fake launcher whose workload prints fixed figures scaled by `factor`; it refuses `refused`.
class FakeTpLauncher : public launcher::testing::ScriptLauncher {
 public:
  FakeTpLauncher(std::string name, std::string kind, double factor, std::string refused)
      : ScriptLauncher("", name), kind_(std::move(kind)), factor_(factor),
        refused_(std::move(refused)) {}
  std::string Kind() const override { return kind_; }
  Result<void> Supports(const launcher::WorkloadRequest& r) const override {
    if (r.mode == refused_) return Failure(Name() + " cannot do " + r.mode + " here");
    return Ok();
  }
  Result<std::unique_ptr<launcher::Instance>> Start(const launcher::WorkloadRequest& r) override {
    std::string f = std::to_string(100 * factor_);
    std::string result = r.mode == "cpu" ? "int_ops_per_s=" + f + " fp_ops_per_s=" + f
                                         : "copy_gb_per_s=" + f + " scale_gb_per_s=" + f +
                                               " add_gb_per_s=" + f + " triad_gb_per_s=" + f +
                                               " random_access_mups=" + f + " stream_rounds=3";
    launcher::testing::ScriptLauncher s("echo 'CVB READY mode=x'; echo 'CVB RESULT " + result +
                                        " checksum=1'; echo 'CVB DONE status=0'");
    return s.Start(r);
  }

 private:
  std::string kind_;
  double factor_;
  std::string refused_;
};

TEST(ThroughputSweepTest, EntriesCountersRatiosAndRefusedModes) {
  char tmpl[] = "/tmp/cvb-tp-sweep-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string out = tmpl;
  launcher::Registry reg;
  auto add = [&](const std::string& name, const std::string& kind, double factor,
                 const std::string& refused) {
    reg.Register(name, kind, [=](const launcher::LauncherConfig&) {
      return Result<std::unique_ptr<launcher::Launcher>>(
          std::make_unique<FakeTpLauncher>(name, kind, factor, refused));
    });
  };
  add("native", "native", 1.0, "");
  add("half", "unknown", 0.5, "mem");
  SweepConfig c;
  c.suites = {"throughput"};
  c.launchers = {"half", "native"};
  c.out_dir = out;
  c.warmup = false;
  c.suite_options.repetitions = 2;
  c.suite_options.ready_timeout = std::chrono::seconds(5);
  c.suite_options.params = {{"modes", "cpu,mem"}};
  EXPECT_EQ(RunSweep(c, reg), 1);  // half refused mem: a failure, reported
  auto j = nlohmann::json::parse(ReadFile(out + "/throughput.json").value_or("{}"));
  int half_cpu = 0, native_cpu = 0;
  bool refused_reported = false;
  for (const auto& b : j["benchmarks"]) {
    std::string name = b["name"];
    if (b.value("run_type", "") != "iteration") continue;
    if (name == "throughput/half/mode:cpu") {
      ++half_cpu;
      EXPECT_DOUBLE_EQ(b["int_ops_per_s"].get<double>(), 50);
      EXPECT_DOUBLE_EQ(b["int_ops_per_s_ratio_to_native"].get<double>(), 0.5);
      EXPECT_FALSE(b.contains("checksum"));
    } else if (name == "throughput/native/mode:cpu") {
      ++native_cpu;
      EXPECT_DOUBLE_EQ(b["fp_ops_per_s_ratio_to_native"].get<double>(), 1.0);
    } else if (name == "throughput/half/mode:mem") {
      EXPECT_TRUE(b.value("error_occurred", false));
      EXPECT_NE(b.value("error_message", "").find("cannot do mem"), std::string::npos);
      refused_reported = true;
    } else if (name == "throughput/native/mode:mem") {
      EXPECT_DOUBLE_EQ(b["stream_rounds"].get<double>(), 3);
      EXPECT_TRUE(b.contains("triad_gb_per_s_ratio_to_native"));
    }
  }
  EXPECT_EQ(half_cpu, 2);
  EXPECT_EQ(native_cpu, 2);
  EXPECT_TRUE(refused_reported);
  ASSERT_TRUE(RemoveTree(out));
}

}  // namespace
}  // namespace cvb::bench
