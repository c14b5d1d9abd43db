// Real containers, as root: pause/resume (the effect seen from outside: frozen tasks, a counter
// that stops), and the runtime spec's MUSTs for every lifecycle operation (runtime.md
// "Lifecycle", "Operations"): start only a created container, kill only a created or running one,
// delete only a stopped one, the states in their order, the pid file by the time create returns.
// Every test ends by checking that nothing is left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/line_reader.h"
#include "cvb/common/subprocess.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using nlohmann::json;

const auto* const g_cleanup = testing::AddGlobalTestEnvironment(new TestDirCleanup);

std::string Id(const std::string& name) { return "cvrun-it-" + name; }

std::string Status(const std::string& id) {
  auto r = Cvrun({"state", id});
  if (r.status.code != 0) return "<state failed: " + r.err + ">";
  return json::parse(r.out).value("status", "<none>");
}

pid_t Pid(const std::string& id) { return json::parse(Cvrun({"state", id}).out).value("pid", 0); }

// A container whose shell counts in /tmp/count (forking a `sleep` every 20 ms, so that the
// freezer has to catch new tasks too), read from outside through /proc/PID/root.
json CounterConfig(const std::string& name) {
  return BaseConfig({"/bin/sh", "-c",
                     std::string("i=0; while :; do i=$((i+1)); echo $i > /tmp/count; "
                                 "sleep 0.02; done; ") +
                         kMarker()},
                    name);
}

long Counter(pid_t pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/root/tmp/count");
  return text.ok() ? std::atol(text->c_str()) : -1;
}

// The state letter of /proc/PID/stat (R, S, D, ...).
char TaskState(pid_t pid) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text.ok()) return '?';
  auto close = text->rfind(')');
  return close == std::string::npos || close + 2 >= text->size() ? '?' : (*text)[close + 2];
}

bool WaitFor(const std::function<bool()>& done, int timeout_ms = 5000) {
  for (int waited = 0; waited < timeout_ms; waited += 10) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// The container's freezer.state (v1/hybrid) or cgroup.freeze (v2), read from the host.
std::string FreezerFile(pid_t pid) {
  auto cg = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (!cg.ok()) return "<no /proc/PID/cgroup>";
  for (const auto& line : Split(*cg, '\n')) {
    auto at = line.find(":freezer:");
    if (at != std::string::npos) {
      auto s = ReadFile("/sys/fs/cgroup/freezer" + line.substr(at + 9) + "/freezer.state");
      return s.ok() ? Trim(*s) : "<unreadable>";
    }
  }
  for (const auto& line : Split(*cg, '\n'))
    if (line.rfind("0::", 0) == 0) {
      auto s = ReadFile("/sys/fs/cgroup" + line.substr(3) + "/cgroup.freeze");
      return s.ok() ? Trim(*s) : "<unreadable>";
    }
  return "<no freezer>";
}

TEST(Pause, FreezesEveryTaskAndResumeThawsThem) {
  REQUIRE_ROOT();
  std::string id = Id("pause");
  ASSERT_EQ(Cvrun({"run", "--detach", "--bundle", WriteBundle("pause", CounterConfig("pause")), id})
                .status.code,
            0);
  pid_t pid = Pid(id);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitFor([&] { return Counter(pid) > 2; })) << "the counter never started";
  EXPECT_EQ(Status(id), "running");
  // Resuming a running container fails and changes nothing.
  auto resume_running = Cvrun({"resume", id});
  EXPECT_NE(resume_running.status.code, 0);
  EXPECT_NE(resume_running.err.find("is running: only a paused container can be resumed"),
            std::string::npos)
      << resume_running.err;

  auto pause = Cvrun({"pause", id});
  ASSERT_EQ(pause.status.code, 0) << pause.err;
  EXPECT_EQ(Status(id), "paused");
  EXPECT_TRUE(FreezerFile(pid) == "FROZEN" || FreezerFile(pid) == "1") << FreezerFile(pid);
  // Every task of the container is frozen: the kernel shows a frozen task as D.
  auto ps = json::parse(Cvrun({"ps", "--format", "json", id}).out);
  ASSERT_FALSE(ps.empty());
  for (pid_t task : ps.get<std::vector<pid_t>>())
    EXPECT_EQ(TaskState(task), 'D') << "task " << task << " is not frozen";
  long frozen_at = Counter(pid);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(Counter(pid), frozen_at) << "the counter advanced while paused";
  // Pausing twice fails (the container is not running).
  auto again = Cvrun({"pause", id});
  EXPECT_NE(again.status.code, 0);
  EXPECT_NE(again.err.find("is paused: only a running container can be paused"), std::string::npos)
      << again.err;
  // delete without --force refuses a paused container.
  auto del = Cvrun({"delete", id});
  EXPECT_NE(del.status.code, 0);
  EXPECT_NE(del.err.find("is paused"), std::string::npos) << del.err;

  auto resume = Cvrun({"resume", id});
  ASSERT_EQ(resume.status.code, 0) << resume.err;
  EXPECT_EQ(Status(id), "running");
  EXPECT_TRUE(WaitFor([&] { return Counter(pid) > frozen_at + 2; }))
      << "the counter did not advance after resume";
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Pause, KillOfAPausedContainerKillsIt) {
  REQUIRE_ROOT();
  std::string id = Id("pausekill");
  ASSERT_EQ(Cvrun({"run", "--detach", "--bundle",
                   WriteBundle("pausekill", CounterConfig("pausekill")), id})
                .status.code,
            0);
  pid_t pid = Pid(id);
  ASSERT_TRUE(WaitFor([&] { return Counter(pid) > 0; }));
  ASSERT_EQ(Cvrun({"pause", id}).status.code, 0);
  ASSERT_EQ(Status(id), "paused");
  auto kill = Cvrun({"kill", id, "KILL"});
  ASSERT_EQ(kill.status.code, 0) << kill.err;
  int status = 0;
  auto reaped = std::async(std::launch::async, [&] { return waitpid(pid, &status, 0); });
  ASSERT_EQ(reaped.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "a SIGKILLed paused container did not die";
  EXPECT_EQ(reaped.get(), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_EQ(Status(id), "stopped");
  EXPECT_EQ(Cvrun({"delete", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Pause, DeleteForceOfAPausedContainerLeavesNothing) {
  REQUIRE_ROOT();
  std::string id = Id("pausedel");
  ASSERT_EQ(
      Cvrun({"run", "--detach", "--bundle", WriteBundle("pausedel", CounterConfig("pausedel")), id})
          .status.code,
      0);
  pid_t pid = Pid(id);
  ASSERT_TRUE(WaitFor([&] { return Counter(pid) > 0; }));
  ASSERT_EQ(Cvrun({"pause", id}).status.code, 0);
  auto del = Cvrun({"delete", "--force", id});
  EXPECT_EQ(del.status.code, 0) << del.err;
  EXPECT_NO_LEAKS();
}

TEST(Pause, OnlyARunningContainerCanBePaused) {
  REQUIRE_ROOT();
  std::string id = Id("pausecreated");
  ASSERT_EQ(
      Cvrun({"create", "--bundle", WriteBundle("pausecreated", CounterConfig("pausecreated")), id})
          .status.code,
      0);
  auto pause = Cvrun({"pause", id});
  EXPECT_NE(pause.status.code, 0);
  EXPECT_NE(pause.err.find("is created: only a running container can be paused"), std::string::npos)
      << pause.err;
  EXPECT_EQ(Status(id), "created");
  auto ghost = Cvrun({"pause", Id("ghost")});
  EXPECT_NE(ghost.status.code, 0);
  EXPECT_NE(ghost.err.find("does not exist"), std::string::npos) << ghost.err;
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

// runtime.md "Lifecycle" and "Operations", one MUST at a time.
TEST(SpecMust, PidFileIsWrittenWhenCreateReturns) {
  REQUIRE_ROOT();
  std::string id = Id("pidfile");
  std::string pid_file = TestDir() + "/pidfile.pid";
  auto c = Cvrun({"create", "--pid-file", pid_file, "--bundle",
                  WriteBundle("pidfile", CounterConfig("pidfile")), id});
  ASSERT_EQ(c.status.code, 0) << c.err;
  // No waiting: the file is there, complete, the moment create has returned.
  auto text = ReadFile(pid_file);
  ASSERT_TRUE(text.ok()) << "no pid file when create returned";
  EXPECT_EQ(std::atoi(text->c_str()), Pid(id));
  EXPECT_EQ(kill(std::atoi(text->c_str()), 0), 0);
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(SpecMust, StartOfAContainerThatIsNotCreatedFailsAndChangesNothing) {
  REQUIRE_ROOT();
  std::string id = Id("start2");
  ASSERT_EQ(
      Cvrun({"create", "--bundle", WriteBundle("start2", CounterConfig("start2")), id}).status.code,
      0);
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  pid_t pid = Pid(id);
  ASSERT_TRUE(WaitFor([&] { return Counter(pid) > 0; }));
  auto again = Cvrun({"start", id});
  EXPECT_NE(again.status.code, 0);
  EXPECT_NE(again.err.find("is running, not created"), std::string::npos) << again.err;
  EXPECT_EQ(Status(id), "running");
  EXPECT_EQ(Pid(id), pid);
  ASSERT_EQ(Cvrun({"kill", id, "KILL"}).status.code, 0);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  auto stopped = Cvrun({"start", id});
  EXPECT_NE(stopped.status.code, 0);
  EXPECT_NE(stopped.err.find("is stopped, not created"), std::string::npos) << stopped.err;
  EXPECT_EQ(Status(id), "stopped");
  EXPECT_EQ(Cvrun({"delete", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(SpecMust, KillOfAStoppedContainerFailsWithTheSpecsReason) {
  REQUIRE_ROOT();
  std::string id = Id("killstopped");
  ASSERT_EQ(Cvrun({"run", "--detach", "--bundle",
                   WriteBundle("killstopped", BaseConfig({"/bin/true"}, "killstopped")), id})
                .status.code,
            0);
  pid_t pid = Pid(id);
  int status;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WaitFor([&] { return Status(id) == "stopped"; }));
  auto k = Cvrun({"kill", id, "TERM"});
  EXPECT_NE(k.status.code, 0);
  EXPECT_NE(k.err.find("is stopped: only a created or running container can be signalled"),
            std::string::npos)
      << k.err;
  // containerd's shim reads these words as "already gone" (as runc's): `ctr task delete -f` of
  // an exited task then succeeds.
  EXPECT_NE(k.err.find("container not running"), std::string::npos) << k.err;
  EXPECT_EQ(Status(id), "stopped");
  EXPECT_EQ(Cvrun({"delete", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(SpecMust, DeleteOfAContainerThatIsNotStoppedFailsAndChangesNothing) {
  REQUIRE_ROOT();
  std::string id = Id("delnotstopped");
  ASSERT_EQ(Cvrun({"create", "--bundle",
                   WriteBundle("delnotstopped", CounterConfig("delnotstopped")), id})
                .status.code,
            0);
  pid_t pid = Pid(id);
  // created: refused, and the container can still be started afterwards.
  auto d1 = Cvrun({"delete", id});
  EXPECT_NE(d1.status.code, 0);
  EXPECT_NE(d1.err.find("is created: only a stopped container can be deleted"), std::string::npos)
      << d1.err;
  EXPECT_EQ(Status(id), "created");
  EXPECT_EQ(kill(pid, 0), 0);
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  ASSERT_TRUE(WaitFor([&] { return Counter(pid) > 0; }));
  // running: refused, and it keeps running.
  auto d2 = Cvrun({"delete", id});
  EXPECT_NE(d2.status.code, 0);
  EXPECT_NE(d2.err.find("is running: only a stopped container can be deleted"), std::string::npos)
      << d2.err;
  long before = Counter(pid);
  EXPECT_TRUE(WaitFor([&] { return Counter(pid) > before; }));
  EXPECT_EQ(Status(id), "running");
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

// creating -> created -> running (-> paused -> running) -> stopped, observed with `state`.
// "creating" is held open by a pid namespace path that is a FIFO: create opens it (blocking until
// a writer comes) after it has saved its first state and before the init exists.
TEST(SpecMust, StatesFollowTheSpecsLifecycle) {
  REQUIRE_ROOT();
  {
    std::string id = Id("creating");
    std::string fifo = TestDir() + "/pidns-fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    json cfg = CounterConfig("creating");
    cfg["linux"]["namespaces"][0] = {{"type", "pid"}, {"path", fifo}};
    std::string bundle = WriteBundle("creating", cfg);
    auto create = std::async(std::launch::async, [&] {
      return Cvrun({"create", "--bundle", bundle, id});
    });
    EXPECT_TRUE(WaitFor([&] { return Status(id) == "creating"; })) << Status(id);
    auto del = Cvrun({"delete", id});
    EXPECT_NE(del.status.code, 0);
    EXPECT_NE(del.err.find("is being created"), std::string::npos) << del.err;
    UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));  // lets create go on
    auto r = create.get();
    EXPECT_NE(r.status.code, 0);  // a FIFO is no pid namespace
    EXPECT_NE(r.err.find("join pid namespace"), std::string::npos) << r.err;
    EXPECT_NE(Cvrun({"state", id}).status.code, 0) << "a failed create left its state";
  }
  std::string id = Id("states");
  ASSERT_EQ(
      Cvrun({"create", "--bundle", WriteBundle("states", CounterConfig("states")), id}).status.code,
      0);
  EXPECT_EQ(Status(id), "created");
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  EXPECT_EQ(Status(id), "running");
  ASSERT_EQ(Cvrun({"pause", id}).status.code, 0);
  EXPECT_EQ(Status(id), "paused");
  ASSERT_EQ(Cvrun({"resume", id}).status.code, 0);
  EXPECT_EQ(Status(id), "running");
  pid_t pid = Pid(id);
  ASSERT_EQ(Cvrun({"kill", id, "KILL"}).status.code, 0);
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(Status(id), "stopped");
  EXPECT_EQ(json::parse(Cvrun({"state", id}).out)["pid"], 0);
  EXPECT_EQ(Cvrun({"delete", id}).status.code, 0);
  EXPECT_NE(Cvrun({"state", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

// A container that runs `cvb-probe alloc MIB` each time the host creates /tmp/go in it, and
// prints the probe's output and exit status ("exit 137" = SIGKILLed, the memory cgroup's OOM).
json AllocOnDemandConfig(const std::string& name, int mib, int64_t memory_limit) {
  json cfg =
      BaseConfig({"/bin/sh", "-c",
                  "while :; do if [ -e /tmp/go ]; then rm /tmp/go; /bin/cvb-probe alloc " +
                      std::to_string(mib) + "; echo exit $?; fi; sleep 0.02; done; " + kMarker()},
                 name);
  cfg["linux"]["resources"]["memory"]["limit"] = memory_limit;
  return cfg;
}

void Go(pid_t pid) {
  ASSERT_TRUE(WriteFile("/proc/" + std::to_string(pid) + "/root/tmp/go", "").ok());
}

// The first line starting with prefix, within timeout.
std::string LineStartingWith(LineReader& reader, const std::string& prefix, int timeout_ms) {
  int64_t deadline = MonotonicNs() + int64_t{timeout_ms} * 1000000;
  for (;;) {
    auto line = reader.Next(deadline);
    if (!line.ok()) return "<" + line.error().message() + ">";
    if (line->text.rfind(prefix, 0) == 0) return line->text;
  }
}

// The v1 memory cgroup directory of pid (hybrid/v1 hosts), "" elsewhere.
std::string MemoryDir(pid_t pid) {
  auto cg = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (!cg.ok()) return "";
  for (const auto& line : Split(*cg, '\n')) {
    auto at = line.find(":memory:");
    if (at != std::string::npos) return "/sys/fs/cgroup/memory" + line.substr(at + 8);
  }
  return "";
}

std::string V1File(pid_t pid, const std::string& controller, const std::string& file) {
  auto cg = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (!cg.ok()) return "<no cgroup>";
  for (const auto& line : Split(*cg, '\n')) {
    auto at = line.find(":" + controller + ":");
    if (at == std::string::npos) continue;
    auto text = ReadFile("/sys/fs/cgroup/" + controller + line.substr(at + controller.size() + 2) +
                         "/" + file);
    return text.ok() ? Trim(*text) : "<unreadable>";
  }
  return "<no " + controller + " cgroup>";
}

struct Started {
  pid_t pid = 0;
  std::unique_ptr<LineReader> out;
};

// create (stdout into a pipe we read) + start.
Started StartWithOutput(const std::string& id, const std::string& bundle) {
  Started s;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return s;
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions so;
  so.stdout_fd = write_end.get();
  auto c = Cvrun({"create", "--bundle", bundle, id}, 20000, so);
  write_end.reset();
  if (c.status.code != 0 || Cvrun({"start", id}).status.code != 0) return s;
  s.pid = Pid(id);
  s.out = std::make_unique<LineReader>(std::move(read_end));
  return s;
}

TEST(Update, MemoryLimitChangesLiveAndTheProbeFeelsIt) {
  REQUIRE_ROOT();
  std::string id = Id("update");
  auto c = StartWithOutput(id, WriteBundle("update", AllocOnDemandConfig("update", 40, 64 << 20)));
  ASSERT_GT(c.pid, 0);
  if (MemoryDir(c.pid).empty()) GTEST_SKIP() << "not a v1/hybrid host: the v2 path is unit-tested";
  // 40 MiB fits under 64 MiB.
  Go(c.pid);
  EXPECT_EQ(LineStartingWith(*c.out, "exit", 10000), "exit 0");
  auto u = Cvrun({"update", "--memory", "16m", "--memory-swap", "16m", id});
  ASSERT_EQ(u.status.code, 0) << u.err;
  EXPECT_EQ(V1File(c.pid, "memory", "memory.limit_in_bytes"), std::to_string(16 << 20));
  EXPECT_EQ(V1File(c.pid, "memory", "memory.memsw.limit_in_bytes"), std::to_string(16 << 20));
  // Now the same 40 MiB is killed by the memory cgroup.
  Go(c.pid);
  EXPECT_EQ(LineStartingWith(*c.out, "exit", 10000), "exit 137");
  // Raising memory above the current memory+swap limit works (swap is written first).
  u = Cvrun({"update", "--memory", "128m", "--memory-swap", "256m", id});
  ASSERT_EQ(u.status.code, 0) << u.err;
  EXPECT_EQ(V1File(c.pid, "memory", "memory.limit_in_bytes"), std::to_string(128 << 20));
  Go(c.pid);
  EXPECT_EQ(LineStartingWith(*c.out, "exit", 10000), "exit 0");
  // --resources - (stdin), podman's shape; pids and cpu land in their files.
  std::string res_file = TestDir() + "/update-res.json";
  ASSERT_TRUE(WriteFile(res_file, R"({"pids":{"limit":77},"cpu":{"shares":256}})").ok());
  UniqueFd in(::open(res_file.c_str(), O_RDONLY | O_CLOEXEC));
  SpawnOptions so;
  so.stdin_fd = in.get();
  u = Cvrun({"update", "--resources", "-", id}, 20000, so);
  ASSERT_EQ(u.status.code, 0) << u.err;
  EXPECT_EQ(V1File(c.pid, "pids", "pids.max"), "77");
  EXPECT_EQ(V1File(c.pid, "cpu", "cpu.shares"), "256");
  // The state records what was applied.
  auto state = json::parse(*ReadFile(StateRoot() + "/" + id + "/state.json"));
  EXPECT_EQ(state["resources_update"]["memory"]["limit"], 128 << 20);
  EXPECT_EQ(state["resources_update"]["pids"]["limit"], 77);
  // What cannot be applied is refused, naming the field, and changes nothing.
  auto cpuset = Cvrun({"update", "--cpuset-cpus", "0", id});
  EXPECT_NE(cpuset.status.code, 0);
  EXPECT_NE(cpuset.err.find("linux.resources.cpu.cpus/mems"), std::string::npos) << cpuset.err;
  ASSERT_TRUE(WriteFile(res_file, R"({"cpu":{"realtimeRuntime":1000}})").ok());
  auto rt = Cvrun({"update", "--resources", res_file, id});
  EXPECT_NE(rt.status.code, 0);
  EXPECT_NE(rt.err.find("linux.resources.cpu.realtimeRuntime"), std::string::npos) << rt.err;
  auto bad = Cvrun({"update", "--memory", "lots", id});
  EXPECT_NE(bad.status.code, 0);
  EXPECT_NE(bad.err.find("--memory"), std::string::npos) << bad.err;
  EXPECT_EQ(V1File(c.pid, "memory", "memory.limit_in_bytes"), std::to_string(128 << 20));
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  auto gone = Cvrun({"update", "--memory", "16m", id});
  EXPECT_NE(gone.status.code, 0);
  EXPECT_NO_LEAKS();
}

// runc's spelling of three commands engines and users type: `list -q` (ids only), `update
// --cpu-share` (runc's flag; --cpu-shares stays an alias), `spec --rootless` (compared with what
// runc writes for the same request, and run).
TEST(RuncCli, ListQuietUpdateCpuShareAndSpecRootless) {
  REQUIRE_ROOT();
  std::string id = Id("runccli");
  ASSERT_EQ(
      Cvrun({"run", "--detach", "--bundle", WriteBundle("runccli", CounterConfig("runccli")), id})
          .status.code,
      0);
  pid_t pid = Pid(id);
  auto list = Cvrun({"list", "-q"});
  EXPECT_EQ(list.status.code, 0) << list.err;
  EXPECT_NE(("\n" + list.out).find("\n" + id + "\n"), std::string::npos) << list.out;
  for (const auto& line : Split(list.out, '\n'))
    EXPECT_EQ(line.find(' '), std::string::npos) << "not an id alone: " << line;
  auto share = Cvrun({"update", "--cpu-share", "512", id});
  EXPECT_EQ(share.status.code, 0) << share.err;
  EXPECT_EQ(V1File(pid, "cpu", "cpu.shares"), "512");
  auto shares = Cvrun({"update", "--cpu-shares", "256", id});
  EXPECT_EQ(shares.status.code, 0) << shares.err;
  EXPECT_EQ(V1File(pid, "cpu", "cpu.shares"), "256");
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);

  std::string mine = TestDir() + "/rootless-cvrun", theirs = TestDir() + "/rootless-runc";
  ASSERT_TRUE(MakeDirs(mine).ok() && MakeDirs(theirs).ok());
  ASSERT_EQ(Cvrun({"spec", "--rootless", "--bundle", mine}).status.code, 0);
  auto c = json::parse(*ReadFile(mine + "/config.json"));
  if (!FindProgram("runc").empty()) {
    auto r = cvb::Run({"runc", "spec", "--rootless", "--bundle", theirs});
    ASSERT_TRUE(r.ok() && r->status.ok());
    auto rc = json::parse(*ReadFile(theirs + "/config.json"));
    auto types = [](const json& cfg) {
      std::set<std::string> out;
      for (const auto& ns : cfg["linux"]["namespaces"]) out.insert(ns["type"].get<std::string>());
      return out;
    };
    EXPECT_EQ(types(c), types(rc));
    EXPECT_EQ(c["linux"]["uidMappings"], rc["linux"]["uidMappings"]);
    EXPECT_EQ(c["linux"]["gidMappings"], rc["linux"]["gidMappings"]);
    EXPECT_EQ(c["linux"].contains("resources"), rc["linux"].contains("resources"));
    auto sys_mount = [](const json& cfg) {
      for (const auto& m : cfg["mounts"])
        if (m["destination"] == "/sys") return m;
      return json();
    };
    EXPECT_EQ(sys_mount(c), sys_mount(rc));
  }
  // It runs: a user namespace mapping root to root, /sys bound from the host.
  c["root"] = {{"path", SharedRootfs()}, {"readonly", true}};
  c["process"]["args"] = {"/bin/sh", "-c", "test -r /proc/self/uid_map"};
  c["process"]["env"].push_back(std::string("CVB_MARKER=") + kMarker());
  auto run = Cvrun({"run", "--bundle", WriteBundle("rootless", c), Id("rootless")});
  EXPECT_EQ(run.status.code, 0) << run.err;
  EXPECT_NO_LEAKS();
}

TEST(Events, StatsMatchTheCgroupFiles) {
  REQUIRE_ROOT();
  std::string id = Id("stats");
  auto c = StartWithOutput(id, WriteBundle("stats", AllocOnDemandConfig("stats", 8, 64 << 20)));
  ASSERT_GT(c.pid, 0);
  if (MemoryDir(c.pid).empty()) GTEST_SKIP() << "not a v1/hybrid host: the v2 path is unit-tested";
  Go(c.pid);
  ASSERT_EQ(LineStartingWith(*c.out, "exit", 10000), "exit 0");
  auto r = Cvrun({"events", "--stats", id});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto lines = Split(r.out, '\n');
  ASSERT_EQ(lines.size(), 1u) << r.out;
  auto e = json::parse(lines[0]);
  EXPECT_EQ(e["type"], "stats");
  EXPECT_EQ(e["id"], id);
  const json& d = e["data"];
  uint64_t cpu_total = d["cpu"]["usage"]["total"];
  EXPECT_GT(cpu_total, 0u);
  EXPECT_GE(std::stoull(V1File(c.pid, "cpuacct", "cpuacct.usage")), cpu_total);
  EXPECT_FALSE(d["cpu"]["usage"]["percpu"].empty());
  EXPECT_GT(d["memory"]["usage"]["usage"].get<uint64_t>(), 0u);
  EXPECT_EQ(d["memory"]["usage"]["limit"], 64 << 20);
  EXPECT_EQ(std::to_string(d["memory"]["usage"]["max"].get<uint64_t>()),
            V1File(c.pid, "memory", "memory.max_usage_in_bytes"));
  EXPECT_GE(d["memory"]["usage"]["max"].get<uint64_t>(), uint64_t{8} << 20);  // the 8 MiB probe
  EXPECT_GE(d["pids"]["current"].get<uint64_t>(), 1u);
  EXPECT_FALSE(d["memory"]["raw"].empty());
  EXPECT_TRUE(d["blkio"].contains("ioServiceBytesRecursive"));
  EXPECT_TRUE(d.contains("hugetlb"));
  // After an update the stats report the new limit.
  ASSERT_EQ(Cvrun({"update", "--memory", "32m", id}).status.code, 0);
  auto after = json::parse(Cvrun({"events", "--stats", id}).out);
  EXPECT_EQ(after["data"]["memory"]["usage"]["limit"], 32 << 20);
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  auto stopped = Cvrun({"events", "--stats", id});
  EXPECT_NE(stopped.status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Events, AnOomUnderATinyLimitIsReportedAndTheStreamEndsWithTheContainer) {
  REQUIRE_ROOT();
  std::string id = Id("oomev");
  auto c = StartWithOutput(id, WriteBundle("oomev", AllocOnDemandConfig("oomev", 40, 16 << 20)));
  ASSERT_GT(c.pid, 0);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions so;
  so.stdout_fd = write_end.get();
  auto events =
      Spawn({CVRUN_BINARY, "--root", StateRoot(), "events", "--interval", "200ms", id}, so);
  ASSERT_TRUE(events.ok()) << events.error().message();
  write_end.reset();
  LineReader reader(std::move(read_end));
  // The first stats line says the watch is in place (it is set up before the loop).
  auto first = json::parse(LineStartingWith(reader, "{", 10000));
  EXPECT_EQ(first["type"], "stats");
  Go(c.pid);
  EXPECT_EQ(LineStartingWith(*c.out, "exit", 10000), "exit 137");
  std::string oom = LineStartingWith(reader, R"({"id":")" + id + R"(","type":"oom")", 10000);
  EXPECT_EQ(json::parse(oom.front() == '{' ? oom : "{}").value("type", ""), "oom") << oom;
  // The stream ends when the container stops.
  ASSERT_EQ(Cvrun({"kill", id, "KILL"}).status.code, 0);
  auto status = events->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(status.ok()) << "events did not end with the container";
  EXPECT_EQ(status->code, 0);
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

}  // namespace
}  // namespace cvb::runtime::testenv
