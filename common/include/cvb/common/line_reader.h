// LineReader: reads newline-terminated lines from a pipe, pty or socket and stamps each with the
// host monotonic time at which its last byte was read. This is how every launcher observes the
// workload's ready line, so the ready time means the same thing for containers and VMs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cvb/common/result.h"
#include "cvb/common/unique_fd.h"

namespace cvb {

struct StampedLine {
  std::string text;      // without the trailing newline (and without a trailing '\r')
  int64_t host_mono_ns;  // CLOCK_MONOTONIC when the line was complete
};

class LineReader {
 public:
  LineReader() = default;
  explicit LineReader(UniqueFd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }
  bool eof() const { return eof_ && buffer_.empty(); }
  // Next line, waiting until deadline_ns (CLOCK_MONOTONIC). ETIMEDOUT at the deadline; an Error
  // with err == 0 and context "eof" when the writer closed with no further complete line.
  Result<StampedLine> Next(int64_t deadline_ns);
  // Everything read so far that was not returned as a line (for error messages).
  const std::string& pending() const { return buffer_; }
  void Close() { fd_.reset(); }

 private:
  UniqueFd fd_;
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace cvb
