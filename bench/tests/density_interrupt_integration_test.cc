// A density run interrupted in the middle of a step (Ctrl-C: SIGINT to the whole process group,
// as a terminal sends it; SIGTERM to cvbench alone, as a CI timeout or `kill` sends it) stops
// starting instances, tears down every one it started and exits 130, leaving nothing: no
// container processes, cgroups in any hierarchy, network namespaces, runtime state or work
// directory. Real containers, as root; skips with the reason otherwise. The same holds for an
// interrupt before the suites (WarmUpInterrupt).
#include <fcntl.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb {
namespace {

// Cgroup directories (any hierarchy, including the cgroup2 one, any depth up to 6) whose name
// carries "-<owner>-".
std::vector<std::string> CgroupsOf(pid_t owner) {
  std::vector<std::string> found;
  std::string mid = "-" + std::to_string(owner) + "-";
  std::function<void(const std::string&, int)> walk = [&](const std::string& dir, int depth) {
    for (const auto& e : ListDirectory(dir)) {
      std::string p = dir + "/" + e;
      if (!PathExists(p + "/cgroup.procs")) continue;
      if (e.find(mid) != std::string::npos) found.push_back(p);
      if (depth < 6) walk(p, depth + 1);
    }
  };
  for (const auto& h : ListDirectory("/sys/fs/cgroup")) walk("/sys/fs/cgroup/" + h, 1);
  return found;
}

// Processes in a cgroup named after the owner's containers (the containers' inits), or whose
// command line names one (runtime commands, runtime helpers).
std::vector<std::string> ProcessesOf(pid_t owner) {
  std::vector<std::string> found;
  std::string needle = "-" + std::to_string(owner) + "-";
  for (const auto& e : ListDirectory("/proc")) {
    if (e.find_first_not_of("0123456789") != std::string::npos) continue;
    auto cg = ReadFile("/proc/" + e + "/cgroup").value_or_empty();
    auto cmd = ReadFile("/proc/" + e + "/cmdline").value_or_empty();
    if ((cg.find(needle) != std::string::npos && cg.find("cvb-") != std::string::npos) ||
        (cmd.find(needle) != std::string::npos && cmd.find("cvb-") != std::string::npos))
      found.push_back(e + " " + cmd.substr(0, 80));
  }
  return found;
}

// Network namespaces (/run/netns) and mounts (our mount table) naming the owner.
std::vector<std::string> NetnsAndMountsOf(pid_t owner) {
  std::vector<std::string> found;
  std::string p = "-p" + std::to_string(owner);
  for (const auto& e : ListDirectory("/run/netns"))
    if (e.find(p) != std::string::npos) found.push_back("/run/netns/" + e);
  std::string dir = "/run/cvbench/" + std::to_string(owner);
  for (const auto& line : Split(ReadFile("/proc/self/mountinfo").value_or_empty(), '\n'))
    if (line.find(dir) != std::string::npos || line.find(p + " ") != std::string::npos)
      found.push_back(line);
  return found;
}

struct Case {
  const char* runtime;
  int signal;
  bool whole_group;  // Ctrl-C: the terminal signals the whole foreground process group
};

class DensityInterrupt : public ::testing::TestWithParam<Case> {};

TEST_P(DensityInterrupt, TearsDownEverythingItStarted) {
  const Case c = GetParam();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (containers)";
  std::string runtime = c.runtime;
  if (runtime != "cvrun" && FindProgram(runtime).empty())
    GTEST_SKIP() << runtime << " is not installed";
  char tmpl[] = "/tmp/cvb-interrupt-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string out = tmpl;

  // A density step of 60 idle containers, interrupted once at least 15 run.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);  // its own process group, as a shell job's
    ::execl(CVBENCH_BINARY, CVBENCH_BINARY, "run", "--suite", "density", "--launchers",
            runtime.c_str(), "--no-warmup", "--repetitions", "1", "--param", "density_n=60",
            "--param", "density_repetitions=1", "--param", "settle_ms=500", "--param",
            "drop_caches=0", "--out", (out + "/run").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  ::setpgid(pid, pid);
  std::string work = "/run/cvbench/" + std::to_string(pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  int status = 0;
  while (ListDirectory(work + "/run").size() < 15 && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) FAIL() << "cvbench ended before the signal";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(ListDirectory(work + "/run").size(), 15u) << "cvbench did not start 15 containers";
  // The probes see what a running step has: they can fail.
  EXPECT_FALSE(CgroupsOf(pid).empty());
  EXPECT_FALSE(ProcessesOf(pid).empty());
  auto signalled = std::chrono::steady_clock::now();
  ASSERT_EQ(c.whole_group ? ::kill(-pid, c.signal) : ::kill(pid, c.signal), 0);
  // Teardown of what started takes seconds; a cvbench that went on to start all 60 would still
  // finish, so the exit status and the count of started containers below tell them apart.
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  ASSERT_TRUE(WIFEXITED(status)) << "cvbench died of signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::printf("%s, %s%s: torn down %.1f s after the signal\n", runtime.c_str(),
              strsignal(c.signal), c.whole_group ? " to the process group" : "", seconds);
  // The record is partial and says which entry the interrupt cut short (that repetition is not
  // a result: a resumed run measures it).
  auto json = ReadFile(out + "/run/density.json").value_or_empty();
  auto doc = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "density.json does not parse";
  EXPECT_EQ(doc["run"]["state"], "partial");
  std::string note = doc["run"]["attempts"].back().value("interrupted", std::string());
  EXPECT_NE(note.find("during density/"), std::string::npos)
      << "the record does not say it was interrupted: " << doc["run"]["attempts"].dump();

  EXPECT_FALSE(PathExists(work));
  EXPECT_EQ(CgroupsOf(pid), std::vector<std::string>{});
  EXPECT_EQ(ProcessesOf(pid), std::vector<std::string>{});
  EXPECT_EQ(NetnsAndMountsOf(pid), std::vector<std::string>{});
  (void)RemoveTree(out);
}

// Before the suites: cvbench's warm-up launch is interrupted between `crun create` and `crun
// start` (a wrapper named crun first on PATH holds the first start for 3 s). cvbench exits 130
// after tearing the created container down. Before the handler covered the warm-up, SIGTERM
// killed cvbench there and the created container stayed (seen with runsc in a --quick sweep).
TEST(WarmUpInterrupt, TearsDownTheCreatedContainer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (containers)";
  std::string crun = FindProgram("crun");
  if (crun.empty()) GTEST_SKIP() << "crun is not installed";
  char tmpl[] = "/tmp/cvb-warmup-interrupt-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl, marker = dir + "/held";
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() { (void)RemoveTree(dir); }  // also when an ASSERT returns early
  } remove_dir{dir};
  // The marker ("held", beside the wrapper) says the first start is being held.
  std::string wrapper =
      "#!/bin/sh\n"
      "held=\"$(dirname \"$0\")/held\"\n"
      "for a; do\n"
      "  if [ \"$a\" = start ] && [ ! -e \"$held\" ]; then : > \"$held\"; sleep 3; fi\n"
      "done\n"
      "exec " +
      crun + " \"$@\"\n";
  ASSERT_TRUE(WriteFile(dir + "/crun", wrapper));
  ASSERT_EQ(::chmod((dir + "/crun").c_str(), 0755), 0);
  std::string path = dir + ":" + (::getenv("PATH") ? ::getenv("PATH") : "/usr/bin:/bin");

  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::setenv("PATH", path.c_str(), 1);
    int err = ::open((dir + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::execl(CVBENCH_BINARY, CVBENCH_BINARY, "run", "--suite", "startup", "--launchers", "crun",
            "--repetitions", "1", "--out", (dir + "/run").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  ::setpgid(pid, pid);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  int status = 0;
  while (!PathExists(marker) && std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      FAIL() << "cvbench ended before its warm-up start: "
             << ReadFile(dir + "/stderr").value_or_empty();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(PathExists(marker)) << "the warm-up never reached `crun start`";
  // The created container is there: the probes can fail.
  EXPECT_FALSE(CgroupsOf(pid).empty());
  EXPECT_FALSE(ProcessesOf(pid).empty());
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  std::string err = ReadFile(dir + "/stderr").value_or_empty();
  ASSERT_TRUE(WIFEXITED(status)) << "cvbench died of signal " << WTERMSIG(status) << ": " << err;
  EXPECT_EQ(WEXITSTATUS(status), 130) << err;
  EXPECT_NE(err.find("interrupted during the warm-up"), std::string::npos) << err;
  EXPECT_FALSE(PathExists("/run/cvbench/" + std::to_string(pid)));
  EXPECT_EQ(CgroupsOf(pid), std::vector<std::string>{});
  EXPECT_EQ(ProcessesOf(pid), std::vector<std::string>{});
  EXPECT_EQ(NetnsAndMountsOf(pid), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Signals, DensityInterrupt,
                         ::testing::Values(Case{"cvrun", SIGINT, true},
                                           Case{"crun", SIGTERM, false}),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.runtime) +
                                  (p.param.signal == SIGINT ? "_SigintToTheGroup" : "_Sigterm");
                         });

}  // namespace
}  // namespace cvb
