// The measuring modes: strict arguments, and short real runs of the static binary that must yield
// positive figures with units in their names.
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "cvb/workload/protocol.h"
#include "modes.h"

namespace cvb::workload {
namespace {

Context Ctx(const std::string& mode, std::vector<std::string> args) {
  Context c;
  c.mode = mode;
  c.args = std::move(args);
  return c;
}

TEST(ModeArgsTest, NumberArgDefaultsAndParses) {
  auto c = Ctx("cpu", {"--seconds=0.5"});
  EXPECT_EQ(ParseNumberArg(c, "seconds", 2, 0.01, 10).value, 0.5);
  EXPECT_TRUE(ParseNumberArg(c, "seconds", 2, 0.01, 10).error.empty());
  EXPECT_EQ(ParseNumberArg(c, "mib", 64, 1, 100).value, 64);
}

TEST(ModeArgsTest, NumberArgRejectsGarbageAndRange) {
  for (const char* bad : {"--mib=abc", "--mib=12x", "--mib=-1", "--mib=0", "--mib=nan", "--mib="}) {
    auto c = Ctx("mem", {bad});
    auto n = ParseNumberArg(c, "mib", 64, 1, 1024);
    if (std::string(bad) == "--mib=") {
      EXPECT_TRUE(n.error.empty()) << bad;  // empty value: the default
    } else {
      EXPECT_FALSE(n.error.empty()) << bad;
      EXPECT_NE(n.error.find("--mib="), std::string::npos) << n.error;
    }
  }
}

TEST(ModeArgsTest, UnknownArgNamesTheTypo) {
  EXPECT_EQ(UnknownArg(Ctx("cpu", {"--seconds=1"}), {"seconds"}), "");
  auto e = UnknownArg(Ctx("cpu", {"--second=1"}), {"seconds"});
  EXPECT_NE(e.find("--second"), std::string::npos) << e;
  EXPECT_NE(UnknownArg(Ctx("cpu", {"seconds"}), {"seconds"}), "");
}

struct Output {
  ExitStatus status;
  std::map<std::string, std::string> result;
  bool ready = false;
  bool done = false;
  std::string error;
  std::string text;
};

Output RunWorkload(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CVB_WORKLOAD_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Output o;
  auto r = Run(argv, std::chrono::seconds(30));
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  if (!r) return o;
  o.status = r->status;
  o.text = r->out + r->err;
  for (const auto& line : Split(r->out, '\n')) {
    auto m = ParseLine(line);
    if (!m) continue;
    if (m->kind == "READY") o.ready = true;
    if (m->kind == "DONE") o.done = true;
    if (m->kind == "ERROR") o.error = m->Get("msg");
    if (m->kind == "RESULT") o.result.insert(m->fields.begin(), m->fields.end());
  }
  return o;
}

double Num(const Output& o, const std::string& key) {
  auto it = o.result.find(key);
  if (it == o.result.end()) return -1;
  return std::strtod(it->second.c_str(), nullptr);
}

TEST(ModeRunTest, CpuYieldsPositiveRates) {
  auto o = RunWorkload({"cpu", "--seconds=0.1"});
  EXPECT_TRUE(o.status.ok()) << o.text;
  EXPECT_TRUE(o.ready && o.done) << o.text;
  EXPECT_GT(Num(o, "int_ops_per_s"), 1e6) << o.text;
  EXPECT_GT(Num(o, "fp_ops_per_s"), 1e6) << o.text;
}

TEST(ModeRunTest, MemYieldsBandwidthAndRandomAccess) {
  auto o = RunWorkload({"mem", "--seconds=0.2", "--mib=8", "--ra_mib=8"});
  EXPECT_TRUE(o.status.ok()) << o.text;
  for (const char* k : {"copy_gb_per_s", "scale_gb_per_s", "add_gb_per_s", "triad_gb_per_s",
                        "random_access_mups"})
    EXPECT_GT(Num(o, k), 0) << k << "\n" << o.text;
}

TEST(ModeRunTest, DiskOnTmpDirYieldsFiguresAndCleansUp) {
  // /var/tmp is on a disk filesystem on these hosts (O_DIRECT allowed); /tmp may be tmpfs, where
  // the buffered fallback is used. Either way the figures must be there and the file gone.
  char tmpl[] = "/var/tmp/cvb-disk-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  auto o = RunWorkload({"disk", "--dir=" + dir, "--mib=8", "--seconds=0.1"});
  EXPECT_TRUE(o.status.ok()) << o.text;
  for (const char* k : {"seq_write_mb_per_s", "seq_read_mb_per_s", "rand_read_iops",
                        "rand_write_iops"})
    EXPECT_GT(Num(o, k), 0) << k << "\n" << o.text;
  EXPECT_TRUE(o.result["direct"] == "1" || o.result["direct"] == "0");
  EXPECT_EQ(::rmdir(dir.c_str()), 0) << "the mode left its file behind";
}

TEST(ModeRunTest, DiskMissingDirIsAnError) {
  auto o = RunWorkload({"disk", "--dir=/nonexistent/cvb", "--mib=1"});
  EXPECT_FALSE(o.status.ok());
  EXPECT_NE(o.error.find("/nonexistent/cvb"), std::string::npos) << o.text;
}

TEST(ModeRunTest, BadArgumentFailsBeforeReady) {
  auto o = RunWorkload({"cpu", "--seconds=abc"});
  EXPECT_FALSE(o.status.ok());
  EXPECT_FALSE(o.ready);
  EXPECT_NE(o.error.find("--seconds"), std::string::npos) << o.text;
}

TEST(ModeRunTest, NetServerEndsAfterSecondsWithoutClient) {
  auto o = RunWorkload({"net", "--bind=127.0.0.1", "--port=0", "--seconds=0.2"});
  // Port 0 is refused by the range check: the server needs a port the host knows.
  EXPECT_FALSE(o.status.ok());
  o = RunWorkload({"net", "--bind=127.0.0.1", "--port=" + std::to_string(20000 + ::getpid() % 20000),
                   "--seconds=0.2"});
  EXPECT_TRUE(o.status.ok()) << o.text;
  EXPECT_TRUE(o.ready && o.done) << o.text;
  EXPECT_EQ(o.result["quit"], "0");
}

}  // namespace
TEST(ModeFingerprintTest, SelfReportNamesWhatTheProcessGot) {
  Message m = SelfFingerprint();
  EXPECT_EQ(m.kind, "FINGERPRINT");
  for (const char* k : {"kernel", "cap_eff", "cap_bnd", "no_new_privs", "seccomp", "mounts",
                        "uid_map", "net", "rlimit_open_files", "mem_total_kib"})
    EXPECT_TRUE(m.fields.count(k)) << k;
  EXPECT_NE(m.Get("net").find("lo:"), std::string::npos) << m.Get("net");
  EXPECT_GT(std::stoi(m.Get("mounts")), 0);
  // The line goes through the protocol unchanged: no value carries a space.
  auto parsed = ParseLine(FormatLine(m));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->kind, "FINGERPRINT");
  EXPECT_EQ(parsed->fields, m.fields);
}

}  // namespace cvb::workload
