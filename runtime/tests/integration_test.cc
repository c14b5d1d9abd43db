// Real containers, as root: lifecycle, isolation seen from inside (cvb-probe), limits, hooks,
// bad input and faults. Every test ends by checking that nothing is left behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <map>
#include <optional>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/line_reader.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using nlohmann::json;

std::string Id(const std::string& name) { return "cvrun-it-" + name; }


const auto* const g_cleanup = testing::AddGlobalTestEnvironment(new TestDirCleanup);

TEST(Run, TrueAndExitCodes) {
  REQUIRE_ROOT();
  auto r = Cvrun({"run", "--bundle", WriteBundle("true", BaseConfig({"/bin/true"}, "true")),
                  Id("true")});
  EXPECT_EQ(r.status.code, 0) << r.err;
  auto e = Cvrun({"run", "--bundle",
                  WriteBundle("exit3", BaseConfig({"/bin/cvb-probe", "exit", "3"}, "exit3")),
                  Id("exit3")});
  EXPECT_EQ(e.status.code, 3) << e.err;
  EXPECT_NO_LEAKS();
}

TEST(Run, JsonLogHasOnePhasesLine) {
  REQUIRE_ROOT();
  std::string log = TestDir() + "/phases.log";
  auto r = Cvrun({"--log", log, "--log-format", "json", "run", "--bundle",
                  WriteBundle("phases", BaseConfig({"/bin/true"}, "phases")), Id("phases")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto text = ReadFile(log);
  ASSERT_TRUE(text.ok());
  auto lines = Split(*text, '\n');
  ASSERT_EQ(lines.size(), 1u) << *text;
  auto j = json::parse(lines[0]);
  EXPECT_EQ(j["msg"], "phases");
  EXPECT_EQ(j["cmd"], "run");
  for (const char* phase : {"spec", "cgroup", "clone", "namespaces", "mounts", "pivot_root",
                            "finalize", "total", "wait", "cleanup", "run_total"})
    EXPECT_TRUE(j["phases_us"].contains(phase)) << phase;
  EXPECT_NO_LEAKS();
}

TEST(Lifecycle, CreateStartStateKillDelete) {
  REQUIRE_ROOT();
  std::string id = Id("life");
  std::string bundle =
      WriteBundle("life", BaseConfig({"/bin/cvb-probe", "sleep", "30", kMarker()}, "life"));
  std::string pid_file = TestDir() + "/life.pid";
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  SpawnOptions so;
  so.stdout_fd = write_end.get();
  auto c = Cvrun({"create", "--bundle", bundle, "--pid-file", pid_file, id}, 20000, so);
  write_end.reset();
  ASSERT_EQ(c.status.code, 0) << c.err;
  auto pid_text = ReadFile(pid_file);
  ASSERT_TRUE(pid_text.ok());
  pid_t pid = std::atoi(pid_text->c_str());
  ASSERT_GT(pid, 0);
  auto st = json::parse(Cvrun({"state", id}).out);
  EXPECT_EQ(st["status"], "created");
  EXPECT_EQ(st["pid"], pid);
  EXPECT_EQ(st["bundle"], bundle);
  // A second create with the same ID fails and leaves the first alone.
  auto dup = Cvrun({"create", "--bundle", bundle, id});
  EXPECT_NE(dup.status.code, 0);
  EXPECT_NE(dup.err.find("container " + id + " already exists"), std::string::npos) << dup.err;
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  LineReader reader(std::move(read_end));
  auto line = reader.Next(MonotonicNs() + 5'000'000'000);
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->text, "sleeping");
  EXPECT_EQ(json::parse(Cvrun({"state", id}).out)["status"], "running");
  auto ps = Cvrun({"ps", "--format", "json", id});
  EXPECT_EQ(json::parse(ps.out), json::array({pid}));
  auto list = Cvrun({"list"});
  EXPECT_NE(list.out.find(id), std::string::npos);
  EXPECT_NE(list.out.find("running"), std::string::npos);
  // The memory limit is in place (v1 memory controller, or memory.max on v2).
  auto self_cg = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  ASSERT_TRUE(self_cg.ok());
  for (const auto& l : Split(*self_cg, '\n')) {
    if (l.find(":memory:") != std::string::npos) {
      auto limit = ReadFile("/sys/fs/cgroup/memory" + l.substr(l.find(":memory:") + 8) +
                            "/memory.limit_in_bytes");
      ASSERT_TRUE(limit.ok());
      EXPECT_EQ(Trim(*limit), std::to_string(64 << 20));
    }
  }
  // A delete without --force refuses a running container.
  auto del = Cvrun({"delete", id});
  EXPECT_NE(del.status.code, 0);
  EXPECT_NE(del.err.find("is running"), std::string::npos) << del.err;
  // The init is pid 1 of its namespace: it ignores SIGTERM without a handler, as in runc.
  ASSERT_EQ(Cvrun({"kill", id, "SIGKILL"}).status.code, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);  // we are its subreaper
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(json::parse(Cvrun({"state", id}).out)["status"], "stopped");
  auto kill_stopped = Cvrun({"kill", id, "TERM"});
  EXPECT_NE(kill_stopped.status.code, 0);
  EXPECT_EQ(Cvrun({"delete", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Lifecycle, DeleteForceKillsACreatedContainer) {
  REQUIRE_ROOT();
  std::string id = Id("force");
  ASSERT_EQ(Cvrun({"create", "--bundle",
                   WriteBundle("force", BaseConfig({"/bin/cvb-probe", "sleep", "30"}, "force")),
                   id})
                .status.code,
            0);
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Lifecycle, TerminalThroughTheConsoleSocket) {
  REQUIRE_ROOT();
  std::string sock_path = TestDir() + "/console.sock";
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 1), 0);
  json cfg = BaseConfig({"/bin/sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo tty-ok"}, "tty");
  cfg["process"]["terminal"] = true;
  std::string id = Id("tty");
  auto created = std::async(std::launch::async, [&] {
    return Cvrun({"create", "--bundle", WriteBundle("tty", cfg), "--console-socket", sock_path, id});
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
  UniqueFd master(master_fd);
  auto c = created.get();
  ASSERT_EQ(c.status.code, 0) << c.err;
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  LineReader reader(std::move(master));
  auto line = reader.Next(MonotonicNs() + 5'000'000'000);
  ASSERT_TRUE(line.ok()) << line.error().message();
  EXPECT_EQ(line->text, "tty-ok");
  for (int i = 0; i < 200 && json::parse(Cvrun({"state", id}).out)["status"] != "stopped"; ++i)
    usleep(10000);
  EXPECT_EQ(Cvrun({"delete", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Isolation, DefaultSpecSeesNothingOfTheHost) {
  REQUIRE_ROOT();
  std::string marker = TestDir() + "/host-marker";
  ASSERT_TRUE(WriteFile(marker, "host").ok());
  // An fd without O_CLOEXEC in the caller must not reach the container.
  int leaked_fd = ::open("/etc/hostname", O_RDONLY);
  ASSERT_GE(leaked_fd, 0);
  auto r = Cvrun({"run", "--bundle",
                  WriteBundle("iso", BaseConfig({"/bin/cvb-probe", "report", marker.c_str(), "/work",
                                                 "/run/cvrun", "/etc/hostname", "/secret"},
                                                "iso")),
                  Id("iso")});
  ::close(leaked_fd);
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto rep = ParseReport(r.out);
  EXPECT_EQ(One(rep, "pid"), "1");
  EXPECT_EQ(One(rep, "processes"), "1") << "host processes are visible";
  EXPECT_EQ(One(rep, "hostname"), "cvrun-test");
  EXPECT_EQ(All(rep, "netdev"), (std::vector<std::string>{"lo"})) << "host interfaces are visible";
  std::vector<std::string> fds;
  for (const auto& f : All(rep, "fd")) fds.push_back(f.substr(0, f.find(' ')));
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"})) << r.out;
  auto paths = All(rep, "path");
  EXPECT_NE(std::find(paths.begin(), paths.end(), marker + " no"), paths.end()) << r.out;
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/work no"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/run/cvrun no"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/secret yes"), paths.end());
  // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE = bits 29, 5, 10.
  EXPECT_EQ(One(rep, "CapEff"), "0000000020000420");
  EXPECT_EQ(One(rep, "CapBnd"), "0000000020000420");
  EXPECT_EQ(One(rep, "NoNewPrivs"), "1");
  EXPECT_EQ(One(rep, "nofile"), "1024 1024");
  EXPECT_NO_LEAKS();
}

TEST(Isolation, ReadonlyRootMaskedAndReadonlyPaths) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/sh", "-c",
                         "/bin/cvb-probe write /newfile; /bin/cvb-probe write /tmp/ok;"
                         " /bin/cvb-probe read /proc/keys; /bin/cvb-probe write /proc/sys/kernel/hostname"},
                        "ro");
  auto r = Cvrun({"run", "--bundle", WriteBundle("ro", cfg), Id("ro")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_NE(r.out.find("write /newfile errno=30"), std::string::npos) << r.out;  // EROFS
  EXPECT_NE(r.out.find("write /tmp/ok ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read /proc/keys \n"), std::string::npos) << r.out;  // /dev/null
  EXPECT_NE(r.out.find("write /proc/sys/kernel/hostname errno=30"), std::string::npos) << r.out;
  EXPECT_NO_LEAKS();
}

TEST(Isolation, SymlinksInTheRootfsCannotRedirectToTheHost) {
  REQUIRE_ROOT();
  std::string rootfs = MakeRootfs("symlinks");
  std::string escape_name = "cvrun-it-escaped-" + std::to_string(getpid());
  ASSERT_EQ(symlink("/", (rootfs + "/escape").c_str()), 0);
  ASSERT_EQ(symlink("../../../../../../tmp", (rootfs + "/cwdlink").c_str()), 0);
  ASSERT_EQ(symlink("/secret", (rootfs + "/masklink").c_str()), 0);
  std::string host_marker = TestDir() + "/host-only";
  ASSERT_TRUE(WriteFile(host_marker, "host").ok());
  json cfg = BaseConfig({"/bin/sh", "-c",
                         "/bin/cvb-probe report; /bin/cvb-probe read /secret; ls /" + escape_name +
                             " >/dev/null && echo escaped-dir-inside"},
                        "sym");
  cfg["root"]["path"] = rootfs;
  cfg["root"]["readonly"] = false;
  cfg["process"]["cwd"] = "/cwdlink";
  cfg["mounts"].push_back({{"destination", "/escape/" + escape_name},
                           {"type", "tmpfs"},
                           {"source", "tmpfs"}});
  cfg["linux"]["maskedPaths"].push_back("/masklink");
  auto r = Cvrun({"run", "--bundle", WriteBundle("sym", cfg), Id("sym")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto rep = ParseReport(r.out);
  EXPECT_EQ(One(rep, "cwd"), "/tmp");  // the container's /tmp, not the host's
  EXPECT_NE(r.out.find("read /secret \n"), std::string::npos) << "masked through the link\n" << r.out;
  EXPECT_NE(r.out.find("escaped-dir-inside"), std::string::npos) << r.out;
  // The mount destination was made inside the rootfs, not at the host's root.
  EXPECT_FALSE(PathExists("/" + escape_name));
  EXPECT_TRUE(PathExists(rootfs + "/" + escape_name));
  EXPECT_NO_LEAKS();
}

TEST(Isolation, UserSeccompAndCapabilities) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/sh", "-c", "/bin/cvb-probe report; /bin/cvb-probe write /tmp/x"},
                        "user");
  cfg["process"]["user"] = {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {1001}}};
  cfg["process"]["capabilities"] = {{"bounding", {"CAP_KILL"}}};
  cfg["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64"}},
      {"syscalls", {{{"names", {"open", "openat", "creat"}},
                     {"action", "SCMP_ACT_ERRNO"},
                     {"errnoRet", 1},
                     {"args", {{{"index", 2}, {"value", 0100}, {"valueTwo", 0100}, {"op", "SCMP_CMP_MASKED_EQ"}}}}}}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("user", cfg), Id("user")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto rep = ParseReport(r.out);
  EXPECT_EQ(One(rep, "uid"), "1000");
  EXPECT_EQ(One(rep, "gid"), "1000");
  EXPECT_EQ(One(rep, "CapEff"), "0000000000000000");
  EXPECT_EQ(One(rep, "CapBnd"), "0000000000000020");
  EXPECT_EQ(One(rep, "Seccomp"), "2");
  EXPECT_NE(r.out.find("write /tmp/x errno=1"), std::string::npos) << r.out;  // O_CREAT denied
  EXPECT_NO_LEAKS();
}

TEST(Namespaces, UserAndCgroupNamespaces) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/sh", "-c", "/bin/cvb-probe report; cat /proc/self/uid_map"}, "userns");
  cfg["linux"]["namespaces"].push_back({{"type", "user"}});
  cfg["linux"]["namespaces"].push_back({{"type", "cgroup"}});
  cfg["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  cfg["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("userns", cfg), Id("userns")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto rep = ParseReport(r.out);
  EXPECT_EQ(One(rep, "uid"), "0");
  EXPECT_NE(r.out.find("100000"), std::string::npos) << r.out;  // the uid_map line
  if (PathExists("/sys/fs/cgroup/unified/cgroup.procs") || PathExists("/sys/fs/cgroup/cgroup.procs")) {
    EXPECT_EQ(One(rep, "cgroup2"), "/");  // the cgroup namespace's root is the container's cgroup
  }
  EXPECT_NO_LEAKS();
}

TEST(Namespaces, JoinANetworkNamespaceByPath) {
  REQUIRE_ROOT();
  if (FindProgram("ip").empty()) GTEST_SKIP() << "iproute2 (ip) is missing";
  std::string name = "cvrun-it-net-" + std::to_string(getpid());
  auto add = cvb::Run({"ip", "netns", "add", name});
  ASSERT_TRUE(add.ok() && add->status.ok()) << (add.ok() ? add->err : "");
  std::string path = "/run/netns/" + name;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  json cfg = BaseConfig({"/bin/cvb-probe", "report"}, "joinnet");
  for (auto& ns : cfg["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = path;
  auto r = Cvrun({"run", "--bundle", WriteBundle("joinnet", cfg), Id("joinnet")});
  (void)cvb::Run({"ip", "netns", "delete", name});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(One(ParseReport(r.out), "netns"), "net:[" + std::to_string(st.st_ino) + "]");
  EXPECT_NO_LEAKS();
}

TEST(Limits, MemoryLimitKillsAnOverrun) {
  REQUIRE_ROOT();
  auto r = Cvrun({"run", "--bundle",
                  WriteBundle("oom", BaseConfig({"/bin/cvb-probe", "alloc", "200"}, "oom")),
                  Id("oom")});
  EXPECT_EQ(r.status.code, 128 + SIGKILL) << r.out << r.err;
  EXPECT_EQ(r.out.find("alloc done"), std::string::npos);
  EXPECT_NO_LEAKS();
}

TEST(Limits, PidsCpuAndSysctl) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/sh", "-c",
                         "cat /proc/sys/net/ipv4/ip_forward; cat /proc/self/cgroup"},
                        "res");
  cfg["linux"]["resources"]["pids"] = {{"limit", 16}};
  cfg["linux"]["resources"]["cpu"] = {{"shares", 256}, {"quota", 50000}, {"period", 100000}};
  cfg["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  // Check the values from a hook while the container exists.
  std::string seen = TestDir() + "/res-seen";
  cfg["hooks"] = {{"createRuntime",
                   {{{"path", "/bin/sh"},
                     {"args", {"sh", "-c",
                               "cat /sys/fs/cgroup/pids/cvrun-it-res/pids.max "
                               "/sys/fs/cgroup/cpu/cvrun-it-res/cpu.shares "
                               "/sys/fs/cgroup/cpu/cvrun-it-res/cpu.cfs_quota_us > " + seen}}}}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("res", cfg), Id("res")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(Split(r.out, '\n')[0], "1");
  auto values = ReadFile(seen);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, "16\n256\n50000\n");
  EXPECT_NO_LEAKS();
}

TEST(Hooks, RunInOrderWithStateOnStdin) {
  REQUIRE_ROOT();
  std::string log = TestDir() + "/hooks.log";
  auto hook = [&](const std::string& name) {
    return json{{"path", "/bin/sh"},
                {"args", {"sh", "-c", "echo " + name + " $(grep -o '\"status\": \"[a-z]*\"' | head -1) >> " + log}}};
  };
  json cfg = BaseConfig({"/bin/true"}, "hooks");
  cfg["hooks"] = {{"prestart", {hook("prestart")}},
                  {"createRuntime", {hook("createRuntime")}},
                  {"poststart", {hook("poststart")}},
                  {"poststop", {hook("poststop")}}};
  std::string id = Id("hooks");
  std::string bundle = WriteBundle("hooks", cfg);
  ASSERT_EQ(Cvrun({"create", "--bundle", bundle, id}).status.code, 0);
  ASSERT_EQ(Cvrun({"start", id}).status.code, 0);
  ASSERT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  auto text = ReadFile(log);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "prestart \"status\": \"created\"\ncreateRuntime \"status\": \"created\"\n"
            "poststart \"status\": \"running\"\npoststop \"status\": \"stopped\"\n");
  EXPECT_NO_LEAKS();
}

// A character device outside the default allow list that this host can open (block devices it
// cannot): /dev/kvm (c 10:232) when the host has KVM, else fuse, tun, loop-control. Tried through
// a fresh node in the test directory, as the container will.
std::optional<std::pair<int, int>> OpenableMiscDevice() {
  for (auto [major, minor] :
       std::initializer_list<std::pair<int, int>>{{10, 232}, {10, 229}, {10, 200}, {10, 237}}) {
    std::string node = TestDir() + "/probe-node";
    ::unlink(node.c_str());
    if (::mknod(node.c_str(), S_IFCHR | 0600, makedev(major, minor)) != 0) continue;
    int fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
    ::unlink(node.c_str());
    if (fd >= 0) {
      ::close(fd);
      return std::make_pair(major, minor);
    }
  }
  return std::nullopt;
}

// Device rules are a security boundary: with CAP_MKNOD granted, a node the rules deny can be
// made (every c/b device gets "m", as under runc and crun) but not opened.
TEST(Devices, RulesDecideWhatAContainerWithCapMknodCanOpen) {
  REQUIRE_ROOT();
  if (!PathExists("/sys/fs/cgroup/devices/devices.list"))
    GTEST_SKIP() << "no v1 devices hierarchy on this host";
  auto dev = OpenableMiscDevice();
  if (!dev) GTEST_SKIP() << "no misc device (kvm, fuse, tun, loop-control) opens on this host";
  auto [major, minor] = *dev;
  std::string mm = std::to_string(major) + ":" + std::to_string(minor);
  auto run = [&](const std::string& name, bool allow) {
    json cfg = BaseConfig({"/bin/sh", "-c",
                           "/bin/cvb-probe mknod /dev/node " + std::to_string(major) + " " +
                               std::to_string(minor) + "; grep devices /proc/self/cgroup"},
                          name);
    json caps = {"CAP_MKNOD", "CAP_KILL"};
    cfg["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
    cfg["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}}};
    if (allow)
      cfg["linux"]["resources"]["devices"].push_back(
          {{"allow", true}, {"type", "c"}, {"major", major}, {"minor", minor}, {"access", "rw"}});
    std::string list = TestDir() + "/" + name + "-devices.list";
    cfg["hooks"] = {
        {"createRuntime",
         {{{"path", "/bin/sh"},
           {"args",
            {"sh", "-c",
             "cat /sys/fs/cgroup/devices/cvrun-it-" + name + "/devices.list > " + list}}}}}};
    auto r = Cvrun({"run", "--bundle", WriteBundle(name, cfg), Id(name)});
    EXPECT_EQ(r.status.code, 0) << r.err;
    auto text = ReadFile(list);
    return std::make_pair(r.out, text.ok() ? *text : std::string("<none>"));
  };
  auto [denied, denied_list] = run("devdeny", false);
  EXPECT_NE(denied.find("mknod /dev/node ok"), std::string::npos) << denied;
  EXPECT_NE(denied.find("open /dev/node errno=1\n"), std::string::npos) << denied;  // EPERM
  EXPECT_NE(denied.find(":devices:/cvrun-it-devdeny"), std::string::npos) << denied;
  EXPECT_EQ(denied_list.find(mm), std::string::npos) << denied_list;
  EXPECT_EQ(denied_list.find("a *:* rwm"), std::string::npos) << denied_list;
  EXPECT_NE(denied_list.find("c 1:3 rwm"), std::string::npos) << denied_list;
  auto [allowed, allowed_list] = run("devallow", true);
  EXPECT_NE(allowed.find("open /dev/node ok"), std::string::npos) << allowed;
  EXPECT_NE(allowed_list.find("c " + mm + " rw"), std::string::npos) << allowed_list;
  EXPECT_NO_LEAKS();
}

// cvrun as on a pure cgroup v2 host: cgroup2 mounted on /sys/fs/cgroup in a private mount
// namespace (the host's v1 hierarchies are out of sight there), so cvrun picks its v2 manager
// and turns the device rules into an eBPF program. The container stays in the v1 devices root
// ("a *:* rwm"): a denial can only come from the program.
TEST(Devices, OnAPureV2HostTheRulesBecomeAnEbpfProgram) {
  REQUIRE_ROOT();
  auto host_mi = ReadFile("/proc/self/mountinfo");
  if (!host_mi.ok() || host_mi->find(" - cgroup2 ") == std::string::npos)
    GTEST_SKIP() << "no cgroup2 on this host";
  auto dev = OpenableMiscDevice();
  if (!dev) GTEST_SKIP() << "no misc device (kvm, fuse, tun, loop-control) opens on this host";
  auto [major, minor] = *dev;
  auto run = [&](const std::string& name, bool allow) {
    // No default node: made with CAP_MKNOD, then opened or refused.
    json cfg = BaseConfig({"/bin/sh", "-c",
                           "/bin/cvb-probe mknod /dev/node " + std::to_string(major) + " " +
                               std::to_string(minor) +
                               "; /bin/cvb-probe read /dev/null; grep '^0::' /proc/self/cgroup"},
                          name);
    cfg["linux"]["resources"].erase("memory");  // this cgroup2 has no memory controller
    json caps = {"CAP_MKNOD", "CAP_KILL"};
    cfg["process"]["capabilities"] = {{"bounding", caps}, {"effective", caps}, {"permitted", caps}};
    cfg["linux"]["resources"]["devices"] = {{{"allow", false}, {"access", "rwm"}}};
    if (allow)
      cfg["linux"]["resources"]["devices"].push_back(
          {{"allow", true}, {"type", "c"}, {"major", major}, {"minor", minor}, {"access", "rw"}});
    std::string bundle = WriteBundle(name, cfg);
    auto r = cvb::Run({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                  "mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec \"$@\"", "sh", CVRUN_BINARY,
                  "--root", StateRoot(), "run", "--bundle", bundle, Id(name)},
                 std::chrono::seconds(20));
    EXPECT_TRUE(r.ok()) << r.error().message();
    if (!r.ok()) return std::string();
    EXPECT_EQ(r->status.code, 0) << r->err;
    return r->out;
  };
  std::string denied = run("v2deny", false);
  EXPECT_NE(denied.find("mknod /dev/node ok"), std::string::npos) << denied;
  EXPECT_NE(denied.find("open /dev/node errno=1\n"), std::string::npos) << denied;  // EPERM
  EXPECT_NE(denied.find("read /dev/null \n"), std::string::npos) << denied;
  EXPECT_NE(denied.find("0::/cvrun-it-v2deny"), std::string::npos) << denied;
  std::string allowed = run("v2allow", true);
  EXPECT_NE(allowed.find("open /dev/node ok"), std::string::npos) << allowed;
  EXPECT_NO_LEAKS();
}

TEST(Devices, LinuxDevicesInSubdirectoriesLandInTheContainersDev) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/cvb-probe", "report", "/dev/sub/null2"}, "devsub");
  cfg["linux"]["devices"] = {
      {{"type", "c"}, {"path", "/dev/sub/null2"}, {"major", 1}, {"minor", 3}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("devsub", cfg), Id("devsub")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(One(ParseReport(r.out), "path"), "/dev/sub/null2 yes");
  EXPECT_NO_LEAKS();
}

TEST(Network, LoopbackIsUpInANewNetworkNamespace) {
  REQUIRE_ROOT();
  auto r = Cvrun(
      {"run", "--bundle",
       WriteBundle("lo", BaseConfig({"/bin/cvb-probe", "read", "/sys/class/net/lo/flags"}, "lo")),
       Id("lo")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(r.out, "read /sys/class/net/lo/flags 0x9\n");  // IFF_UP | IFF_LOOPBACK
  EXPECT_NO_LEAKS();
}

// Host directory with a tmpfs sub-mount, a file and a symlink to it, for the mount option tests.
class MountSource {
 public:
  MountSource() : dir_(TestDir() + "/msrc") {
    (void)MakeDirs(dir_ + "/sub");
    ok_ = ::mount("tmpfs", (dir_ + "/sub").c_str(), "tmpfs", 0, "size=64k") == 0;
    (void)WriteFile(dir_ + "/file", "content\n");
    (void)::symlink("file", (dir_ + "/link").c_str());
  }
  ~MountSource() { ::umount2((dir_ + "/sub").c_str(), MNT_DETACH); }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool ok_ = false;
};

TEST(MountOptions, RroNosymfollowAndAtimeOnBinds) {
  REQUIRE_ROOT();
  {
    MountSource src;
    ASSERT_TRUE(src.ok());
    auto run = [&](const std::string& name, const std::vector<std::string>& options,
                   const std::string& script) {
      json cfg = BaseConfig({"/bin/sh", "-c", script}, name);
      cfg["mounts"].push_back({{"destination", "/data"},
                               {"type", "bind"},
                               {"source", src.dir()},
                               {"options", options}});
      auto r = Cvrun({"run", "--bundle", WriteBundle(name, cfg), Id(name)});
      EXPECT_EQ(r.status.code, 0) << name << ": " << r.err;
      return r.out;
    };
    // rbind alone: the sub-mount is writable; rro: read-only all the way down (EROFS = 30).
    EXPECT_EQ(run("rbind", {"rbind"}, "/bin/cvb-probe write /data/sub/x"),
              "write /data/sub/x ok\n");
    EXPECT_EQ(run("rro", {"rbind", "rro"}, "/bin/cvb-probe write /data/sub/x"),
              "write /data/sub/x errno=30\n");
    // nosymfollow: the symlink is not followed (ELOOP = 40); the file itself reads.
    EXPECT_EQ(run("nosym", {"rbind", "nosymfollow"},
                  "/bin/cvb-probe read /data/link; /bin/cvb-probe read /data/file"),
              "read /data/link errno=40\nread /data/file content\n");
    // strictatime and noatime used to fail with EINVAL in mount_setattr.
    for (const char* atime : {"noatime", "strictatime", "relatime"}) {
      std::string out =
          run(std::string("at") + atime, {"bind", atime}, "grep ' /data ' /proc/self/mountinfo");
      std::string want = std::string(atime) == "strictatime" ? "" : atime;
      if (!want.empty())
        EXPECT_NE(out.find(want), std::string::npos) << atime << ": " << out;
      else
        EXPECT_EQ(out.find("relatime"), std::string::npos) << out;
    }
  }  // the source's sub-mount is gone before the leak check
  EXPECT_NO_LEAKS();
}

TEST(MountOptions, SysfsFallbackInAUserNamespaceIsReadOnly) {
  REQUIRE_ROOT();
  // A new user namespace without a new network namespace cannot mount sysfs: the host's /sys
  // is bound instead, and it must be read-only, sub-mounts included.
  json cfg = BaseConfig({"/bin/sh", "-c", "grep ' /sys' /proc/self/mountinfo"}, "sysro");
  json namespaces = json::array();
  for (const auto& ns : cfg["linux"]["namespaces"])
    if (ns["type"] != "network") namespaces.push_back(ns);
  namespaces.push_back({{"type", "user"}});
  cfg["linux"]["namespaces"] = namespaces;
  cfg["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  cfg["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  cfg["linux"]["resources"] = json::object();
  auto r = Cvrun({"run", "--bundle", WriteBundle("sysro", cfg), Id("sysro")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  int lines = 0;
  for (const auto& line : Split(r.out, '\n')) {
    if (line.empty()) continue;
    ++lines;
    auto fields = Split(line, ' ');
    ASSERT_GT(fields.size(), 5u);
    EXPECT_EQ(fields[5].rfind("ro,", 0), 0u) << line;  // per-mount options start with ro
  }
  EXPECT_GT(lines, 1) << r.out;  // /sys and its sub-mounts
  EXPECT_NO_LEAKS();
}

TEST(Limits, DisableOomKillerAndKernelTcpReachTheMemoryCgroup) {
  REQUIRE_ROOT();
  if (!PathExists("/sys/fs/cgroup/memory/memory.oom_control"))
    GTEST_SKIP() << "no v1 memory hierarchy";
  json cfg = BaseConfig({"/bin/true"}, "oomoff");
  cfg["linux"]["resources"]["memory"]["disableOOMKiller"] = true;
  bool tcp = PathExists("/sys/fs/cgroup/memory/memory.kmem.tcp.limit_in_bytes");
  if (tcp) cfg["linux"]["resources"]["memory"]["kernelTCP"] = 8 << 20;
  std::string seen = TestDir() + "/oomoff-seen";
  // The memory hierarchy nests under our own cgroup there: find the directory by name.
  cfg["hooks"] = {{"createRuntime",
                   {{{"path", "/bin/sh"},
                     {"args",
                      {"sh", "-c",
                       "d=$(find /sys/fs/cgroup/memory -maxdepth 4 -type d -name "
                       "cvrun-it-oomoff | head -1); grep oom_kill_disable "
                       "$d/memory.oom_control > " +
                           seen +
                           "; cat "
                           "$d/memory.kmem.tcp.limit_in_bytes >> " +
                           seen}}}}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("oomoff", cfg), Id("oomoff")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto text = ReadFile(seen);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(Split(*text, '\n')[0], "oom_kill_disable 1");
  if (tcp) {
    EXPECT_EQ(Split(*text, '\n')[1], std::to_string(8 << 20));
  }
  EXPECT_NO_LEAKS();
}

TEST(BadInput, FieldsThisHostCannotApplyAreRefusedAndLeaveNothing) {
  REQUIRE_ROOT();
  struct Case {
    const char* name;
    json resources;
    const char* message;
  } cases[] = {
      {"refblkio", {{"blockIO", {{"weight", 500}}}}, "linux.resources.blockIO.weight: "},
      {"refhuge",
       {{"hugepageLimits", {{{"pageSize", "2MB"}, {"limit", 2097152}}}}},
       "linux.resources.hugepageLimits"},
      {"refnet", {{"network", {{"classID", 1048577}}}}, "linux.resources.network.classID: "},
  };
  for (const auto& c : cases) {
    std::string knob = std::string(c.name) == "refblkio"  ? "/sys/fs/cgroup/blkio/blkio.weight"
                       : std::string(c.name) == "refhuge" ? "/sys/fs/cgroup/hugetlb"
                                                          : "/sys/fs/cgroup/net_cls";
    if (PathExists(knob)) continue;  // this host can apply it: not a refusal case here
    json cfg = BaseConfig({"/bin/true"}, c.name);
    cfg["linux"]["resources"].update(c.resources);
    auto r = Cvrun({"run", "--bundle", WriteBundle(c.name, cfg), Id(c.name)});
    EXPECT_NE(r.status.code, 0) << c.name;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
  }
  EXPECT_NO_LEAKS();
}

TEST(Hooks, FailingPoststartAndPoststopWarnAndTheRestRun) {
  REQUIRE_ROOT();
  std::string log = TestDir() + "/hookfail.log";
  auto hook = [&](const std::string& script) {
    return json{{"path", "/bin/sh"}, {"args", {"sh", "-c", script}}};
  };
  json cfg = BaseConfig({"/bin/true"}, "hookfail");
  cfg["hooks"] = {{"poststart", {hook("exit 3"), hook("echo poststart2 >> " + log)}},
                  {"poststop", {hook("exit 4"), hook("echo poststop2 >> " + log)}}};
  std::string id = Id("hookfail");
  std::string bundle = WriteBundle("hookfail", cfg);
  ASSERT_EQ(Cvrun({"create", "--bundle", bundle, id}).status.code, 0);
  auto start = Cvrun({"start", id});
  EXPECT_EQ(start.status.code, 0) << start.err;
  EXPECT_NE(start.err.find("hooks.poststart[0]"), std::string::npos) << start.err;
  auto del = Cvrun({"delete", "--force", id});
  EXPECT_EQ(del.status.code, 0) << del.err;
  EXPECT_NE(del.err.find("hooks.poststop[0]"), std::string::npos) << del.err;
  auto text = ReadFile(log);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "poststart2\npoststop2\n");
  EXPECT_NO_LEAKS();
}

TEST(Hooks, StartContainerRunsInTheContainerBeforeTheProcess) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/sh", "-c", "echo process $(hostname)"}, "starthook");
  // The hook's path and its view are the container's: its hostname, its /bin/sh.
  cfg["hooks"] = {
      {"startContainer",
       {{{"path", "/bin/sh"},
         {"args", {"sh", "-c", "echo hook $(hostname) $(grep -o '\"status\": \"[a-z]*\"')"}}}}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("starthook", cfg), Id("starthook")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  EXPECT_EQ(r.out, "hook cvrun-test \"status\": \"created\"\nprocess cvrun-test\n");
  // A failing startContainer hook: the process never runs.
  cfg["hooks"]["startContainer"][0]["args"] = {"sh", "-c", "exit 5"};
  auto f = Cvrun({"run", "--bundle", WriteBundle("starthookfail", cfg), Id("starthookfail")});
  EXPECT_NE(f.status.code, 0);
  EXPECT_EQ(f.out.find("process"), std::string::npos) << f.out;
  EXPECT_NE(f.err.find("startContainer hook failed"), std::string::npos) << f.err;
  EXPECT_NO_LEAKS();
}

// createRuntime in the runtime's namespaces, createContainer in the container's, both after the
// mounts and before pivot_root: each hook records its mount and uts namespaces, its hostname and
// whether the container's /proc mount (still under the rootfs path) is in its mount table.
TEST(Hooks, CreateContainerRunsInTheContainersNamespacesBeforePivotRoot) {
  REQUIRE_ROOT();
  std::string seen = TestDir() + "/cchook-seen";
  std::string proc_mount = " " + SharedRootfs() + "/proc ";
  auto hook = [&](const std::string& name) {
    return json{{"path", "/bin/sh"},
                {"args",
                 {"sh", "-c",
                  "echo " + name +
                      " $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/uts) $(hostname) "
                      "$(grep -c '" + proc_mount + "' /proc/self/mountinfo) >> " + seen}}};
  };
  json cfg = BaseConfig({"/bin/sh", "-c",
                         "echo $(/bin/busybox readlink /proc/self/ns/mnt) "
                         "$(/bin/busybox readlink /proc/self/ns/uts)"},
                        "cchook");
  cfg["hooks"] = {{"createRuntime", {hook("createRuntime")}},
                  {"createContainer", {hook("createContainer")}}};
  auto r = Cvrun({"run", "--bundle", WriteBundle("cchook", cfg), Id("cchook")});
  ASSERT_EQ(r.status.code, 0) << r.err;
  auto text = ReadFile(seen);
  ASSERT_TRUE(text.ok());
  auto lines = Split(*text, '\n');
  ASSERT_EQ(lines.size(), 2u) << *text;
  auto runtime_view = Split(lines[0], ' ');
  auto container_view = Split(lines[1], ' ');
  auto process_view = Split(Trim(r.out), ' ');
  ASSERT_EQ(runtime_view.size(), 5u) << lines[0];
  ASSERT_EQ(container_view.size(), 5u) << lines[1];
  ASSERT_EQ(process_view.size(), 2u) << r.out;
  char host_mnt[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/mnt", host_mnt, sizeof host_mnt - 1), 0);
  // In order; createRuntime sees the host, createContainer what the process sees.
  EXPECT_EQ(runtime_view[0], "createRuntime");
  EXPECT_EQ(runtime_view[1], host_mnt);
  EXPECT_EQ(runtime_view[4], "0") << "the runtime's mount table has the container's mounts";
  EXPECT_EQ(container_view[0], "createContainer");
  EXPECT_EQ(container_view[1], process_view[0]);
  EXPECT_EQ(container_view[2], process_view[1]);
  EXPECT_NE(container_view[1], host_mnt);
  EXPECT_NE(container_view[2], runtime_view[2]);
  EXPECT_EQ(container_view[3], "cvrun-test");
  EXPECT_EQ(container_view[4], "1") << "before pivot_root the rootfs's /proc is under its path";
  // A failing createContainer hook fails the create, naming it; the process never runs.
  cfg["hooks"]["createContainer"][0]["args"] = {"sh", "-c", "exit 3"};
  auto f = Cvrun({"run", "--bundle", WriteBundle("cchookfail", cfg), Id("cchookfail")});
  EXPECT_NE(f.status.code, 0);
  EXPECT_EQ(f.out, "");
  EXPECT_NE(f.err.find("hooks.createContainer[0]: /bin/sh exited with 3"), std::string::npos)
      << f.err;
  EXPECT_NO_LEAKS();
}

TEST(Cgroups, PureV1InAPrivateMountNamespace) {
  REQUIRE_ROOT();
  if (!PathExists("/sys/fs/cgroup/unified/cgroup.procs"))
    GTEST_SKIP() << "host is not hybrid; the pure v1 case is the host itself";
  std::string bundle = WriteBundle("v1", BaseConfig({"/bin/true"}, "v1"));
  auto r = cvb::Run({"unshare", "-m", "--propagation", "private", "sh", "-c",
                "umount /sys/fs/cgroup/unified && exec " + std::string(CVRUN_BINARY) +
                    " --root " + StateRoot() + " run --bundle " + bundle + " " + Id("v1")},
               std::chrono::seconds(20));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status.code, 0) << r->err;
  EXPECT_NO_LEAKS();
}

// --- bad input and faults: clear error, non-zero exit, nothing left ---

void ExpectCreateFails(const std::string& name, const std::string& bundle,
                       const std::string& message) {
  auto r = Cvrun({"create", "--bundle", bundle, Id(name)});
  EXPECT_NE(r.status.code, 0);
  EXPECT_NE(r.err.find(message), std::string::npos) << "stderr: " << r.err;
  EXPECT_NO_LEAKS();
}

TEST(BadInput, MalformedJson) {
  REQUIRE_ROOT();
  ExpectCreateFails("badjson", WriteBundleText("badjson", "{\"ociVersion\": \"1.0.2\", "),
                    "config.json: malformed JSON at byte");
}

TEST(BadInput, WrongTypeNamesThePath) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/true"}, "wrongtype");
  cfg["linux"]["resources"]["memory"]["limit"] = "64M";
  ExpectCreateFails("wrongtype", WriteBundle("wrongtype", cfg),
                    "linux.resources.memory.limit: expected an integer");
}

TEST(BadInput, MissingRootfs) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/true"}, "noroot");
  cfg["root"]["path"] = TestDir() + "/no-such-rootfs";
  ExpectCreateFails("noroot", WriteBundle("noroot", cfg),
                    "root.path: rootfs " + TestDir() + "/no-such-rootfs: No such file");
}

TEST(BadInput, MissingMountSource) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/true"}, "nosrc");
  cfg["mounts"].push_back({{"destination", "/data"},
                           {"type", "bind"},
                           {"source", "/nonexistent-cvrun-src"},
                           {"options", {"rbind"}}});
  ExpectCreateFails("nosrc", WriteBundle("nosrc", cfg),
                    "mounts[5].source: bind source /nonexistent-cvrun-src: No such file");
}

TEST(BadInput, ExecutableNotFound) {
  REQUIRE_ROOT();
  ExpectCreateFails("noexec", WriteBundle("noexec", BaseConfig({"/bin/nope"}, "noexec")),
                    "exec: \"/bin/nope\": executable file not found");
}

// A file that is there but cannot be executed: "permission denied", as runc says it (Docker maps
// that to exit code 126, "not found" to 127); a bare name not found on PATH stays "not found".
TEST(BadInput, ExecutableWithoutExecuteBitIsPermissionDenied) {
  REQUIRE_ROOT();
  ExpectCreateFails("noxbit", WriteBundle("noxbit", BaseConfig({"/secret"}, "noxbit")),
                    "exec: \"/secret\": permission denied");
  ExpectCreateFails("nodir", WriteBundle("nodir", BaseConfig({"/tmp"}, "nodir")),
                    "exec: \"/tmp\": permission denied");
  ExpectCreateFails("nobare", WriteBundle("nobare", BaseConfig({"secret"}, "nobare")),
                    "exec: \"secret\": executable file not found");
}

TEST(BadInput, MountFailureInTheChildIsReportedAndCleanedUp) {
  REQUIRE_ROOT();
  json cfg = BaseConfig({"/bin/true"}, "badfs");
  cfg["mounts"].push_back({{"destination", "/x"}, {"type", "nosuchfs"}, {"source", "none"}});
  ExpectCreateFails("badfs", WriteBundle("badfs", cfg),
                    "container init: mount mounts[5] none on /x: No such device");
}

// A mount namespace joined by path, or none at all: refused before anything is made (cvrun would
// have to pivot_root in a namespace others use, or mount in the host's).
TEST(BadInput, MountNamespaceByPathOrNoneIsRefused) {
  REQUIRE_ROOT();
  json joined = BaseConfig({"/bin/true"}, "mntpath");
  joined["linux"]["namespaces"][4] = {{"type", "mount"}, {"path", "/proc/self/ns/mnt"}};
  ExpectCreateFails("mntpath", WriteBundle("mntpath", joined),
                    "linux.namespaces[4].path: joining a mount namespace (/proc/self/ns/mnt) is "
                    "not supported");
  json none = BaseConfig({"/bin/true"}, "mntnone");
  none["linux"]["namespaces"].erase(4);
  ExpectCreateFails("mntnone", WriteBundle("mntnone", none),
                    "linux.namespaces: no mount namespace");
}

TEST(BadInput, UnknownIdAndUnknownSignal) {
  REQUIRE_ROOT();
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"state", Id("ghost")}, {"start", Id("ghost")},
        {"kill", Id("ghost"), "TERM"}, {"delete", Id("ghost")}}) {
    auto r = Cvrun(cmd);
    EXPECT_NE(r.status.code, 0) << cmd[0];
    EXPECT_NE(r.err.find("container " + Id("ghost") + " does not exist"), std::string::npos)
        << cmd[0] << ": " << r.err;
  }
  std::string id = Id("sig");
  ASSERT_EQ(Cvrun({"create", "--bundle",
                   WriteBundle("sig", BaseConfig({"/bin/cvb-probe", "sleep", "30"}, "sig")), id})
                .status.code,
            0);
  auto r = Cvrun({"kill", id, "SIGWHATEVER"});
  EXPECT_NE(r.status.code, 0);
  EXPECT_NE(r.err.find("unknown signal \"SIGWHATEVER\""), std::string::npos) << r.err;
  EXPECT_EQ(json::parse(Cvrun({"state", id}).out)["status"], "created");
  EXPECT_EQ(Cvrun({"delete", "--force", id}).status.code, 0);
  EXPECT_NO_LEAKS();
}

TEST(Faults, SigkillMidCreateThenDeleteForceRecovers) {
  REQUIRE_ROOT();
  std::string id = Id("crash");
  json cfg = BaseConfig({"/bin/cvb-probe", "sleep", "30"}, "crash");
  // A prestart hook that hangs: cvrun is inside create (init cloned, cgroups made) when killed.
  std::string started = TestDir() + "/crash-hook-started";
  cfg["hooks"] = {{"prestart",
                   {{{"path", "/bin/sh"},
                     {"args", {"sh", "-c", "touch " + started + "; exec sleep 30"}},
                     {"env", {std::string("CVB_MARKER=") + kMarker()}}}}}};
  std::string bundle = WriteBundle("crash", cfg);
  auto child = Spawn({CVRUN_BINARY, "--root", StateRoot(), "create", "--bundle", bundle, id});
  ASSERT_TRUE(child.ok());
  for (int i = 0; i < 500 && !PathExists(started); ++i) usleep(10000);
  ASSERT_TRUE(PathExists(started)) << "hook never ran";
  child->Kill(SIGKILL);
  (void)child->Wait();
  usleep(100000);  // the parent-death signals land
  // The state entry and cgroups remain (the crash could not clean them); no process does.
  auto leaks = Leaks();
  for (const auto& l : leaks) EXPECT_NE(l.rfind("process", 0), 0u) << l;
  EXPECT_EQ(json::parse(Cvrun({"state", id}).out)["status"], "stopped");
  auto del = Cvrun({"delete", "--force", id});
  EXPECT_EQ(del.status.code, 0) << del.err;
  EXPECT_NO_LEAKS();
}

TEST(Faults, DeleteForceFindsTheCgroupsOfACreateThatDiedBeforeRecordingThem) {
  REQUIRE_ROOT();
  // What a cvrun killed between its cgroup mkdirs and the init's ready leaves: a state entry
  // with the cgroups path only, and the directories.
  std::string id = Id("window");
  ASSERT_TRUE(MakeDirs(StateRoot() + "/" + id).ok());
  ASSERT_TRUE(WriteFile(StateRoot() + "/" + id + "/state.json",
                        json{{"id", id}, {"pid", 0}, {"cgroups_path", id}}.dump())
                  .ok());
  auto self = ReadFile("/proc/self/cgroup");
  ASSERT_TRUE(self.ok());
  int made = 0;
  for (const auto& line : Split(*self, '\n')) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    std::string controller = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::string mount = controller.empty() ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup/" + controller;
    if ((controller == "memory" || controller == "pids" || controller.empty()) &&
        PathExists(mount + "/cgroup.procs")) {
      ASSERT_EQ(::mkdir((mount + (path == "/" ? "" : path) + "/" + id).c_str(), 0755), 0) << mount;
      ++made;
    }
  }
  ASSERT_GT(made, 0);
  EXPECT_FALSE(Leaks().empty());
  auto del = Cvrun({"delete", "--force", id});
  EXPECT_EQ(del.status.code, 0) << del.err;
  EXPECT_NO_LEAKS();
}

}  // namespace
}  // namespace cvb::runtime::testenv
