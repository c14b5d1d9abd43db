#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/bpf_device.h"
#include "cvb/common/file.h"
#include "sys/sys.h"

namespace cvb::runtime::sys {
namespace {

class Real : public Sys {
 public:
  Result<void> MakeDir(const std::string& path, int mode) override {
    if (::mkdir(path.c_str(), mode) != 0) return ErrnoError("mkdir " + path);
    return Ok();
  }
  Result<void> RemoveDir(const std::string& path) override {
    if (::rmdir(path.c_str()) != 0) return ErrnoError("rmdir " + path);
    return Ok();
  }
  Result<void> WriteFile(const std::string& path, std::string_view data) override {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) return ErrnoError("open " + path);
    ssize_t n = ::write(fd.get(), data.data(), data.size());
    if (n < 0) return ErrnoError("write " + path + " \"" + std::string(data) + "\"");
    return Ok();
  }
  Result<std::string> ReadFile(const std::string& path) override { return cvb::ReadFile(path); }
  bool Exists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Result<UniqueFd> OpenDir(const std::string& path) override {
    UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return ErrnoError("open " + path);
    return fd;
  }
  Result<void> Kill(pid_t pid, int sig) override {
    if (::kill(pid, sig) != 0) return ErrnoError("kill " + std::to_string(pid));
    return Ok();
  }
  void SleepMs(int ms) override {
    timespec ts{ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
  }
  Result<void> AttachDeviceProgram(const std::string& dir,
                                   const std::vector<bpf_insn>& program) override {
    return cgroup::AttachDeviceProgram(dir, program);
  }
};

}  // namespace

Sys& RealSys() {
  static Real real;
  return real;
}

}  // namespace cvb::runtime::sys
