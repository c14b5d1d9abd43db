// The podman launcher's names, store layout and configuration (no podman needed).
#include "cvb/launcher/podman.h"

#include <gtest/gtest.h>

#include "cvb/launcher/launcher.h"

namespace cvb::launcher {
namespace {

TEST(PodmanLauncherNames, VariantsSpelledLikeTheVmKernels) {
  EXPECT_EQ(PodmanRuntimeOf("podman/runtime:crun"), "crun");
  EXPECT_EQ(PodmanRuntimeOf("podman/runtime:cvrun"), "cvrun");
  // Only the runtimes the launcher is made for; nothing else that merely looks like one.
  EXPECT_EQ(PodmanRuntimeOf("podman/runtime:runc"), "");
  EXPECT_EQ(PodmanRuntimeOf("podman/runtime:"), "");
  EXPECT_EQ(PodmanRuntimeOf("podman/crun"), "");
  EXPECT_EQ(PodmanRuntimeOf("crun"), "");
  EXPECT_EQ(PodmanRuntimeOf("podman/runtime:crun/x"), "");
}

TEST(PodmanLauncherNames, RegisteredAsContainers) {
  Registry registry;
  RegisterProcessLaunchers(registry);
  for (const auto& name : PodmanLauncherNames()) {
    EXPECT_TRUE(registry.Has(name)) << name;
    EXPECT_EQ(registry.KindOf(name), "container") << name;
  }
  EXPECT_EQ(PodmanLauncherNames().size(), 2u);
}

TEST(PodmanLauncherNames, UnknownRuntimeIsRefusedByName) {
  auto l = MakePodmanLauncher({"podman/runtime:runc", "/tmp/x", "", {}});
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message().find("podman/runtime:runc"), std::string::npos);
}

TEST(PodmanStore, EverythingUnderTheStoreDirectory) {
  std::string store = PodmanStoreDir("/run/cvbench/42", "crun");
  EXPECT_EQ(store, "/run/cvbench/42/podman/crun");
  auto args = PodmanStoreArgs(store);
  ASSERT_EQ(args.size(), 6u);
  EXPECT_EQ(args[0], "--root");
  EXPECT_EQ(args[1], store + "/root");
  EXPECT_EQ(args[2], "--runroot");
  EXPECT_EQ(args[3], store + "/rr");
  EXPECT_LE(args[3].size(), 50u) << "podman refuses longer runroots";
  EXPECT_EQ(args[4], "--tmpdir");
  EXPECT_EQ(args[5], store + "/tmp");
  EXPECT_EQ(PodmanEnv(store),
            std::vector<std::string>{"CONTAINERS_CONF=" + store + "/containers.conf"});
}

TEST(PodmanStore, ConfigurationForThisHost) {
  std::string conf = PodmanContainersConf();
  EXPECT_NE(conf.find("cgroup_manager = \"cgroupfs\""), std::string::npos);
  EXPECT_NE(conf.find("events_logger = \"file\""), std::string::npos);
  // podman's default nproc/nofile exceed the hard limits here.
  EXPECT_NE(conf.find("default_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]"),
            std::string::npos);
}

}  // namespace
}  // namespace cvb::launcher
