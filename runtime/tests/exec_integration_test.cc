// `cvrun exec` against real containers, as root: the process joins what the init has, flags take
// effect, and the known runc escapes (CVE-2019-5736, CVE-2024-21626, CVE-2021-30465) are tried
// from inside and fail. Every test ends by checking that nothing is left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/line_reader.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using nlohmann::json;

std::string Id(const std::string& name) { return "cvrun-it-exec-" + name; }

std::string StatusField(pid_t pid, const std::string& key) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/status");
  if (!text.ok()) return "<gone>";
  for (const auto& line : Split(*text, '\n'))
    if (line.rfind(key + ":", 0) == 0) return Trim(line.substr(key.size() + 1));
  return "<missing>";
}

const auto* const g_cleanup = testing::AddGlobalTestEnvironment(new TestDirCleanup);

// A created and started container whose init sleeps; deleted (forced) at the end of the scope.
class RunningContainer {
 public:
  RunningContainer(const std::string& name, json cfg) : id_(Id(name)) {
    bundle_ = WriteBundle("exec-" + name, cfg);
    std::string pid_file = TestDir() + "/exec-" + name + ".pid";
    auto c = Cvrun({"create", "--bundle", bundle_, "--pid-file", pid_file, id_});
    error_ = c.err;
    if (c.status.code != 0) return;
    pid_ = std::atoi(ReadFile(pid_file).value_or("0").c_str());
    auto s = Cvrun({"start", id_});
    if (s.status.code != 0) error_ = s.err, pid_ = 0;
  }
  ~RunningContainer() {
    // We are a child subreaper (as conmon is): processes whose cvrun exited are ours to reap,
    // and a pid namespace's init finishes dying only once the namespace's other processes are
    // reaped. No cvrun of ours runs at this point.
    int status;
    while (waitpid(-1, &status, WNOHANG) > 0) {
    }
    auto d = Cvrun({"delete", "--force", id_});
    EXPECT_EQ(d.status.code, 0) << "delete --force " << id_ << ": " << d.err;
  }
  bool ok() const { return pid_ > 0; }
  const std::string& id() const { return id_; }
  const std::string& error() const { return error_; }
  const std::string& bundle() const { return bundle_; }
  pid_t pid() const { return pid_; }

 private:
  std::string id_;
  std::string bundle_;
  std::string error_;
  pid_t pid_ = 0;
};

json SleepConfig(const std::string& name, int seconds = 60) {
  return BaseConfig({"/bin/cvb-probe", "sleep", std::to_string(seconds), kMarker()}, name);
}

json DenyCreateSeccomp() {
  return {{"defaultAction", "SCMP_ACT_ALLOW"},
          {"architectures", {"SCMP_ARCH_X86_64"}},
          {"syscalls",
           {{{"names", {"open", "openat", "creat"}},
             {"action", "SCMP_ACT_ERRNO"},
             {"errnoRet", 1},
             {"args",
              {{{"index", 2}, {"value", 0100}, {"valueTwo", 0100}, {"op", "SCMP_CMP_MASKED_EQ"}}}}}}}};
}

TEST(Exec, JoinsEveryNamespaceCgroupAndTheSeccompFilterOfTheInit) {
  REQUIRE_ROOT();
  json cfg = SleepConfig("join");
  cfg["linux"]["seccomp"] = DenyCreateSeccomp();
  cfg["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  cfg["root"]["readonly"] = false;
  RunningContainer c("join", cfg);
  ASSERT_TRUE(c.ok()) << c.error();
  auto r = Cvrun({"exec", c.id(), "/bin/cvb-probe", "report"});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto rep = ParseReport(r.out);
  std::map<std::string, std::string> seen;
  for (const auto& line : All(rep, "ns")) seen[line.substr(0, line.find(' '))] = line.substr(line.find(' ') + 1);
  for (const char* ns : {"pid", "mnt", "net", "uts", "ipc", "cgroup", "user"}) {
    char target[128] = {};
    std::string path = "/proc/" + std::to_string(c.pid()) + "/ns/" + ns;
    ASSERT_GT(readlink(path.c_str(), target, sizeof target - 1), 0) << path;
    EXPECT_EQ(seen[ns], target) << ns;
  }
  // The cgroups: the same lines as the init's (both read inside the cgroup namespace).
  auto init_cgroups = Cvrun({"exec", c.id(), "/bin/cat", "/proc/1/cgroup"});
  ASSERT_EQ(init_cgroups.status.code, 0) << init_cgroups.err;
  std::vector<std::string> want;
  for (const auto& line : Split(init_cgroups.out, '\n'))
    if (!line.empty()) want.push_back(line);
  EXPECT_EQ(All(rep, "cgroup"), want);
  EXPECT_FALSE(want.empty());
  // ...and from the host: the process's cgroups are the init's.
  pid_t init = c.pid();
  EXPECT_EQ(One(rep, "pid") != "1", true);
  EXPECT_EQ(One(rep, "hostname"), "cvrun-test");
  EXPECT_EQ(One(rep, "Seccomp"), "2");
  EXPECT_EQ(One(rep, "Seccomp_filters"), StatusField(init, "Seccomp_filters"));
  EXPECT_EQ(One(rep, "CapEff"), StatusField(init, "CapEff"));
  EXPECT_EQ(One(rep, "CapBnd"), StatusField(init, "CapBnd"));
  EXPECT_EQ(One(rep, "NoNewPrivs"), "1");
  EXPECT_EQ(One(rep, "nofile"), "1024 1024");
  // The filter is the container's: creating a file is denied with EPERM.
  auto w = Cvrun({"exec", c.id(), "/bin/cvb-probe", "write", "/tmp/x"});
  EXPECT_NE(w.out.find("write /tmp/x errno=1"), std::string::npos) << w.out << w.err;
  // state and ps keep working while an exec process runs.
  auto bg = std::async(std::launch::async,
                       [&] { return Cvrun({"exec", c.id(), "/bin/cvb-probe", "sleep", "2", kMarker()}); });
  std::vector<pid_t> pids;
  for (int i = 0; i < 100 && pids.size() < 2; ++i) {
    usleep(20000);
    pids = json::parse(Cvrun({"ps", "--format", "json", c.id()}).out).get<std::vector<pid_t>>();
  }
  EXPECT_EQ(pids.size(), 2u) << "ps should list the init and the exec'd process";
  EXPECT_EQ(json::parse(Cvrun({"state", c.id()}).out)["status"], "running");
  EXPECT_EQ(bg.get().status.code, 0);
}

// runc keeps the config it created the container from; an engine (or anyone who can write the
// bundle) editing config.json afterwards must not change what exec applies: here the edit drops
// the seccomp filter and changes process.env.
TEST(Exec, AppliesTheConfigCreateSawNotTheBundleEditedSince) {
  REQUIRE_ROOT();
  json cfg = SleepConfig("keep");
  cfg["linux"]["seccomp"] = DenyCreateSeccomp();
  cfg["process"]["env"].push_back("CVB_SEEN=at-create");
  cfg["root"]["readonly"] = false;
  RunningContainer c("keep", cfg);
  ASSERT_TRUE(c.ok()) << c.error();
  // create's copy: in the state directory, readable by root only.
  std::string copy = StateRoot() + "/" + c.id() + "/config.json";
  struct stat st {};
  if (::stat(copy.c_str(), &st) != 0)
    ADD_FAILURE() << copy << ": " << strerror(errno);
  else
    EXPECT_EQ(st.st_mode & 07777, 0600u);

  json edited = cfg;
  edited["linux"].erase("seccomp");
  for (auto& e : edited["process"]["env"])
    if (e == "CVB_SEEN=at-create") e = "CVB_SEEN=edited";
  ASSERT_EQ(WriteBundle("exec-keep", edited), c.bundle());

  auto env = Cvrun({"exec", c.id(), "/bin/busybox", "env"});
  ASSERT_EQ(env.status.code, 0) << env.err;
  EXPECT_NE(env.out.find("CVB_SEEN=at-create\n"), std::string::npos) << env.out;
  EXPECT_EQ(env.out.find("CVB_SEEN=edited"), std::string::npos) << env.out;
  auto rep = ParseReport(Cvrun({"exec", c.id(), "/bin/cvb-probe", "report"}).out);
  EXPECT_EQ(One(rep, "Seccomp"), "2");
  auto w = Cvrun({"exec", c.id(), "/bin/cvb-probe", "write", "/tmp/x"});
  EXPECT_NE(w.out.find("write /tmp/x errno=1"), std::string::npos) << w.out << w.err;
}

TEST(Exec, FlagsTakeEffectAndTheExitCodePropagates) {
  REQUIRE_ROOT();
  RunningContainer c("flags", SleepConfig("flags"));
  ASSERT_TRUE(c.ok()) << c.error();
  auto r = Cvrun({"exec", "--env", "FOO=bar", "-e", "PATH=/bin:/sbin", "--cwd", "/tmp", "--user",
                  "1000:1001", "--cap", "CAP_SYS_PTRACE", c.id(), "/bin/sh", "-c",
                  "echo FOO=$FOO PATH=$PATH; /bin/cvb-probe report"});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_NE(r.out.find("FOO=bar PATH=/bin:/sbin"), std::string::npos) << r.out;
  auto rep = ParseReport(r.out);
  EXPECT_EQ(One(rep, "cwd"), "/tmp");
  EXPECT_EQ(One(rep, "uid"), "1000");
  EXPECT_EQ(One(rep, "gid"), "1001");
  // The config's CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE (ambient: effective for a
  // non-root user too) plus CAP_SYS_PTRACE (19) in the bounding set.
  EXPECT_EQ(One(rep, "CapBnd"), "0000000020080420");
  EXPECT_EQ(Cvrun({"exec", c.id(), "/bin/cvb-probe", "exit", "7"}).status.code, 7);
  EXPECT_EQ(Cvrun({"exec", c.id(), "/bin/sh", "-c", "kill -9 $$"}).status.code, 128 + 9);
  // A process.json instead of a command.
  std::string process_file = TestDir() + "/exec-process.json";
  ASSERT_TRUE(WriteFile(process_file,
                        json{{"args", {"/bin/sh", "-c", "echo P=$P; id -u"}},
                             {"cwd", "/"},
                             {"env", {"PATH=/bin", "P=from-file", std::string("CVB_MARKER=") + kMarker()}},
                             {"user", {{"uid", 33}, {"gid", 33}}}}
                            .dump())
                  .ok());
  auto p = Cvrun({"exec", "--process", process_file, c.id()});
  ASSERT_EQ(p.status.code, 0) << p.err;
  EXPECT_EQ(p.out, "P=from-file\n33\n");
  // A signal to `cvrun exec` reaches the process: it dies of it and exec reports 128 + 15.
  auto fwd = Spawn({CVRUN_BINARY, "--root", StateRoot(), "exec", c.id(), "/bin/cvb-probe",
                    "sleep", "30", kMarker()});
  ASSERT_TRUE(fwd.ok());
  pid_t sleeper = 0;
  for (int i = 0; i < 200 && sleeper == 0; ++i) {
    usleep(10000);
    auto pids = json::parse(Cvrun({"ps", "--format", "json", c.id()}).out).get<std::vector<pid_t>>();
    if (pids.size() == 2) sleeper = pids[0] == c.pid() ? pids[1] : pids[0];
  }
  ASSERT_GT(sleeper, 0);
  usleep(100000);  // cvrun exec has installed its forwarders once the process runs
  ::kill(fwd->pid(), SIGTERM);
  auto st = fwd->Wait(std::chrono::milliseconds(10000));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->code, 128 + SIGTERM);
  EXPECT_FALSE(PathExists("/proc/" + std::to_string(sleeper) + "/status") &&
               StatusField(sleeper, "State").rfind("Z", 0) != 0);
}

TEST(Exec, DetachWritesThePidFileAndTheProcessRunsInTheContainer) {
  REQUIRE_ROOT();
  RunningContainer c("detach", SleepConfig("detach"));
  ASSERT_TRUE(c.ok()) << c.error();
  std::string pid_file = TestDir() + "/exec-detach.pid";
  int64_t t0 = MonotonicNs();
  auto r = Cvrun({"exec", "--detach", "--pid-file", pid_file, c.id(), "/bin/cvb-probe", "sleep",
                  "30", kMarker()});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_LT(MonotonicNs() - t0, 10'000'000'000) << "--detach must not wait for the process";
  pid_t pid = std::atoi(ReadFile(pid_file).value_or("0").c_str());
  ASSERT_GT(pid, 0);
  auto pids = json::parse(Cvrun({"ps", "--format", "json", c.id()}).out).get<std::vector<pid_t>>();
  EXPECT_NE(std::find(pids.begin(), pids.end(), pid), pids.end());
  char a[128] = {}, b[128] = {};
  readlink(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), a, sizeof a - 1);
  readlink(("/proc/" + std::to_string(c.pid()) + "/ns/pid").c_str(), b, sizeof b - 1);
  EXPECT_STREQ(a, b);
  EXPECT_EQ(json::parse(Cvrun({"state", c.id()}).out)["status"], "running");
  // The detached process's cvrun has exited: we (a child subreaper, as conmon is) are its
  // parent now, and a pid namespace's init finishes dying only once its other processes are
  // reaped. Reap it while delete --force (the destructor) kills everything in the container;
  // the leak check proves that nothing stays.
  std::thread reaper([pid] {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  });
  reaper.detach();
}

TEST(Exec, TtyThroughTheConsoleSocket) {
  REQUIRE_ROOT();
  RunningContainer c("tty", SleepConfig("tty"));
  ASSERT_TRUE(c.ok()) << c.error();
  std::string sock_path = TestDir() + "/exec-console.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  auto exec = std::async(std::launch::async, [&] {
    return Cvrun({"exec", "-t", "--console-socket", sock_path, c.id(), "/bin/sh", "-c",
                  "[ -t 0 ] && [ -t 1 ] && echo tty-ok; exit 3"});
  });
  UniqueFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(conn.valid());
  char data;
  iovec iov{&data, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_EQ(::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC), 1);
  int master_fd;
  std::memcpy(&master_fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof master_fd);
  LineReader reader{UniqueFd(master_fd)};
  auto line = reader.Next(MonotonicNs() + 5'000'000'000);
  ASSERT_TRUE(line.ok()) << line.error().message();
  EXPECT_EQ(Trim(line->text), "tty-ok");
  auto r = exec.get();
  EXPECT_EQ(r.status.code, 3) << r.err;
  // --tty without a socket, a socket without --tty: refused.
  EXPECT_NE(Cvrun({"exec", "-t", c.id(), "/bin/true"}).err.find("needs --console-socket"),
            std::string::npos);
  EXPECT_NE(Cvrun({"exec", "--console-socket", sock_path, c.id(), "/bin/true"})
                .err.find("only with --tty"),
            std::string::npos);
}

TEST(Exec, StoppedMissingOrBadInputFailsClearlyAndLeavesNothing) {
  REQUIRE_ROOT();
  auto missing = Cvrun({"exec", Id("nope"), "/bin/true"});
  EXPECT_NE(missing.status.code, 0);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  {
    RunningContainer c("stopped", BaseConfig({"/bin/true"}, "stopped"));
    ASSERT_TRUE(c.ok()) << c.error();
    for (int i = 0; i < 200 && json::parse(Cvrun({"state", c.id()}).out)["status"] != "stopped"; ++i)
      usleep(10000);
    auto r = Cvrun({"exec", c.id(), "/bin/true"});
    EXPECT_NE(r.status.code, 0);
    EXPECT_NE(r.err.find("is stopped: cannot exec"), std::string::npos) << r.err;
  }
  RunningContainer c("bad", SleepConfig("bad"));
  ASSERT_TRUE(c.ok()) << c.error();
  struct Case {
    std::vector<std::string> args;
    const char* want;
  } cases[] = {
      {{"--apparmor", "docker-default"}, "--apparmor: AppArmor profiles are not supported"},
      {{"--process-label", "system_u:system_r:container_t"}, "--process-label: SELinux"},
      {{"--user", "nobody"}, "--user nobody: expected uid[:gid]"},
      {{"--cwd", "/no/such/dir"}, "exec: cwd /no/such/dir (resolved inside the container)"},
      {{"--process", "/no/such/process.json"}, "--process"},
  };
  for (const auto& cs : cases) {
    std::vector<std::string> args = {"exec"};
    args.insert(args.end(), cs.args.begin(), cs.args.end());
    args.push_back(c.id());
    if (cs.args[0] != "--process") args.push_back("/bin/true");
    auto r = Cvrun(args);
    EXPECT_NE(r.status.code, 0) << cs.want;
    EXPECT_NE(r.err.find(cs.want), std::string::npos) << r.err;
  }
  auto nf = Cvrun({"exec", c.id(), "no-such-command"});
  EXPECT_NE(nf.err.find("exec: \"no-such-command\": executable file not found in the container"),
            std::string::npos)
      << nf.err;
  // A file there that cannot be executed: "permission denied", as runc (Docker's 126).
  auto nx = Cvrun({"exec", c.id(), "/secret"});
  EXPECT_NE(nx.err.find("exec: \"/secret\": permission denied"), std::string::npos) << nx.err;
  // Only the init is left in the container after the failures.
  EXPECT_EQ(json::parse(Cvrun({"ps", "--format", "json", c.id()}).out), json::array({c.pid()}));
}

// CVE-2024-21626: a host fd that reaches the joining process, or a cwd that resolves through
// one, hands the container the host's filesystem.
TEST(ExecEscapes, Cve2024_21626NoHostFdOrCwdReachesTheProcess) {
  REQUIRE_ROOT();
  std::string rootfs = MakeRootfs("exec-fds");
  ASSERT_EQ(symlink("../../../../../../tmp", (rootfs + "/cwdlink").c_str()), 0);
  json cfg = SleepConfig("fds");
  cfg["root"]["path"] = rootfs;
  RunningContainer c("fds", cfg);
  ASSERT_TRUE(c.ok()) << c.error();
  std::string host_dir = TestDir();
  // The caller leaks fds 3..9 without O_CLOEXEC: a host directory, a host file, the cgroupfs
  // (runc leaked /sys/fs/cgroup), and fd 3 is preserved on purpose in the second run.
  auto through_shell = [&](const std::string& exec_args) {
    std::string script = "exec 3</etc/hostname 4<" + host_dir + " 5</sys/fs/cgroup 6</ 7<" +
                         host_dir + " 8</ 9</; exec " + CVRUN_BINARY + " --root " + StateRoot() +
                         " exec " + exec_args;
    std::string out_path = TestDir() + "/exec-fds.out";
    UniqueFd out(::open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    SpawnOptions so;
    so.stdout_fd = out.get();
    so.stderr_fd = out.get();
    auto child = Spawn({"/bin/sh", "-c", script}, so);
    EXPECT_TRUE(child.ok());
    auto st = child->Wait(std::chrono::milliseconds(20000));
    std::pair<int, std::string> result{st.ok() ? st->code : -1, ReadFile(out_path).value_or("")};
    return result;
  };
  int code = 0;
  std::string out;
  std::tie(code, out) = through_shell(c.id() + " /bin/cvb-probe report /work " + host_dir);
  ASSERT_EQ(code, 0) << out;
  auto rep = ParseReport(out);
  std::vector<std::string> fds;
  for (const auto& f : All(rep, "fd")) fds.push_back(f.substr(0, f.find(' ')));
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"})) << out;
  auto paths = All(rep, "path");
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/work no"), paths.end()) << out;
  EXPECT_NE(std::find(paths.begin(), paths.end(), host_dir + " no"), paths.end()) << out;
  // --preserve-fds 1: fd 3 (and only it) is passed on.
  std::tie(code, out) = through_shell("--preserve-fds 1 " + c.id() + " /bin/cvb-probe report");
  ASSERT_EQ(code, 0) << out;
  fds.clear();
  for (const auto& f : All(ParseReport(out), "fd")) fds.push_back(f.substr(0, f.find(' ')));
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2", "3"})) << out;
  // A cwd through /proc/self/fd/N (runc's leaked fd) is refused for every N, whatever is open.
  for (int fd = 3; fd <= 9; ++fd) {
    std::tie(code, out) = through_shell("--cwd /proc/self/fd/" + std::to_string(fd) + " " + c.id() +
                                        " /bin/cvb-probe report");
    EXPECT_NE(code, 0) << "fd " << fd << ":\n" << out;
    EXPECT_NE(out.find("exec: cwd /proc/self/fd/"), std::string::npos) << out;
  }
  // Other magic links and walks out of the root stay inside it.
  std::tie(code, out) = through_shell("--cwd /proc/1/cwd " + c.id() + " /bin/cvb-probe report");
  EXPECT_NE(code, 0) << out;
  std::tie(code, out) = through_shell("--cwd /../../../.. " + c.id() + " /bin/cvb-probe report");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(One(ParseReport(out), "cwd"), "/");
  std::tie(code, out) = through_shell("--cwd /cwdlink " + c.id() + " /bin/cvb-probe report /secret");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(One(ParseReport(out), "cwd"), "/tmp");  // the container's /tmp
}

// CVE-2019-5736: the container execs a binary that is "#!/proc/self/exe", so that the runtime's
// binary runs inside it, and opens every new process's /proc/PID/exe to overwrite it once the
// runtime exits. Run against a copy of cvrun: if the attack works, only the copy is damaged.
TEST(ExecEscapes, Cve2019_5736TheContainerCannotReachCvrunsBinary) {
  REQUIRE_ROOT();
  std::string cvrun_copy = TestDir() + "/cvrun-5736-copy";
  {
    auto bin = ReadFile(CVRUN_BINARY);
    ASSERT_TRUE(bin.ok());
    ASSERT_TRUE(WriteFile(cvrun_copy, *bin, 0755).ok());
  }
  auto before = HashFile(cvrun_copy);
  ASSERT_TRUE(before.ok());
  std::string rootfs = MakeRootfs("exec-5736");
  ASSERT_TRUE(WriteFile(rootfs + "/bin/evil", "#!/proc/self/exe\n", 0755).ok());
  // cvrun's shared libraries and loader, so that cvrun's binary can really run in there.
  {
    std::string ldd_out = TestDir() + "/exec-5736-ldd";
    UniqueFd fd(::open(ldd_out.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    SpawnOptions lo;
    lo.stdout_fd = fd.get();
    auto ldd = Spawn({"ldd", CVRUN_BINARY}, lo);
    ASSERT_TRUE(ldd.ok());
    ASSERT_TRUE(ldd->Wait().ok());
    for (const auto& line : Split(ReadFile(ldd_out).value_or(""), '\n')) {
      auto slash = line.find('/');
      if (slash == std::string::npos) continue;
      std::string lib = line.substr(slash, line.find(' ', slash) - slash);
      auto bytes = ReadFile(lib);
      ASSERT_TRUE(bytes.ok()) << lib;
      ASSERT_TRUE(MakeDirs(rootfs + lib.substr(0, lib.rfind('/'))).ok());
      ASSERT_TRUE(WriteFile(rootfs + lib, *bytes, 0755).ok());
    }
  }
  json cfg = BaseConfig({"/bin/cvb-probe", "exewatch", "12"}, "5736");
  cfg["root"]["path"] = rootfs;
  cfg["process"]["env"].push_back("X=1");
  std::string id = Id("5736");
  std::string bundle = WriteBundle("exec-5736", cfg);
  std::string out_path = TestDir() + "/exec-5736.out";
  UniqueFd out(::open(out_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  SpawnOptions so;
  so.stdout_fd = out.get();
  ASSERT_EQ(Cvrun({"create", "--bundle", bundle, id}, 20000, so).status.code, 0);
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  for (int i = 0; i < 200 && ReadFile(out_path).value_or("").find("watching") == std::string::npos; ++i)
    usleep(10000);
  auto exec_with_copy = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {cvrun_copy, "--root", StateRoot(), "exec", id};
    argv.insert(argv.end(), args.begin(), args.end());
    auto child = Spawn(argv);
    if (!child.ok()) return;
    (void)child->Wait(std::chrono::milliseconds(10000));
  };
  // Until the watcher has caught a process running cvrun's binary inside the container.
  int attempts = 0;
  for (; attempts < 40; ++attempts) {
    exec_with_copy({"/bin/evil"});
    exec_with_copy({"/bin/cvb-probe", "exit", "0"});
    std::string text = ReadFile(out_path).value_or("");
    if (text.find("exe=/memfd:") != std::string::npos ||
        text.find("exe=" + cvrun_copy) != std::string::npos)
      break;
  }
  // The watcher ends by itself, after its last overwrite attempts.
  for (int i = 0; i < 2000 && ReadFile(out_path).value_or("").find("exewatch done") == std::string::npos; ++i)
    usleep(10000);
  std::string text = ReadFile(out_path).value_or("");
  Cvrun({"delete", "--force", id});
  auto after = HashFile(cvrun_copy);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before) << "the container overwrote cvrun's binary:\n" << text;
  // Each overwrite attempt on a line of its own ("exe-overwrite <pid> ok" would be a success);
  // other lines ("exe-path <pid> ok") say nothing about overwriting.
  for (const auto& line : Split(text, '\n'))
    EXPECT_FALSE(line.rfind("exe-overwrite", 0) == 0 && line.find(" ok") != std::string::npos)
        << line;
  // The attack was really tried: a process of cvrun's was caught inside the container, either
  // running the sealed copy (exe=/memfd:cvrun) or still joining, when its /proc/<pid>/exe answers
  // EACCES (non-dumpable, and more capabilities than the watcher). Which one is caught is a race.
  EXPECT_TRUE(text.find("exe=/memfd:cvrun") != std::string::npos ||
              text.find("exe=errno=13") != std::string::npos)
      << "no cvrun process caught in " << attempts << " attempts:\n" << text;
  EXPECT_EQ(text.find("exe=" + cvrun_copy), std::string::npos) << text;
  std::cout << "[ info ] CVE-2019-5736 attempts " << attempts + 1 << ", watcher saw:\n" << text;
  EXPECT_NO_LEAKS();
}

// CVE-2021-30465 class: paths exec opens for the host (pid file, console socket) are the
// caller's, opened outside the container; what it opens inside (/dev/ptmx, the cwd) is checked.
TEST(ExecEscapes, ContainerControlledPathsCannotRedirectExec) {
  REQUIRE_ROOT();
  std::string rootfs = MakeRootfs("exec-30465");
  json cfg = BaseConfig({"/bin/sh", "-c",
                         "B=/bin/busybox; $B rm /dev/ptmx; $B ln -s /secret /dev/ptmx;"
                         " exec /bin/cvb-probe sleep 60 " + std::string(kMarker())},
                        "30465");
  cfg["root"]["path"] = rootfs;
  cfg["root"]["readonly"] = false;
  cfg["process"]["env"].push_back("X=1");
  RunningContainer c("30465", cfg);
  ASSERT_TRUE(c.ok()) << c.error();
  usleep(200000);
  // /dev/ptmx is now the container's symlink to a regular file: no fd of it goes to the host.
  std::string sock_path = TestDir() + "/exec-30465.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  auto tty = Cvrun({"exec", "-t", "--console-socket", sock_path, c.id(), "/bin/true"});
  EXPECT_NE(tty.status.code, 0);
  EXPECT_NE(tty.err.find("console"), std::string::npos) << tty.err;
  // The pid file is the caller's path, written by cvrun outside the container.
  std::string pid_file = TestDir() + "/exec-30465.pid";
  auto d = Cvrun({"exec", "-d", "--pid-file", pid_file, c.id(), "/bin/true"});
  EXPECT_EQ(d.status.code, 0) << d.err;
  EXPECT_TRUE(PathExists(pid_file));
  EXPECT_FALSE(PathExists(rootfs + pid_file));
  // We are the detached process's parent now (child subreaper): reap it, or the container's
  // init could not finish dying.
  pid_t detached = std::atoi(ReadFile(pid_file).value_or("0").c_str());
  ASSERT_GT(detached, 0);
  int status;
  EXPECT_EQ(waitpid(detached, &status, 0), detached);
}

TEST(Exec, NothingLeftBehind) {
  REQUIRE_ROOT();
  EXPECT_NO_LEAKS();
}

}  // namespace
}  // namespace cvb::runtime::testenv
