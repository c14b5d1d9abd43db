// `cvrun exec` planning without root: which process runs (config defaults + flags), which
// namespaces are joined in which order, which cgroups are joined.
#include <gtest/gtest.h>

#include "cvb/runtime/exec.h"
#include "cvb/runtime/spec.h"
#include "exec_cgroups.h"
#include "sys/sys.h"

namespace cvb::runtime {
namespace {

NamespaceIdentity Ns(const std::string& name, bool differs) {
  // dev 4 (nsfs); the container's inode differs from ours when `differs`.
  return {name, 4, differs ? 2000u : 1000u, 4, 1000u};
}

TEST(ExecJoins, UserFirstMountLastOnlyWhatDiffers) {
  // Given in a scrambled order: the plan's order does not depend on it.
  std::vector<NamespaceIdentity> ids = {Ns("mnt", true),  Ns("net", true),    Ns("pid", true),
                                        Ns("user", true), Ns("cgroup", false), Ns("ipc", true),
                                        Ns("uts", true),  Ns("time", false)};
  EXPECT_EQ(PlanExecJoins(ids),
            (std::vector<std::string>{"user", "ipc", "uts", "net", "pid", "mnt"}));
}

TEST(ExecJoins, OwnUserNamespaceIsNotJoined) {
  // setns into the user namespace we are already in fails with EINVAL: it must not be planned.
  std::vector<NamespaceIdentity> ids = {Ns("user", false), Ns("mnt", true), Ns("pid", true)};
  EXPECT_EQ(PlanExecJoins(ids), (std::vector<std::string>{"pid", "mnt"}));
  // A namespace on another nsfs device is another namespace even with the same inode.
  NamespaceIdentity other_dev{"net", 5, 1000, 4, 1000};
  EXPECT_EQ(PlanExecJoins({other_dev}), (std::vector<std::string>{"net"}));
}

TEST(ExecJoins, NamesAreTheKernelsInJoinOrder) {
  const auto& names = ExecNamespaceNames();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "user");
  EXPECT_EQ(names.back(), "mnt");
}

Process ConfigProcess() {
  Process p;
  p.args = {"/bin/sleep", "100"};
  p.env = {"PATH=/bin", "HOME=/root"};
  p.cwd = "/";
  p.user.uid = 5;
  p.user.gid = 6;
  p.capabilities = Capabilities{{"CAP_KILL"}, {"CAP_KILL"}, {}, {"CAP_KILL"}, {}};
  p.rlimits = {{"RLIMIT_NOFILE", 7, 1024, 1024}};
  return p;
}

TEST(ExecProcess, DefaultsComeFromTheConfigFlagsOverride) {
  ExecOptions o;
  o.args = {"/bin/sh", "-c", "true"};
  o.env = {"HOME=/tmp", "EXTRA=1"};
  o.cwd = "/tmp";
  o.user = "1000:1001";
  o.tty = true;
  auto p = ResolveExecProcess(ConfigProcess(), false, o);
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->args, o.args);
  EXPECT_EQ(p->env, (std::vector<std::string>{"PATH=/bin", "HOME=/tmp", "EXTRA=1"}));
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->user.uid, 1000u);
  EXPECT_EQ(p->user.gid, 1001u);
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->rlimits.size(), 1u);  // the config's rlimits stay
  EXPECT_EQ(p->capabilities->bounding, (std::vector<std::string>{"CAP_KILL"}));
  EXPECT_FALSE(p->no_new_privileges);
}

TEST(ExecProcess, UserWithoutGidKeepsTheConfigsGid) {
  ExecOptions o;
  o.args = {"true"};
  o.user = "42";
  auto p = ResolveExecProcess(ConfigProcess(), false, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->user.uid, 42u);
  EXPECT_EQ(p->user.gid, 6u);
}

TEST(ExecProcess, CapAddsToBoundingEffectivePermittedAmbientOnlyWithInheritable) {
  ExecOptions o;
  o.args = {"true"};
  o.caps = {"CAP_NET_ADMIN", "sys_ptrace", "CAP_KILL"};
  o.no_new_privs = true;
  auto p = ResolveExecProcess(ConfigProcess(), false, o);
  ASSERT_TRUE(p.ok()) << p.error().message();
  const auto& c = *p->capabilities;
  std::vector<std::string> want = {"CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_PTRACE"};
  EXPECT_EQ(c.bounding, want);
  EXPECT_EQ(c.effective, want);
  EXPECT_EQ(c.permitted, want);
  EXPECT_TRUE(c.inheritable.empty());
  EXPECT_TRUE(c.ambient.empty());
  EXPECT_TRUE(p->no_new_privileges);
  Process with_inheritable = ConfigProcess();
  with_inheritable.capabilities->inheritable = {"CAP_KILL"};
  p = ResolveExecProcess(with_inheritable, false, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->capabilities->ambient, (std::vector<std::string>{"CAP_NET_ADMIN", "CAP_SYS_PTRACE",
                                                                 "CAP_KILL"}));
}

TEST(ExecProcess, BadFlagsAreRefusedNamingTheFlag) {
  struct Case {
    ExecOptions o;
    const char* want;
  };
  auto with = [](auto set) {
    ExecOptions o;
    o.args = {"true"};
    set(o);
    return o;
  };
  std::vector<Case> cases = {
      {ExecOptions{}, "exec: no command"},
      {with([](ExecOptions& o) { o.env = {"NOEQUALS"}; }), "--env NOEQUALS: expected KEY=VALUE"},
      {with([](ExecOptions& o) { o.env = {"=x"}; }), "--env =x: expected KEY=VALUE"},
      {with([](ExecOptions& o) { o.user = "root"; }), "--user root: expected uid[:gid]"},
      {with([](ExecOptions& o) { o.user = "1:"; }), "--user 1:: expected uid[:gid]"},
      {with([](ExecOptions& o) { o.user = "99999999999"; }), "--user 99999999999"},
      {with([](ExecOptions& o) { o.caps = {"CAP_FLY"}; }), "--cap CAP_FLY: unknown capability"},
      {with([](ExecOptions& o) { o.cwd = "tmp"; }), "--cwd tmp: must be an absolute path"},
  };
  for (const auto& c : cases) {
    auto p = ResolveExecProcess(ConfigProcess(), false, c.o);
    ASSERT_FALSE(p.ok()) << c.want;
    EXPECT_EQ(p.error().message().rfind(c.want, 0), 0u) << p.error().message();
  }
  // --process and a command at once.
  auto both = ResolveExecProcess(ConfigProcess(), true, with([](ExecOptions&) {}));
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message().find("either with --process"), std::string::npos);
}

TEST(ExecProcess, ProcessFileIsTheBaseAndTtyTurnsTheTerminalOn) {
  auto parsed = ParseProcessJson(
      R"({"args": ["/bin/id"], "cwd": "/", "env": ["A=b"], "user": {"uid": 7, "gid": 8}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  ExecOptions o;
  o.tty = true;
  auto p = ResolveExecProcess(*parsed, true, o);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->args, (std::vector<std::string>{"/bin/id"}));
  EXPECT_EQ(p->user.uid, 7u);
  EXPECT_TRUE(p->terminal);
  EXPECT_FALSE(p->capabilities.has_value());  // none in the file: the process gets none
}

TEST(ExecProcess, ProcessFileErrorsNameTheField) {
  auto p = ParseProcessJson(R"({"args": [], "cwd": "/"})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message(), "process.args: must not be empty");
  p = ParseProcessJson(R"({"args": ["x"], "cwd": "relative"})");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message(), "process.cwd: must be an absolute path");
  p = ParseProcessJson("[1, 2");
  ASSERT_FALSE(p.ok());
}

TEST(ExecCgroups, JoinsEveryLeafInOrder) {
  sys::FakeSys fake;
  std::vector<std::string> leaves = {"/sys/fs/cgroup/memory/c", "/sys/fs/cgroup/pids/c",
                                     "/sys/fs/cgroup/unified/c"};
  for (const auto& l : leaves) fake.AddDir(l);
  ASSERT_TRUE(JoinCgroups(fake, leaves, 4242).ok());
  EXPECT_EQ(fake.calls, (std::vector<std::string>{
                            "write /sys/fs/cgroup/memory/c/cgroup.procs 4242",
                            "write /sys/fs/cgroup/pids/c/cgroup.procs 4242",
                            "write /sys/fs/cgroup/unified/c/cgroup.procs 4242"}));
}

TEST(ExecCgroups, AFailingJoinStopsAndNamesTheDirectory) {
  sys::FakeSys fake;
  std::vector<std::string> leaves = {"/sys/fs/cgroup/memory/c", "/sys/fs/cgroup/pids/c",
                                     "/sys/fs/cgroup/unified/c"};
  for (const auto& l : leaves) fake.AddDir(l);
  fake.FailWrite("/sys/fs/cgroup/pids/c/cgroup.procs", EAGAIN);
  auto r = JoinCgroups(fake, leaves, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/sys/fs/cgroup/pids/c"), std::string::npos);
  EXPECT_EQ(fake.calls.size(), 2u);  // the unified one is not tried after the failure
  EXPECT_FALSE(JoinCgroups(fake, {}, 1).ok());  // no cgroup recorded: refused, not skipped
}

TEST(ExecSealedCopy, ATestBinaryOnDiskIsNotASealedCopy) {
  EXPECT_FALSE(RunningFromSealedCopy());
}

}  // namespace
}  // namespace cvb::runtime
