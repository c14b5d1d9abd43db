#include "test_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "cvb/common/file.h"

namespace cvb::runtime::testenv {

bool IsRoot() { return geteuid() == 0; }

void TestDirCleanup::TearDown() {
  if (IsRoot()) (void)RemoveTree(TestDir());
}

std::multimap<std::string, std::string> ParseReport(const std::string& out) {
  std::multimap<std::string, std::string> m;
  for (const auto& line : Split(out, '\n')) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) continue;
    m.emplace(line.substr(0, sp), line.substr(sp + 1));
  }
  return m;
}

std::string One(const std::multimap<std::string, std::string>& report, const std::string& k) {
  auto it = report.find(k);
  return it == report.end() ? "<missing>" : it->second;
}

std::vector<std::string> All(const std::multimap<std::string, std::string>& report,
                             const std::string& k) {
  std::vector<std::string> out;
  for (auto [a, b] = report.equal_range(k); a != b; ++a) out.push_back(a->second);
  return out;
}

const char* kMarker() { return "cvrun-it-marker"; }

const std::string& TestDir() {
  static const std::string dir = [] {
    std::string d = "/tmp/cvrun-it-" + std::to_string(getpid());
    (void)MakeDirs(d);
    // Containers left running by a failed test are re-parented to us; we reap them.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return d;
  }();
  return dir;
}

const std::string& StateRoot() {
  static const std::string root = TestDir() + "/state";
  return root;
}

std::string MakeRootfs(const std::string& name) {
  std::string root = TestDir() + "/rootfs-" + name;
  (void)RemoveTree(root);
  for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc"}) (void)MakeDirs(root + "/" + d);
  auto copy = [](const std::string& from, const std::string& to) {
    auto data = ReadFile(from);
    if (data.ok()) (void)WriteFile(to, *data, 0755);
  };
  copy("/bin/busybox", root + "/bin/busybox");
  copy(CVB_PROBE_BINARY, root + "/bin/cvb-probe");
  for (const char* applet : {"sh", "true", "false", "sleep", "cat", "ls", "echo", "hostname", "id"})
    (void)symlink("busybox", (root + "/bin/" + applet).c_str());
  (void)WriteFile(root + "/secret", "container-secret\n");
  (void)WriteFile(root + "/etc/hostname", "rootfs\n");
  return root;
}

const std::string& SharedRootfs() {
  static const std::string root = MakeRootfs("shared");
  return root;
}

nlohmann::json BaseConfig(const std::vector<std::string>& args, const std::string& id) {
  using nlohmann::json;
  const json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  return json{
      {"ociVersion", "1.0.2"},
      {"process",
       {{"terminal", false},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", args},
        {"env", {"PATH=/bin", std::string("CVB_MARKER=") + kMarker()}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", SharedRootfs()}, {"readonly", true}}},
      {"hostname", "cvrun-test"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/tmp"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "nodev", "mode=1777"}}}}},
      {"linux",
       {{"namespaces",
         {{{"type", "pid"}}, {{"type", "network"}}, {{"type", "ipc"}}, {{"type", "uts"}},
          {{"type", "mount"}}}},
        {"cgroupsPath", "cvrun-it-" + id},
        {"resources", {{"memory", {{"limit", 64 << 20}}}}},
        {"maskedPaths", {"/proc/kcore", "/proc/keys", "/sys/firmware", "/proc/acpi"}},
        {"readonlyPaths", {"/proc/sys", "/proc/sysrq-trigger"}}}},
  };
}

std::string WriteBundleText(const std::string& name, const std::string& text) {
  std::string dir = TestDir() + "/bundles/" + name;
  (void)MakeDirs(dir);
  (void)WriteFile(dir + "/config.json", text);
  return dir;
}

std::string WriteBundle(const std::string& name, const nlohmann::json& config) {
  return WriteBundleText(name, config.dump(2));
}

RunOutput Cvrun(const std::vector<std::string>& args, int timeout_ms, const SpawnOptions& options) {
  std::vector<std::string> argv = {CVRUN_BINARY, "--root", StateRoot()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Files, not pipes: a created container inherits cvrun's stdio and keeps it open, so a pipe
  // would never see EOF.
  static int counter = 0;
  std::string base = TestDir() + "/cvrun-io-" + std::to_string(++counter);
  UniqueFd out(::open((base + ".out").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  UniqueFd err(::open((base + ".err").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  SpawnOptions so = options;
  if (so.stdout_fd < 0) so.stdout_fd = out.get();
  if (so.stderr_fd < 0) so.stderr_fd = err.get();
  RunOutput result;
  auto child = Spawn(argv, so);
  if (!child.ok()) {
    result.err = child.error().message();
    return result;
  }
  auto status = child->Wait(std::chrono::milliseconds(timeout_ms));
  if (status.ok()) result.status = *status;
  else result.err = "cvrun timed out: ";
  if (auto o = ReadFile(base + ".out"); o.ok()) result.out = *o;
  if (auto e = ReadFile(base + ".err"); e.ok()) result.err += *e;
  ::unlink((base + ".out").c_str());
  ::unlink((base + ".err").c_str());
  return result;
}

namespace {
// Other cvbench runs on this host (a benchmark sweep, the launcher's tests) make "cvb-*" and
// "cvrun-*" cgroups of their own while we run, so by default only names carrying this test
// suite's prefix count; CVRUN_TEST_STRICT_LEAKS=1 flags every "cvb"/"cvrun" name.
bool Suspicious(const std::string& s) {
  static const bool strict = getenv("CVRUN_TEST_STRICT_LEAKS") != nullptr;
  if (strict) return s.find("cvrun") != std::string::npos || s.find("cvb") != std::string::npos;
  return s.find("cvrun-it") != std::string::npos;
}
std::vector<std::string>* g_cgroup_leaks;
int CgroupVisit(const char* path, const struct stat*, int type, FTW* ftw) {
  if (type != FTW_D) return 0;
  if (Suspicious(path + ftw->base)) g_cgroup_leaks->push_back(std::string("cgroup ") + path);
  return 0;
}
}  // namespace

std::vector<std::string> Leaks() {
  std::vector<std::string> leaks;
  int status;
  while (waitpid(-1, &status, WNOHANG) > 0) {
  }
  if (auto mi = ReadFile("/proc/self/mountinfo"); mi.ok())
    for (const auto& line : Split(*mi, '\n'))
      if (Suspicious(line)) leaks.push_back("mount " + line);
  g_cgroup_leaks = &leaks;
  nftw("/sys/fs/cgroup", CgroupVisit, 32, FTW_PHYS);
  if (DIR* d = opendir(StateRoot().c_str())) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') leaks.push_back(std::string("state ") + e->d_name);
    closedir(d);
  }
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      auto env = ReadFile(std::string("/proc/") + e->d_name + "/environ");
      if (env.ok() && env->find(std::string("CVB_MARKER=") + kMarker()) != std::string::npos)
        leaks.push_back(std::string("process ") + e->d_name);
    }
    closedir(d);
  }
  return leaks;
}

}  // namespace cvb::runtime::testenv
