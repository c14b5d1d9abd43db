// The environment the process gets besides the config's (process_env.h): HOME from the
// container's /etc/passwd, socket activation, and what a hook without "env" gets.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "cvb/runtime/spec.h"
#include "process_env.h"

namespace cvb::runtime {
namespace {

std::string Home(const std::string& passwd, uid_t uid, size_t out_size = 64) {
  char out[4096];
  memset(out, 'x', sizeof out);
  HomeEnvFromPasswd(passwd.data(), passwd.size(), uid, out, out_size);
  return out;
}

const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "nginx:x:101:101:nginx user:/var/cache/nginx:/sbin/nologin\n"
    "broken:x:10a:0::/nope:/bin/sh\n"
    "nohome:x:102:102:::/bin/sh\n"
    "last:x:1000:1000::/home/last:/bin/sh";  // no trailing newline

TEST(ProcessEnv, HomeIsThePasswdEntryOfTheUid) {
  EXPECT_EQ(Home(kPasswd, 0), "HOME=/root");
  EXPECT_EQ(Home(kPasswd, 101), "HOME=/var/cache/nginx");
  EXPECT_EQ(Home(kPasswd, 1000), "HOME=/home/last");
}

TEST(ProcessEnv, HomeIsSlashWithoutAnEntryOrAHome) {
  EXPECT_EQ(Home(kPasswd, 4242), "HOME=/");
  EXPECT_EQ(Home(kPasswd, 102), "HOME=/") << "an entry with an empty home";
  EXPECT_EQ(Home("", 0), "HOME=/") << "no /etc/passwd";
  EXPECT_EQ(Home("garbage without colons\n::::\n", 0), "HOME=/");
  EXPECT_EQ(Home(kPasswd, 10), "HOME=/") << "10a is not uid 10";
  EXPECT_EQ(Home(kPasswd, 101, 12), "HOME=/") << "a home that does not fit the slot";
}

TEST(ProcessEnv, NeedsHomeWhenAbsentOrEmpty) {
  EXPECT_TRUE(NeedsHome({"PATH=/bin"}));
  EXPECT_TRUE(NeedsHome({"PATH=/bin", "HOME="}));
  EXPECT_FALSE(NeedsHome({"HOME=/srv"}));
  EXPECT_EQ(WithoutHome({"A=1", "HOME=", "B=2"}), (std::vector<std::string>{"A=1", "B=2"}));
}

TEST(ProcessEnv, ListenFdsOnlyForThisProcess) {
  EXPECT_EQ(ListenFdsFor(123, "2", "123"), 2);
  EXPECT_EQ(ListenFdsFor(123, "2", "124"), 0) << "meant for another process";
  EXPECT_EQ(ListenFdsFor(123, nullptr, "123"), 0);
  EXPECT_EQ(ListenFdsFor(123, "", "123"), 0);
  EXPECT_EQ(ListenFdsFor(123, "two", "123"), 0);
  EXPECT_EQ(ListenFdsFor(123, "0", "123"), 0);
  EXPECT_EQ(ListenFdsFor(123, "1", "123x"), 0);
  EXPECT_EQ(WithListenFds({"PATH=/bin", "LISTEN_PID=7", "LISTEN_FDS=9"}, 2),
            (std::vector<std::string>{"PATH=/bin", "LISTEN_FDS=2", "LISTEN_PID=1"}));
}

TEST(ProcessEnv, AHookWithoutEnvIsToldApartFromAnEmptyOne) {
  auto spec = ParseSpec(R"({"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"},
    "root": {"path": "rootfs"},
    "hooks": {"prestart": [{"path": "/bin/a"}, {"path": "/bin/b", "env": []},
                           {"path": "/bin/c", "env": ["X=1"]}, {"path": "/bin/d", "env": null}]}})");
  ASSERT_TRUE(spec.ok()) << spec.error().message();
  const auto& hooks = spec->hooks.prestart;
  ASSERT_EQ(hooks.size(), 4u);
  EXPECT_FALSE(hooks[0].env_set);
  EXPECT_TRUE(hooks[1].env_set);
  EXPECT_TRUE(hooks[1].env.empty());
  EXPECT_TRUE(hooks[2].env_set);
  EXPECT_FALSE(hooks[3].env_set) << "null reads as absent, as Go's json reads it";
}

}  // namespace
}  // namespace cvb::runtime
