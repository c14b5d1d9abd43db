#include "reaping_command.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "cvb/common/clock.h"
#include "cvb/common/unique_fd.h"

namespace cvb::launcher {

Result<ExitStatus> RunReapingOrphans(const std::vector<std::string>& argv,
                                     const SpawnOptions& options,
                                     std::chrono::milliseconds timeout) {
  CVB_ASSIGN_OR_RETURN(Child child, Spawn(argv, options));
  int64_t deadline = MonotonicNs() + static_cast<int64_t>(timeout.count()) * 1'000'000;
  // Woken the moment the command exits; orphans are reaped within 2 ms.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child.pid(), 0)));
  for (;;) {
    if (auto s = child.TryWait()) return *s;
    ReapOrphans();
    if (auto s = child.TryWait()) return *s;
    if (MonotonicNs() >= deadline) {
      child.Kill();
      (void)child.Wait();
      return Error{ETIMEDOUT, JoinArgv(argv) + ": did not exit in time"};
    }
    pollfd p{pidfd.get(), POLLIN, 0};
    ::poll(&p, pidfd ? 1 : 0, 2);
  }
}

}  // namespace cvb::launcher
