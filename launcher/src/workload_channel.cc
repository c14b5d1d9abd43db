#include "cvb/launcher/workload_channel.h"

namespace cvb::launcher {

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
  if (msg->kind == "RESULT" || msg->kind == "FINGERPRINT") results_.push_back(*msg);
  else if (msg->kind == "DONE") done_ = msg;
  else if (msg->kind == "ERROR") error_ = msg;
  return msg;
}

std::string WorkloadChannel::Tail(size_t max_lines) const {
  std::string s;
  size_t start = output_.size() > max_lines ? output_.size() - max_lines : 0;
  for (size_t i = start; i < output_.size(); ++i) s += (s.empty() ? "" : " | ") + output_[i];
  if (!reader_.pending().empty()) s += (s.empty() ? "" : " | ") + reader_.pending();
  return s.empty() ? "(no output)" : s;
}

Result<workload::Message> WorkloadChannel::WaitReady(int64_t deadline_ns, Timeline& timeline) {
  for (;;) {
    auto line = reader_.Next(deadline_ns);
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
    auto line = reader_.Next(deadline_ns);
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
    auto line = reader_.Next(0);
    if (!line) return;
    Take(*line, nullptr);
  }
}

}  // namespace cvb::launcher
