#include "ksm.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include "cvb/common/file.h"

namespace cvb::bench {
namespace {

Result<uint64_t> ParseCount(const std::string& path, const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return Failure(path + ": expected a count, read '" + text + "'");
  return std::strtoull(text.c_str(), nullptr, 10);
}

// How far apart two page counts are.
uint64_t PagesApart(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

bool KsmSysfs::Available() const { return PathExists(dir_ + "/run"); }

Result<std::string> KsmSysfs::Read(const std::string& key) const {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(dir_ + "/" + key));
  return Trim(text);
}

Result<void> KsmSysfs::Write(const std::string& key, const std::string& value) const {
  return WriteFile(dir_ + "/" + key, value + "\n");
}

Result<KsmCounters> KsmSysfs::Counters() const {
  KsmCounters c;
  for (auto [key, field] :
       {std::pair{"pages_shared", &c.pages_shared}, std::pair{"pages_sharing", &c.pages_sharing},
        std::pair{"pages_unshared", &c.pages_unshared}, std::pair{"full_scans", &c.full_scans}}) {
    CVB_ASSIGN_OR_RETURN(std::string text, Read(key));
    CVB_ASSIGN_OR_RETURN(*field, ParseCount(dir_ + "/" + key, text));
  }
  return c;
}

Result<std::unique_ptr<ScopedKsm>> ScopedKsm::Apply(const KsmSysfs& sysfs,
                                                    const KsmRequest& request) {
  if (!sysfs.Available())
    return Failure(sysfs.dir() + "/run: absent: this kernel has no KSM (CONFIG_KSM)");
  CVB_ASSIGN_OR_RETURN(HostLock lock, HostLock::TryAcquire(sysfs.lock_path(), "ksm"));
  std::unique_ptr<ScopedKsm> scoped(new ScopedKsm(sysfs, std::move(lock)));
  // On failure part-way, the destructor of `scoped` restores what was already changed.
  if (request.on) {
    if (request.pages_to_scan <= 0 || request.sleep_millisecs < 0)
      return Failure("ksm: pages_to_scan must be > 0 and sleep_millisecs >= 0");
    CVB_TRY(scoped->Set("pages_to_scan", std::to_string(request.pages_to_scan)));
    CVB_TRY(scoped->Set("sleep_millisecs", std::to_string(request.sleep_millisecs)));
    CVB_TRY(scoped->Set("run", "1"));
  } else {
    // 0 stops ksmd and keeps what is merged (2 would unmerge everything on the host, other
    // users' pages included).
    CVB_TRY(scoped->Set("run", "0"));
  }
  return scoped;
}

Result<void> ScopedKsm::Set(const std::string& key, const std::string& value) {
  CVB_ASSIGN_OR_RETURN(std::string old, sysfs_.Read(key));
  if (old == value) return Ok();
  if (auto w = sysfs_.Write(key, value); !w)
    return w.error().wrap("ksm: setting " + key + "=" + value);
  saved_[key] = old;
  order_.push_back(key);
  return Ok();
}

Result<void> ScopedKsm::Restore() {
  std::optional<Error> first;
  while (!order_.empty()) {
    std::string key = order_.back();
    order_.pop_back();
    if (auto w = sysfs_.Write(key, saved_[key]); !w && !first)
      first = w.error().wrap("ksm: restoring " + key + "=" + saved_[key]);
  }
  saved_.clear();
  if (first) return *first;
  return Ok();
}

ScopedKsm::~ScopedKsm() { (void)Restore(); }

KsmSettled WaitKsmSettled(const KsmSysfs& sysfs, int max_ms, int poll_ms, uint64_t tolerance_pages,
                          const std::function<void(int)>& sleep_ms) {
  auto sleep = [&](int ms) {
    if (sleep_ms)
      sleep_ms(ms);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  };
  KsmSettled s;
  poll_ms = std::max(1, poll_ms);
  auto start = sysfs.Counters();
  if (!start) return s;
  s.counters = *start;
  // pages_sharing at the end of the previous full scan (none seen yet).
  std::optional<uint64_t> at_last_scan;
  uint64_t last_scans = start->full_scans;
  while (s.waited_ms < max_ms) {
    sleep(poll_ms);
    s.waited_ms += poll_ms;
    auto now = sysfs.Counters();
    if (!now) break;
    s.counters = *now;
    if (now->full_scans == last_scans) continue;
    last_scans = now->full_scans;
    // The first scan to end may have begun before the call; the one after it was whole.
    if (at_last_scan && PagesApart(now->pages_sharing, *at_last_scan) < tolerance_pages) {
      s.stable = true;
      break;
    }
    at_last_scan = now->pages_sharing;
  }
  return s;
}

Result<std::vector<bool>> ParseKsmModes(const std::string& text) {
  std::vector<bool> out;
  for (const auto& item : Split(text, ',')) {
    std::string v = Trim(item);
    if (v == "off")
      out.push_back(false);
    else if (v == "on")
      out.push_back(true);
    else
      return Failure("--param ksm=" + text + ": '" + v + "' is not off or on");
  }
  if (out.empty()) return Failure("--param ksm=" + text + ": expected off, on or off,on");
  return out;
}

}  // namespace cvb::bench
