// The interface contract, checked on a fake launcher: what every real launcher must also do.
#include <gtest/gtest.h>

#include "cvb/launcher/oci.h"
#include "script_launcher.h"

namespace cvb::launcher {
namespace {

using testing::ScriptLauncher;

TEST(LauncherContractTest, PhasesAreOrderedAndResultsCollected) {
  ScriptLauncher l("echo 'CVB READY mode=cpu'; echo 'CVB RESULT ops_per_s=42'; "
                   "echo 'CVB DONE status=0'");
  auto inst = l.Start({});
  ASSERT_TRUE(inst);
  ASSERT_TRUE((*inst)->WaitReady(std::chrono::seconds(5)));
  auto st = (*inst)->WaitExit(std::chrono::seconds(5));
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok());
  ASSERT_TRUE((*inst)->Teardown());
  auto c = (*inst)->timeline().Counters();
  ASSERT_TRUE(c.count("create_ms") && c.count("ready_ms") && c.count("exit_ms") &&
              c.count("teardown_ms"));
  EXPECT_LE(c["create_ms"], c["ready_ms"]);
  EXPECT_LE(c["ready_ms"], c["exit_ms"]);
  ASSERT_EQ((*inst)->results().size(), 1u);
  EXPECT_EQ((*inst)->results()[0].Number("ops_per_s"), 42.0);
}

TEST(LauncherContractTest, WorkloadThatNeverSignalsReadyTimesOut) {
  ScriptLauncher l("sleep 5");
  auto inst = l.Start({});
  ASSERT_TRUE(inst);
  auto r = (*inst)->WaitReady(std::chrono::milliseconds(100));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ETIMEDOUT);
  ASSERT_TRUE((*inst)->Stop(std::chrono::seconds(1)));
  EXPECT_TRUE((*inst)->HostPids().empty());
}

TEST(RegistryTest, UnknownLauncherNamesKnownOnes) {
  Registry r;
  RegisterProcessLaunchers(r);
  EXPECT_EQ(r.KindOf("crun"), "container");
  EXPECT_EQ(r.KindOf("native"), "native");
  auto l = r.Make({"nope", "/tmp", "", {}});
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message().find("nope"), std::string::npos);
  EXPECT_NE(l.error().message().find("crun"), std::string::npos);
}

TEST(RegistryTest, MissingRuntimeBinaryFailsCheckNamingIt) {
  Registry r;
  r.Register("ghost", "container", [](const LauncherConfig& c) {
    return MakeOciLauncher(c, {"ghost", "cvb-no-such-runtime", {}, "", {}, false});
  });
  auto l = r.Make({"ghost", "/tmp", "", {}});
  ASSERT_TRUE(l);
  auto c = (*l)->Check();
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("cvb-no-such-runtime"), std::string::npos);
}

}  // namespace
}  // namespace cvb::launcher
