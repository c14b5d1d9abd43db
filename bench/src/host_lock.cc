#include "host_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "cvb/common/file.h"

namespace cvb::bench {

Result<HostLock> HostLock::TryAcquire(const std::string& path, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return ErrnoError(what + ": open lock " + path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoError(what + ": flock " + path);
    // The holder writes its pid right after taking the lock: empty only in that instant.
    std::string holder = Trim(ReadFile(path).value_or_empty());
    return Error{EBUSY, what + ": " + path + " is held by cvbench pid " +
                            (holder.empty() ? std::string("(not yet written)") : holder) +
                            ", another run changing the same host setting; wait for it to end"};
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 ||
      ::pwrite(fd.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    return ErrnoError(what + ": writing the holder's pid to " + path);
  return HostLock(path, std::move(fd));
}

}  // namespace cvb::bench
