// Shared set-up for the integration tests: a busybox + cvb-probe rootfs, bundles, running the
// built cvrun with a private --root, and the leak check every test ends with.
#pragma once

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
