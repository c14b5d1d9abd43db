// WorkloadChannel: the host end of the workload's line protocol. Launchers hand it the fd the
// workload's stdout arrives on (a pipe for processes and containers, a pty or pipe for a VM's
// console), or a LineSource of their own (the log file Docker writes a container's output into),
// and it stamps READY, collects RESULT lines and keeps the rest for error messages.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cvb/common/line_reader.h"
#include "cvb/launcher/timeline.h"
#include "cvb/workload/protocol.h"

namespace cvb::launcher {

// Where the lines come from. Each line is stamped with the host's CLOCK_MONOTONIC when cvbench
// had it whole (LineReader's rule), whatever the source.
class LineSource {
 public:
  virtual ~LineSource() = default;
  // As LineReader::Next: the next line, ETIMEDOUT at the deadline (a deadline in the past still
  // looks once), an error with context "eof" at the end of the stream.
  virtual Result<StampedLine> Next(int64_t deadline_ns) = 0;
  // Bytes read that are not a whole line yet (for error messages).
  virtual std::string pending() const = 0;
  virtual bool eof() const = 0;
  virtual void Close() = 0;
};

class WorkloadChannel {
 public:
  WorkloadChannel() = default;
  // A pipe or pty (LineReader).
  explicit WorkloadChannel(UniqueFd fd);
  explicit WorkloadChannel(std::unique_ptr<LineSource> source) : source_(std::move(source)) {}

  // Reads until READY (marks "ready" in timeline at the line's arrival; also "first_byte" for the
  // first line of any kind). Fails on ERROR, EOF or the deadline, with the output so far.
  Result<workload::Message> WaitReady(int64_t deadline_ns, Timeline& timeline);
  // Reads until DONE or EOF or deadline; RESULT (and FINGERPRINT) lines are collected. ETIMEDOUT at
  // the deadline.
  Result<void> Drain(int64_t deadline_ns);
  // Reads whatever is available now without blocking (for an instance being torn down).
  void DrainAvailable();

  const std::vector<workload::Message>& results() const { return results_; }
  const std::vector<std::string>& output() const { return output_; }
  const std::optional<workload::Message>& done() const { return done_; }
  const std::optional<workload::Message>& error() const { return error_; }
  // Last lines of output (for error messages), at most max_lines.
  std::string Tail(size_t max_lines = 8) const;
  bool eof() const { return !source_ || source_->eof(); }
  void Close() {
    if (source_) source_->Close();
  }

 private:
  // Handles one line; returns the parsed message if it was one.
  std::optional<workload::Message> Take(const StampedLine& line, Timeline* timeline);

  std::unique_ptr<LineSource> source_;
  bool saw_first_line_ = false;
  std::vector<workload::Message> results_;
  std::vector<std::string> output_;
  std::optional<workload::Message> done_;
  std::optional<workload::Message> error_;
};

}  // namespace cvb::launcher
