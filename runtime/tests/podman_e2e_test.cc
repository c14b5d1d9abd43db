// cvrun as podman's runtime, end to end (issue 13 part 4): the same steps with
// `podman --runtime <cvrun>` and `podman --runtime crun`, each held to what crun does — `run -d`
// of a long-running container, `exec` (plain and with -t, which goes through conmon's
// --console-socket), `pause`/`unpause`, `stats --no-stream`, `update --memory`, `top`, `stop`,
// `rm`. Each step checks the exit status, the output's shape and the effect on the host (the
// freezer state and a counter that stops, the memory cgroup's limit, the process podman lists).
//
// Every test starts its own container in a podman store of its own (--root/--runroot/--tmpdir
// under the test directory), so other podman users on the host are never touched, and its
// TearDown removes the container (`rm -f`) and the image and then checks that nothing is left:
// no container in the store, no runtime state (/run/<runtime>/<id>), no cgroup directory, no
// mount, no conmon or other process naming the container.
//
// podman is configured through CONTAINERS_CONF (cgroupfs, file events, ulimits within this host's
// hard limits), never through /etc. Both runtimes run under the conditions the benchmark gives
// every OCI runtime (launcher::EnterOciHostConditions: on a hybrid cgroup host a private mount
// namespace without the cgroup2 mount, which crun 1.8 needs), so the comparison is like for like.
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "cvb/common/file.h"
#include "cvb/launcher/oci.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using namespace std::chrono_literals;

// The container's init: stops cleanly on SIGTERM (so `stop` shows whether the signal reached
// it) and bumps a counter on a host directory ten times a second (so `pause` shows whether the
// processes are frozen).
const char* kInitScript =
    "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo $i > /out/tick; sleep 0.1; done";

std::string RuntimeBinary(const std::string& name) {
  if (name == "cvrun") return CVRUN_BINARY;
  return FindProgram(name);
}

// The runtime's default state root, where its per-container state lives (podman passes no
// --root to the runtime).
std::string RuntimeStateDir(const std::string& name, const std::string& id) {
  return "/run/" + name + "/" + id;
}

// Lines of a cgroup file of the container's init: "<hierarchy>:<path>" -> path.
std::string CgroupPathOf(pid_t pid, const std::string& controller) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text.ok()) return "";
  for (const auto& line : Split(*text, '\n')) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    for (const auto& c : Split(line.substr(a + 1, b - a - 1), ','))
      if (c == controller) return line.substr(b + 1);
  }
  return "";
}

bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

class PodmanE2E : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    if (!IsRoot()) return;
    auto conditions = launcher::EnterOciHostConditions();
    if (!conditions.ok()) conditions_error_ = conditions.error().message();
  }

  void SetUp() override {
    if (!IsRoot()) GTEST_SKIP() << "needs root (rootful podman)";
    if (FindProgram("podman").empty()) GTEST_SKIP() << "podman is not installed";
    if (RuntimeBinary(GetParam()).empty()) GTEST_SKIP() << GetParam() << " is not installed";
    ASSERT_TRUE(conditions_error_.empty()) << conditions_error_;
    dir_ = TestDir() + "/podman-e2e";
    ASSERT_TRUE(MakeDirs(dir_ + "/out").ok());
    std::string conf = dir_ + "/containers.conf";
    ASSERT_TRUE(WriteFile(conf,
                          "[containers]\n"
                          "default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n"
                          "netns = \"none\"\n"
                          "[engine]\n"
                          "cgroup_manager = \"cgroupfs\"\n"
                          "events_logger = \"file\"\n")
                    .ok());
    options_.extra_env = {"CONTAINERS_CONF=" + conf};
    std::string tar = dir_ + "/rootfs.tar";
    auto packed =
        cvb::Run({"tar", "-C", SharedRootfs(), "-cf", tar, "."}, std::chrono::seconds(30));
    ASSERT_TRUE(packed.ok() && packed->status.ok());
    image_ = "localhost/cvrun-it-e2e:" + std::to_string(getpid());
    auto imported = Podman({"import", tar, image_});
    ASSERT_TRUE(imported.status.ok()) << imported.err;
    imported_ = true;

    name_ = "cvrun-it-e2e-" + GetParam();
    auto run = Podman({"run", "-d", "--name", name_, "-v", dir_ + "/out:/out", image_, "/bin/sh",
                       "-c", kInitScript});
    run_ = run;
    id_ = Trim(run.out);
    ASSERT_TRUE(run.status.ok()) << run.err;
    ASSERT_EQ(id_.size(), 64u) << "run -d prints the full container id: " << run.out;
    auto fields = Split(Inspect("{{.State.Pid}} {{.GraphDriver.Data.MergedDir}}"), ' ');
    ASSERT_EQ(fields.size(), 2u);
    pid_ = std::atoi(fields[0].c_str());
    ASSERT_GT(pid_, 0);
    merged_dir_ = fields[1];
    ASSERT_TRUE(WaitForTick(0, 5s)) << "the container's counter never started";
  }

  void TearDown() override {
    if (!id_.empty()) {
      auto rm = Podman({"rm", "-f", "-t", "0", id_});
      EXPECT_TRUE(rm.status.ok()) << rm.err;
    }
    if (imported_) {
      auto rmi = Podman({"rmi", "-f", image_});
      EXPECT_TRUE(rmi.status.ok()) << rmi.err;
    }
    if (!id_.empty()) {
      auto left = LeftBehind();
      EXPECT_TRUE(left.empty()) << ::testing::PrintToString(left);
    }
    ReapOrphans();
    (void)RemoveTree(TestDir());
  }

  // podman with this test's store, configuration and runtime.
  RunOutput Podman(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 60s) {
    std::vector<std::string> argv = {"podman",      "--root",          dir_ + "/root",
                                     "--runroot",   dir_ + "/runroot", "--tmpdir",
                                     dir_ + "/tmp", "--runtime",       RuntimeBinary(GetParam())};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = cvb::Run(argv, timeout, options_);
    if (!result.ok()) return RunOutput{ExitStatus{}, "", result.error().message()};
    return *result;
  }

  std::string Inspect(const std::string& format) {
    return Trim(Podman({"inspect", "--format", format, id_}).out);
  }

  long Tick() {
    auto text = ReadFile(dir_ + "/out/tick");
    return text.ok() ? std::atol(text->c_str()) : 0;
  }
  // Whether the counter goes past `above` within timeout.
  bool WaitForTick(long above, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Tick() > above) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // What the container left: the store's entry, runtime state, cgroup directories, mounts,
  // processes whose command line names it (conmon, podman's exit command). Processes get a few
  // seconds: conmon and `podman container cleanup` may still be exiting when rm returns.
  std::vector<std::string> LeftBehind() {
    std::vector<std::string> left;
    auto ps = Podman({"ps", "-a", "-q", "--no-trunc"});
    if (ps.out.find(id_) != std::string::npos) left.push_back("container in podman's store");
    for (const char* runtime : {"crun", "cvrun"})
      if (PathExists(RuntimeStateDir(runtime, id_)))
        left.push_back("state " + RuntimeStateDir(runtime, id_));
    for (const auto& hierarchy : ListDirectory("/sys/fs/cgroup")) {
      // Only real hierarchies: under the host conditions /sys/fs/cgroup/unified is a private
      // tmpfs in which crun (v1 mode) makes a directory per container and never removes it; it
      // is no cgroup and vanishes with this test's mount namespace.
      struct statfs fs;
      if (::statfs(("/sys/fs/cgroup/" + hierarchy).c_str(), &fs) != 0 ||
          (fs.f_type != CGROUP_SUPER_MAGIC && fs.f_type != CGROUP2_SUPER_MAGIC))
        continue;
      std::string parent = "/sys/fs/cgroup/" + hierarchy + "/libpod_parent";
      for (const auto& child : ListDirectory(parent))
        if (child.find(id_) != std::string::npos) left.push_back("cgroup " + parent + "/" + child);
    }
    if (auto mi = ReadFile("/proc/self/mountinfo"); mi.ok())
      for (const auto& line : Split(*mi, '\n'))
        if (line.find(id_) != std::string::npos ||
            (!merged_dir_.empty() && line.find(merged_dir_) != std::string::npos))
          left.push_back("mount " + line);
    if (ProcessAlive(pid_)) left.push_back("container init " + std::to_string(pid_));
    auto deadline = std::chrono::steady_clock::now() + 5s;
    std::vector<std::string> processes;
    do {
      ReapOrphans();
      processes.clear();
      for (const auto& entry : ListDirectory("/proc")) {
        if (entry.empty() || entry[0] < '0' || entry[0] > '9') continue;
        auto cmdline = ReadFile("/proc/" + entry + "/cmdline");
        if (cmdline.ok() && cmdline->find(id_) != std::string::npos)
          processes.push_back("process " + entry + ": " + cmdline->substr(0, 80));
      }
      if (processes.empty()) break;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    left.insert(left.end(), processes.begin(), processes.end());
    return left;
  }

  static inline std::string conditions_error_;
  SpawnOptions options_;
  std::string dir_, image_, name_, id_, merged_dir_;
  bool imported_ = false;
  RunOutput run_;
  pid_t pid_ = -1;
};

// Every step runs with crun and with cvrun; crun's behaviour is what cvrun is held to.
class PodmanE2EBoth : public PodmanE2E {};

// run -d: the full id on stdout, state running, the init is the command in its own pid
// namespace, conmon watches it.
TEST_P(PodmanE2EBoth, RunDetached) {
  EXPECT_EQ(run_.out, id_ + "\n");
  EXPECT_EQ(Inspect("{{.State.Status}}"), "running");
  auto cmdline = ReadFile("/proc/" + std::to_string(pid_) + "/cmdline");
  ASSERT_TRUE(cmdline.ok());
  EXPECT_NE(cmdline->find("trap 'exit 0' TERM"), std::string::npos);
  char own[64] = {}, theirs[64] = {};
  ASSERT_GT(readlink("/proc/self/ns/pid", own, sizeof(own) - 1), 0);
  ASSERT_GT(
      readlink(("/proc/" + std::to_string(pid_) + "/ns/pid").c_str(), theirs, sizeof(theirs) - 1),
      0);
  EXPECT_STRNE(own, theirs) << "the container shares the host's pid namespace";
  pid_t conmon = std::atoi(Inspect("{{.State.ConmonPid}}").c_str());
  ASSERT_GT(conmon, 0);
  auto conmon_cmdline = ReadFile("/proc/" + std::to_string(conmon) + "/cmdline");
  ASSERT_TRUE(conmon_cmdline.ok());
  EXPECT_NE(conmon_cmdline->find(id_), std::string::npos);
  EXPECT_TRUE(PathExists(RuntimeStateDir(GetParam(), id_)))
      << "podman passes no --root: the runtime keeps its state in its default root";
}

// top: podman's table, the init as PID 1 with its command.
TEST_P(PodmanE2EBoth, Top) {
  auto top = Podman({"top", id_});
  ASSERT_TRUE(top.status.ok()) << top.err;
  auto lines = Split(top.out, '\n');
  ASSERT_GE(lines.size(), 2u) << top.out;
  std::vector<std::string> header;
  for (const auto& field : Split(lines[0], ' ')) header.push_back(field);
  EXPECT_EQ(header, (std::vector<std::string>{"USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY",
                                              "TIME", "COMMAND"}));
  bool init_listed = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto fields = Split(lines[i], ' ');
    if (fields.size() >= 8 && fields[1] == "1" && lines[i].find("sh -c trap") != std::string::npos)
      init_listed = true;
  }
  EXPECT_TRUE(init_listed) << top.out;
}

// stop: prints the name, SIGTERM reaches the init (it exits 0 by itself, long before the
// timeout would have podman send SIGKILL), the init and conmon are gone.
TEST_P(PodmanE2EBoth, Stop) {
  pid_t conmon = std::atoi(Inspect("{{.State.ConmonPid}}").c_str());
  auto start = std::chrono::steady_clock::now();
  auto stop = Podman({"stop", "-t", "20", id_});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(stop.status.ok()) << stop.err;
  EXPECT_EQ(stop.out, id_ + "\n");
  EXPECT_LT(took, 10s) << "SIGTERM did not stop the init: podman waited for its timeout";
  EXPECT_EQ(Inspect("{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
  EXPECT_FALSE(ProcessAlive(pid_));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (ProcessAlive(conmon) && std::chrono::steady_clock::now() < deadline) {
    ReapOrphans();
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(ProcessAlive(conmon)) << "conmon outlived its container";
}

// rm (after stop): prints the name and leaves nothing (checked here, before TearDown's rm -f
// could hide what rm left).
TEST_P(PodmanE2EBoth, Rm) {
  auto stop = Podman({"stop", "-t", "20", id_});
  ASSERT_TRUE(stop.status.ok()) << stop.err;
  auto rm = Podman({"rm", id_});
  ASSERT_TRUE(rm.status.ok()) << rm.err;
  EXPECT_EQ(rm.out, id_ + "\n");
  auto left = LeftBehind();
  EXPECT_TRUE(left.empty()) << ::testing::PrintToString(left);
  id_.clear();  // nothing for TearDown to remove
  auto rmi = Podman({"rmi", "-f", image_});
  EXPECT_TRUE(rmi.status.ok()) << rmi.err;
  imported_ = false;
}

// stats --no-stream: one JSON record with the name, the init's processes and some memory (podman
// reads the container's cgroups itself with cgroup_manager = cgroupfs); the table's columns.
TEST_P(PodmanE2EBoth, StatsNoStream) {
  auto stats = Podman({"stats", "--no-stream", "--format", "json", id_});
  ASSERT_TRUE(stats.status.ok()) << stats.err;
  auto records = nlohmann::json::parse(stats.out, nullptr, false);
  ASSERT_TRUE(records.is_array() && records.size() == 1) << stats.out;
  const auto& record = records[0];
  EXPECT_EQ(record.value("name", ""), name_);
  EXPECT_GE(std::atoi(record.value("pids", "0").c_str()), 1) << stats.out;
  std::string memory = record.value("mem_usage", "");
  EXPECT_NE(memory.rfind("0B", 0), 0u) << "no memory charged to the container: " << memory;
  EXPECT_NE(memory.find(" / "), std::string::npos) << memory;
  auto table = Podman({"stats", "--no-stream", id_});
  ASSERT_TRUE(table.status.ok()) << table.err;
  auto lines = Split(table.out, '\n');
  ASSERT_EQ(lines.size(), 2u) << table.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u) << table.out;
  EXPECT_NE(lines[0].find("MEM USAGE / LIMIT"), std::string::npos) << table.out;
  EXPECT_NE(lines[1].find(name_), std::string::npos) << table.out;
}

// exec: the command runs in the container's pid namespace and cgroups, its stdout, stderr and
// exit status come back apart.
TEST_P(PodmanE2EBoth, Exec) {
  auto exec = Podman({"exec", id_, "/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(exec.status.code, 3) << exec.status.describe() << " " << exec.err;
  EXPECT_EQ(exec.out, "out\n");
  EXPECT_EQ(exec.err, "err\n");
  auto init = Podman({"exec", id_, "/bin/cat", "/proc/1/cmdline"});
  ASSERT_TRUE(init.status.ok()) << init.err;
  EXPECT_NE(init.out.find("trap 'exit 0' TERM"), std::string::npos)
      << "exec does not see the container's init as pid 1: " << init.out;
  auto cgroups = Podman({"exec", id_, "/bin/cat", "/proc/self/cgroup"});
  ASSERT_TRUE(cgroups.status.ok()) << cgroups.err;
  auto init_cgroups = ReadFile("/proc/" + std::to_string(pid_) + "/cgroup");
  ASSERT_TRUE(init_cgroups.ok());
  EXPECT_EQ(cgroups.out, *init_cgroups) << "exec did not join the init's cgroups";
}

// exec -t: podman hands the runtime conmon's --console-socket; the command gets a pty (its
// output comes back with the terminal's \r\n) and its exit status.
TEST_P(PodmanE2EBoth, ExecTty) {
  auto exec = Podman({"exec", "-t", id_, "/bin/sh", "-c", "tty; echo hi; exit 3"});
  EXPECT_EQ(exec.status.code, 3) << exec.status.describe() << " " << exec.err;
  EXPECT_EQ(exec.out.rfind("/dev/pts/", 0), 0u) << exec.out;
  EXPECT_NE(exec.out.find("\r\nhi\r\n"), std::string::npos) << exec.out;
}

// pause / unpause: the freezer holds every process (the counter stops, the cgroup says FROZEN),
// podman says paused; unpause lets it run again.
TEST_P(PodmanE2EBoth, PauseUnpause) {
  auto pause = Podman({"pause", id_});
  ASSERT_TRUE(pause.status.ok()) << pause.err;
  EXPECT_EQ(pause.out, id_ + "\n");
  EXPECT_EQ(Inspect("{{.State.Status}}"), "paused");
  std::string freezer = CgroupPathOf(pid_, "freezer");
  if (!freezer.empty()) {
    auto state = ReadFile("/sys/fs/cgroup/freezer" + freezer + "/freezer.state");
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(Trim(*state), "FROZEN");
  } else {
    auto events = ReadFile("/sys/fs/cgroup" + CgroupPathOf(pid_, "") + "/cgroup.events");
    ASSERT_TRUE(events.ok());
    EXPECT_NE(events->find("frozen 1"), std::string::npos) << *events;
  }
  long frozen_at = Tick();
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(Tick(), frozen_at) << "the container's processes kept running while paused";
  auto unpause = Podman({"unpause", id_});
  ASSERT_TRUE(unpause.status.ok()) << unpause.err;
  EXPECT_EQ(unpause.out, id_ + "\n");
  EXPECT_EQ(Inspect("{{.State.Status}}"), "running");
  EXPECT_TRUE(WaitForTick(frozen_at, 3s)) << "the counter did not resume after unpause";
}

// update --memory: the new limit is in force in the container's memory cgroup, live.
TEST_P(PodmanE2EBoth, UpdateMemory) {
  auto update = Podman({"update", "--memory", "100m", id_});
  ASSERT_TRUE(update.status.ok()) << update.err;
  EXPECT_EQ(update.out, id_ + "\n");
  std::string memory = CgroupPathOf(pid_, "memory");
  std::string limit_file = memory.empty()
                               ? "/sys/fs/cgroup" + CgroupPathOf(pid_, "") + "/memory.max"
                               : "/sys/fs/cgroup/memory" + memory + "/memory.limit_in_bytes";
  auto limit = ReadFile(limit_file);
  ASSERT_TRUE(limit.ok()) << limit_file;
  EXPECT_EQ(Trim(*limit), "104857600");
  EXPECT_EQ(Inspect("{{.State.Status}}"), "running");
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Runtimes, PodmanE2EBoth, ::testing::Values("crun", "cvrun"), ParamName);

}  // namespace
}  // namespace cvb::runtime::testenv
