// The file-level system calls that cgroup management makes, behind an interface so that what a
// manager *plans* (which directories, which files with which values, in which order) can be
// checked in unit tests through FakeSys without root or a real cgroup hierarchy.
#pragma once

#include <linux/bpf.h>
#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/common/unique_fd.h"

namespace cvb::runtime::sys {

class Sys {
 public:
  virtual ~Sys() = default;
  // mkdir; fails with EEXIST when the directory is there.
  virtual Result<void> MakeDir(const std::string& path, int mode) = 0;
  virtual Result<void> RemoveDir(const std::string& path) = 0;
  // Writes data to an existing file (O_WRONLY, no O_CREAT, no O_TRUNC): the cgroupfs way.
  virtual Result<void> WriteFile(const std::string& path, std::string_view data) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // An O_PATH|O_DIRECTORY fd (for clone3's CLONE_INTO_CGROUP); the fake returns an invalid fd.
  virtual Result<UniqueFd> OpenDir(const std::string& path) = 0;
  virtual Result<void> Kill(pid_t pid, int sig) = 0;
  virtual void SleepMs(int ms) = 0;
  // Loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to a cgroup2 directory
  // (cgroup/bpf_device.h); the fake records it.
  virtual Result<void> AttachDeviceProgram(const std::string& dir,
                                           const std::vector<bpf_insn>& program) = 0;
};

// The real system.
Sys& RealSys();

// An in-memory filesystem that records every call, in order, as text
// ("mkdir /sys/fs/cgroup/memory/x", "write /sys/fs/cgroup/memory/x/memory.limit_in_bytes 1000").
class FakeSys : public Sys {
 public:
  Result<void> MakeDir(const std::string& path, int mode) override;
  Result<void> RemoveDir(const std::string& path) override;
  Result<void> WriteFile(const std::string& path, std::string_view data) override;
  Result<std::string> ReadFile(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Result<UniqueFd> OpenDir(const std::string& path) override;
  Result<void> Kill(pid_t pid, int sig) override;
  void SleepMs(int ms) override;
  Result<void> AttachDeviceProgram(const std::string& dir,
                                   const std::vector<bpf_insn>& program) override;

  // Test set-up: files and directories that exist before the code under test runs.
  void AddFile(const std::string& path, std::string content);
  void AddDir(const std::string& path);
  // Makes a write to path fail with err.
  void FailWrite(const std::string& path, int err) { failing_writes_[path] = err; }

  std::vector<std::string> calls;
  std::map<std::string, std::string> files;
  std::set<std::string> dirs;
  std::map<std::string, std::vector<bpf_insn>> device_programs;  // directory -> program

 private:
  std::map<std::string, int> failing_writes_;
};

}  // namespace cvb::runtime::sys
