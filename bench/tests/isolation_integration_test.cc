// The isolation suite for real (root): `cvbench run --suite isolation` on native, cvrun and crun
// (when installed). native, the probe as a host process, must read every host marker as visible:
// that is the proof each check can see the host, i.e. can fail. cvrun and crun, with their
// default config, must read the same markers as isolated. Nothing of the markers may be left.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "cvb/common/subprocess.h"

namespace cvb::bench {
namespace {

const char* kHostChecks[] = {"host_process", "host_hostname", "host_interface",
                             "host_fd",      "host_file",     "host_port"};

std::string Leftovers() {
  std::string found;
  if (auto ls = cvb::Run({"sh", "-c", "ls -d /tmp/cvb-iso-* 2>/dev/null"});
      ls && !Trim(ls->out).empty())
    found += "files: " + ls->out;
  if (auto links = cvb::Run({"ip", "-o", "link"}); links)
    for (const auto& l : Split(links->out, '\n'))
      if (l.find(": cvbi") != std::string::npos) found += "link: " + l + "\n";
  for (pid_t p : VisiblePids()) {
    std::string cmd = ReadFile("/proc/" + std::to_string(p) + "/cmdline").value_or_empty();
    if (cmd.find("cvb-iso-") != std::string::npos && cmd.find("idle") != std::string::npos)
      found += "process: " + std::to_string(p) + "\n";
  }
  return found;
}

TEST(IsolationSuiteTest, NativeSeesTheHostAndContainersDoNot) {
  if (::geteuid() != 0) GTEST_SKIP() << "containers need root";
  std::string bin_dir = CVBENCH_BIN;
  bin_dir = bin_dir.substr(0, bin_dir.rfind('/'));
  std::string launchers = "native";
  if (PathExists(bin_dir + "/cvrun")) launchers += ",cvrun";
  if (!FindProgram("crun").empty()) launchers += ",crun";
  if (launchers == "native") GTEST_SKIP() << "neither cvrun (build it) nor crun is here";
  char tmpl[] = "/var/tmp/cvb-iso-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string out = tmpl;
  auto r = cvb::Run({CVBENCH_BIN, "run", "--suite", "isolation", "--launchers", launchers,
                     "--repetitions", "1", "--out", out},
                    std::chrono::seconds(300));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status.code, 0) << r->err;
  auto text = ReadFile(out + "/isolation.json");
  ASSERT_TRUE(text) << r->err;
  auto j = nlohmann::json::parse(*text);
  std::map<std::string, nlohmann::json> entry;
  for (const auto& b : j["benchmarks"])
    if (b.value("run_type", "") == "iteration") entry[b["name"].get<std::string>()] = b;
  auto find = [&](const std::string& l) {
    for (const auto& [n, b] : entry)
      if (n.rfind("isolation/" + l + "/", 0) == 0 || n == "isolation/" + l) return b;
    return nlohmann::json();
  };
  auto native = find("native");
  ASSERT_FALSE(native.is_null()) << *text;
  for (const char* c : kHostChecks)
    EXPECT_EQ(native.value(c, -9), 1) << "native " << c << ": " << native.value("label", "");
  for (const char* c : {"host_kernel", "cap_sys_admin", "mount_tmpfs", "proc_sys_write"})
    EXPECT_EQ(native.value(c, -9), 1) << "native " << c << ": " << native.value("label", "");
  EXPECT_GE(native.value("host_port_accepted", 0), 1) << "the host's port saw no connection";
  for (const std::string l : {"cvrun", "crun"}) {
    if (launchers.find(l) == std::string::npos) continue;
    auto b = find(l);
    ASSERT_FALSE(b.is_null()) << l << "\n" << *text;
    for (const char* c : kHostChecks)
      EXPECT_EQ(b.value(c, -9), 0) << l << " " << c << ": " << b.value("label", "");
    // The default config: no CAP_SYS_ADMIN, no new mount, /proc/sys read-only; same kernel.
    for (const char* c : {"cap_sys_admin", "mount_tmpfs", "proc_sys_write"})
      EXPECT_EQ(b.value(c, -9), 0) << l << " " << c << ": " << b.value("label", "");
    EXPECT_EQ(b.value("host_kernel", -9), 1) << l;
    EXPECT_EQ(b.value("host_port_accepted", -9), 0) << l;
  }
  EXPECT_EQ(Leftovers(), "");
  (void)RemoveTree(out);
}

}  // namespace
}  // namespace cvb::bench
