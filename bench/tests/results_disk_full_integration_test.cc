// A full disk under the output directory: cvbench stops with exit 4 and a message naming the file
// and the error, the suite file keeps every repetition recorded before (valid JSON), no temporary
// copy is left, and nothing of the run is left on the host. Real runs on a small private tmpfs,
// as root; skips with the reason otherwise.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/common/subprocess.h"

namespace cvb {
namespace {

TEST(ResultsDiskFull, TheRunStopsNamingTheFileAndKeepsWhatWasRecorded) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts a tmpfs)";
  char tmpl[] = "/tmp/cvb-disk-full-it-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string mnt = tmpl;
  // 48 KiB: a record of startup repetitions outgrows it (the rewrite needs room for the old
  // file and the new one) after a few dozen native launches.
  ASSERT_EQ(::mount("cvb-disk-full", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=48k"), 0)
      << "mount tmpfs: " << std::strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() {
      ::umount2(dir.c_str(), MNT_DETACH);
      ::rmdir(dir.c_str());
    }
  } unmount{mnt};

  std::string out = mnt + "/run";
  auto r = cvb::Run({CVBENCH_BINARY, "run", "--suite", "startup", "--launchers", "native", "--no-warmup",
                "--repetitions", "400", "--out", out},
               std::chrono::seconds(300));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status.code, 4) << r->err;
  std::string path = out + "/startup.json";
  EXPECT_NE(r->err.find("cannot write the results"), std::string::npos) << r->err;
  EXPECT_NE(r->err.find(path), std::string::npos) << r->err;
  EXPECT_NE(r->err.find("No space left on device"), std::string::npos) << r->err;

  auto text = ReadFile(path);
  ASSERT_TRUE(text) << text.error().message();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "the record does not parse after the disk filled";
  EXPECT_EQ(doc["run"]["state"], "partial");
  int recorded = 0;
  for (const auto& b : doc["benchmarks"]) {
    EXPECT_EQ(b["repetition_index"], recorded);
    ++recorded;
  }
  EXPECT_GT(recorded, 5);
  EXPECT_LT(recorded, 400);
  for (const auto& name : ListDirectory(out))
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << "temporary copy left: " << name;
  // cvbench's work directory (/run/cvbench/<its pid>) went with it.
  for (const auto& pid : ListDirectory("/run/cvbench"))
    EXPECT_TRUE(PathExists("/proc/" + pid)) << "work directory of a dead run left: " << pid;
}

}  // namespace
}  // namespace cvb
