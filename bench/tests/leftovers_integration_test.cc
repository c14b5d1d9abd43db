// A cvbench killed with SIGKILL in the middle of a density run leaves running containers, their
// cgroups and its work directory; the next cvbench must find them, remove them and say so.
// Real containers (crun, else runc), as root; skips with the reason otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb {
namespace {

// Cgroup directories (any hierarchy, any depth up to 5) whose name carries "-<pid>-".
std::vector<std::string> CgroupsOf(pid_t owner) {
  std::vector<std::string> found;
  std::string mid = "-" + std::to_string(owner) + "-";
  std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
    for (const auto& e : ListDirectory(dir)) {
      std::string p = dir + "/" + e;
      if (!PathExists(p + "/cgroup.procs")) continue;
      if (e.rfind("cvb-", 0) == 0 && e.find(mid) != std::string::npos) found.push_back(p);
      if (depth < 5) walk(p, depth + 1);
    }
  };
  for (const auto& h : ListDirectory("/sys/fs/cgroup")) walk("/sys/fs/cgroup/" + h, 1);
  return found;
}

// Processes whose command line names one of the owner's containers, or that run the workload
// in one of its bundles.
int ProcessesOf(pid_t owner) {
  int n = 0;
  std::string needle = "-" + std::to_string(owner) + "-";
  for (const auto& e : ListDirectory("/proc")) {
    if (e.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cg = ReadFile("/proc/" + e + "/cgroup");
    if (cg && cg->find(needle) != std::string::npos && cg->find("cvb-") != std::string::npos) ++n;
  }
  return n;
}

TEST(LeftoversIntegration, NextCvbenchRemovesWhatAKilledOneLeft) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (containers)";
  std::string runtime = !FindProgram("crun").empty()   ? "crun"
                        : !FindProgram("runc").empty() ? "runc"
                                                       : "";
  if (runtime.empty()) GTEST_SKIP() << "neither crun nor runc is installed";
  char tmpl[] = "/tmp/cvb-leftovers-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string out = tmpl;

  // 1. A density run of 40 idle containers, killed once at least 10 run.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(CVBENCH_BINARY, CVBENCH_BINARY, "run", "--suite", "density", "--launchers",
            runtime.c_str(), "--no-warmup", "--repetitions", "1", "--param", "density_n=40",
            "--param", "density_repetitions=1", "--param", "settle_ms=500", "--out",
            (out + "/killed").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  std::string work = "/run/cvbench/" + std::to_string(pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (ListDirectory(work + "/run").size() < 10 && std::chrono::steady_clock::now() < deadline) {
    int st;
    if (::waitpid(pid, &st, WNOHANG) == pid) FAIL() << "cvbench ended before it was killed";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(ListDirectory(work + "/run").size(), 10u) << "cvbench did not start 10 containers in time";
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  // The killed run left things: its work dir, running containers and their cgroups. The same
  // probes must come back empty after the next run: they can see leftovers, so they can fail.
  EXPECT_TRUE(PathExists(work));
  EXPECT_FALSE(CgroupsOf(pid).empty());
  EXPECT_GT(ProcessesOf(pid), 0);

  // 2. The next cvbench (a short native run) removes all of it and says what it removed.
  auto next = cvb::Run({CVBENCH_BINARY, "run", "--suite", "startup", "--launchers", "native",
                        "--no-warmup", "--repetitions", "1", "--out", out + "/next"},
                       std::chrono::seconds(300));
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_TRUE(next->status.ok()) << next->err;
  EXPECT_NE(next->err.find("leftover of a dead sweep: cvbench " + std::to_string(pid)),
            std::string::npos)
      << next->err;
  // crun's own delete --force takes the cgroups; a container that died mid-create would show
  // "removed cgroup" instead: either way none is left (checked below).
  EXPECT_NE(next->err.find("deleted container cvb-" + runtime), std::string::npos) << next->err;
  auto ctx = ReadFile(out + "/next/startup.json");
  ASSERT_TRUE(ctx);
  EXPECT_NE(ctx->find("leftovers_removed"), std::string::npos);
  EXPECT_FALSE(PathExists(work));
  EXPECT_EQ(CgroupsOf(pid), std::vector<std::string>{});
  EXPECT_EQ(ProcessesOf(pid), 0);
  (void)RemoveTree(out);
}

}  // namespace
}  // namespace cvb
