// The density suite's KSM entries for real (root, a VM through bare QEMU, TCG or KVM): with
// ksm=on two idle guests share pages (ksm_pages_sharing > 0, the guest RAM part smaller than with
// ksm=off), and afterwards the host's KSM settings are what they were and no QEMU is left.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"
#include "ksm.h"

namespace cvb::bench {
namespace {

std::string KsmSettings(const KsmSysfs& sysfs) {
  std::string s;
  for (const char* k : {"run", "pages_to_scan", "sleep_millisecs", "merge_across_nodes"})
    s += std::string(k) + "=" + sysfs.Read(k).value_or("?") + " ";
  return s;
}

// QEMU processes of the qemu launcher ("cvb-qemu-<owner pid>-<n>") whose owner is gone: what a
// cvbench that has exited left (other cvbench runs on the host keep their owners alive).
std::string OrphanedQemu() {
  std::string found;
  auto ps = cvb::Run({"pgrep", "-af", "cvb-qemu-"});
  if (!ps) return found;
  for (const auto& line : Split(ps->out, '\n')) {
    size_t at = line.find("cvb-qemu-");
    if (at == std::string::npos) continue;
    pid_t owner = std::atoi(line.c_str() + at + 9);
    if (owner > 0 && !PathExists("/proc/" + std::to_string(owner))) found += line + "\n";
  }
  return found;
}

TEST(KsmDensityTest, OnMergesGuestRamAndTheHostsSettingsComeBack) {
  if (::geteuid() != 0) GTEST_SKIP() << "KSM settings and VMs need root";
  KsmSysfs sysfs;
  if (!sysfs.Available()) GTEST_SKIP() << "this kernel has no KSM (/sys/kernel/mm/ksm/run)";
  if (FindProgram("qemu-system-x86_64").empty()) GTEST_SKIP() << "qemu-system-x86_64 not installed";
  std::string before = KsmSettings(sysfs);
  char tmpl[] = "/var/tmp/cvb-ksm-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string out = tmpl;
  auto r = cvb::Run({CVBENCH_BIN,      "run",         "--suite",
                     "density",        "--launchers", "qemu",
                     "--repetitions",  "1",           "--no-warmup",
                     "--out",          out,           "--param",
                     "density_n=2",    "--param",     "density_repetitions=1",
                     "--param",        "ksm=off,on",  "--param",
                     "settle_ms=1000", "--param",     "ksm_settle_ms=60000",
                     "--timeout",      "300"},
                    std::chrono::seconds(900));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status.code, 0) << r->err;
  EXPECT_EQ(KsmSettings(sysfs), before) << "the host's KSM settings were not restored";
  auto text = ReadFile(out + "/density.json");
  ASSERT_TRUE(text) << r->err;
  auto j = nlohmann::json::parse(*text);
  std::map<std::string, nlohmann::json> entry;
  for (const auto& b : j["benchmarks"])
    if (b.value("run_type", "") == "iteration") entry[b["name"].get<std::string>()] = b;
  const auto& on = entry["density/qemu/kernel:distro/ksm:on/n:2"];
  const auto& off = entry["density/qemu/kernel:distro/ksm:off/n:2"];
  ASSERT_TRUE(on.contains("ksm_pages_sharing")) << *text;
  ASSERT_TRUE(off.contains("guest_ram_mib")) << *text;
  EXPECT_EQ(on["ksm_run"].get<double>(), 1);
  EXPECT_EQ(off["ksm_run"].get<double>(), 0);
  EXPECT_GT(on["ksm_pages_sharing"].get<double>(), 0) << "two identical guests merged nothing";
  EXPECT_LT(on["guest_ram_mib"].get<double>(), off["guest_ram_mib"].get<double>());
  EXPECT_TRUE(j["context"].contains("density_ksm"));
  EXPECT_EQ(OrphanedQemu(), "");
  (void)RemoveTree(out);
}

}  // namespace
}  // namespace cvb::bench
