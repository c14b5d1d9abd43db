#include "cvb/image/confinement.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>

#include "cvb/common/file.h"
#include "cvb/image/image.h"

namespace cvb::image {
namespace {

using nlohmann::json;

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The names a resolved profile gives `action` to.
std::vector<std::string> NamesWith(const json& resolved, const std::string& action) {
  std::vector<std::string> out;
  for (const auto& rule : resolved["syscalls"])
    if (rule["action"] == action)
      for (const auto& n : rule["names"]) out.push_back(n.get<std::string>());
  return out;
}

TEST(GoStringList, ReadsAFunctionsListAndAStructField) {
  const std::string go = R"(package caps
// DefaultCapabilities returns a Linux kernel default capabilities
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN",
		"CAP_KILL", // a comment
	}
}
var s = Spec{
	MaskedPaths: []string{"/proc/acpi", "/proc/kcore"},
}
)";
  auto caps = GoStringList(go, "func DefaultCapabilities()", "defaults.go");
  ASSERT_TRUE(caps) << caps.error().message();
  EXPECT_EQ(*caps, (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}));
  auto masked = GoStringList(go, "MaskedPaths:", "defaults.go");
  ASSERT_TRUE(masked) << masked.error().message();
  EXPECT_EQ(*masked, (std::vector<std::string>{"/proc/acpi", "/proc/kcore"}));
}

TEST(GoStringList, FailsNamingTheFileWhenTheListIsAbsentOrEmpty) {
  auto absent = GoStringList("package x\n", "ReadonlyPaths:", "/src/oci/defaults.go");
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message().find("/src/oci/defaults.go"), std::string::npos);
  EXPECT_NE(absent.error().message().find("ReadonlyPaths:"), std::string::npos);
  auto empty = GoStringList("x := T{ReadonlyPaths: []string{}}", "ReadonlyPaths:", "d.go");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message().find("empty"), std::string::npos);
}

// A profile in Docker's format with one rule per kind of condition.
json ConditionalProfile() {
  return json::parse(R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [
      {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
    ],
    "syscalls": [
      {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
      {"name": "single", "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
      {"names": ["old_only"], "action": "SCMP_ACT_ALLOW", "excludes": {"minKernel": "5.0"}},
      {"names": ["not_on_amd64"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
      {"names": ["arm_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
      {"names": ["without_admin"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
       "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
      {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
    ]
  })");
}

TEST(ResolveSeccompProfile, KeepsTheRulesDockerdKeepsForTheseCapabilitiesAndKernel) {
  auto r = ResolveSeccompProfile(ConditionalProfile(), {"CAP_CHOWN"}, "6.1.0-13-amd64");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ((*r)["defaultErrnoRet"], 1);
  EXPECT_EQ((*r)["architectures"],
            json({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  auto allowed = NamesWith(*r, "SCMP_ACT_ALLOW");
  for (const char* kept : {"read", "write", "single", "ptrace", "without_admin", "personality"})
    EXPECT_TRUE(Has(allowed, kept)) << kept;
  for (const char* dropped : {"mount", "old_only", "not_on_amd64", "arm_only"})
    EXPECT_FALSE(Has(allowed, dropped)) << dropped;
  for (const auto& rule : (*r)["syscalls"]) {
    if (rule["names"] == json({"personality"})) {
      EXPECT_EQ(rule["args"], json({{{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}}));
    }
    if (rule["names"] == json({"clone"})) {
      EXPECT_EQ(rule["errnoRet"], 38);
    }
  }
}

TEST(ResolveSeccompProfile, CapabilitiesAndAnOldKernelChangeTheResult) {
  auto r = ResolveSeccompProfile(ConditionalProfile(), {"CAP_SYS_ADMIN"}, "4.4.0");
  ASSERT_TRUE(r) << r.error().message();
  auto allowed = NamesWith(*r, "SCMP_ACT_ALLOW");
  EXPECT_TRUE(Has(allowed, "mount"));
  EXPECT_FALSE(Has(allowed, "without_admin"));
  EXPECT_FALSE(Has(allowed, "ptrace"));  // minKernel 4.8 not reached
  EXPECT_TRUE(Has(allowed, "old_only"));
  auto arm = ResolveSeccompProfile(ConditionalProfile(), {}, "6.1", "arm64");
  ASSERT_TRUE(arm) << arm.error().message();
  EXPECT_EQ((*arm)["architectures"], json({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
  EXPECT_TRUE(Has(NamesWith(*arm, "SCMP_ACT_ALLOW"), "arm_only"));
}

TEST(ResolveSeccompProfile, RefusesWhatDockerdRefuses) {
  json no_default = ConditionalProfile();
  no_default.erase("defaultAction");
  EXPECT_FALSE(ResolveSeccompProfile(no_default, {}, "6.1"));
  json both = ConditionalProfile();
  both["architectures"] = {"SCMP_ARCH_X86_64"};
  EXPECT_FALSE(ResolveSeccompProfile(both, {}, "6.1"));
  json name_and_names = ConditionalProfile();
  name_and_names["syscalls"][0]["name"] = "read";
  EXPECT_FALSE(ResolveSeccompProfile(name_and_names, {}, "6.1"));
  auto bad_kernel = ResolveSeccompProfile(ConditionalProfile(), {}, "unknown");
  ASSERT_FALSE(bad_kernel);
  EXPECT_NE(bad_kernel.error().message().find("unknown"), std::string::npos);
}

class FakePackage : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-confinement-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    unpacked_ = root_ + "/var/lib/cvbench/pkg/golang-github-docker-docker-dev";
    src_ = unpacked_ + "/usr/share/gocode/src/github.com/docker/docker";
    ASSERT_TRUE(MakeDirs(src_ + "/oci/caps"));
    ASSERT_TRUE(MakeDirs(src_ + "/profiles/seccomp"));
    ASSERT_TRUE(MakeDirs(unpacked_ + "/DEBIAN"));
    ASSERT_TRUE(WriteFile(unpacked_ + "/DEBIAN/control",
                          "Package: golang-github-docker-docker-dev\nVersion: 99.1-test\n"));
    ASSERT_TRUE(WriteFile(src_ + "/oci/caps/defaults.go",
                          "func DefaultCapabilities() []string {\n\treturn []string{\n"
                          "\t\t\"CAP_CHOWN\",\n\t\t\"CAP_NET_RAW\",\n\t}\n}\n"));
    ASSERT_TRUE(WriteFile(src_ + "/oci/defaults.go",
                          "s := specs.Linux{\n\tMaskedPaths: []string{\"/proc/kcore\"},\n"
                          "\tReadonlyPaths: []string{\"/proc/sys\", \"/proc/bus\"},\n}\n"));
    ASSERT_TRUE(WriteFile(src_ + "/profiles/seccomp/default.json", ConditionalProfile().dump()));
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(root_)); }
  std::string root_, unpacked_, src_;
};

TEST_F(FakePackage, DockerDefaultComesFromThePackagesFiles) {
  auto c = LoadConfinement("docker-default", root_, "6.1.0");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->name, "docker-default");
  EXPECT_EQ(c->capabilities, (std::vector<std::string>{"CAP_CHOWN", "CAP_NET_RAW"}));
  EXPECT_EQ(c->masked_paths, (std::vector<std::string>{"/proc/kcore"}));
  EXPECT_EQ(c->readonly_paths, (std::vector<std::string>{"/proc/sys", "/proc/bus"}));
  EXPECT_FALSE(c->no_new_privileges);
  EXPECT_FALSE(c->ambient);
  ASSERT_TRUE(c->seccomp);
  EXPECT_FALSE(Has(NamesWith(*c->seccomp, "SCMP_ACT_ALLOW"), "mount"));
  EXPECT_NE(c->source.find("99.1-test"), std::string::npos) << c->source;
  EXPECT_NE(c->source.find("6.1.0"), std::string::npos) << c->source;
}

TEST_F(FakePackage, AMissingOrMalformedFileFailsNamingIt) {
  ASSERT_TRUE(WriteFile(src_ + "/profiles/seccomp/default.json", "{not json"));
  auto bad = LoadConfinement("docker-default", root_, "6.1.0");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("default.json"), std::string::npos);
  ASSERT_TRUE(RemoveTree(src_ + "/oci/caps"));
  auto missing = LoadConfinement("docker-default", root_, "6.1.0");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("oci/caps/defaults.go"), std::string::npos);
  EXPECT_NE(missing.error().message().find("scripts/setup"), std::string::npos);
}

TEST(LoadConfinement, UnknownNamesAreRefusedListingTheKnownOnes) {
  auto c = LoadConfinement("docker-defualt");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("docker-defualt"), std::string::npos);
  EXPECT_NE(c.error().message().find("spec-default"), std::string::npos);
}

TEST(LoadConfinement, SpecDefaultIsTheBundleAsItWas) {
  auto c = LoadConfinement("spec-default");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->capabilities.size(), 3u);
  EXPECT_TRUE(c->no_new_privileges);
  EXPECT_TRUE(c->ambient);
  EXPECT_FALSE(c->seccomp);
}

// Docker 20.10's own files as scripts/setup unpacks them: what `docker run` gives.
TEST(LoadConfinement, DockerDefaultFromTheRealPackage) {
  if (!PathExists("/var/lib/cvbench/pkg/golang-github-docker-docker-dev/DEBIAN/control"))
    GTEST_SKIP() << "golang-github-docker-docker-dev is not unpacked (run scripts/setup)";
  auto c = LoadConfinement("docker-default", "", "6.1.0-13-amd64");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->capabilities.size(), 14u);
  EXPECT_TRUE(Has(c->capabilities, "CAP_NET_RAW"));
  EXPECT_FALSE(Has(c->capabilities, "CAP_SYS_ADMIN"));
  EXPECT_TRUE(Has(c->masked_paths, "/proc/kcore"));
  EXPECT_TRUE(Has(c->readonly_paths, "/proc/sysrq-trigger"));
  ASSERT_TRUE(c->seccomp);
  EXPECT_EQ((*c->seccomp)["defaultAction"], "SCMP_ACT_ERRNO");
  auto allowed = NamesWith(*c->seccomp, "SCMP_ACT_ALLOW");
  EXPECT_TRUE(Has(allowed, "read"));
  EXPECT_TRUE(Has(allowed, "ptrace"));  // minKernel 4.8
  EXPECT_FALSE(Has(allowed, "mount"));  // CAP_SYS_ADMIN only
  EXPECT_FALSE(Has(allowed, "kexec_load"));
  EXPECT_GT(c->seccomp_allowed, 300);
}

TEST(MakeOciConfig, TheProfileShapesTheBundle) {
  Image image;
  image.rootfs = "/rootfs";
  BundleOptions plain;
  plain.args = {"/bin/true"};
  json before = MakeOciConfig(image, plain);
  EXPECT_EQ(before["process"]["noNewPrivileges"], true);
  EXPECT_FALSE(before["linux"].contains("seccomp"));
  EXPECT_EQ(before["process"]["capabilities"]["ambient"].size(), 3u);

  Confinement docker;
  docker.name = "docker-default";
  docker.capabilities = {"CAP_CHOWN", "CAP_NET_RAW"};
  docker.no_new_privileges = false;
  docker.masked_paths = {"/proc/kcore"};
  docker.readonly_paths = {"/proc/sys"};
  docker.seccomp = json{{"defaultAction", "SCMP_ACT_ERRNO"}, {"syscalls", json::array()}};
  BundleOptions with = plain;
  with.confinement = docker;
  with.cpus = "1";
  json after = MakeOciConfig(image, with);
  EXPECT_EQ(after["process"]["noNewPrivileges"], false);
  EXPECT_FALSE(after["process"]["capabilities"].contains("ambient"));
  EXPECT_EQ(after["process"]["capabilities"]["bounding"], json({"CAP_CHOWN", "CAP_NET_RAW"}));
  EXPECT_EQ(after["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(after["linux"]["maskedPaths"], json({"/proc/kcore"}));
  EXPECT_EQ(after["linux"]["readonlyPaths"], json({"/proc/sys"}));
  EXPECT_EQ(after["linux"]["resources"]["cpu"]["cpus"], "1");
}

}  // namespace
}  // namespace cvb::image
