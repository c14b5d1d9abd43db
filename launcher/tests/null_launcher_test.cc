#include <gtest/gtest.h>

#include "cvb/launcher/null.h"

namespace cvb::launcher {
namespace {

TEST(NullLauncher, RecordsNativesMarksWithoutAProcess) {
  auto l = MakeNullLauncher({"null", "/tmp", "", {}});
  ASSERT_TRUE(l);
  ASSERT_TRUE((*l)->Check());
  WorkloadRequest req;
  auto inst = (*l)->Start(req);
  ASSERT_TRUE(inst) << inst.error().message();
  ASSERT_TRUE((*inst)->WaitReady(std::chrono::milliseconds(1)));
  auto exited = (*inst)->WaitExit(std::chrono::milliseconds(1));
  ASSERT_TRUE(exited);
  EXPECT_TRUE(exited->ok());
  ASSERT_TRUE((*inst)->Teardown());
  auto counters = (*inst)->timeline().Counters();
  for (const char* c : {"create_ms", "first_line_ms", "ready_ms", "exit_ms", "teardown_ms"})
    EXPECT_TRUE(counters.count(c)) << c;
  EXPECT_GE(counters["exit_ms"], counters["ready_ms"]);
  EXPECT_TRUE((*inst)->HostPids().empty());
}

TEST(NullLauncher, RefusesEverythingButTheStartupFigure) {
  auto l = MakeNullLauncher({"null", "/tmp", "", {}});
  ASSERT_TRUE(l);
  WorkloadRequest cpu;
  cpu.mode = "cpu";
  EXPECT_FALSE((*l)->Supports(cpu));
  EXPECT_FALSE((*l)->Start(cpu));
  WorkloadRequest net;
  net.needs_network = true;
  EXPECT_FALSE((*l)->Supports(net));
}

}  // namespace
}  // namespace cvb::launcher
