// cvrun under containerd, end to end (issue 22 part 3): `ctr run --runc-binary <runtime>` (the
// io.containerd.runc.v2 shim driving it), `ctr task exec`, `pause`/`resume`, `metrics`, `kill`,
// `delete`, with runc and with cvrun on a containerd of the test's own (engine_env.h), each held
// to what runc does and to its effect on the host (the task's cgroup files, its process).
//
// As in docker_e2e_test.cc every check returns its problems, and ContainerdE2EFault runs each
// against a cvrun that breaks the step, to see it fail. Tasks run in the containerd namespace
// "cvrun-it-e2e" with the runtime's root and the fifos under the instance's state directory.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <thread>

#include "cvb/common/file.h"
#include "engine_env.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using namespace std::chrono_literals;
using Problems = std::vector<std::string>;

const char kNs[] = "cvrun-it-e2e";
const char kInit[] =
    "trap 'exit 0' TERM; echo started; i=0; "
    "while :; do i=$((i+1)); echo $i > /out/tick; sleep 0.1; done";
constexpr long long kMemoryLimit = 64LL << 20;

std::string Describe(const RunOutput& r) {
  return "(" + r.status.describe() + ") stdout: " + r.out.substr(0, 400) +
         " stderr: " + r.err.substr(0, 400);
}
void Expect(Problems& p, bool ok, const std::string& what) {
  if (!ok) p.push_back(what);
}
std::string Join(const Problems& p) {
  std::string s;
  for (const auto& x : p) s += "\n  - " + x;
  return s;
}

struct Task {
  const EngineEnv* env = nullptr;
  std::string runtime, id, out_dir, log;
  pid_t pid = -1;
  RunOutput run;

  RunOutput Ctr(const std::vector<std::string>& args) const { return env->Ctr(kNs, args); }
  // The STATUS column of `ctr task ls` for this task ("" when it is not listed).
  std::string Status() const {
    for (const auto& line : Split(Ctr({"task", "ls"}).out, '\n')) {
      auto f = Split(line, ' ');
      std::vector<std::string> fields;
      for (const auto& x : f)
        if (!x.empty()) fields.push_back(x);
      if (fields.size() == 3 && fields[0] == id) return fields[2];
    }
    return "";
  }
  long Tick() const {
    auto text = ReadFile(out_dir + "/tick");
    return text.ok() ? std::atol(text->c_str()) : 0;
  }
  bool WaitForTick(long above, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Tick() > above) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  std::string RuntimeRoot() const { return env->containerd_state + "/runc"; }
  std::string StateDir() const { return RuntimeRoot() + "/" + kNs + "/" + id; }
};

class ContainerdE2E : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    env_ = &Engines(/*with_docker=*/false);
    if (!env_->skip_reason.empty()) GTEST_SKIP() << env_->skip_reason;
    ASSERT_TRUE(env_->setup_error.empty()) << env_->setup_error;
    env_->SetFault("");
  }

  void TearDown() override {
    if (!env_ || !env_->skip_reason.empty()) return;
    env_->SetFault("");
    for (auto& t : tasks_) {
      t.Ctr({"task", "kill", "-s", "SIGKILL", t.id});
      for (int i = 0; i < 50 && t.Status() == "RUNNING"; ++i) std::this_thread::sleep_for(50ms);
      t.Ctr({"task", "delete", "-f", t.id});
      t.Ctr({"container", "delete", t.id});
      (void)RemoveTree(t.out_dir);
    }
  }

  Task& Start(const std::string& runtime) {
    static int counter = 0;
    Task& t = tasks_.emplace_back();
    t.env = env_;
    t.runtime = runtime;
    t.id = "cvrun-it-" + runtime + "-" + std::to_string(++counter);
    t.out_dir = env_->dir + "/" + t.id;
    t.log = env_->dir + "/" + t.id + ".log";
    (void)MakeDirs(t.out_dir);
    t.run = t.Ctr({"run", "-d", "--runc-binary", RuntimePath(runtime), "--runc-root",
                   t.RuntimeRoot(), "--fifo-dir", env_->containerd_state + "/fifo", "--log-uri",
                   "file://" + t.log, "--memory-limit", std::to_string(kMemoryLimit), "--mount",
                   "type=bind,src=" + t.out_dir + ",dst=/out,options=rbind:rw", env_->image, t.id,
                   "/bin/sh", "-c", kInit});
    for (const auto& line : Split(t.Ctr({"task", "ls"}).out, '\n')) {
      std::vector<std::string> fields;
      for (const auto& x : Split(line, ' '))
        if (!x.empty()) fields.push_back(x);
      if (fields.size() == 3 && fields[0] == t.id) t.pid = std::atoi(fields[1].c_str());
    }
    return t;
  }

  // ctr run -d: the task runs, its init is the command in a pid namespace of its own, in ctr's
  // cgroup (/<namespace>/<id>) with the memory limit in force; the runtime keeps its state in the
  // root ctr gave it; the init's stdout reaches the log.
  Problems CheckRun(const Task& t) {
    Problems p;
    if (!t.run.status.ok()) return {"ctr run -d failed " + Describe(t.run)};
    Expect(p, t.Status() == "RUNNING", "task status " + t.Status());
    Expect(p, t.pid > 0 && ProcessAlive(t.pid), "the init is not alive");
    auto cmdline = ReadFile("/proc/" + std::to_string(t.pid) + "/cmdline");
    Expect(p, cmdline.ok() && cmdline->find("trap 'exit 0' TERM") != std::string::npos,
           "the init is not the task's command");
    char own[64] = {}, theirs[64] = {};
    (void)readlink("/proc/self/ns/pid", own, sizeof own - 1);
    (void)readlink(("/proc/" + std::to_string(t.pid) + "/ns/pid").c_str(), theirs,
                   sizeof theirs - 1);
    Expect(p, std::string(own) != theirs, "the task shares the host's pid namespace");
    std::string memcg = CgroupOf(t.pid, "memory");
    Expect(p, memcg == std::string("/") + kNs + "/" + t.id, "memory cgroup " + memcg);
    Expect(p, CgroupFile(t.pid, "memory", "memory.limit_in_bytes") == std::to_string(kMemoryLimit),
           "memory.limit_in_bytes " + CgroupFile(t.pid, "memory", "memory.limit_in_bytes"));
    Expect(p, PathExists(t.StateDir()), "no runtime state at " + t.StateDir());
    Expect(p, t.WaitForTick(0, 5s), "the task's counter never started");
    auto log = ReadFile(t.log);
    Expect(p, log.ok() && log->find("started") != std::string::npos, "the log lacks the output");
    return p;
  }

  // task exec: output and exit status of a process in the task's pid namespace and cgroups.
  Problems CheckExec(const Task& t) {
    Problems p;
    auto r = t.Ctr({"task", "exec", "--exec-id", "probe", "--fifo-dir",
                    env_->containerd_state + "/fifo", t.id, "/bin/sh", "-c",
                    "cat /proc/1/cmdline; echo; cat /proc/self/cgroup; exit 3"});
    Expect(p, r.status.code == 3, "task exec exit status " + Describe(r));
    Expect(p, r.out.find("trap 'exit 0' TERM") != std::string::npos,
           "exec does not see the init as pid 1 " + Describe(r));
    auto init_cgroups = ReadFile("/proc/" + std::to_string(t.pid) + "/cgroup");
    Expect(p, init_cgroups.ok() && r.out.find(*init_cgroups) != std::string::npos,
           "exec did not join the init's cgroups " + Describe(r));
    return p;
  }

  // pause / resume: the freezer holds the task (counter stops, FROZEN, PAUSED), resume undoes it.
  Problems CheckPauseResume(const Task& t) {
    Problems p;
    auto pause = t.Ctr({"task", "pause", t.id});
    Expect(p, pause.status.ok(), "task pause " + Describe(pause));
    if (!pause.status.ok()) return p;
    Expect(p, t.Status() == "PAUSED", "status " + t.Status());
    Expect(p, CgroupFile(t.pid, "freezer", "freezer.state") == "FROZEN",
           "freezer.state " + CgroupFile(t.pid, "freezer", "freezer.state"));
    long at = t.Tick();
    std::this_thread::sleep_for(500ms);
    Expect(p, t.Tick() == at, "the counter kept going while paused");
    auto resume = t.Ctr({"task", "resume", t.id});
    Expect(p, resume.status.ok(), "task resume " + Describe(resume));
    Expect(p, t.Status() == "RUNNING", "status after resume " + t.Status());
    Expect(p, t.WaitForTick(at, 3s), "the counter did not resume");
    return p;
  }

  // metrics: the shim reads the task's cgroups: the memory limit ctr set, some usage, its pids.
  Problems CheckMetrics(const Task& t) {
    Problems p;
    auto r = t.Ctr({"task", "metrics", t.id});
    Expect(p, r.status.ok(), "task metrics " + Describe(r));
    auto value = [&](const std::string& metric) {
      for (const auto& line : Split(r.out, '\n')) {
        std::vector<std::string> fields;
        for (const auto& x : Split(line, ' '))
          if (!x.empty()) fields.push_back(x);
        if (fields.size() >= 2 && fields[0] == metric) return fields[1];
      }
      return std::string("<missing>");
    };
    Expect(p, value("memory.limit_in_bytes") == std::to_string(kMemoryLimit),
           "metrics memory.limit_in_bytes " + value("memory.limit_in_bytes"));
    Expect(p, std::atoll(value("memory.usage_in_bytes").c_str()) > 0,
           "metrics memory.usage_in_bytes " + value("memory.usage_in_bytes"));
    Expect(p, std::atoi(value("pids.current").c_str()) >= 1,
           "metrics pids.current " + value("pids.current"));
    return p;
  }

  // kill -s SIGTERM: the init's trap exits 0; the task is STOPPED and its init gone.
  Problems CheckKill(const Task& t) {
    Problems p;
    auto r = t.Ctr({"task", "kill", "-s", "SIGTERM", t.id});
    Expect(p, r.status.ok(), "task kill " + Describe(r));
    auto deadline = std::chrono::steady_clock::now() + 4s;
    while (t.Status() != "STOPPED" && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    Expect(p, t.Status() == "STOPPED", "status after SIGTERM " + t.Status());
    Expect(p, !ProcessAlive(t.pid), "the init survived SIGTERM");
    return p;
  }

  // delete (after kill): the exit status, then the task, the runtime's state, the cgroup, the
  // container and its snapshot are gone, and so is the shim.
  Problems CheckDelete(Task& t) {
    Problems p;
    std::string memcg = std::string("/sys/fs/cgroup/memory/") + kNs + "/" + t.id;
    auto r = t.Ctr({"task", "delete", t.id});
    Expect(p, r.status.ok(), "task delete " + Describe(r));
    Expect(p, r.out.find("exited with status 0") != std::string::npos ||
                  r.out.empty(),  // ctr prints the status only for a non-zero one
           "task delete output " + Describe(r));
    Expect(p, t.Status().empty(), "still listed by ctr task ls: " + t.Status());
    Expect(p, !PathExists(t.StateDir()), "runtime state left: " + t.StateDir());
    Expect(p, !PathExists(memcg), "cgroup left: " + memcg);
    auto c = t.Ctr({"container", "delete", t.id});
    Expect(p, c.status.ok(), "container delete " + Describe(c));
    auto snapshots = t.Ctr({"snapshots", "ls"});
    Expect(p, snapshots.out.find(t.id) == std::string::npos, "snapshot left: " + snapshots.out);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    bool shim = true;
    while (shim && std::chrono::steady_clock::now() < deadline) {
      shim = false;
      for (const auto& entry : ListDirectory("/proc")) {
        if (entry.empty() || entry[0] < '0' || entry[0] > '9') continue;
        auto cmdline = ReadFile("/proc/" + entry + "/cmdline");
        shim |= cmdline.ok() && cmdline->find(std::string("-id\0", 4) + t.id) != std::string::npos;
      }
      if (shim) std::this_thread::sleep_for(100ms);
    }
    Expect(p, !shim, "the task's shim is left");
    return p;
  }

  const EngineEnv* env_ = nullptr;
  std::deque<Task> tasks_;
};

class ContainerdE2EBoth : public ContainerdE2E {};

TEST_P(ContainerdE2EBoth, Run) {
  auto& t = Start(GetParam());
  EXPECT_EQ(Join(CheckRun(t)), "");
}

TEST_P(ContainerdE2EBoth, TaskExec) {
  auto& t = Start(GetParam());
  ASSERT_EQ(Join(CheckRun(t)), "");
  EXPECT_EQ(Join(CheckExec(t)), "");
}

TEST_P(ContainerdE2EBoth, PauseResume) {
  auto& t = Start(GetParam());
  ASSERT_EQ(Join(CheckRun(t)), "");
  EXPECT_EQ(Join(CheckPauseResume(t)), "");
}

TEST_P(ContainerdE2EBoth, Metrics) {
  auto& t = Start(GetParam());
  ASSERT_EQ(Join(CheckRun(t)), "");
  EXPECT_EQ(Join(CheckMetrics(t)), "");
}

TEST_P(ContainerdE2EBoth, KillThenDelete) {
  auto& t = Start(GetParam());
  ASSERT_EQ(Join(CheckRun(t)), "");
  EXPECT_EQ(Join(CheckKill(t)), "");
  EXPECT_EQ(Join(CheckDelete(t)), "");
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }
INSTANTIATE_TEST_SUITE_P(Runtimes, ContainerdE2EBoth, ::testing::Values("runc", "cvrun"),
                         ParamName);

class ContainerdE2EFault : public ContainerdE2E {
 protected:
  void ExpectCaught(const Problems& p, const std::string& fault) {
    EXPECT_FALSE(p.empty()) << "the check did not notice fault " << fault;
  }
};

TEST_F(ContainerdE2EFault, RunCatchesAFailingCreate) {
  env_->SetFault("fail:create");
  auto& t = Start("cvrun-faulty");
  ExpectCaught(CheckRun(t), "fail:create");
  EXPECT_NE(t.run.err.find("injected fault: create"), std::string::npos) << t.run.err;
}

TEST_F(ContainerdE2EFault, RunAndMetricsCatchAnIgnoredMemoryLimit) {
  env_->SetFault("nolimit:create");
  auto& t = Start("cvrun-faulty");
  ExpectCaught(CheckRun(t), "nolimit:create");
  ExpectCaught(CheckMetrics(t), "nolimit:create");
}

TEST_F(ContainerdE2EFault, ExecCatchesAFailingExec) {
  auto& t = Start("cvrun-faulty");
  ASSERT_EQ(Join(CheckRun(t)), "");
  env_->SetFault("fail:exec");
  ExpectCaught(CheckExec(t), "fail:exec");
}

TEST_F(ContainerdE2EFault, PauseCatchesAFailingPause) {
  auto& t = Start("cvrun-faulty");
  ASSERT_EQ(Join(CheckRun(t)), "");
  env_->SetFault("fail:pause");
  auto p = CheckPauseResume(t);
  ExpectCaught(p, "fail:pause");
  EXPECT_NE(Join(p).find("injected fault: pause"), std::string::npos) << Join(p);
}

TEST_F(ContainerdE2EFault, KillCatchesASignalNotSent) {
  auto& t = Start("cvrun-faulty");
  ASSERT_EQ(Join(CheckRun(t)), "");
  env_->SetFault("noop:kill");
  ExpectCaught(CheckKill(t), "noop:kill");
}

// The runtime's state and cgroup a failed delete leaves are removed with the real cvrun after
// the check, so the binary's leak check sees the host as before.
TEST_F(ContainerdE2EFault, DeleteCatchesAFailingDelete) {
  auto& t = Start("cvrun-faulty");
  ASSERT_EQ(Join(CheckRun(t)), "");
  ASSERT_EQ(Join(CheckKill(t)), "");
  env_->SetFault("fail:delete");
  ExpectCaught(CheckDelete(t), "fail:delete");
  env_->SetFault("");
  auto cleanup = EngineEnv::Command(
      {CVRUN_BINARY, "--root", t.RuntimeRoot() + "/" + kNs, "delete", "--force", t.id});
  EXPECT_TRUE(cleanup.status.ok() || cleanup.err.find("does not exist") != std::string::npos)
      << Describe(cleanup);
}

class EnginesStop : public ::testing::Environment {
 public:
  void TearDown() override {
    auto left = StopEngines();
    EXPECT_TRUE(left.empty()) << "left behind:" << Join(left);
  }
};
const auto* const kEnginesStop = ::testing::AddGlobalTestEnvironment(new EnginesStop);

}  // namespace
}  // namespace cvb::runtime::testenv
