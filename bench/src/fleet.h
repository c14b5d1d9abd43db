// A fleet: N instances of one launcher brought to READY together (density, scale-out), and
// always torn down, whatever failed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/launcher/launcher.h"

namespace cvb::bench {

struct FleetOptions {
  int count = 1;
  // Instances started at once: 1 = one after another (each waits for READY before the next).
  int parallel = 1;
  std::chrono::milliseconds ready_timeout{60'000};
  launcher::WorkloadRequest request;
  // Stop with an error once MemAvailable has dropped by more than this since Start began
  // (0 = no limit): a density sweep must not push the host into swap or the OOM killer.
  uint64_t memory_budget_bytes = 0;
  // Stop starting more once this is set (the sweep's SIGINT/SIGTERM flag): an interrupted sweep
  // at N = 1000 tears down what it started instead of first starting the rest.
  const std::atomic<bool>* interrupted = nullptr;
};

class Fleet {
 public:
  Fleet() = default;
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;
  ~Fleet() { (void)TearDown(); }

  // Starts options.count instances; on the first failure stops starting more and returns the
  // error (instances already started stay in the fleet until TearDown).
  Result<void> Start(launcher::Launcher& launcher, const FleetOptions& options);
  // Stops and tears down every instance; the first error is returned, but all are attempted.
  // parallel > 1: that many instances at once (1000 containers one after another take minutes).
  Result<void> TearDown(std::chrono::milliseconds stop_timeout = std::chrono::seconds(30),
                        int parallel = 1);

  std::vector<std::unique_ptr<launcher::Instance>>& instances() { return instances_; }
  // Host monotonic ns when Start began, and when each instance became ready (sorted).
  int64_t start_ns() const { return start_ns_; }
  const std::vector<int64_t>& ready_ns() const { return ready_ns_; }

 private:
  std::vector<std::unique_ptr<launcher::Instance>> instances_;
  int64_t start_ns_ = 0;
  std::vector<int64_t> ready_ns_;
};

}  // namespace cvb::bench
