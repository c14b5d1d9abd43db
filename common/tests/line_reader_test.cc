#include "cvb/common/line_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cvb/common/clock.h"

namespace cvb {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    r.reset(fds[0]);
    w.reset(fds[1]);
  }
  void Write(const std::string& s) { ASSERT_EQ(::write(w.get(), s.data(), s.size()), (ssize_t)s.size()); }
  UniqueFd r, w;
};

TEST(LineReaderTest, SplitsLinesAndStripsCarriageReturn) {
  Pipe p;
  p.Write("one\r\ntwo\nthr");
  LineReader reader(std::move(p.r));
  int64_t deadline = MonotonicNs() + 1'000'000'000;
  EXPECT_EQ(reader.Next(deadline)->text, "one");
  EXPECT_EQ(reader.Next(deadline)->text, "two");
  p.Write("ee\n");
  EXPECT_EQ(reader.Next(deadline)->text, "three");
}

TEST(LineReaderTest, TimesOutWithoutNewline) {
  Pipe p;
  p.Write("partial");
  LineReader reader(std::move(p.r));
  auto r = reader.Next(MonotonicNs() + 50'000'000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ETIMEDOUT);
  EXPECT_EQ(reader.pending(), "partial");
}

TEST(LineReaderTest, EofFlushesLastPartialLine) {
  Pipe p;
  p.Write("last");
  p.w.reset();
  LineReader reader(std::move(p.r));
  int64_t deadline = MonotonicNs() + 1'000'000'000;
  EXPECT_EQ(reader.Next(deadline)->text, "last");
  auto r = reader.Next(deadline);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().context, "eof");
}

TEST(LineReaderTest, DeadlineZeroStillReadsWhatIsThere) {
  Pipe p;
  p.Write("ready\n");
  LineReader reader(std::move(p.r));
  auto r = reader.Next(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->text, "ready");
}

}  // namespace
}  // namespace cvb
