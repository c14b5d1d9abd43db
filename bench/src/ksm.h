// KSM (kernel samepage merging) as the density suite drives it: switch it on or off for one
// measurement, wait until it has merged what it will merge, read what it merged, and give the
// host its own settings back.
//
// KSM only scans memory a process marked MADV_MERGEABLE: QEMU does so for guest RAM
// (-machine mem-merge=on, its default; libvirt unless <memoryBacking><nosharepages/>), containers'
// processes do not. The sysfs directory is a parameter so that tests can point it at a temp dir.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "host_lock.h"

namespace cvb::bench {

inline constexpr const char* kKsmSysfsDir = "/sys/kernel/mm/ksm";
// Held by the run whose ScopedKsm has changed the host's KSM settings (host_lock.h).
inline constexpr const char* kKsmLockPath = "/run/cvbench-ksm.lock";

// What KSM has merged (sysfs counters, in pages).
struct KsmCounters {
  uint64_t pages_shared = 0;   // distinct merged pages kept
  uint64_t pages_sharing = 0;  // further pages mapping them: the pages saved
  uint64_t pages_unshared = 0;
  uint64_t full_scans = 0;
};

class KsmSysfs {
 public:
  explicit KsmSysfs(std::string dir = kKsmSysfsDir, std::string lock_path = kKsmLockPath)
      : dir_(std::move(dir)), lock_path_(std::move(lock_path)) {}
  const std::string& dir() const { return dir_; }
  // The lock a ScopedKsm holds while the settings are changed (tests use their own).
  const std::string& lock_path() const { return lock_path_; }
  // The kernel has KSM (CONFIG_KSM): dir/run exists.
  bool Available() const;
  Result<std::string> Read(const std::string& key) const;  // trimmed
  Result<void> Write(const std::string& key, const std::string& value) const;
  Result<KsmCounters> Counters() const;

 private:
  std::string dir_;
  std::string lock_path_;
};

// The settings a measurement asks for. pages_to_scan and sleep_millisecs only when on: the
// kernel's defaults (100 pages every 20 ms, 20 MB/s) would need minutes for a scan of 64 guests.
struct KsmRequest {
  bool on = false;
  int pages_to_scan = 4000;
  int sleep_millisecs = 20;
};

// Sets KSM as requested for its lifetime and restores every value it changed, in reverse order
// (the tuning is set before run=1, and run is restored first, so ksmd never runs at the
// benchmark's rate outside it). merge_across_nodes is left alone: it can only change while nothing
// is merged, and it matters on NUMA hosts only. Restore() reports what could not be restored.
// Holds the host's KSM lock (sysfs.lock_path()) from before the first value is read until after
// the last is restored: a second scope, in this run or another, is refused naming the lock and
// its holder's pid rather than changing KSM under the first and restoring the first's values.
class ScopedKsm {
 public:
  static Result<std::unique_ptr<ScopedKsm>> Apply(const KsmSysfs& sysfs, const KsmRequest& request);
  ~ScopedKsm();
  ScopedKsm(const ScopedKsm&) = delete;
  ScopedKsm& operator=(const ScopedKsm&) = delete;
  Result<void> Restore();
  // key -> the host's value before Apply, for what was changed.
  const std::map<std::string, std::string>& saved() const { return saved_; }

 private:
  ScopedKsm(const KsmSysfs& sysfs, HostLock lock) : sysfs_(sysfs), lock_(std::move(lock)) {}
  Result<void> Set(const std::string& key, const std::string& value);
  KsmSysfs sysfs_;
  HostLock lock_;  // released after the destructor's Restore (members go after its body)
  std::map<std::string, std::string> saved_;
  std::vector<std::string> order_;  // keys in the order they were changed
};

struct KsmSettled {
  KsmCounters counters;
  int waited_ms = 0;
  bool stable = false;  // false: max_ms ran out first
};

// Waits until KSM has settled: at least two full scans since the call, and pages_sharing moved by
// less than tolerance_pages across the last full scan (every page was looked at again and little
// more merged). Gives up after max_ms and says so. sleep_ms is the clock (tests pass a fake
// that moves the counters).
KsmSettled WaitKsmSettled(const KsmSysfs& sysfs, int max_ms, int poll_ms = 500,
                          uint64_t tolerance_pages = 256,
                          const std::function<void(int)>& sleep_ms = {});

// "off,on" -> {false, true}; anything else is an error naming the value.
Result<std::vector<bool>> ParseKsmModes(const std::string& text);

}  // namespace cvb::bench
