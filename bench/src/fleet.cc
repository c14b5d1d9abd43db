#include "fleet.h"

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <thread>

#include "cvb/common/clock.h"
#include "cvb/common/proc.h"
#include "cvb/common/subprocess.h"

namespace cvb::bench {

Result<void> Fleet::Start(launcher::Launcher& launcher, const FleetOptions& options) {
  start_ns_ = MonotonicNs();
  const uint64_t available_before = ReadMeminfo("MemAvailable").value_or(0);
  std::mutex mu;
  std::optional<Error> first_error;
  int next = 0;
  // Each worker takes the next index, starts it and waits for READY. With parallel = 1 this is
  // plain sequential start-up, with no thread at all.
  auto worker = [&]() {
    for (;;) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error || next >= options.count) return;
        if (options.interrupted && options.interrupted->load()) {
          first_error = Error{EINTR, "interrupted after " + std::to_string(next) + " of " +
                                         std::to_string(options.count) + " instances"};
          return;
        }
        ++next;
      }
      auto inst = launcher.Start(options.request);
      Result<void> ready = inst ? (*inst)->WaitReady(options.ready_timeout)
                                : Result<void>(inst.error());
      std::lock_guard<std::mutex> lock(mu);
      if (inst) instances_.push_back(std::move(*inst));
      if (!ready) {
        if (!first_error) first_error = ready.error();
        return;
      }
      ready_ns_.push_back(instances_.back()->timeline().At("ready").value_or(MonotonicNs()));
      if (options.memory_budget_bytes) {
        uint64_t now = ReadMeminfo("MemAvailable").value_or(available_before);
        if (available_before > now && available_before - now > options.memory_budget_bytes) {
          first_error = Failure("memory budget of " +
                                std::to_string(options.memory_budget_bytes >> 20) +
                                " MiB exceeded after " + std::to_string(instances_.size()) +
                                " instances (MemAvailable dropped by " +
                                std::to_string((available_before - now) >> 20) + " MiB)");
          return;
        }
      }
    }
  };
  int threads = std::max(1, std::min(options.parallel, options.count));
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  std::sort(ready_ns_.begin(), ready_ns_.end());
  if (first_error) return *first_error;
  return Ok();
}

Result<void> Fleet::TearDown(std::chrono::milliseconds stop_timeout, int parallel) {
  std::mutex mu;
  std::optional<Error> first;
  size_t next = 0;
  auto worker = [&]() {
    for (;;) {
      launcher::Instance* inst;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= instances_.size()) return;
        inst = instances_[next++].get();
      }
      auto s = inst->Stop(stop_timeout);
      auto t = inst->Teardown();
      std::lock_guard<std::mutex> lock(mu);
      if (!s && !first) first = s.error();
      if (!t && !first) first = t.error();
    }
  };
  int threads = std::max(1, std::min<int>(parallel, static_cast<int>(instances_.size())));
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  instances_.clear();
  ReapOrphans();
  if (first) return *first;
  return Ok();
}

}  // namespace cvb::bench
