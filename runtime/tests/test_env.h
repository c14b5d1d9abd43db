// Shared set-up for the integration tests: a busybox + cvb-probe rootfs, bundles, running the
// built cvrun with a private --root, and the leak check every test ends with.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cvb/common/subprocess.h"

namespace cvb::runtime::testenv {

bool IsRoot();
// /tmp/cvrun-it-<pid>: everything the tests make lives here ("cvrun" in every path, so that a
// leaked mount shows up in the leak check).
const std::string& TestDir();
const std::string& StateRoot();
// A fresh rootfs: /bin/busybox with applets, /bin/cvb-probe, empty /proc /dev /sys /tmp /etc,
// and /secret holding "container-secret".
std::string MakeRootfs(const std::string& name);
// The shared read-only rootfs most tests use.
const std::string& SharedRootfs();
// A config in the shape the benchmark gives every runtime: pid, mount, uts, ipc, network
// namespaces, read-only root, a memory limit, a relative cgroupsPath.
nlohmann::json BaseConfig(const std::vector<std::string>& args, const std::string& id);
// Writes <TestDir>/bundles/<name>/config.json.
std::string WriteBundle(const std::string& name, const nlohmann::json& config);
std::string WriteBundleText(const std::string& name, const std::string& config_text);

// Runs cvrun --root StateRoot() <args>.
RunOutput Cvrun(const std::vector<std::string>& args, int timeout_ms = 20000,
                const SpawnOptions& options = {});

// Everything a container may have left: mounts, cgroups, state entries, processes. Empty when
// clean. Reaps our zombie children first (the tests are child subreapers).
std::vector<std::string> Leaks();
// The marker that test containers carry in their argv, so leaked processes can be found.
const char* kMarker();

// A cvb-probe report ("key value" lines); repeated keys (fd, netdev, path, ns) keep every value.
std::multimap<std::string, std::string> ParseReport(const std::string& out);
// The first value of key k, "<missing>" when the report has none.
std::string One(const std::multimap<std::string, std::string>& report, const std::string& k);
// Every value of key k, in report order.
std::vector<std::string> All(const std::multimap<std::string, std::string>& report,
                             const std::string& k);

// Removes TestDir() (rootfs copies, bundles, state) after a suite's last test, as root. Each
// test program registers it once: testing::AddGlobalTestEnvironment(new TestDirCleanup).
class TestDirCleanup : public testing::Environment {
 public:
  void TearDown() override;
};

}  // namespace cvb::runtime::testenv

// Skips a test that needs root, saying why.
#define REQUIRE_ROOT()                                                         \
  do {                                                                         \
    if (!::cvb::runtime::testenv::IsRoot())                                    \
      GTEST_SKIP() << "needs root (namespaces, mounts, cgroups)";              \
  } while (0)

// Fails the test with a list of what the suite left on the host (mounts, cgroups, state, processes).
#define EXPECT_NO_LEAKS()                                                      \
  do {                                                                         \
    auto leaks_ = ::cvb::runtime::testenv::Leaks();                            \
    EXPECT_TRUE(leaks_.empty()) << "left behind:\n" << [&] {                   \
      std::string s;                                                           \
      for (const auto& l : leaks_) s += "  " + l + "\n";                       \
      return s;                                                                \
    }();                                                                       \
  } while (0)
