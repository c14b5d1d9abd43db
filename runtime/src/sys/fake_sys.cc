#include <cerrno>

#include "sys/sys.h"

namespace cvb::runtime::sys {
namespace {

std::string Parent(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

Result<void> FakeSys::MakeDir(const std::string& path, int mode) {
  (void)mode;
  calls.push_back("mkdir " + path);
  if (dirs.count(path)) return Error{EEXIST, "mkdir " + path};
  if (!dirs.count(Parent(path))) return Error{ENOENT, "mkdir " + path};
  dirs.insert(path);
  return Ok();
}

Result<void> FakeSys::RemoveDir(const std::string& path) {
  calls.push_back("rmdir " + path);
  if (!dirs.count(path)) return Error{ENOENT, "rmdir " + path};
  for (const auto& d : dirs)
    if (d.size() > path.size() && d.compare(0, path.size() + 1, path + "/") == 0)
      return Error{EBUSY, "rmdir " + path};
  dirs.erase(path);
  return Ok();
}

Result<void> FakeSys::WriteFile(const std::string& path, std::string_view data) {
  calls.push_back("write " + path + " " + std::string(data));
  if (auto it = failing_writes_.find(path); it != failing_writes_.end())
    return Error{it->second, "write " + path};
  if (!dirs.count(Parent(path))) return Error{ENOENT, "open " + path};
  files[path] = std::string(data);
  return Ok();
}

Result<std::string> FakeSys::ReadFile(const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) return Error{ENOENT, "open " + path};
  return it->second;
}

bool FakeSys::Exists(const std::string& path) { return dirs.count(path) || files.count(path); }

Result<UniqueFd> FakeSys::OpenDir(const std::string& path) {
  calls.push_back("open " + path);
  if (!dirs.count(path)) return Error{ENOENT, "open " + path};
  return UniqueFd();
}

Result<void> FakeSys::Kill(pid_t pid, int sig) {
  calls.push_back("kill " + std::to_string(pid) + " " + std::to_string(sig));
  return Ok();
}

void FakeSys::SleepMs(int ms) { (void)ms; }

Result<void> FakeSys::AttachDeviceProgram(const std::string& dir,
                                          const std::vector<bpf_insn>& program) {
  calls.push_back("bpf-attach " + dir + " device program of " + std::to_string(program.size()) +
                  " instructions");
  if (!dirs.count(dir)) return Error{ENOENT, "open " + dir};
  device_programs[dir] = program;
  return Ok();
}

void FakeSys::AddFile(const std::string& path, std::string content) {
  files[path] = std::move(content);
}

void FakeSys::AddDir(const std::string& path) {
  std::string p = path;
  while (!p.empty() && p != "/") {
    dirs.insert(p);
    p = Parent(p);
  }
  dirs.insert("/");
}

}  // namespace cvb::runtime::sys
