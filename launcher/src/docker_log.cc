#include "docker_log.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cvb/common/clock.h"

namespace cvb::launcher {

Result<int64_t> ParseRfc3339Nano(const std::string& text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
      6)
    return Failure("not an RFC 3339 time: '" + text + "'");
  std::string rest = text.substr(static_cast<size_t>(consumed));
  int64_t frac_ns = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int64_t scale = 100'000'000;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      frac_ns += (rest[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    rest = rest.substr(i);
  }
  if (rest != "Z") return Failure("not a UTC RFC 3339 time: '" + text + "'");
  tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  time_t secs = ::timegm(&t);
  return static_cast<int64_t>(secs) * 1'000'000'000 + frac_ns;
}

Result<DockerLogLine> ParseDockerLogLine(const std::string& json_line) {
  auto j = nlohmann::json::parse(json_line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("log") || !j["log"].is_string())
    return Failure("not a json-file log line: " + json_line.substr(0, 120));
  DockerLogLine line;
  line.text = j["log"].get<std::string>();
  line.complete = !line.text.empty() && line.text.back() == '\n';
  if (line.complete) line.text.pop_back();
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  if (j.contains("time") && j["time"].is_string())
    if (auto t = ParseRfc3339Nano(j["time"].get<std::string>())) line.time_ns = *t;
  return line;
}

DockerJsonLog::DockerJsonLog(std::string path, std::function<bool()> finished, LogFormat format,
                             int64_t grace_ns)
    : path_(std::move(path)),
      finished_(std::move(finished)),
      format_(format),
      grace_ns_(grace_ns) {}

bool DockerJsonLog::ReadMore() {
  if (closed_) return false;
  if (!fd_) {
    fd_.reset(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd_) return false;  // not there yet (dockerd makes it when the container starts)
  }
  bool any = false;
  char buf[8192];
  for (;;) {
    ssize_t r = ::read(fd_.get(), buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    raw_.append(buf, static_cast<size_t>(r));
    any = true;
  }
  if (!any) return false;
  int64_t now = MonotonicNs();
  size_t nl;
  while ((nl = raw_.find('\n')) != std::string::npos) {
    std::string json = raw_.substr(0, nl);
    raw_.erase(0, nl + 1);
    if (format_ == LogFormat::kPlain) {
      if (!json.empty() && json.back() == '\r') json.pop_back();
      lines_.push_back({StampedLine{std::move(json), now}, 0});
      continue;
    }
    auto parsed = ParseDockerLogLine(json);
    if (!parsed) {
      // Not Docker's format: kept as output so that an error message shows it.
      lines_.push_back({StampedLine{json, now}, 0});
      continue;
    }
    partial_ += parsed->text;
    if (!parsed->complete) continue;
    lines_.push_back({StampedLine{std::move(partial_), now}, parsed->time_ns});
    partial_.clear();
  }
  return true;
}

void DockerJsonLog::WaitForChange(int64_t deadline_ns, int64_t max_wait_ns) {
  int64_t left = std::min(max_wait_ns, std::max<int64_t>(0, deadline_ns - MonotonicNs()));
  if (left <= 0) return;
  UniqueFd in(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  bool watching =
      in && ::inotify_add_watch(in.get(), path_.c_str(), IN_MODIFY | IN_CLOSE_WRITE) >= 0;
  if (watching) {
    // A line written between the last read and the watch would be missed: look once more.
    if (ReadMore()) return;
    pollfd p{in.get(), POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>((left + 999'999) / 1'000'000));
  } else {
    // No file yet, or no inotify instance left (fs.inotify.max_user_instances): poll the file.
    timespec ts{0, static_cast<long>(std::min<int64_t>(left, 1'000'000))};
    ::nanosleep(&ts, nullptr);
  }
}

Result<StampedLine> DockerJsonLog::Next(int64_t deadline_ns) {
  for (;;) {
    if (!lines_.empty()) {
      auto [line, t] = std::move(lines_.front());
      lines_.pop_front();
      last_time_ns_ = t;
      return line;
    }
    if (eof_ || closed_) return Failure("eof");
    if (ReadMore()) {
      finished_since_ = 0;
      continue;
    }
    // Nothing new. Once the process is gone and the file stayed still for the grace period,
    // nothing more will come.
    int64_t now = MonotonicNs();
    if (finished_ && finished_()) {
      if (finished_since_ == 0) finished_since_ = now;
      if (now - finished_since_ >= grace_ns_) {
        eof_ = true;
        if (!partial_.empty()) lines_.push_back({StampedLine{std::move(partial_), now}, 0});
        partial_.clear();
        continue;
      }
    }
    if (now >= deadline_ns) return Error{ETIMEDOUT, "waiting for a line in " + path_};
    // Short waits while the process may be gone, so that the grace period is noticed.
    WaitForChange(deadline_ns, finished_since_ ? 20'000'000 : 100'000'000);
  }
}

}  // namespace cvb::launcher
