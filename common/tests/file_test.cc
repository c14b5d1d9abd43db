#include "cvb/common/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cvb {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cvb-file-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveTree(dir_)); }
  std::string dir_;
};

TEST_F(FileTest, WriteThenReadRoundTrips) {
  ASSERT_TRUE(WriteFile(dir_ + "/a", "hello\n"));
  auto r = ReadFile(dir_ + "/a");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "hello\n");
}

TEST_F(FileTest, ReadMissingFileNamesPathAndErrno) {
  auto r = ReadFile(dir_ + "/missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ENOENT);
  EXPECT_NE(r.error().message().find(dir_ + "/missing"), std::string::npos);
}

TEST_F(FileTest, MakeDirsAndRemoveTreeWithSymlinkDoesNotFollow) {
  ASSERT_TRUE(MakeDirs(dir_ + "/x/y/z"));
  ASSERT_TRUE(WriteFile(dir_ + "/outside", "keep"));
  ASSERT_EQ(::symlink((dir_ + "/outside").c_str(), (dir_ + "/x/y/link").c_str()), 0);
  ASSERT_TRUE(RemoveTree(dir_ + "/x"));
  EXPECT_FALSE(PathExists(dir_ + "/x"));
  EXPECT_TRUE(PathExists(dir_ + "/outside"));
}

TEST_F(FileTest, MakeDirsOverFileFails) {
  ASSERT_TRUE(WriteFile(dir_ + "/f", ""));
  EXPECT_FALSE(MakeDirs(dir_ + "/f"));
}

TEST_F(FileTest, AtomicWriteLeavesNoTemporary) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/b", "x"));
  EXPECT_EQ(ReadFile(dir_ + "/b").value_or_empty(), "x");
  EXPECT_FALSE(PathExists(dir_ + "/b.tmp." + std::to_string(::getpid())));
}

TEST_F(FileTest, DurableWriteReplacesWholeAndLeavesNoTemporary) {
  ASSERT_TRUE(WriteFileDurable(dir_ + "/d", "old"));
  ASSERT_TRUE(WriteFileDurable(dir_ + "/d", "new contents"));
  EXPECT_EQ(ReadFile(dir_ + "/d").value_or_empty(), "new contents");
  EXPECT_FALSE(PathExists(dir_ + "/d.tmp." + std::to_string(::getpid())));
}

TEST_F(FileTest, DurableWriteFailureNamesThePathAndKeepsTheOldFile) {
  ASSERT_TRUE(WriteFileDurable(dir_ + "/d", "old"));
  ASSERT_TRUE(MakeDirs(dir_ + "/d.tmp." + std::to_string(::getpid())));  // the temporary is taken
  auto r = WriteFileDurable(dir_ + "/d", "new");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(dir_ + "/d.tmp."), std::string::npos) << r.error().message();
  EXPECT_EQ(ReadFile(dir_ + "/d").value_or_empty(), "old");
}

TEST(SplitTest, DropsEmptyPieces) {
  EXPECT_EQ(Split("a,,b,", ','), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(Split("", ',').empty());
  EXPECT_EQ(Trim("  x y \n"), "x y");
}

TEST(HashTest, ContentHashIsStableAndSensitive) {
  EXPECT_EQ(ContentHash("abc"), ContentHash("abc"));
  EXPECT_NE(ContentHash("abc"), ContentHash("abd"));
  EXPECT_EQ(ContentHash("").size(), 16u);
}

TEST_F(FileTest, ListDirectoryIsSortedWithoutDotEntries) {
  ASSERT_TRUE(WriteFile(dir_ + "/b", ""));
  ASSERT_TRUE(WriteFile(dir_ + "/.hidden", ""));
  ASSERT_TRUE(MakeDirs(dir_ + "/a"));
  EXPECT_EQ(ListDirectory(dir_), (std::vector<std::string>{".hidden", "a", "b"}));
  EXPECT_TRUE(ListDirectory(dir_ + "/missing").empty());
}

}  // namespace
}  // namespace cvb
