// The runner the OCI and podman launchers share: a command's status is handed back as it is, a
// command past its timeout is killed and named.
#include "reaping_command.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace cvb::launcher {
namespace {

TEST(RunReapingOrphans, AFailingCommandsStatusIsReturnedNotJudged) {
  auto status = RunReapingOrphans({"sh", "-c", "exit 3"}, SpawnOptions{}, std::chrono::seconds(30));
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(status->code, 3);
  EXPECT_FALSE(status->ok());
}

TEST(RunReapingOrphans, ACommandPastItsTimeoutIsKilledAndNamed) {
  auto status = RunReapingOrphans({"sleep", "30"}, SpawnOptions{}, std::chrono::milliseconds(200));
  ASSERT_FALSE(status.ok()) << "sleep 30 ended within 200 ms";
  EXPECT_EQ(status.error().err, ETIMEDOUT);
  EXPECT_NE(status.error().message().find("sleep 30"), std::string::npos)
      << status.error().message();
}

TEST(RunReapingOrphans, AMissingProgramIsAnErrorNamingIt) {
  auto status = RunReapingOrphans({"/nonexistent/cvb-no-such-program"}, SpawnOptions{},
                                  std::chrono::seconds(5));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("cvb-no-such-program"), std::string::npos)
      << status.error().message();
}

}  // namespace
}  // namespace cvb::launcher
