// The throughput suite's logic without real instances: knobs, requests, baseline ratios, the
// net client against the real workload server on loopback, and a sweep over fake launchers
// (entries, counters, ratios, and a launcher that refuses a mode).
#include "throughput.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cvb/common/affinity.h"
#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "net_client.h"
#include "script_launcher.h"
#include "sweep.h"

namespace cvb::bench {
namespace {

TEST(ThroughputOptionsTest, DefaultsAndKnobs) {
  auto d = ParseThroughputOptions({});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->modes, (std::vector<std::string>{"cpu", "mem", "disk", "net"}));
  auto o =
      ParseThroughputOptions({{"modes", "mem, cpu,mem"}, {"seconds", "0.5"}, {"mem_mib", "8"}});
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
  auto net_v = ThroughputRequest("net", "native", o, true);
  EXPECT_TRUE(net_c.needs_network);
  EXPECT_FALSE(net_c.native_over_veth);
  EXPECT_EQ(std::count(net_c.args.begin(), net_c.args.end(), "--bind=127.0.0.1"), 0);
  EXPECT_EQ(std::count(net_n.args.begin(), net_n.args.end(), "--bind=127.0.0.1"), 1);
  EXPECT_FALSE(net_n.native_over_veth);
  // Over veth the native server is alone in its namespace: it listens like a container's.
  EXPECT_TRUE(net_v.native_over_veth);
  EXPECT_EQ(std::count(net_v.args.begin(), net_v.args.end(), "--bind=127.0.0.1"), 0);
  for (const auto& a : net_c.args) EXPECT_EQ(a.find(' '), std::string::npos);  // VM cmdline-safe
}

// A result file as Google Benchmark writes it: iterations with counters, plus aggregates.
nlohmann::json Entry(const std::string& run_name, std::map<std::string, double> counters,
                     const std::string& aggregate = "") {
  nlohmann::json e = {{"name", aggregate.empty() ? run_name : run_name + "_" + aggregate},
                      {"run_name", run_name},
                      {"run_type", aggregate.empty() ? "iteration" : "aggregate"}};
  if (!aggregate.empty()) e["aggregate_name"] = aggregate;
  for (const auto& [k, v] : counters) e[k] = v;
  return e;
}

nlohmann::json* Find(nlohmann::json& doc, const std::string& name, size_t nth = 0) {
  for (auto& b : doc["benchmarks"])
    if (b["name"] == name && nth-- == 0) return &b;
  return nullptr;
}

TEST(ThroughputRatiosTest, EveryRepetitionAgainstTheMedianOfAllNativeRepetitions) {
  nlohmann::json doc = {{"context", nlohmann::json::object()},
                        {"benchmarks", nlohmann::json::array()}};
  auto& b = doc["benchmarks"];
  // Native's samples arrive interleaved with the others'; an old in-run ratio must not survive.
  b.push_back(Entry("throughput/native/mode:cpu",
                    {{"int_ops_per_s", 10}, {"int_ops_per_s_ratio_to_native", 1.16}}));
  b.push_back(Entry("throughput/half/mode:cpu", {{"int_ops_per_s", 10}}));
  b.push_back(Entry("throughput/native/mode:cpu", {{"int_ops_per_s", 30}}));
  b.push_back(Entry("throughput/native/mode:cpu", {{"int_ops_per_s", 20}}));
  b.push_back(Entry("throughput/half/mode:cpu", {{"int_ops_per_s", 12}}));
  nlohmann::json failed = Entry("throughput/native/mode:cpu", {{"int_ops_per_s", 1000}});
  failed["error_occurred"] = true;  // not a sample
  b.push_back(failed);
  b.push_back(Entry("throughput/native/mode:cpu", {{"int_ops_per_s", 20}}, "median"));
  b.push_back(Entry("throughput/native/mode:cpu", {{"int_ops_per_s", 20}}, "max"));
  b.push_back(Entry("throughput/half/mode:cpu", {{"int_ops_per_s", 11}}, "mean"));
  ASSERT_TRUE(FinishThroughputResults(doc, "native"));
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/native/mode:cpu", 0))["int_ops_per_s_ratio_to_native"],
                   0.5);
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/native/mode:cpu", 1))["int_ops_per_s_ratio_to_native"],
                   1.5);
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/half/mode:cpu", 0))["int_ops_per_s_ratio_to_native"],
                   0.5);
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/half/mode:cpu", 1))["int_ops_per_s_ratio_to_native"],
                   0.6);
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/half/mode:cpu", 1))["native_samples"], 3);
  // Native's own ratio centres on 1.0 with its spread in the aggregates.
  EXPECT_DOUBLE_EQ(
      (*Find(doc, "throughput/native/mode:cpu_median"))["int_ops_per_s_ratio_to_native"], 1.0);
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/native/mode:cpu_max"))["int_ops_per_s_ratio_to_native"],
                   1.5);
  EXPECT_DOUBLE_EQ((*Find(doc, "throughput/half/mode:cpu_mean"))["int_ops_per_s_ratio_to_native"],
                   0.55);
  EXPECT_FALSE(
      Find(doc, "throughput/native/mode:cpu", 3)->contains("int_ops_per_s_ratio_to_native"));
  EXPECT_NE(doc["context"]["throughput_ratio_rule"].get<std::string>().find("median of all native"),
            std::string::npos);
}

TEST(ThroughputRatiosTest, NetSplitsIntoNetworkPathAndContainment) {
  nlohmann::json doc = {{"benchmarks", nlohmann::json::array()}};
  auto& b = doc["benchmarks"];
  b.push_back(Entry("throughput/native/mode:net", {{"stream_mb_per_s", 1000}, {"rr_p50_us", 10}}));
  b.push_back(
      Entry("throughput/native/mode:net/path:veth", {{"stream_mb_per_s", 800}, {"rr_p50_us", 20}}));
  b.push_back(Entry("throughput/crun/mode:net", {{"stream_mb_per_s", 720}, {"rr_p50_us", 22}}));
  ASSERT_TRUE(FinishThroughputResults(doc, "native"));
  auto& veth = *Find(doc, "throughput/native/mode:net/path:veth");
  EXPECT_DOUBLE_EQ(veth["stream_mb_per_s_ratio_to_native"], 0.8);  // the network path
  EXPECT_DOUBLE_EQ(veth["stream_mb_per_s_ratio_to_native_veth"], 1.0);
  auto& crun = *Find(doc, "throughput/crun/mode:net");
  EXPECT_DOUBLE_EQ(crun["stream_mb_per_s_ratio_to_native"], 0.72);      // both
  EXPECT_DOUBLE_EQ(crun["stream_mb_per_s_ratio_to_native_veth"], 0.9);  // containment alone
  EXPECT_DOUBLE_EQ(crun["rr_p50_us_ratio_to_native_veth"], 1.1);
}

TEST(ThroughputRatiosTest, DiskBeyondTheDeviceIsFlaggedNotReported) {
  auto run = [](double native_direct, double fast_ratio) {
    nlohmann::json doc = {{"benchmarks", nlohmann::json::array()}};
    auto& b = doc["benchmarks"];
    for (double v : {100.0, 100.0})
      b.push_back(
          Entry("throughput/native/mode:disk",
                {{"seq_read_mb_per_s", v}, {"seq_write_mb_per_s", v}, {"direct", native_direct}}));
    for (double f : {fast_ratio, fast_ratio})
      b.push_back(
          Entry("throughput/runsc/mode:disk",
                {{"seq_read_mb_per_s", 100 * f}, {"seq_write_mb_per_s", 90}, {"direct", 1}}));
    b.push_back(
        Entry("throughput/runsc/mode:disk", {{"seq_read_mb_per_s", 100 * fast_ratio}}, "median"));
    EXPECT_TRUE(FinishThroughputResults(doc, "native"));
    return doc;
  };
  auto doc = run(1, 9);
  auto& e = *Find(doc, "throughput/runsc/mode:disk");
  EXPECT_FALSE(e.contains("seq_read_mb_per_s_ratio_to_native"));
  EXPECT_DOUBLE_EQ(e["seq_read_mb_per_s_ratio_to_native_flagged"], 9);
  std::string reason = e["flags"]["seq_read_mb_per_s"];
  EXPECT_NE(reason.find("9.0x native's O_DIRECT"), std::string::npos) << reason;
  EXPECT_NE(reason.find("not honoured"), std::string::npos) << reason;
  EXPECT_DOUBLE_EQ(e["seq_write_mb_per_s_ratio_to_native"], 0.9);  // the other figure stands
  EXPECT_FALSE(e["flags"].contains("seq_write_mb_per_s"));
  EXPECT_TRUE(Find(doc, "throughput/runsc/mode:disk_median")->contains("flags"));
  EXPECT_FALSE(Find(doc, "throughput/native/mode:disk")->contains("flags"));
  EXPECT_NE(doc["context"]["throughput_device_check"].get<std::string>().find("flagged"),
            std::string::npos);
  // Just under the limit: a result. Native without O_DIRECT: no device figure, nothing flagged.
  auto under = run(1, 1.4);
  EXPECT_FALSE(Find(under, "throughput/runsc/mode:disk")->contains("flags"));
  auto cached_native = run(0, 9);
  EXPECT_FALSE(Find(cached_native, "throughput/runsc/mode:disk")->contains("flags"));
  EXPECT_NE(cached_native["context"]["throughput_device_check"].get<std::string>().find("direct=0"),
            std::string::npos);
}

TEST(ThroughputRatiosTest, NoNativeSamplesNoRatiosAndABadFileIsAnError) {
  nlohmann::json doc = {{"benchmarks", nlohmann::json::array({Entry("throughput/crun/mode:cpu",
                                                                    {{"int_ops_per_s", 5}})})}};
  ASSERT_TRUE(FinishThroughputResults(doc, "native"));
  EXPECT_FALSE(Find(doc, "throughput/crun/mode:cpu")->contains("int_ops_per_s_ratio_to_native"));
  nlohmann::json bad = {{"context", 1}};
  EXPECT_FALSE(FinishThroughputResults(bad, "native"));
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
      : ScriptLauncher("", name),
        kind_(std::move(kind)),
        factor_(factor),
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
  // The fakes cannot pin an instance to CPUs: unpinned (pinned, they are refused; checked below).
  c.suite_options.params = {{"modes", "cpu,mem"}, {"throughput_pin", "off"}};
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
  // Pinned (a CPU list), a launcher that cannot pin is refused, never run unpinned.
  auto cpus = AllowedCpus();
  if (cpus && cpus->size() >= 2) {
    c.suite_options.params = {{"modes", "cpu"}, {"throughput_pin", std::to_string(cpus->back())}};
    EXPECT_EQ(RunSweep(c, reg), 1);
    auto pinned = nlohmann::json::parse(ReadFile(out + "/throughput.json").value_or("{}"));
    bool refused = false;
    for (const auto& b : pinned["benchmarks"])
      if (b.value("error_message", "").find("cannot pin") != std::string::npos) refused = true;
    EXPECT_TRUE(refused);
    ASSERT_TRUE(RemoveTree(out));
  }
}

}  // namespace
}  // namespace cvb::bench
