#include "cvb/runtime/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cvb/runtime/state.h"

namespace cvb::runtime {

Log& Log::Get() {
  static Log log;
  return log;
}

void Log::Configure(const std::string& file, bool json, bool debug) {
  json_ = json;
  debug_ = debug;
  if (!file.empty()) {
    int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      fd_ = fd;
      own_fd_ = true;
    }
  }
}

void Log::Write(const std::string& line) {
  ssize_t n = ::write(fd_, line.data(), line.size());
  (void)n;
}

void Log::Line(const char* level, const std::string& msg) {
  if (json_) {
    nlohmann::json j = {{"level", level}, {"msg", msg}, {"time", Rfc3339Now()}};
    Write(j.dump() + "\n");
  } else {
    Write(std::string("cvrun: ") + (std::string(level) == "error" ? "" : std::string(level) + ": ") +
          msg + "\n");
  }
}

void Log::Error(const std::string& msg) {
  Line("error", msg);
  // With --log FILE the error reaches stderr too, so that a human sees it.
  if (own_fd_) {
    std::string line = "cvrun: " + msg + "\n";
    ssize_t n = ::write(2, line.data(), line.size());
    (void)n;
  }
}

void Log::Warn(const std::string& msg) { Line("warning", msg); }

void Log::Debug(const std::string& msg) {
  if (debug_) Line("debug", msg);
}

std::string Log::PhasesJson(const PhaseTimings& t) {
  nlohmann::ordered_json phases = nlohmann::ordered_json::object();
  for (const auto& [name, us] : t.us) phases[name] = us;
  nlohmann::ordered_json j;
  j["level"] = "info";
  j["msg"] = "phases";
  j["cmd"] = t.cmd;
  j["id"] = t.id;
  j["pid"] = t.pid;
  j["phases_us"] = phases;
  j["time"] = Rfc3339Now();
  return j.dump();
}

void Log::Phases(const PhaseTimings& t) {
  if (json_) {
    Write(PhasesJson(t) + "\n");
  } else if (debug_) {
    std::string line = "cvrun: phases " + t.cmd + " " + t.id + ":";
    for (const auto& [name, us] : t.us) line += " " + name + "=" + std::to_string(us) + "us";
    Write(line + "\n");
  }
}

}  // namespace cvb::runtime
