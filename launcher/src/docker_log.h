// The output of a container under Docker as Docker delivers it: dockerd's json-file log driver
// (its default) writes each line the container prints as one JSON object,
//   {"log":"CVB READY ...\n","stream":"stdout","time":"2026-12-08T01:00:13.584368876Z"}
// into <data-root>/containers/<id>/<id>-json.log, the file `docker logs` reads. DockerJsonLog
// follows that file as a LineSource: each line is stamped when cvbench has read it whole, as a
// pipe's are. A line longer than Docker's 16 KiB buffer arrives in pieces without the newline and
// is joined. Docker never closes the file for us: the stream ends (eof) once `finished()` says the
// container's process is gone and the file has not grown for a grace period (the shim and
// dockerd copy the last lines after the process exits).
// The same follower reads a plain log (LogFormat::kPlain): the file containerd's shim writes a
// task's stdout into with `ctr run --log-uri file://...`, one line as printed.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "cvb/common/unique_fd.h"
#include "cvb/launcher/workload_channel.h"

namespace cvb::launcher {

// One line of a json-file log: the text without its newline, dockerd's time stamp (ns since the
// epoch, 0 when missing) and whether the line is complete (Docker splits long lines).
struct DockerLogLine {
  std::string text;
  int64_t time_ns = 0;
  bool complete = true;
};
// Parses one JSON line of the log; an error for anything that is not one.
Result<DockerLogLine> ParseDockerLogLine(const std::string& json_line);
// RFC 3339 with nanoseconds, UTC ("2026-12-08T01:00:13.584368876Z") -> ns since the epoch.
Result<int64_t> ParseRfc3339Nano(const std::string& text);

enum class LogFormat { kDockerJson, kPlain };

class DockerJsonLog : public LineSource {
 public:
  DockerJsonLog(std::string path, std::function<bool()> finished,
                LogFormat format = LogFormat::kDockerJson, int64_t grace_ns = 200'000'000);
  Result<StampedLine> Next(int64_t deadline_ns) override;
  std::string pending() const override { return partial_ + raw_; }
  bool eof() const override { return eof_ && lines_.empty(); }
  void Close() override {
    fd_.reset();
    closed_ = true;
  }
  // dockerd's time stamp of the last line returned (ns since the epoch), 0 if none.
  int64_t last_time_ns() const { return last_time_ns_; }

 private:
  // Reads what the file has now; true when something was read.
  bool ReadMore();
  // Waits for the file to change (inotify, made and closed here) until deadline_ns or at most
  // max_wait_ns.
  void WaitForChange(int64_t deadline_ns, int64_t max_wait_ns);

  std::string path_;
  std::function<bool()> finished_;
  LogFormat format_;
  int64_t grace_ns_;
  UniqueFd fd_;
  std::string raw_;                                    // bytes read, not yet a whole JSON line
  std::string partial_;                                // text of a split line so far
  std::deque<std::pair<StampedLine, int64_t>> lines_;  // with dockerd's time stamps
  bool eof_ = false;
  bool closed_ = false;
  int64_t finished_since_ = 0;
  int64_t last_time_ns_ = 0;
};

}  // namespace cvb::launcher
