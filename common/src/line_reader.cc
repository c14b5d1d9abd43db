#include "cvb/common/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "cvb/common/clock.h"

namespace cvb {

Result<StampedLine> LineReader::Next(int64_t deadline_ns) {
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      StampedLine line{buffer_.substr(0, nl), MonotonicNs()};
      buffer_.erase(0, nl + 1);
      if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
      return line;
    }
    if (eof_ || !fd_) return Failure("eof");
    // At or past the deadline we still look once (timeout 0), so a caller can drain what is
    // already there with deadline 0.
    int64_t left_ns = std::max<int64_t>(0, deadline_ns - MonotonicNs());
    pollfd p{fd_.get(), POLLIN, 0};
    int timeout_ms = static_cast<int>(std::min<int64_t>((left_ns + 999'999) / 1'000'000, 1000));
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("poll");
    }
    if (n == 0) {
      if (MonotonicNs() >= deadline_ns) return Error{ETIMEDOUT, "waiting for a line"};
      continue;
    }
    char buf[4096];
    ssize_t r = ::read(fd_.get(), buf, sizeof buf);
    if (r > 0) {
      buffer_.append(buf, static_cast<size_t>(r));
      // The stamp of a line is taken when it is found complete, right after this read.
    } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
      // A pty whose other side closed reports EIO: treat it as end of stream.
      eof_ = true;
      if (!buffer_.empty() && buffer_.back() != '\n') buffer_.push_back('\n');
    }
  }
}

}  // namespace cvb
