// Planning without root: mount options, namespaces, devices, signals, state and log formats.
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cvb/runtime/container.h"
#include "cvb/runtime/log.h"
#include "cvb/runtime/spec.h"
#include "cvb/runtime/state.h"
#include "mounts.h"
#include "namespaces.h"
#include "security.h"

namespace cvb::runtime {
namespace {

TEST(MountOptions, FlagsDataAndPropagation) {
  auto o = ParseMountOptions({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620",
                              "rprivate", "tmpcopyup"});
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(o.data, "newinstance,ptmxmode=0666,mode=0620");
  EXPECT_EQ(o.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_FALSE(o.bind);
}

TEST(MountOptions, BindFlagsBecomeMountAttributes) {
  auto o = ParseMountOptions({"rbind", "ro", "nosuid", "nodev"});
  EXPECT_TRUE(o.bind);
  EXPECT_TRUE(o.recursive);
  EXPECT_EQ(o.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

TEST(MountOptions, RwClearsRo) {
  EXPECT_EQ(ParseMountOptions({"ro", "rw"}).flags, 0ul);
}

TEST(MountPlan, DestinationsAreRelativeToTheRoot) {
  EXPECT_EQ(RelativeInRoot("/dev//pts/./"), "dev/pts");
  EXPECT_EQ(RelativeInRoot("/a/../../b"), "a/../../b");  // resolved by openat2 inside the root
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok());
  auto plan = PlanMounts(*spec);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->size(), 6u);
  EXPECT_EQ((*plan)[1].dest_rel, "dev");
  EXPECT_TRUE((*plan)[1].dev_tmpfs);
  EXPECT_EQ((*plan)[1].data, "mode=755,size=65536k");
  EXPECT_EQ((*plan)[5].fstype, "sysfs");
  EXPECT_EQ((*plan)[5].options.flags & MS_RDONLY, static_cast<unsigned long>(MS_RDONLY));
}

TEST(MountPlan, MissingBindSourceNamesTheMount) {
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok());
  spec->mounts.push_back({"/data", "bind", "/nonexistent/cvrun-src", {"rbind"}});
  auto plan = PlanMounts(*spec);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().message(),
            "mounts[6].source: bind source /nonexistent/cvrun-src: No such file or directory");
}

TEST(Devices, DefaultsPlusSpecDevices) {
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok());
  spec->linux.devices.push_back({"c", "/dev/fuse", 10, 229, 0600, 0, 0});
  auto devices = PlanDevices(*spec);
  ASSERT_EQ(devices.size(), 7u);
  EXPECT_EQ(devices[0].name, "null");
  EXPECT_EQ(devices[6].name, "fuse");
  EXPECT_EQ(devices[6].mode, static_cast<mode_t>(S_IFCHR | 0600));
}

TEST(Namespaces, NewAndJoined) {
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok());
  auto plan = PlanNamespaces(*spec);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->clone_flags, static_cast<uint64_t>(CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                                                     CLONE_NEWUTS | CLONE_NEWNS));
  EXPECT_TRUE(plan->joins.empty());
  spec->linux.namespaces[1].path = "/run/netns/cvb";
  spec->linux.namespaces.push_back({"cgroup", ""});
  plan = PlanNamespaces(*spec);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->clone_flags & CLONE_NEWNET, 0u);
  ASSERT_EQ(plan->joins.size(), 1u);
  EXPECT_EQ(plan->joins[0].type, CLONE_NEWNET);
  EXPECT_TRUE(plan->new_cgroup);
  EXPECT_EQ(plan->clone_flags & CLONE_NEWCGROUP, 0u);
}

TEST(Namespaces, MountNamespaceIsRequired) {
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok());
  spec->linux.namespaces = {{"pid", ""}};
  auto plan = PlanNamespaces(*spec);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(
      plan.error().message(),
      "linux.namespaces: no mount namespace: cvrun builds the rootfs with mounts and pivot_root, "
      "which would change the host's own mounts; add {\"type\": \"mount\"}");
}

TEST(Namespaces, JoiningAMountNamespaceByPathIsRefusedNamingTheEntry) {
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok());
  spec->linux.namespaces = {{"pid", ""}, {"mount", "/proc/1/ns/mnt"}};
  auto plan = PlanNamespaces(*spec);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().message().rfind("linux.namespaces[1].path: joining a mount namespace "
                                         "(/proc/1/ns/mnt) is not supported: ",
                                         0),
            0u)
      << plan.error().message();
}

TEST(Signals, NamesNumbersAndErrors) {
  EXPECT_EQ(*ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(*ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("sigusr1"), SIGUSR1);
  EXPECT_EQ(*ParseSignal("9"), 9);
  EXPECT_EQ(*ParseSignal("RTMIN+2"), SIGRTMIN + 2);
  auto bad = ParseSignal("SIGFOO");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "unknown signal \"SIGFOO\"");
  EXPECT_FALSE(ParseSignal("0").ok());
  EXPECT_FALSE(ParseSignal("99").ok());
}

TEST(State, RoundTripAndOciJson) {
  State s;
  s.id = "cvrun-x";
  s.pid = 42;
  s.bundle = "/b";
  s.cgroup_leaves = {"/sys/fs/cgroup/memory/x"};
  s.annotations = {{"k", "v"}};
  auto back = State::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->pid, 42);
  EXPECT_EQ(back->cgroup_leaves, s.cgroup_leaves);
  auto oci = nlohmann::json::parse(s.OciJson(Status::kRunning));
  EXPECT_EQ(oci["status"], "running");
  EXPECT_EQ(oci["pid"], 42);
  EXPECT_EQ(oci["ociVersion"], "1.0.2");
  EXPECT_EQ(oci["annotations"]["k"], "v");
  EXPECT_EQ(nlohmann::json::parse(s.OciJson(Status::kStopped))["pid"], 0);
}

TEST(State, IdsCannotWalkOutOfTheRoot) {
  EXPECT_TRUE(ValidateId("cvrun-1.a_b").ok());
  EXPECT_FALSE(ValidateId("../etc").ok());
  EXPECT_FALSE(ValidateId("a/b").ok());
  EXPECT_FALSE(ValidateId("").ok());
  EXPECT_FALSE(ValidateId(".hidden").ok());
}

TEST(Log, PhasesLineSchema) {
  PhaseTimings t{"create", "cvrun-x", 77, {{"spec", 10}, {"clone", 20}, {"total", 99}}};
  std::string line = Log::PhasesJson(t);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "phases");
  EXPECT_EQ(j["cmd"], "create");
  EXPECT_EQ(j["id"], "cvrun-x");
  EXPECT_EQ(j["pid"], 77);
  EXPECT_EQ(j["phases_us"]["clone"], 20);
  EXPECT_TRUE(j["time"].is_string());
  // Phases keep their order.
  EXPECT_LT(line.find("\"spec\""), line.find("\"clone\""));
  EXPECT_LT(line.find("\"clone\""), line.find("\"total\""));
}

TEST(Capabilities, Masks) {
  Capabilities caps;
  caps.bounding = {"CAP_KILL", "CAP_NET_BIND_SERVICE"};
  caps.effective = {"CAP_KILL"};
  auto m = ComputeCapabilities(caps);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->bounding, (1ull << 5) | (1ull << 10));
  EXPECT_EQ(m->effective, 1ull << 5);
  EXPECT_EQ(m->permitted, 0u);
  EXPECT_GE(m->last_cap, 37);
}

TEST(Seccomp, CompilesAProgram) {
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.architectures = {"SCMP_ARCH_X86_64"};
  sc.syscalls.push_back({{"mkdir", "no_such_syscall_cvrun"}, "SCMP_ACT_ERRNO", 1, {}});
  auto prog = CompileSeccomp(sc);
  ASSERT_TRUE(prog.ok()) << prog.error().message();
  EXPECT_GT(prog->filter.size(), 3u);
}

}  // namespace
}  // namespace cvb::runtime
