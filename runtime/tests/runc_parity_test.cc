// What real images and clients expect of a runtime (issue 22 part 4), each held to runc on the
// same bundle: HOME from the image's /etc/passwd, a missing process.cwd made, the environment of
// hooks that set none, socket activation (LISTEN_FDS) passed through, and the container's own
// cgroups under /sys/fs/cgroup. Every case runs the same config.json with `cvrun run` and `runc
// run` (state roots of the test's own) and compares what the process saw.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using nlohmann::json;

const auto* const g_cleanup = testing::AddGlobalTestEnvironment(new TestDirCleanup);

// One runtime's run of a bundle: exit status, stdout, stderr.
struct Outcome {
  int code = -1;
  std::string out, err;
};

// `<runtime> [--root ROOT] run --bundle B ID`, through /bin/sh so that a test can add
// environment and redirections (socket activation needs LISTEN_PID = the runtime's own pid: the
// shell's $$ before it execs the runtime).
Outcome RunWith(const std::string& runtime, const std::string& bundle, const std::string& id,
                const std::string& shell_prefix = "", const std::string& redirect = "") {
  std::string binary = runtime == "cvrun" ? CVRUN_BINARY : FindProgram("runc");
  std::string root = TestDir() + "/state-" + runtime;
  std::string base = TestDir() + "/parity-" + runtime + "-" + id;
  std::string command = shell_prefix + " exec '" + binary + "' --root '" + root +
                        "' run --bundle '" + bundle + "' '" + id + "' " + redirect + " >'" + base +
                        ".out' 2>'" + base + ".err'";
  Outcome o;
  auto r = cvb::Run({"/bin/sh", "-c", command}, std::chrono::seconds(30));
  if (r.ok()) o.code = r->status.code;
  o.out = ReadFile(base + ".out").value_or("");
  o.err = ReadFile(base + ".err").value_or("");
  // Whatever happened, nothing of this container may stay.
  (void)cvb::Run({binary, "--root", root, "delete", "--force", id}, std::chrono::seconds(10));
  return o;
}

class RuncParity : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_ROOT();
    if (FindProgram("runc").empty()) GTEST_SKIP() << "runc is not installed: nothing to compare with";
    rootfs_ = MakeRootfs("parity");
    ASSERT_TRUE(WriteFile(rootfs_ + "/etc/passwd",
                          "root:x:0:0:root:/root:/bin/sh\n"
                          "app:x:1000:1000:app:/home/app:/bin/sh\n")
                    .ok());
    ASSERT_TRUE(MakeDirs(rootfs_ + "/root").ok());
  }
  void TearDown() override {
    if (IsRoot()) EXPECT_NO_LEAKS();
  }

  json Config(const std::vector<std::string>& args, const std::string& name) {
    json cfg = BaseConfig(args, name);
    cfg["root"]["path"] = rootfs_;
    // runc's default set; the test's marker stays for the leak check.
    return cfg;
  }

  // Runs cfg with both runtimes and expects the same exit code and output.
  std::pair<Outcome, Outcome> Both(const json& cfg, const std::string& name,
                                   const std::string& shell_prefix = "",
                                   const std::string& redirect = "") {
    std::string bundle = WriteBundle(name, cfg);
    Outcome cvrun = RunWith("cvrun", bundle, "cvrun-it-" + name, shell_prefix, redirect);
    Outcome runc = RunWith("runc", bundle, "cvrun-it-" + name, shell_prefix, redirect);
    EXPECT_EQ(cvrun.code, runc.code) << "cvrun: " << cvrun.err << "\nrunc: " << runc.err;
    EXPECT_EQ(cvrun.out, runc.out) << "cvrun stderr: " << cvrun.err;
    return {cvrun, runc};
  }

  std::string rootfs_;
};

// HOME: the image's /etc/passwd entry of the process's uid, "/" without one, the config's own
// when it sets one (an empty one is replaced).
TEST_F(RuncParity, HomeComesFromThePasswdOfTheImage) {
  auto [c1, r1] = Both(Config({"/bin/sh", "-c", "echo HOME=$HOME"}, "home-root"), "home-root");
  EXPECT_EQ(c1.out, "HOME=/root\n");
  json app = Config({"/bin/sh", "-c", "echo HOME=$HOME"}, "home-app");
  app["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  auto [c2, r2] = Both(app, "home-app");
  EXPECT_EQ(c2.out, "HOME=/home/app\n");
  json nobody = Config({"/bin/sh", "-c", "echo HOME=$HOME"}, "home-none");
  nobody["process"]["user"] = {{"uid", 4242}, {"gid", 4242}};
  auto [c3, r3] = Both(nobody, "home-none");
  EXPECT_EQ(c3.out, "HOME=/\n");
  json given = Config({"/bin/sh", "-c", "echo HOME=$HOME"}, "home-given");
  given["process"]["env"].push_back("HOME=/srv");
  auto [c4, r4] = Both(given, "home-given");
  EXPECT_EQ(c4.out, "HOME=/srv\n");
  json empty = Config({"/bin/sh", "-c", "echo HOME=$HOME"}, "home-empty");
  empty["process"]["env"].push_back("HOME=");
  auto [c5, r5] = Both(empty, "home-empty");
  EXPECT_EQ(c5.out, "HOME=/root\n");
}

// A process.cwd that is not in the image is made (0755), also under a read-only root; both
// runtimes leave it in the rootfs.
TEST_F(RuncParity, AMissingCwdIsMade) {
  json cfg = Config({"/bin/sh", "-c", "pwd; ls -ld . | cut -c1-10"}, "cwd");
  cfg["process"]["cwd"] = "/made/by/the/runtime";
  std::string bundle = WriteBundle("cwd", cfg);
  Outcome cvrun = RunWith("cvrun", bundle, "cvrun-it-cwd");
  EXPECT_EQ(cvrun.out, "/made/by/the/runtime\ndrwxr-xr-x\n") << cvrun.err;
  EXPECT_TRUE(PathExists(rootfs_ + "/made/by/the/runtime"));
  ASSERT_TRUE(RemoveTree(rootfs_ + "/made").ok());
  Outcome runc = RunWith("runc", bundle, "cvrun-it-cwd");
  EXPECT_EQ(runc.out, cvrun.out) << runc.err;
  EXPECT_TRUE(PathExists(rootfs_ + "/made/by/the/runtime"));
}

// Hooks without "env": prestart (the runtime's namespaces) gets the runtime's environment;
// createContainer and startContainer (in the container's init) get the process's; "env": []
// is an empty environment.
TEST_F(RuncParity, HooksWithoutEnvGetWhatRuncGives) {
  std::string dir = TestDir() + "/hookenv";
  ASSERT_TRUE(MakeDirs(dir).ok());
  json cfg = Config({"/bin/sh", "-c", "cat /tmp/start-env | grep -c PROCESS_VAR=1"}, "hookenv");
  cfg["process"]["env"].push_back("PROCESS_VAR=1");
  cfg["root"]["readonly"] = false;
  auto hook = [](const std::string& script) {
    return json{{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
  };
  cfg["hooks"] = {
      {"prestart",
       {hook("env > " + dir + "/prestart-$RT"),
        [&] {
          json h = hook("env > " + dir + "/empty-$RT");
          h["env"] = json::array();
          return h;
        }()}},
      {"createContainer", {hook("env > " + dir + "/create-$RUNTIME_VAR")}},
      {"startContainer", {hook("env > /tmp/start-env")}},
  };
  std::string bundle = WriteBundle("hookenv", cfg);
  for (const char* rt : {"cvrun", "runc"}) {
    Outcome o = RunWith(rt, bundle, "cvrun-it-hookenv",
                        std::string("RT=") + rt + " RUNTIME_VAR=runtime-" + rt);
    EXPECT_EQ(o.code, 0) << rt << ": " << o.err;
    EXPECT_EQ(o.out, "1\n") << rt << ": the startContainer hook did not get the process's env";
    auto prestart = ReadFile(dir + "/prestart-" + std::string(rt)).value_or("<none>");
    EXPECT_NE(prestart.find("RUNTIME_VAR=runtime-"), std::string::npos)
        << rt << ": prestart without env lacks the runtime's environment:\n" << prestart;
    auto empty = ReadFile(dir + "/empty-").value_or("<none>");  // $RT unset: empty env
    EXPECT_EQ(empty.find("RUNTIME_VAR"), std::string::npos) << rt << ":\n" << empty;
    (void)RemoveTree(dir + "/empty-");
    // createContainer: the process's env (its file is named without the runtime's variable).
    EXPECT_TRUE(PathExists(dir + "/create-")) << rt;
    auto create = ReadFile(dir + "/create-").value_or("");
    EXPECT_NE(create.find("PROCESS_VAR=1"), std::string::npos) << rt << ":\n" << create;
    (void)RemoveTree(dir + "/create-");
  }
}

// Socket activation: LISTEN_FDS for the runtime's own pid gives the init fd 3 and
// LISTEN_FDS=1 LISTEN_PID=1; for another pid nothing is passed.
TEST_F(RuncParity, SocketActivationIsPassedThrough) {
  std::string payload = TestDir() + "/listen-payload";
  ASSERT_TRUE(WriteFile(payload, "from-fd-3\n").ok());
  json cfg = Config({"/bin/sh", "-c", "echo $LISTEN_FDS $LISTEN_PID; cat <&3 || echo no-fd-3"},
                    "listen");
  auto [c1, r1] = Both(cfg, "listen", "LISTEN_FDS=1 LISTEN_PID=$$", "3<'" + payload + "'");
  EXPECT_EQ(c1.out, "1 1\nfrom-fd-3\n") << c1.err;
  auto [c2, r2] = Both(cfg, "listen-other", "LISTEN_FDS=1 LISTEN_PID=1", "3<'" + payload + "'");
  EXPECT_EQ(c2.out, "\nno-fd-3\n") << c2.err;
}

// `exec` follows the config's noNewPrivileges (false here) unless --no-new-privs is given, and
// sets HOME as the init does.
TEST_F(RuncParity, ExecFollowsTheConfigsNoNewPrivilegesAndSetsHome) {
  json cfg = Config({"/bin/sleep", "30"}, "execnnp");
  cfg["process"]["noNewPrivileges"] = false;
  std::string bundle = WriteBundle("execnnp", cfg);
  std::string id = "cvrun-it-execnnp";
  std::map<std::string, std::string> seen;
  for (const std::string rt : {"cvrun", "runc"}) {
    std::string binary = rt == "cvrun" ? CVRUN_BINARY : FindProgram("runc");
    std::string root = TestDir() + "/state-" + rt;
    std::string out = TestDir() + "/execnnp-" + rt;
    auto started = cvb::Run({"/bin/sh", "-c",
                             "exec '" + binary + "' --root '" + root + "' run --detach --bundle '" +
                                 bundle + "' " + id + " >/dev/null 2>" + out + ".err"},
                            std::chrono::seconds(30));
    ASSERT_TRUE(started.ok() && started->status.ok()) << rt << ": " << ReadFile(out + ".err").value_or("");
    for (const char* flag : {"", "--no-new-privs"}) {
      std::string args = std::string(flag) + " " + id +
                         " /bin/sh -c 'grep NoNewPrivs /proc/self/status; echo HOME=$HOME'";
      auto r = cvb::Run({"/bin/sh", "-c",
                         "'" + binary + "' --root '" + root + "' exec " + args + " >" + out +
                             " 2>&1"},
                        std::chrono::seconds(30));
      seen[rt] += ReadFile(out).value_or("<none>");
    }
    (void)cvb::Run({binary, "--root", root, "delete", "--force", id}, std::chrono::seconds(10));
  }
  EXPECT_EQ(seen["cvrun"], "NoNewPrivs:\t0\nHOME=/root\nNoNewPrivs:\t1\nHOME=/root\n");
  EXPECT_EQ(seen["cvrun"], seen["runc"]);
}

// A cgroup mount (Docker's and runc's default: /sys/fs/cgroup, ro) shows the container's own
// cgroups: its limits readable, nothing writable, and `..` of a hierarchy is the tmpfs above it,
// not the parent cgroup (the host's tree stays out of sight).
TEST_F(RuncParity, TheContainerSeesItsOwnCgroupsReadOnly) {
  json cfg = Config(
      {"/bin/sh", "-c",
       "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; "
       "test -e /sys/fs/cgroup/memory/../memory.limit_in_bytes && echo parent-reached || "
       "echo parent-hidden; "
       "(echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes) 2>/dev/null && echo wrote || "
       "echo no-write; "
       "mkdir /sys/fs/cgroup/memory/child 2>/dev/null && echo made || echo no-mkdir; "
       "touch /sys/fs/cgroup/x 2>/dev/null && echo tmpfs-writable || echo tmpfs-read-only; "
       "grep -c '^$' /sys/fs/cgroup/memory/cgroup.procs || true"},
      "cgview");
  cfg["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                           {"type", "cgroup"},
                           {"source", "cgroup"},
                           {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}});
  cfg["linux"]["resources"]["pids"] = {{"limit", 99}};
  auto [cvrun, runc] = Both(cfg, "cgview");
  EXPECT_EQ(cvrun.out,
            std::to_string(64 << 20) + "\n99\nparent-hidden\nno-write\nno-mkdir\n"
            "tmpfs-read-only\n0\n")
      << cvrun.err;
}

}  // namespace
}  // namespace cvb::runtime::testenv
