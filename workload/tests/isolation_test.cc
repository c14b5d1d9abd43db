// The isolation probe: strict arguments, its line encoding, and real runs of the static binary on
// the host (the native case), where every host marker must read visible, and a marker that is
// not there must read isolated: the checks can fail both ways.
#include "cvb/workload/isolation.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>

#include "cvb/common/file.h"
#include "cvb/common/host.h"
#include "cvb/common/subprocess.h"
#include "cvb/common/unique_fd.h"
#include "cvb/workload/protocol.h"
#include "isolation_probe.h"

namespace cvb::workload {
namespace {

Context Ctx(std::vector<std::string> args) {
  Context c;
  c.mode = "isolation";
  c.args = std::move(args);
  return c;
}

TEST(IsolationArgsTest, ParsesEveryMarker) {
  IsolationArgs a;
  ASSERT_EQ(ParseIsolationArgs(
                Ctx({"--token=t1", "--file=/tmp/f", "--fd=/tmp/g", "--process=p", "--iface=cvbi1",
                     "--port=4242", "--hostname=h", "--device=10:232", "--boot-id=b"}),
                &a),
            "");
  EXPECT_EQ(a.token, "t1");
  EXPECT_EQ(a.file, "/tmp/f");
  EXPECT_EQ(a.fd_path, "/tmp/g");
  EXPECT_EQ(a.process, "p");
  EXPECT_EQ(a.iface, "cvbi1");
  EXPECT_EQ(a.port, 4242);
  EXPECT_EQ(a.hostname, "h");
  EXPECT_EQ(a.device_major, 10);
  EXPECT_EQ(a.device_minor, 232);
  EXPECT_EQ(a.boot_id, "b");
  IsolationArgs none;
  EXPECT_EQ(ParseIsolationArgs(Ctx({}), &none), "");
  EXPECT_EQ(none.port, 0);
  EXPECT_EQ(none.device_major, -1);
}

TEST(IsolationArgsTest, RejectsTyposAndBadValues) {
  IsolationArgs a;
  EXPECT_NE(ParseIsolationArgs(Ctx({"--prot=1"}), &a).find("--prot"), std::string::npos);
  EXPECT_NE(ParseIsolationArgs(Ctx({"--port=0"}), &a), "");
  EXPECT_NE(ParseIsolationArgs(Ctx({"--port=70000"}), &a), "");
  EXPECT_NE(ParseIsolationArgs(Ctx({"--port=1.5"}), &a), "");
  EXPECT_NE(ParseIsolationArgs(Ctx({"--device=10"}), &a).find("--device"), std::string::npos);
  EXPECT_NE(ParseIsolationArgs(Ctx({"--device=10:232x"}), &a), "");
  EXPECT_NE(ParseIsolationArgs(Ctx({"--file=/tmp/x"}), &a).find("--token"), std::string::npos);
}

TEST(IsolationFormatTest, OneResultLinePerCheckThatTheProtocolParses) {
  auto line = FormatCheck("host_file", {0, "no such file"});
  EXPECT_EQ(line, "CVB RESULT check=host_file value=0 why=no_such_file");
  auto m = ParseLine(line);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, "RESULT");
  EXPECT_EQ(m->Get("check"), "host_file");
  EXPECT_EQ(m->Number("value").value_or(9), 0);
  EXPECT_EQ(FormatCheck("x", {-1, ""}), "CVB RESULT check=x value=-1 why=-");
}

struct Probe {
  ExitStatus status;
  std::map<std::string, int> value;
  std::map<std::string, std::string> why;
  std::map<std::string, std::string> figures;
  int check_lines = 0;
  std::string text;
};

Probe RunProbe(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CVB_WORKLOAD_BIN, "isolation"};
  argv.insert(argv.end(), args.begin(), args.end());
  Probe p;
  auto r = Run(argv, std::chrono::seconds(30));
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  if (!r) return p;
  p.status = r->status;
  p.text = r->out + r->err;
  for (const auto& line : Split(r->out, '\n')) {
    auto m = ParseLine(line);
    if (!m || m->kind != "RESULT") continue;
    if (m->fields.count("check")) {
      ++p.check_lines;
      p.value[m->Get("check")] = static_cast<int>(m->Number("value").value_or(-9));
      p.why[m->Get("check")] = m->Get("why");
    } else {
      p.figures.insert(m->fields.begin(), m->fields.end());
    }
  }
  return p;
}

std::string Token() { return "cvb-iso-test-" + std::to_string(::getpid()); }

TEST(IsolationRunTest, EveryCheckOnceAndWithoutMarkersNothingIsClaimed) {
  auto p = RunProbe({});
  EXPECT_TRUE(p.status.ok()) << p.text;
  std::set<std::string> names;
  for (const auto& c : kIsolationChecks) names.insert(c.name);
  EXPECT_EQ(p.check_lines, static_cast<int>(names.size())) << p.text;
  for (const auto& n : names) {
    ASSERT_TRUE(p.value.count(n)) << n << "\n" << p.text;
    if (std::string(n).rfind("host_", 0) == 0) {
      EXPECT_EQ(p.value[n], -1) << n << ": a host check without its marker must not guess";
      EXPECT_EQ(p.why[n], "no-marker");
    }
  }
  for (const char* f : {"processes_visible", "fds_above_2", "interfaces_visible", "cap_eff_count"})
    EXPECT_TRUE(p.figures.count(f)) << f;
}

// Where boot_id is unreadable (gVisor), the kernel check falls back on uname.
TEST(IsolationRunTest, KernelCheckByUnameWithoutBootId) {
  EXPECT_EQ(RunProbe({"--uname=" + UnameHash()}).value["host_kernel"], 1);
  auto other = RunProbe({"--uname=0000000000000000"});
  EXPECT_EQ(other.value["host_kernel"], 0) << other.why["host_kernel"];
}

TEST(IsolationRunTest, BadArgumentIsAnError) {
  auto p = RunProbe({"--portt=1"});
  EXPECT_FALSE(p.status.ok());
  EXPECT_NE(p.text.find("--portt"), std::string::npos) << p.text;
}

// On the host itself the probe is the native control: every host marker is visible.
TEST(IsolationRunTest, OnTheHostEveryMarkerIsVisible) {
  std::string token = Token();
  std::string file = "/tmp/" + token;
  ASSERT_TRUE(WriteFile(file, token).ok());
  std::string fd_file = "/tmp/" + token + "-fd";
  ASSERT_TRUE(WriteFile(fd_file, "fd").ok());
  // Left open without O_CLOEXEC: the probe, spawned by us, inherits it.
  UniqueFd inherited(::open(fd_file.c_str(), O_RDONLY));
  ASSERT_TRUE(inherited);
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
  UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  SpawnOptions quiet;
  quiet.stdout_fd = devnull.get();
  auto marker = Spawn({CVB_WORKLOAD_BIN, "idle", token + "-proc"}, quiet);
  ASSERT_TRUE(marker);
  auto boot_id = Trim(ReadFile("/proc/sys/kernel/random/boot_id").value_or_empty());
  auto p = RunProbe({"--token=" + token, "--file=" + file, "--fd=" + fd_file,
                     "--process=" + token + "-proc", "--iface=lo",
                     "--port=" + std::to_string(ntohs(addr.sin_port)), "--hostname=" + HostName(),
                     "--boot-id=" + boot_id});
  ::unlink(file.c_str());
  ::unlink(fd_file.c_str());
  EXPECT_TRUE(p.status.ok()) << p.text;
  for (const char* c : {"host_process", "host_hostname", "host_interface", "host_fd", "host_file",
                        "host_port", "host_kernel"})
    EXPECT_EQ(p.value[c], 1) << c << ": " << p.why[c] << "\n" << p.text;
  EXPECT_GE(std::stoi(p.figures["fds_above_2"]), 1);
}

// The same checks fail when the marker is not what the host has: each can read isolated.
TEST(IsolationRunTest, AMarkerTheHostDoesNotHaveReadsIsolated) {
  std::string token = Token();
  std::string file = "/tmp/" + token + "-other";
  ASSERT_TRUE(WriteFile(file, "not-the-token").ok());
  // A port nobody listens on: bind one, note it, close it.
  int port = 0;
  {
    UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
  }
  auto p = RunProbe({"--token=" + token, "--file=" + file, "--fd=/tmp/" + token + "-nofd",
                     "--process=" + token + "-noproc", "--iface=cvbnosuchif",
                     "--port=" + std::to_string(port), "--hostname=not-" + HostName(),
                     "--boot-id=00000000-0000-0000-0000-000000000000"});
  ::unlink(file.c_str());
  EXPECT_TRUE(p.status.ok()) << p.text;
  for (const char* c : {"host_process", "host_hostname", "host_interface", "host_fd", "host_file",
                        "host_port", "host_kernel"})
    EXPECT_EQ(p.value[c], 0) << c << ": " << p.why[c] << "\n" << p.text;
  EXPECT_EQ(p.why["host_file"], "other-content");
  EXPECT_EQ(p.why["host_port"], "ECONNREFUSED");
}

}  // namespace
}  // namespace cvb::workload
