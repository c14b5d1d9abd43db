// The "minimal" guest kernel profile: Debian's linux-source-6.1 configured as `tinyconfig` plus
// the project's fragment (image/kernel/minimal.config, embedded at build time), built once and
// cached under <cache>/kernels/minimal-<hash>/ where the hash covers the fragment, the source
// package's version and this file's build recipe version.
//
// Why drive make from C++ instead of a shell script: the binary then needs nothing from the
// source tree at run time, and every failure becomes a Result that names the step and the log.

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cvb/common/clock.h"
#include "cvb/common/file.h"
#include "cvb/common/result.h"
#include "cvb/common/subprocess.h"
#include "cvb/common/unique_fd.h"
#include "cvb/image/guest_kernel.h"
#include "cvb/image/minimal_kernel_config.h"  // generated: kMinimalKernelConfig

namespace cvb::image {
namespace {

constexpr char kSourcePackage[] = "linux-source-6.1";
constexpr char kSourceTarball[] = "/usr/src/linux-source-6.1.tar.xz";
// The tarball's top-level directory.
constexpr char kSourceDirName[] = "linux-source-6.1";
// Bump whenever the steps below change what ends up in vmlinux (new make variables, another
// base config, ...): it is part of the cache key, so old builds are then not reused.
constexpr int kRecipeVersion = 1;
// What helps this kernel under emulation (measured, see ENVIRONMENT.md and issue 7):
// noapictimer no_timer_check skip calibrating the local APIC timer and checking the IO-APIC
// timer against the PIT, ~0.24 s of boot under TCG. console=, reboot=t, panic=, acpi= and the
// virtio_mmio devices are the launcher's: they are the same for every profile or depend on the
// machine (QEMU's microvm appends virtio_mmio.device= itself).
constexpr char kCmdline[] = "noapictimer no_timer_check";
// A kernel build that takes longer than this is stuck, not slow.
constexpr auto kBuildTimeout = std::chrono::minutes(60);
constexpr auto kProgressInterval = std::chrono::seconds(20);

// One assignment of a Kconfig fragment: CONFIG_X=<value>, or "# CONFIG_X is not set" (value "n").
struct ConfigOption {
  std::string name;   // with the CONFIG_ prefix
  std::string value;  // "y", "n", a number or a quoted string
};

// Parses Kconfig lines: assignments and "is not set" comments; other comments and blank lines
// are skipped. Anything else is an error, so a typo in the fragment cannot pass unnoticed.
Result<std::vector<ConfigOption>> ParseConfig(std::string_view text, const std::string& what) {
  std::vector<ConfigOption> options;
  int line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line = Trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      constexpr std::string_view kNotSet = " is not set";
      std::string_view rest = std::string_view(line).substr(1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (rest.starts_with("CONFIG_") && rest.ends_with(kNotSet)) {
        options.push_back({std::string(rest.substr(0, rest.size() - kNotSet.size())), "n"});
      }
      continue;
    }
    size_t eq = line.find('=');
    if (!line.starts_with("CONFIG_") || eq == std::string::npos || eq + 1 == line.size()) {
      return Failure(what + ": line " + std::to_string(line_no) + " is not a Kconfig assignment: " +
                     line);
    }
    options.push_back({line.substr(0, eq), line.substr(eq + 1)});
  }
  return options;
}

// name -> value of a full .config ("n" for "is not set").
Result<std::map<std::string, std::string>> ReadConfigMap(const std::string& path) {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  CVB_ASSIGN_OR_RETURN(auto options, ParseConfig(text, path));
  std::map<std::string, std::string> map;
  for (auto& o : options) map[o.name] = o.value;
  return map;
}

// Applies the fragment on top of an existing .config the way the kernel's merge_config.sh does:
// each named symbol's line is replaced (or appended); `make olddefconfig` then resolves the rest.
Result<void> MergeFragment(const std::string& config_path,
                           const std::vector<ConfigOption>& fragment) {
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path));
  std::map<std::string, std::string> wanted;
  for (const auto& o : fragment) wanted[o.name] = o.value;
  auto render = [](const std::string& name, const std::string& value) {
    return value == "n" ? "# " + name + " is not set" : name + "=" + value;
  };
  std::string merged;
  for (const std::string& raw : Split(text, '\n')) {
    std::string line = Trim(raw);
    std::string name;
    if (line.starts_with("CONFIG_")) {
      name = line.substr(0, line.find('='));
    } else if (line.starts_with("# CONFIG_") && line.ends_with(" is not set")) {
      name = line.substr(2, line.size() - 2 - std::string_view(" is not set").size());
    }
    if (!name.empty() && wanted.count(name)) continue;  // re-added below with our value
    merged += raw + "\n";
  }
  merged += "# --- cvbench minimal.config ---\n";
  for (const auto& o : fragment) merged += render(o.name, o.value) + "\n";
  return WriteFile(config_path, merged);
}

// Every assignment of the fragment must survive olddefconfig: Kconfig silently drops a =y whose
// dependencies are off, and a kernel that quietly lacks (say) io_uring would make a workload mode
// fail or, worse, measure something else. Returns the list of dropped options, empty when fine.
std::vector<std::string> DroppedOptions(const std::vector<ConfigOption>& fragment,
                                        const std::map<std::string, std::string>& final_config) {
  std::vector<std::string> dropped;
  for (const auto& o : fragment) {
    auto it = final_config.find(o.name);
    std::string got = it == final_config.end() ? "n" : it->second;
    if (got != o.value) dropped.push_back(o.name + " (wanted " + o.value + ", got " + got + ")");
  }
  return dropped;
}

// `dpkg-query` gives the installed version of the source package; empty when not installed.
std::string InstalledVersion(const std::string& package) {
  auto out = Run({"dpkg-query", "-W", "-f=${Status}\t${Version}", package},
                 std::chrono::seconds(30));
  if (!out.ok() || !out->status.ok()) return "";
  auto tab = out->out.find('\t');
  if (tab == std::string::npos) return "";
  if (out->out.substr(0, tab) != "install ok installed") return "";
  return Trim(out->out.substr(tab + 1));
}

// The build prerequisites besides the compiler driver: checked up front so the error names them
// instead of surfacing as a make failure three minutes in.
Result<void> CheckBuildTools() {
  std::vector<std::string> missing;
  for (const char* tool : {"make", "gcc", "ld", "flex", "bison", "bc", "perl", "tar", "xz"}) {
    if (FindProgram(tool).empty()) missing.push_back(tool);
  }
  // objtool (needed for x86-64 with ORC unwinding) includes <gelf.h>.
  if (!PathExists("/usr/include/gelf.h")) missing.push_back("libelf-dev (gelf.h)");
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Failure("cannot build the minimal guest kernel: missing " + list +
                   "; run scripts/setup (it installs the kernel build dependencies)");
  }
  return Ok();
}

int JobCount() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return 1;
}

// A held flock on a lock file; released (by close) on destruction. Serialises builders of the
// same kernel, so two first uses at once (parallel tests) build it once, not twice.
class FileLock {
 public:
  static Result<FileLock> Acquire(const std::string& path, const ProgressFn& progress) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) return ErrnoError("open lock " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK) return ErrnoError("flock " + path);
      if (progress) progress("minimal kernel: waiting for another build of it to finish");
      while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno != EINTR) return ErrnoError("flock " + path);
      }
    }
    return FileLock(std::move(fd));
  }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Removes a temporary build tree unless released: every early return cleans up after itself.
class TreeGuard {
 public:
  explicit TreeGuard(std::string path) : path_(std::move(path)) {}
  TreeGuard(const TreeGuard&) = delete;
  TreeGuard& operator=(const TreeGuard&) = delete;
  ~TreeGuard() {
    if (!path_.empty()) (void)RemoveTree(path_);
  }

 private:
  std::string path_;
};

// Runs one step of the kernel build with its output appended to the build log. Started in its
// own process group so that a timeout kills make's children (gcc, ld) too, not just make.
Result<void> RunLogged(const std::vector<std::string>& argv, const std::string& log_path,
                       const std::string& step, const ProgressFn& progress) {
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log) return ErrnoError("open build log " + log_path);
  std::string header = "\n$ " + JoinArgv(argv) + "\n";
  if (::write(log.get(), header.data(), header.size()) < 0) return ErrnoError("write " + log_path);

  SpawnOptions opts;
  opts.stdout_fd = log.get();
  opts.stderr_fd = log.get();
  opts.new_process_group = true;
  // Fixed build identity: the same inputs give the same `uname -v` whoever builds.
  opts.extra_env = {"KBUILD_BUILD_USER=cvbench", "KBUILD_BUILD_HOST=cvbench", "LC_ALL=C"};
  CVB_ASSIGN_OR_RETURN(Child child, Spawn(argv, opts));

  const int64_t start = MonotonicNs();
  const int64_t deadline = start + std::chrono::nanoseconds(kBuildTimeout).count();
  for (;;) {
    auto status = child.Wait(std::chrono::duration_cast<std::chrono::milliseconds>(
        kProgressInterval));
    if (status.ok()) {
      if (status->ok()) return Ok();
      return Failure("minimal kernel: " + step + " failed (" + status->describe() +
                     "); see the build log " + log_path);
    }
    if (status.error().err != ETIMEDOUT) return status.error().wrap(step);
    if (MonotonicNs() >= deadline) {
      ::kill(-child.pid(), SIGKILL);
      (void)child.Wait();
      return Failure("minimal kernel: " + step + " still running after " +
                     std::to_string(kBuildTimeout.count()) + " min, killed; see " + log_path);
    }
    if (progress) {
      std::string line = "minimal kernel: " + step + ": " +
                         std::to_string((MonotonicNs() - start) / 1'000'000'000) + " s";
      // Kbuild prints one "  CC " line per compiled file: a cheap, honest progress count.
      size_t compiled = 0;
      if (auto text = ReadFile(log_path); text.ok()) {
        for (size_t pos = 0; (pos = text->find("\n  CC ", pos)) != std::string::npos; ++pos) {
          ++compiled;
        }
      }
      if (compiled > 0) line += ", " + std::to_string(compiled) + " files compiled so far";
      progress(line);
    }
  }
}

// A killed build leaves its 1.5 GB source tree behind. Trees of any fragment version whose lock
// nobody holds are abandoned (a live builder holds its lock for the whole build): remove them.
void RemoveAbandonedTrees(const std::string& kernels, const ProgressFn& progress) {
  DIR* dir = ::opendir(kernels.c_str());
  if (!dir) return;
  std::vector<std::string> trees;
  while (const dirent* e = ::readdir(dir)) {
    std::string_view n = e->d_name;
    if (n.starts_with(".minimal-") && n.ends_with(".tmp")) trees.emplace_back(n);
  }
  ::closedir(dir);
  for (const std::string& tree : trees) {
    std::string lock = kernels + "/" + tree.substr(0, tree.size() - 4) + ".lock";
    UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // in use (or our own)
    if (progress) progress("minimal kernel: removing an abandoned build tree " + tree);
    (void)RemoveTree(kernels + "/" + tree);
  }
}

Result<GuestKernel> LoadBuilt(const std::string& dir) {
  CVB_ASSIGN_OR_RETURN(std::string release, ReadFile(dir + "/release"));
  GuestKernel kernel;
  kernel.profile = "minimal";
  kernel.version = Trim(release);
  kernel.vmlinux = dir + "/vmlinux";
  kernel.cmdline = kCmdline;
  return kernel;
}

// Renames within one directory (same filesystem), failing with the path in the message.
Result<void> RenamePath(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoError("rename " + from + " -> " + to);
  return Ok();
}

Result<void> Build(const std::string& tmp, const std::string& log_path,
                   const std::vector<ConfigOption>& fragment, const ProgressFn& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress("minimal kernel: " + line);
  };
  const std::string src = tmp + "/" + kSourceDirName;
  const std::string out = tmp + "/build";
  CVB_TRY(MakeDirs(out));

  say(std::string("extracting ") + kSourceTarball);
  CVB_TRY(RunLogged({"tar", "-xf", kSourceTarball, "-C", tmp}, log_path, "extract", progress));
  if (!PathExists(src + "/Makefile")) {
    return Failure(std::string(kSourceTarball) + " did not unpack to " + kSourceDirName +
                   "/; see " + log_path);
  }

  say("configuring: tinyconfig + image/kernel/minimal.config");
  const std::vector<std::string> make = {"make", "-C", src, "O=" + out};
  auto make_with = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = make;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  CVB_TRY(RunLogged(make_with({"tinyconfig"}), log_path, "make tinyconfig", progress));
  CVB_TRY(MergeFragment(out + "/.config", fragment));
  CVB_TRY(RunLogged(make_with({"olddefconfig"}), log_path, "make olddefconfig", progress));
  CVB_ASSIGN_OR_RETURN(auto final_config, ReadConfigMap(out + "/.config"));
  auto dropped = DroppedOptions(fragment, final_config);
  if (!dropped.empty()) {
    std::string list;
    for (const auto& d : dropped) list += "\n  " + d;
    // Kept for the reader: the .config shows what Kconfig decided.
    if (auto text = ReadFile(out + "/.config"); text.ok()) {
      (void)WriteFile(log_path + ".config", *text);
    }
    return Failure("minimal kernel: Kconfig dropped options of image/kernel/minimal.config "
                   "(a dependency is missing from the fragment; resulting config: " +
                   log_path + ".config):" + list);
  }

  const int jobs = JobCount();
  say("compiling vmlinux with make -j" + std::to_string(jobs) + " (first use only; about 3-6 min "
      "on 2 cores); log: " + log_path);
  CVB_TRY(RunLogged(make_with({"-j" + std::to_string(jobs), "vmlinux"}), log_path, "make vmlinux",
                    progress));
  if (!PathExists(out + "/vmlinux")) return Failure("make produced no vmlinux; see " + log_path);
  return Ok();
}

}  // namespace

Result<GuestKernel> PrepareMinimalKernel(const std::string& cache_dir, const ProgressFn& progress) {
  CVB_ASSIGN_OR_RETURN(auto fragment,
                       ParseConfig(kMinimalKernelConfig, "image/kernel/minimal.config"));
  const std::string version = InstalledVersion(kSourcePackage);
  if (version.empty() || !PathExists(kSourceTarball)) {
    return Failure(std::string("minimal guest kernel: package ") + kSourcePackage +
                   " is not installed (or " + kSourceTarball + " is missing); run scripts/setup");
  }
  const std::string key = ContentHash(std::string(kMinimalKernelConfig) + "\n" + kSourcePackage +
                                      "=" + version + "\nrecipe=" +
                                      std::to_string(kRecipeVersion));
  const std::string kernels = cache_dir + "/kernels";
  const std::string name = "minimal-" + key;
  const std::string dir = kernels + "/" + name;
  if (PathExists(dir + "/vmlinux")) return LoadBuilt(dir);

  CVB_TRY(MakeDirs(kernels));
  CVB_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(kernels + "/." + name + ".lock", progress));
  // Someone else may have finished it while we waited for the lock.
  if (PathExists(dir + "/vmlinux")) return LoadBuilt(dir);
  CVB_TRY(CheckBuildTools());

  const int64_t start = MonotonicNs();
  const std::string tmp = kernels + "/." + name + ".tmp";
  RemoveAbandonedTrees(kernels, progress);
  // Our own key's leftover (its lock is ours now, so the sweep above skipped it).
  if (PathExists(tmp)) CVB_TRY(RemoveTree(tmp));
  CVB_TRY(MakeDirs(tmp));
  TreeGuard guard(tmp);
  // The log lives outside the temporary tree so that it survives a failed build.
  const std::string log_path = kernels + "/" + name + ".build.log";
  (void)::unlink(log_path.c_str());
  if (progress) {
    progress("minimal kernel: building from " + std::string(kSourcePackage) + " " + version +
             " into " + dir);
  }
  CVB_TRY(Build(tmp, log_path, fragment, progress));

  // Publish: assemble the result in the temporary tree, then one rename makes it visible.
  const std::string stage = tmp + "/publish";
  CVB_TRY(MakeDirs(stage));
  CVB_ASSIGN_OR_RETURN(std::string release,
                       ReadFile(tmp + "/build/include/config/kernel.release"));
  CVB_TRY(WriteFile(stage + "/release", Trim(release) + "\n"));
  CVB_TRY(RenamePath(tmp + "/build/vmlinux", stage + "/vmlinux"));
  CVB_TRY(RenamePath(tmp + "/build/.config", stage + "/.config"));
  CVB_TRY(WriteFile(stage + "/minimal.config", kMinimalKernelConfig));
  CVB_TRY(RenamePath(log_path, stage + "/build.log"));
  // A directory without vmlinux is a broken leftover (we hold the lock): replace it.
  if (PathExists(dir)) CVB_TRY(RemoveTree(dir));
  CVB_TRY(RenamePath(stage, dir));
  if (progress) {
    struct stat st {};
    ::stat((dir + "/vmlinux").c_str(), &st);
    progress("minimal kernel: ready: " + dir + "/vmlinux (" + Trim(release) + ", " +
             std::to_string(st.st_size / (1024 * 1024)) + " MiB) after " +
             std::to_string((MonotonicNs() - start) / 1'000'000'000) + " s");
  }
  return LoadBuilt(dir);
}

}  // namespace cvb::image
