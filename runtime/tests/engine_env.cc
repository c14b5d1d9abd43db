#include "engine_env.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "cvb/common/file.h"
#include "test_env.h"

namespace cvb::runtime::testenv {
namespace {

using namespace std::chrono_literals;

const char kDockerClient[] = "/usr/bin/docker";  // Debian's 20.10, the daemon's version
const char kCtrNamespaceForImport[] = "cvrun-it-e2e";

EngineEnv* g_env = nullptr;
bool g_started_docker = false;
bool g_started_containerd = false;
bool g_run_containerd_existed = false;
std::vector<std::string> g_veths_before;  // dockerd's veth<hex> interfaces, before it started

std::vector<std::string> Veths() {
  std::vector<std::string> out;
  for (const auto& name : ListDirectory("/sys/class/net"))
    if (name.rfind("veth", 0) == 0) out.push_back(name);
  return out;
}

RunOutput RunCapturing(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  auto r = cvb::Run(argv, timeout);
  if (!r.ok()) return RunOutput{ExitStatus{}, "", r.error().message()};
  return *r;
}

// The wrapper around this build's cvrun that injects the fault named in <dir>/fault.
std::string FaultyWrapper(const std::string& dir) {
  return std::string(R"(#!/bin/sh
# cvrun with one injected fault (runtime/tests/engine_env.h): <kind>:<subcommand> in the file
# below; any other subcommand runs cvrun untouched.
fault=$(cat ')") + dir + R"(/fault' 2>/dev/null)
kind=${fault%%:*} target=${fault#*:}
sub= log= bundle= prev=
for a in "$@"; do
  case $prev in
    --log) log=$a ;;
    --bundle|-b) bundle=$a ;;
  esac
  if [ -z "$sub" ] && [ "${a#-}" = "$a" ]; then
    case $prev in --root|--log|--log-format|--criu|--rootless) ;; *) sub=$a ;; esac
  fi
  prev=$a
done
if [ -n "$fault" ] && [ "$target" = "$sub" ]; then
  case $kind in
    fail)
      echo "injected fault: $sub" >&2
      if [ -n "$log" ]; then
        printf '{"level":"error","msg":"injected fault: %s"}\n' "$sub" >>"$log"
      fi
      exit 1 ;;
    noop) exit 0 ;;
    nolimit)
      /usr/bin/python3 -c 'import json, sys
p = sys.argv[1]
c = json.load(open(p))
for k in ("limit", "swap"):
    c["linux"]["resources"].get("memory", {}).pop(k, None)
json.dump(c, open(p, "w"))' "$bundle/config.json" ;;
    mute) exec ')" + CVRUN_BINARY + R"(' "$@" >/dev/null ;;
  esac
fi
exec ')" + CVRUN_BINARY + R"(' "$@"
)";
}

std::string Scripts() { return CVB_SCRIPTS_DIR; }

// The failure of a script, with its output, for the set-up error.
std::string Failed(const std::string& what, const RunOutput& r) {
  return what + " failed (" + r.status.describe() + "): " + r.err + r.out;
}

}  // namespace

RunOutput EngineEnv::Docker(const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {kDockerClient, "-H", docker_host};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCapturing(argv, timeout);
}

RunOutput EngineEnv::Ctr(const std::string& ns, const std::vector<std::string>& args,
                         std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {"ctr", "-a", containerd_socket, "-n", ns};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCapturing(argv, timeout);
}

RunOutput EngineEnv::Command(const std::vector<std::string>& argv,
                             std::chrono::milliseconds timeout) {
  return RunCapturing(argv, timeout);
}

void EngineEnv::SetFault(const std::string& fault) const {
  (void)WriteFile(dir + "/fault", fault);
}

std::string RuntimePath(const std::string& runtime) {
  if (runtime == "cvrun") return CVRUN_BINARY;
  if (runtime == "cvrun-faulty") return g_env ? g_env->faulty_cvrun : "";
  return FindProgram(runtime);
}

const EngineEnv& Engines(bool with_docker) {
  if (g_env) return *g_env;
  g_env = new EngineEnv;
  EngineEnv& e = *g_env;
  e.with_docker = with_docker;
  if (!IsRoot()) {
    e.skip_reason = "needs root (engine daemons, containers)";
    return e;
  }
  for (const char* program : {"containerd", "ctr", "containerd-shim-runc-v2", "runc"})
    if (FindProgram(program).empty()) {
      e.skip_reason = std::string(program) + " is not installed (scripts/setup installs it)";
      return e;
    }
  if (with_docker && (FindProgram("dockerd").empty() || !PathExists(kDockerClient))) {
    e.skip_reason = "docker.io is not installed (scripts/setup installs it)";
    return e;
  }
  const int pid = getpid();
  g_run_containerd_existed = PathExists("/run/containerd");
  g_veths_before = Veths();
  e.name = "cvrun-it-" + std::to_string(pid);
  e.dir = TestDir() + "/engines";
  e.containerd_state = "/run/" + e.name + "-containerd";
  e.containerd_socket = e.containerd_state + "/containerd.sock";
  e.docker_exec_root = "/run/" + e.name + "-docker";
  e.cgroup_parent = e.name + "-docker";
  e.image = "localhost/cvrun-it-e2e:" + std::to_string(pid);
  if (!MakeDirs(e.dir).ok()) {
    e.setup_error = "cannot make " + e.dir;
    return e;
  }
  e.faulty_cvrun = e.dir + "/cvrun-faulty";
  (void)WriteFile(e.dir + "/fault", "");
  (void)WriteFile(e.faulty_cvrun, FaultyWrapper(e.dir), 0755);

  // The daemons, once for the whole binary (the slowest part: dockerd takes seconds).
  if (with_docker) {
    // A bridge and subnet of this instance's own, next to cvbench's 10.214.0.0/24; no iptables.
    std::string bridge = "cvbit" + std::to_string(pid % 1000000);
    std::string subnet = "10.214." + std::to_string(128 + pid % 120) + ".1/24";
    auto r = RunCapturing({Scripts() + "/dockerd-start", "--name", e.name, "--bridge", bridge,
                           "--subnet", subnet, "--iptables", "off", "--runtime",
                           std::string("cvrun=") + CVRUN_BINARY, "--runtime",
                           "cvrun-faulty=" + e.faulty_cvrun},
                          120s);
    g_started_docker = g_started_containerd = true;
    if (!r.status.ok()) {
      e.setup_error = Failed("scripts/dockerd-start", r);
      return e;
    }
    e.docker_host = "unix://" + e.docker_exec_root + "/docker.sock";
  } else {
    auto r = RunCapturing({Scripts() + "/containerd-start", "--name", e.name}, 60s);
    g_started_containerd = true;
    if (!r.status.ok()) {
      e.setup_error = Failed("scripts/containerd-start", r);
      return e;
    }
  }

  // The image: the test rootfs as one layer, loaded as an image (no registry, no bind mount).
  std::string rootfs = MakeRootfs("engines");
  for (const char* applet : {"tty", "kill", "env", "mkdir", "test", "printenv", "grep", "wc"})
    (void)symlink("busybox", (rootfs + "/bin/" + applet).c_str());
  std::string archive = e.dir + "/image.tar";
  auto packed = RunCapturing({Scripts() + "/oci-archive", rootfs, e.image, archive, "--env",
                              "PATH=/bin", "--env", std::string("CVB_MARKER=") + kMarker()},
                             60s);
  if (!packed.status.ok()) {
    e.setup_error = Failed("scripts/oci-archive", packed);
    return e;
  }
  if (with_docker) {
    auto loaded = e.Docker({"load", "-i", archive});
    if (!loaded.status.ok() || loaded.out.find("Loaded image: " + e.image) == std::string::npos) {
      e.setup_error = Failed("docker load", loaded);
      return e;
    }
  }
  auto imported = e.Ctr(kCtrNamespaceForImport, {"images", "import", archive});
  if (!imported.status.ok()) {
    e.setup_error = Failed("ctr images import", imported);
    return e;
  }
  return e;
}

std::vector<std::string> StopEngines() {
  std::vector<std::string> left;
  if (!g_env || !g_env->skip_reason.empty()) return left;
  const EngineEnv& e = *g_env;
  if (g_started_docker) {
    auto r = RunCapturing({Scripts() + "/dockerd-start", "--name", e.name, "--stop", "--purge"},
                          120s);
    if (!r.status.ok()) left.push_back(Failed("dockerd-start --stop", r));
  }
  if (g_started_containerd) {
    auto r = RunCapturing(
        {Scripts() + "/containerd-start", "--name", e.name, "--stop", "--purge"}, 60s);
    if (!r.status.ok()) left.push_back(Failed("containerd-start --stop", r));
  }
  // Daemons and shims of this instance (their command lines carry its name); a few seconds for
  // shims that are still exiting.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  std::vector<std::string> processes;
  do {
    ReapOrphans();
    processes.clear();
    for (const auto& entry : ListDirectory("/proc")) {
      if (entry.empty() || entry[0] < '0' || entry[0] > '9') continue;
      auto cmdline = ReadFile("/proc/" + entry + "/cmdline");
      if (cmdline.ok() && cmdline->find(e.name) != std::string::npos)
        processes.push_back("process " + entry + ": " + cmdline->substr(0, 100));
    }
    if (processes.empty()) break;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  left.insert(left.end(), processes.begin(), processes.end());
  for (const std::string& path :
       {e.containerd_state, e.docker_exec_root, "/var/lib/" + e.name})
    if (PathExists(path)) left.push_back("directory " + path);
  if (e.with_docker) {
    std::string bridge = "cvbit" + std::to_string(getpid() % 1000000);
    if (PathExists("/sys/class/net/" + bridge)) left.push_back("bridge " + bridge);
    // dockerd's veths (veth<hex>) that appeared while the tests ran.
    for (const auto& veth : Veths())
      if (std::find(g_veths_before.begin(), g_veths_before.end(), veth) == g_veths_before.end())
        left.push_back("interface " + veth);
  }
  // Mounts, cgroups (dockerd's parent "cvrun-it-<pid>-docker", ctr's "/cvrun-it-e2e"), runtime
  // state, processes carrying the image's marker: the suite-wide leak check.
  for (const auto& l : Leaks()) left.push_back(l);
  // containerd 1.6's shims keep their sockets in /run/containerd/s whatever the state directory:
  // the directory must be as the tests found it.
  if (!g_run_containerd_existed && PathExists("/run/containerd"))
    left.push_back("directory /run/containerd (made by the shims, not removed by --stop)");
  (void)RemoveTree(TestDir());
  return left;
}

std::string CgroupOf(pid_t pid, const std::string& controller) {
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/cgroup");
  if (!text.ok()) return "";
  for (const auto& line : Split(*text, '\n')) {
    auto a = line.find(':');
    auto b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1);
    if (controller.empty() ? controllers.empty() : false) return line.substr(b + 1);
    for (const auto& c : Split(controllers, ','))
      if (!controller.empty() && c == controller) return line.substr(b + 1);
  }
  return "";
}

std::string CgroupFile(pid_t pid, const std::string& controller, const std::string& file) {
  std::string path = "/sys/fs/cgroup/" + controller + CgroupOf(pid, controller) + "/" + file;
  auto text = ReadFile(path);
  if (!text.ok()) return "<unreadable: " + path + ": " + text.error().message() + ">";
  return Trim(*text);
}

bool ProcessAlive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

}  // namespace cvb::runtime::testenv
