// The corpus in tests/data: every <name>.json must fail to parse with the message that starts
// with the first line of <name>.expected (the message names the JSON path).
#include <dirent.h>

#include <algorithm>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime {
namespace {

std::vector<std::string> CorpusNames() {
  std::vector<std::string> names;
  DIR* d = opendir(CVRUN_TEST_DATA_DIR);
  if (!d) return names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.substr(n.size() - 5) == ".json") names.push_back(n.substr(0, n.size() - 5));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

class BadConfigTest : public testing::TestWithParam<std::string> {};

TEST_P(BadConfigTest, FailsWithMessageNamingTheField) {
  std::string dir = CVRUN_TEST_DATA_DIR;
  auto text = ReadFile(dir + "/" + GetParam() + ".json");
  ASSERT_TRUE(text.ok());
  auto expected = ReadFile(dir + "/" + GetParam() + ".expected");
  ASSERT_TRUE(expected.ok());
  std::string want = Trim(*expected);
  auto spec = ParseSpec(*text);
  ASSERT_FALSE(spec.ok()) << GetParam() << " parsed but should not";
  EXPECT_EQ(spec.error().message().rfind(want, 0), 0u)
      << "got:  " << spec.error().message() << "\nwant: " << want;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadConfigTest, testing::ValuesIn(CorpusNames()),
                         [](const testing::TestParamInfo<std::string>& param) { return param.param; });

TEST(SpecParse, CorpusIsNotEmpty) { EXPECT_GE(CorpusNames().size(), 20u); }

TEST(SpecParse, DefaultSpecParses) {
  auto spec = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->root.path, "rootfs");
  EXPECT_TRUE(spec->root.readonly);
  EXPECT_TRUE(spec->HasNamespace("pid"));
  EXPECT_TRUE(spec->HasNamespace("network"));
  EXPECT_EQ(spec->process.rlimits.size(), 1u);
  EXPECT_EQ(spec->linux.masked_paths.size(), 10u);
  ASSERT_TRUE(spec->process.capabilities.has_value());
  EXPECT_EQ(spec->process.capabilities->bounding.size(), 3u);
}

// runc's `spec --rootless` shape: a user namespace mapping the caller to 0, no network
// namespace, /sys bound from the host read-only, no uid=/gid= mount options, no resources.
TEST(SpecParse, RootlessSpecIsTheDefaultMadeRunnableWithoutPrivileges) {
  auto spec = ParseSpec(RootlessSpecJson(1234, 5678));
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_TRUE(spec->HasNamespace("user"));
  EXPECT_FALSE(spec->HasNamespace("network"));
  EXPECT_TRUE(spec->HasNamespace("pid"));
  EXPECT_TRUE(spec->HasNamespace("mount"));
  ASSERT_EQ(spec->linux.uid_mappings.size(), 1u);
  EXPECT_EQ(spec->linux.uid_mappings[0].host_id, 1234u);
  EXPECT_EQ(spec->linux.uid_mappings[0].container_id, 0u);
  EXPECT_EQ(spec->linux.uid_mappings[0].size, 1u);
  ASSERT_EQ(spec->linux.gid_mappings.size(), 1u);
  EXPECT_EQ(spec->linux.gid_mappings[0].host_id, 5678u);
  EXPECT_FALSE(spec->linux.resources.memory.has_value());
  EXPECT_TRUE(spec->linux.resources.devices.empty());
  bool sys_bound = false;
  for (const auto& m : spec->mounts) {
    for (const auto& o : m.options)
      EXPECT_TRUE(o.rfind("uid=", 0) != 0 && o.rfind("gid=", 0) != 0) << m.destination << " " << o;
    if (m.destination == "/sys") {
      sys_bound = m.source == "/sys" &&
                  m.options == std::vector<std::string>{"rbind", "nosuid", "noexec", "nodev", "ro"};
    }
  }
  EXPECT_TRUE(sys_bound);
  // Everything else is the default's.
  auto def = ParseSpec(DefaultSpecJson());
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(spec->mounts.size(), def->mounts.size());
  EXPECT_EQ(spec->process.args, def->process.args);
}

TEST(SpecParse, ReadsEveryField) {
  nlohmann::json j = nlohmann::json::parse(DefaultSpecJson());
  j["process"]["user"] = {{"uid", 1000}, {"gid", 100}, {"additionalGids", {5, 6}}, {"umask", 18}};
  j["process"]["oomScoreAdj"] = 100;
  j["linux"]["cgroupsPath"] = "/cvb/x";
  j["linux"]["resources"] = {{"memory", {{"limit", 67108864}, {"reservation", 1000}}},
                             {"cpu", {{"shares", 512}, {"quota", 50000}, {"period", 100000},
                                      {"cpus", "0"}}},
                             {"pids", {{"limit", 64}}}};
  j["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  j["linux"]["seccomp"] = {{"defaultAction", "SCMP_ACT_ALLOW"},
                           {"syscalls", {{{"names", {"mkdir"}}, {"action", "SCMP_ACT_ERRNO"},
                                          {"errnoRet", 1}}}}};
  j["hooks"] = {{"prestart", {{{"path", "/bin/true"}, {"args", {"true"}}, {"timeout", 5}}}}};
  j["annotations"] = {{"a", "b"}};
  auto spec = ParseSpec(j.dump());
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  EXPECT_EQ(spec->process.user.uid, 1000u);
  EXPECT_EQ(spec->process.user.additional_gids, (std::vector<uint32_t>{5, 6}));
  EXPECT_EQ(*spec->process.user.umask, 18u);
  EXPECT_EQ(*spec->process.oom_score_adj, 100);
  EXPECT_EQ(*spec->linux.resources.memory->limit, 67108864);
  EXPECT_EQ(*spec->linux.resources.cpu->shares, 512u);
  EXPECT_EQ(spec->linux.resources.cpu->cpus, "0");
  EXPECT_EQ(*spec->linux.resources.pids_limit, 64);
  EXPECT_EQ(spec->linux.sysctl.at("net.ipv4.ip_forward"), "1");
  EXPECT_EQ(*spec->linux.seccomp->syscalls[0].errno_ret, 1u);
  EXPECT_EQ(*spec->hooks.prestart[0].timeout_s, 5);
  EXPECT_EQ(spec->annotations.at("a"), "b");
}

TEST(SpecParse, LoadSpecNamesAMissingRootfs) {
  std::string dir = "/tmp/cvrun-unit-bundle-" + std::to_string(getpid());
  ASSERT_TRUE(MakeDirs(dir).ok());
  ASSERT_TRUE(WriteFile(dir + "/config.json", DefaultSpecJson()).ok());
  auto spec = LoadSpec(dir);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message().find("root.path: rootfs " + dir + "/rootfs"), std::string::npos)
      << spec.error().message();
  EXPECT_NE(spec.error().message().find("No such file"), std::string::npos);
  (void)RemoveTree(dir);
}

TEST(SpecParse, LoadSpecNamesAMissingConfig) {
  auto spec = LoadSpec("/nonexistent-cvrun-bundle");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message().find("/nonexistent-cvrun-bundle/config.json"),
            std::string::npos);
}

}  // namespace
}  // namespace cvb::runtime
