// An exclusive lock on a host-wide setting that a run changes and later restores (KSM's sysfs
// knobs): two cvbench runs changing it at once would each measure under the other's values and
// restore each other's "original" values wrongly. The lock is a flock on a file (under /run, so a
// reboot clears it); the holder writes its pid into the file so that the run refused can name it.
// The kernel releases a flock when its holder dies: a crashed run leaves nothing to clean up.
#pragma once

#include <string>

#include "cvb/common/result.h"
#include "cvb/common/unique_fd.h"

namespace cvb::bench {

class HostLock {
 public:
  // Takes the lock without waiting. Held by another open file (another run, or another
  // HostLock in this process): an EBUSY error naming `what`, the lock file and the holder's pid.
  static Result<HostLock> TryAcquire(const std::string& path, const std::string& what);
  HostLock(HostLock&&) = default;
  HostLock& operator=(HostLock&&) = default;
  const std::string& path() const { return path_; }

 private:
  HostLock(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  std::string path_;
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace cvb::bench
