// The Docker and containerd launchers without daemons: names, the json-file log follower, the
// daemon wait (fakes for the daemon and the container's process).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/launcher/containerd.h"
#include "cvb/launcher/docker.h"
#include "cvb/launcher/engine_daemons.h"
#include "cvb/launcher/launcher.h"
#include "docker_log.h"

namespace cvb::launcher {
namespace {

TEST(DockerLauncherNames, RuntimeAndNetDimension) {
  auto p = ParseDockerLauncherName("docker/runtime:cvrun/net:host");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->runtime, "cvrun");
  EXPECT_EQ(p->net, "host");
  auto d = ParseDockerLauncherName("docker/runtime:runc");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->net, "bridge");  // Docker's default
  for (const char* bad : {"docker/runtime:runsc", "docker/runtime:runc/net:none", "docker/runc",
                          "runc", "docker/runtime:runc/x"}) {
    auto r = ParseDockerLauncherName(bad);
    EXPECT_FALSE(r) << bad;
  }
  auto r = ParseDockerLauncherName("docker/runtime:runc/net:none");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("net:none"), std::string::npos);
}

TEST(EngineLauncherNames, RegisteredAsContainers) {
  Registry registry;
  RegisterProcessLaunchers(registry);
  for (const auto& name : DockerLauncherNames()) EXPECT_EQ(registry.KindOf(name), "container");
  for (const auto& name : ContainerdLauncherNames()) EXPECT_EQ(registry.KindOf(name), "container");
  EXPECT_TRUE(registry.Has("docker/runtime:cvrun/net:host"));
  EXPECT_TRUE(registry.Has("containerd/runtime:runc"));
  EXPECT_EQ(ContainerdRuntimeOf("containerd/runtime:crun"), "crun");
  EXPECT_EQ(ContainerdRuntimeOf("containerd/runtime:runsc"), "");
  EXPECT_FALSE(MakeContainerdLauncher({"containerd/runtime:runsc", "/tmp/x", "", {}}));
}

TEST(EngineInstance, TheScriptsPaths) {
  EngineInstance e = EngineInstanceFrom({{"engine_name", "t1"}});
  EXPECT_EQ(e.docker_socket(), "/run/t1-docker/docker.sock");
  EXPECT_EQ(e.containerd_socket(), "/run/t1-containerd/containerd.sock");
  EXPECT_EQ(e.docker_namespace(), "t1-docker");
  EXPECT_EQ(e.task_bundle("ns", "id"), "/run/t1-containerd/io.containerd.runtime.v2.task/ns/id");
  EXPECT_EQ(EngineInstanceFrom({}).name, "cvbench");
}

TEST(DockerLog, ParsesLinesAndTimes) {
  auto l = ParseDockerLogLine(
      R"({"log":"CVB READY x=1\n","stream":"stdout","time":"2026-12-08T01:00:13.584368876Z"})");
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->text, "CVB READY x=1");
  EXPECT_TRUE(l->complete);
  EXPECT_EQ(l->time_ns % 1'000'000'000, 584368876);
  auto t = ParseRfc3339Nano("1970-01-01T00:00:01.5Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 1'500'000'000);
  EXPECT_FALSE(ParseRfc3339Nano("2026-12-08T01:00:13+01:00"));
  EXPECT_FALSE(ParseDockerLogLine("CVB READY"));
  auto part = ParseDockerLogLine(R"({"log":"no newline","stream":"stdout"})");
  ASSERT_TRUE(part);
  EXPECT_FALSE(part->complete);
}

class TempLog : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-dockerlog-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/c-json.log";
  }
  void TearDown() override { (void)RemoveTree(dir_); }
  void Append(const std::string& s) {
    int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
    ::close(fd);
  }
  std::string dir_, path_;
};

TEST_F(TempLog, FollowsJoinsSplitLinesAndEndsWhenTheProcessIsGone) {
  std::atomic<bool> gone{false};
  DockerJsonLog log(
      path_, [&] { return gone.load(); }, LogFormat::kDockerJson, 50'000'000);
  // Nothing yet (dockerd makes the file when the container starts): a timeout, not an error.
  auto none = log.Next(MonotonicNs() + 20'000'000);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().err, ETIMEDOUT);
  Append(R"({"log":"first ","stream":"stdout","time":"2026-12-08T01:00:00Z"})"
         "\n");
  Append(R"({"log":"half\n","stream":"stdout","time":"2026-12-08T01:00:01Z"})"
         "\n");
  Append(R"({"log":"CVB READY\n","stream":"stdout","time":"2026-12-08T01:00:02Z"})"
         "\n");
  auto a = log.Next(MonotonicNs() + 1'000'000'000);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->text, "first half");
  auto b = log.Next(MonotonicNs() + 1'000'000'000);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->text, "CVB READY");
  EXPECT_GT(log.last_time_ns(), 0);
  EXPECT_FALSE(log.eof());
  gone = true;
  auto end = log.Next(MonotonicNs() + 2'000'000'000);
  ASSERT_FALSE(end);
  EXPECT_NE(end.error().err, ETIMEDOUT);  // eof, after the grace period
  EXPECT_TRUE(log.eof());
}

TEST_F(TempLog, PlainFormatForContainerdsLogFile) {
  DockerJsonLog log(
      path_, [] { return false; }, LogFormat::kPlain);
  Append("CVB READY a=1\r\n");
  auto a = log.Next(MonotonicNs() + 1'000'000'000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->text, "CVB READY a=1");
}

TEST(DaemonWait, WaitsThenFailsFastUntilTheDaemonIsBack) {
  std::atomic<int> calls{0};
  std::atomic<bool> up{false};
  DaemonWait wait(
      "fake daemon",
      [&]() -> Result<void> {
        ++calls;
        if (up) return Ok();
        return Failure("down");
      },
      500);
  int64_t t0 = MonotonicNs();
  auto first = wait.Ready();
  ASSERT_FALSE(first);
  EXPECT_GE(MonotonicNs() - t0, 500'000'000);  // waited the bounded time
  EXPECT_NE(first.error().message().find("did not answer within"), std::string::npos);
  int before = calls;
  t0 = MonotonicNs();
  auto second = wait.Ready();
  ASSERT_FALSE(second);
  EXPECT_LT(MonotonicNs() - t0, 200'000'000);  // fails fast: one probe
  EXPECT_EQ(calls - before, 1);
  EXPECT_NE(second.error().message().find("failing fast"), std::string::npos);
  up = true;
  EXPECT_TRUE(wait.Ready());
  up = false;
  // Back once: the next outage is waited for again.
  t0 = MonotonicNs();
  EXPECT_FALSE(wait.Ready());
  EXPECT_GE(MonotonicNs() - t0, 500'000'000);
}

TEST(DockerPing, NoDaemonIsAnError) {
  auto r = DockerPing("/nonexistent/docker.sock", std::chrono::milliseconds(100));
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace cvb::launcher
