// cvrun's log: `--log FILE` (appended to; stderr when none), `--log-format text|json`,
// `--debug`. In json mode every line is one JSON object in runc's shape
// ({"level":"error","msg":"...","time":"..."}) so engines such as podman can read errors back,
// and create/run add one "phases" line with per-phase timings (see runtime/README.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cvb::runtime {

struct PhaseTimings {
  std::string cmd;  // create, run, start, delete
  std::string id;
  int pid = 0;
  std::vector<std::pair<std::string, int64_t>> us;  // ordered: phase name → microseconds
};

class Log {
 public:
  static Log& Get();
  void Configure(const std::string& file, bool json, bool debug);
  bool json() const { return json_; }
  bool debug() const { return debug_; }
  void Error(const std::string& msg);
  void Warn(const std::string& msg);
  void Debug(const std::string& msg);
  // Written in json mode only (text mode: with --debug).
  void Phases(const PhaseTimings& timings);
  // The JSON of a phases line, exposed for tests.
  static std::string PhasesJson(const PhaseTimings& timings);

 private:
  void Line(const char* level, const std::string& msg);
  void Write(const std::string& line);
  int fd_ = 2;
  bool own_fd_ = false;
  bool json_ = false;
  bool debug_ = false;
};

}  // namespace cvb::runtime
