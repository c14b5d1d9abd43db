#include "cvb/launcher/workload_channel.h"

namespace cvb::launcher {

namespace {

// A channel made without a source (an instance whose start failed early).
Result<StampedLine> NoSource() { return Failure("eof"); }

class PipeSource : public LineSource {
 public:
  explicit PipeSource(UniqueFd fd) : reader_(std::move(fd)) {}
  Result<StampedLine> Next(int64_t deadline_ns) override { return reader_.Next(deadline_ns); }
  std::string pending() const override { return reader_.pending(); }
  bool eof() const override { return reader_.eof(); }
  void Close() override { reader_.Close(); }

 private:
  LineReader reader_;
};

}  // namespace

WorkloadChannel::WorkloadChannel(UniqueFd fd)
    : source_(std::make_unique<PipeSource>(std::move(fd))) {}

std::optional<workload::Message> WorkloadChannel::Take(const StampedLine& line,
                                                       Timeline* timeline) {
  if (!saw_first_line_ && timeline) {
    saw_first_line_ = true;
    timeline->MarkAt("first_line", line.host_mono_ns);
  }
  auto msg = workload::ParseLine(line.text);
  if (!msg) {
    // Keep a bounded amount of ordinary output (a VM console can be chatty).
    if (output_.size() < 2000) output_.push_back(line.text);
    return std::nullopt;
  }
  // FINGERPRINT goes with the results: whoever asked for the fingerprint mode finds it there.
  if (msg->kind == "RESULT" || msg->kind == "FINGERPRINT")
    results_.push_back(*msg);
  else if (msg->kind == "DONE")
    done_ = msg;
  else if (msg->kind == "ERROR")
    error_ = msg;
  return msg;
}

std::string WorkloadChannel::Tail(size_t max_lines) const {
  std::string s;
  size_t start = output_.size() > max_lines ? output_.size() - max_lines : 0;
  for (size_t i = start; i < output_.size(); ++i) s += (s.empty() ? "" : " | ") + output_[i];
  if (source_ && !source_->pending().empty()) s += (s.empty() ? "" : " | ") + source_->pending();
  return s.empty() ? "(no output)" : s;
}

Result<workload::Message> WorkloadChannel::WaitReady(int64_t deadline_ns, Timeline& timeline) {
  for (;;) {
    auto line = (source_ ? source_->Next(deadline_ns) : NoSource());
    if (!line) {
      if (line.error().err == ETIMEDOUT)
        return Error{ETIMEDOUT, "no READY line before the deadline; output: " + Tail()};
      return Failure("workload ended before READY; output: " + Tail());
    }
    auto msg = Take(*line, &timeline);
    if (!msg) continue;
    if (msg->kind == "READY") {
      timeline.MarkAt("ready", line->host_mono_ns);
      return *msg;
    }
    if (msg->kind == "ERROR") return Failure("workload error: " + msg->Get("msg"));
  }
}

Result<void> WorkloadChannel::Drain(int64_t deadline_ns) {
  while (!done_) {
    auto line = (source_ ? source_->Next(deadline_ns) : NoSource());
    if (!line) {
      if (line.error().err == ETIMEDOUT) return line.error();
      return Ok();  // EOF
    }
    Take(*line, nullptr);
  }
  return Ok();
}

void WorkloadChannel::DrainAvailable() {
  for (;;) {
    auto line = (source_ ? source_->Next(0) : NoSource());
    if (!line) return;
    Take(*line, nullptr);
  }
}

}  // namespace cvb::launcher
