// `cvrun features` held to the code's own tables: everything it lists is accepted by the parser
// and applied by the planners; what the code refuses or ignores is absent.
#include "cvb/runtime/features.h"

#include <gtest/gtest.h>
#include <sys/capability.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cvb/runtime/spec.h"
#include "mounts.h"
#include "namespaces.h"
#include "security.h"

namespace cvb::runtime {
namespace {

using nlohmann::json;

json Features() { return json::parse(FeaturesJson()); }

std::vector<std::string> List(const json& j) { return j.get<std::vector<std::string>>(); }

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

json Config() { return json::parse(DefaultSpecJson()); }

Result<Spec> Parse(const json& config) { return ParseSpec(config.dump()); }

TEST(Features, VersionsAreAcceptedAsOciVersion) {
  json f = Features();
  for (const char* key : {"ociVersionMin", "ociVersionMax"}) {
    json c = Config();
    c["ociVersion"] = f[key];
    EXPECT_TRUE(Parse(c).ok()) << key;
  }
}

TEST(Features, EveryHookListedIsParsedIntoItsList) {
  auto hooks = List(Features()["hooks"]);
  EXPECT_EQ(hooks, HookNames());
  for (const auto& name : hooks) {
    json c = Config();
    c["hooks"][name] = json::array({{{"path", "/bin/true"}}});
    auto spec = Parse(c);
    ASSERT_TRUE(spec.ok()) << name << ": " << spec.error().message();
    const Hooks& h = spec->hooks;
    size_t total = h.prestart.size() + h.create_runtime.size() + h.create_container.size() +
                   h.start_container.size() + h.poststart.size() + h.poststop.size();
    EXPECT_EQ(total, 1u) << name << " was not parsed into a hook list";
  }
}

TEST(Features, MountOptionsAreExactlyTheAppliedOnes) {
  auto options = List(Features()["mountOptions"]);
  EXPECT_EQ(options, AppliedMountOptions());
  for (const auto& o : options) {
    EXPECT_EQ(ClassifyMountOption(o), MountOptionKind::kApplied) << o;
    MountOptions parsed = ParseMountOptions({o});
    EXPECT_TRUE(parsed.data.empty()) << o << " would be passed to the filesystem as data";
    EXPECT_TRUE(parsed.unsupported.empty()) << o << " is refused";
  }
  // Refused, ignored and filesystem options are absent.
  for (const char* o : {"idmap", "ridmap", "tmpcopyup", "notmpcopyup", "z", "Z", "U", "copyup",
                        "mode=755", "size=64k", "newinstance"}) {
    EXPECT_FALSE(Contains(options, o)) << o;
    EXPECT_NE(ClassifyMountOption(o), MountOptionKind::kApplied) << o;
  }
  EXPECT_EQ(ClassifyMountOption("idmap"), MountOptionKind::kRefused);
  EXPECT_FALSE(ParseMountOptions({"idmap"}).unsupported.empty());
  EXPECT_EQ(ClassifyMountOption("tmpcopyup"), MountOptionKind::kIgnored);
  EXPECT_EQ(ClassifyMountOption("mode=755"), MountOptionKind::kData);
}

TEST(Features, NamespacesAreTheParsersAndTimeIsAbsent) {
  auto types = List(Features()["linux"]["namespaces"]);
  EXPECT_EQ(types, NamespaceTypes());
  for (const auto& t : types) {
    json c = Config();
    c["linux"]["namespaces"] = json::array({{{"type", "mount"}}});
    if (t != "mount") c["linux"]["namespaces"].push_back({{"type", t}});
    if (t == "user") {
      c["linux"]["uidMappings"] =
          json::array({{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}});
      c["linux"]["gidMappings"] = c["linux"]["uidMappings"];
    }
    if (t != "uts") c.erase("hostname");
    auto spec = Parse(c);
    EXPECT_TRUE(spec.ok()) << t << ": " << (spec.ok() ? "" : spec.error().message());
    EXPECT_NE(NamespaceFlag(t), 0) << t;
  }
  EXPECT_FALSE(Contains(types, "time"));
  json c = Config();
  c["linux"]["namespaces"].push_back({{"type", "time"}});
  EXPECT_FALSE(Parse(c).ok());
}

TEST(Features, CapabilitiesAreGrantable) {
  auto caps = List(Features()["linux"]["capabilities"]);
  EXPECT_EQ(caps.size(), static_cast<size_t>(cap_max_bits()));
  Capabilities set;
  set.bounding = caps;
  auto masks = ComputeCapabilities(set);
  ASSERT_TRUE(masks.ok());
  for (size_t i = 0; i < caps.size(); ++i) {
    Capabilities one;
    one.bounding = {caps[i]};
    auto m = ComputeCapabilities(one);
    ASSERT_TRUE(m.ok()) << caps[i];
    EXPECT_NE(m->bounding, 0u) << caps[i] << " sets no bit";
  }
}

json SeccompConfig(const std::string& default_action) {
  json c = Config();
  c["linux"]["seccomp"] = {{"defaultAction", default_action}};
  return c;
}

TEST(Features, SeccompActionsParseAndCompileNotifyIsAbsent) {
  json s = Features()["linux"]["seccomp"];
  EXPECT_TRUE(s["enabled"].get<bool>());
  auto actions = List(s["actions"]);
  EXPECT_EQ(actions, SeccompActionNames());
  for (const auto& a : actions) {
    auto spec = Parse(SeccompConfig(a));
    ASSERT_TRUE(spec.ok()) << a << ": " << spec.error().message();
    EXPECT_TRUE(CompileSeccomp(*spec->linux.seccomp).ok()) << a;
  }
  EXPECT_FALSE(Contains(actions, "SCMP_ACT_NOTIFY"));
  EXPECT_FALSE(Parse(SeccompConfig("SCMP_ACT_NOTIFY")).ok());
}

TEST(Features, SeccompOperatorsParseAndCompile) {
  auto ops = List(Features()["linux"]["seccomp"]["operators"]);
  EXPECT_EQ(ops, SeccompOperatorNames());
  for (const auto& op : ops) {
    json c = SeccompConfig("SCMP_ACT_ALLOW");
    c["linux"]["seccomp"]["syscalls"] = json::array(
        {{{"names", {"personality"}},
          {"action", "SCMP_ACT_ERRNO"},
          {"args", json::array({{{"index", 0}, {"value", 8}, {"valueTwo", 8}, {"op", op}}})}}});
    auto spec = Parse(c);
    ASSERT_TRUE(spec.ok()) << op << ": " << spec.error().message();
    EXPECT_TRUE(CompileSeccomp(*spec->linux.seccomp).ok()) << op;
  }
  json c = SeccompConfig("SCMP_ACT_ALLOW");
  c["linux"]["seccomp"]["syscalls"] = json::array(
      {{{"names", {"personality"}},
        {"action", "SCMP_ACT_ERRNO"},
        {"args", json::array({{{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_NOPE"}}})}}});
  EXPECT_FALSE(Parse(c).ok());
}

TEST(Features, SeccompArchitecturesCompile) {
  auto archs = List(Features()["linux"]["seccomp"]["archs"]);
  EXPECT_TRUE(Contains(archs, "SCMP_ARCH_X86_64"));
  for (const auto& a : archs) {
    json c = SeccompConfig("SCMP_ACT_ALLOW");
    c["linux"]["seccomp"]["architectures"] = {a};
    auto spec = Parse(c);
    ASSERT_TRUE(spec.ok()) << a;
    EXPECT_TRUE(CompileSeccomp(*spec->linux.seccomp).ok()) << a;
  }
  json c = SeccompConfig("SCMP_ACT_ALLOW");
  c["linux"]["seccomp"]["architectures"] = {"SCMP_ARCH_NOPE"};
  auto spec = Parse(c);
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(CompileSeccomp(*spec->linux.seccomp).ok());
}

TEST(Features, SeccompFlagsAreTheParsersAndSupportedOnesAreKnown) {
  json s = Features()["linux"]["seccomp"];
  auto known = List(s["knownFlags"]);
  EXPECT_EQ(known, SeccompFlagNames());
  for (const auto& f : known) {
    json c = SeccompConfig("SCMP_ACT_ALLOW");
    c["linux"]["seccomp"]["flags"] = {f};
    EXPECT_TRUE(Parse(c).ok()) << f;
    EXPECT_NE(SeccompFlagValue(f), 0u) << f;
  }
  for (const auto& f : List(s["supportedFlags"])) EXPECT_TRUE(Contains(known, f)) << f;
  for (const char* f : {"SECCOMP_FILTER_FLAG_NEW_LISTENER", "SECCOMP_FILTER_FLAG_TSYNC_ESRCH"}) {
    EXPECT_FALSE(Contains(known, f));
    json c = SeccompConfig("SCMP_ACT_ALLOW");
    c["linux"]["seccomp"]["flags"] = {f};
    EXPECT_FALSE(Parse(c).ok()) << f;
  }
}

TEST(Features, WhatCvrunDoesNotDoIsDisabled) {
  json l = Features()["linux"];
  EXPECT_FALSE(l["apparmor"]["enabled"].get<bool>());
  EXPECT_FALSE(l["selinux"]["enabled"].get<bool>());
  EXPECT_FALSE(l["intelRdt"]["enabled"].get<bool>());
  EXPECT_FALSE(l["mountExtensions"]["idmap"]["enabled"].get<bool>());
  EXPECT_FALSE(l["cgroup"]["systemd"].get<bool>());
  EXPECT_TRUE(l["cgroup"]["v1"].get<bool>());
  EXPECT_TRUE(l["cgroup"]["v2"].get<bool>());
  // The config refuses what features calls disabled.
  json c = Config();
  c["linux"]["intelRdt"] = {{"closID", "x"}};
  EXPECT_FALSE(Parse(c).ok());
}

}  // namespace
}  // namespace cvb::runtime
