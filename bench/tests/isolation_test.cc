// The isolation suite's host side without instances: reading the probe's lines (a probe that
// skipped, repeated or garbled a check is an error, never a row of zeros), and the markers the
// harness leaves on the host, which must all be gone afterwards.
#include "cvb/workload/isolation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "cvb/common/file.h"
#include "cvb/common/proc.h"
#include "host_markers.h"
#include "isolation_suite.h"

namespace cvb::bench {
namespace {

std::vector<workload::Message> AllChecks(int value) {
  std::vector<workload::Message> out;
  for (const auto& c : workload::kIsolationChecks)
    out.push_back({"RESULT", {{"check", c.name}, {"value", std::to_string(value)}, {"why", "w"}}});
  out.push_back({"RESULT", {{"processes_visible", "1"}, {"fds_above_2", "0"}}});
  return out;
}

TEST(ReadIsolationTest, EveryCheckAndTheFigures) {
  auto r = ReadIsolation(AllChecks(0));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->values.size(), std::size(workload::kIsolationChecks));
  EXPECT_EQ(r->values.at("host_file"), 0);
  EXPECT_EQ(r->figures.at("processes_visible"), 1);
  EXPECT_EQ(r->Label().rfind("host_process=w host_hostname=w", 0), 0u) << r->Label();
  auto v = ReadIsolation(AllChecks(-1));
  ASSERT_TRUE(v);
  EXPECT_EQ(v->values.at("mount_tmpfs"), -1);
}

TEST(ReadIsolationTest, MissingRepeatedUnknownOrBadValuesAreErrors) {
  auto missing = AllChecks(1);
  missing.erase(missing.begin() + 4);
  auto m = ReadIsolation(missing);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message().find(workload::kIsolationChecks[4].name), std::string::npos);

  auto twice = AllChecks(1);
  twice.push_back(twice.front());
  EXPECT_FALSE(ReadIsolation(twice));

  auto unknown = AllChecks(1);
  unknown.push_back({"RESULT", {{"check", "host_gpu"}, {"value", "1"}}});
  EXPECT_FALSE(ReadIsolation(unknown));

  auto bad = AllChecks(1);
  bad[0].fields["value"] = "2";
  auto b = ReadIsolation(bad);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("host_process"), std::string::npos);
  EXPECT_FALSE(ReadIsolation({}));
}

TEST(HostMarkersTest, MadeUniqueAndAllRemovedByTheDestructor) {
  std::string workload = CVB_WORKLOAD_BIN;
  std::string file, iface, token;
  pid_t marker_pid = -1;
  {
    auto m = HostMarkers::Create(workload);
    ASSERT_TRUE(m) << m.error().message();
    auto m2 = HostMarkers::Create(workload);
    ASSERT_TRUE(m2) << m2.error().message();
    EXPECT_NE((*m)->token(), (*m2)->token());
    file = (*m)->file();
    iface = (*m)->interface_name();
    token = (*m)->token();
    EXPECT_EQ(ReadFile(file).value_or_empty(), token);
    for (pid_t p : VisiblePids())
      if (CmdlineHasArg(ReadFile("/proc/" + std::to_string(p) + "/cmdline").value_or_empty(),
                        token + "-proc"))
        marker_pid = p;
    EXPECT_GT(marker_pid, 0) << "no marker process";
    if (::geteuid() == 0) {
      EXPECT_FALSE(iface.empty()) << (*m)->notes();
      EXPECT_TRUE(PathExists("/sys/class/net/" + iface));
    }
    auto args = (*m)->ProbeArgs();
    EXPECT_NE(std::find(args.begin(), args.end(), "--file=" + file), args.end());
    ASSERT_TRUE((*m)->OpenInheritable());
    bool open = false;
    for (const auto& [fd, target] : OpenFds("self")) open |= target == file + "-fd";
    EXPECT_TRUE(open);
    (*m)->CloseInheritable();
  }
  EXPECT_FALSE(PathExists(file));
  EXPECT_FALSE(PathExists(file + "-fd"));
  if (!iface.empty()) {
    EXPECT_FALSE(PathExists("/sys/class/net/" + iface));
  }
  EXPECT_FALSE(
      PathExists("/proc/" + std::to_string(marker_pid) + "/cmdline") &&
      CmdlineHasArg(ReadFile("/proc/" + std::to_string(marker_pid) + "/cmdline").value_or_empty(),
                    token + "-proc"))
      << "marker process still runs";
}

}  // namespace
}  // namespace cvb::bench
