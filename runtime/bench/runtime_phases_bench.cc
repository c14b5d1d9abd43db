// One Google Benchmark per phase of a cvrun start, to see where the time goes:
//   spec parse, mount/namespace planning, seccomp compile, cgroup detection, cgroup create+remove,
//   clone3 with the benchmark's namespaces, the mount/pivot_root work of a child, a state save,
//   and the whole in-process Run of /bin/true (no cvrun process start-up).
// Root-only benchmarks report SkipWithError when not root.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cgroup/manager.h"
#include "cvb/common/file.h"
#include "cvb/runtime/container.h"
#include "cvb/runtime/spec.h"
#include "cvb/runtime/state.h"
#include "mounts.h"
#include "namespaces.h"
#include "security.h"
#include "sys/sys.h"

namespace cvb::runtime {
namespace {

const uint64_t kBenchNamespaces =
    CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;

std::string BenchDir() {
  static const std::string dir = [] {
    std::string d = "/tmp/cvb-phases-bench-" + std::to_string(getpid());
    (void)MakeDirs(d + "/rootfs/bin");
    for (const char* sub : {"proc", "dev", "sys", "tmp"}) (void)MakeDirs(d + "/rootfs/" + sub);
    if (auto bb = ReadFile("/bin/busybox"); bb.ok())
      (void)WriteFile(d + "/rootfs/bin/busybox", *bb, 0755);
    (void)symlink("busybox", (d + "/rootfs/bin/true").c_str());
    return d;
  }();
  return dir;
}

std::string BenchConfig() {
  auto j = nlohmann::json::parse(DefaultSpecJson());
  j["process"]["args"] = {"/bin/true"};
  j["root"]["path"] = BenchDir() + "/rootfs";
  j["linux"]["cgroupsPath"] = "cvb-phases-bench";
  j["linux"]["resources"] = {{"memory", {{"limit", 64 << 20}}}};
  return j.dump();
}

pid_t Clone3(uint64_t flags) {
  clone_args args{};
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  return static_cast<pid_t>(syscall(SYS_clone3, &args, sizeof args));
}

void Reap(pid_t pid) {
  int status;
  waitpid(pid, &status, 0);
}

bool RequireRoot(benchmark::State& state) {
  if (geteuid() == 0) return true;
  state.SkipWithError("needs root");
  return false;
}

void BM_SpecParse(benchmark::State& state) {
  std::string text = BenchConfig();
  for (auto _ : state) benchmark::DoNotOptimize(ParseSpec(text));
}
BENCHMARK(BM_SpecParse);

void BM_PlanMountsAndNamespaces(benchmark::State& state) {
  auto spec = ParseSpec(BenchConfig());
  for (auto _ : state) {
    benchmark::DoNotOptimize(PlanMounts(*spec));
    benchmark::DoNotOptimize(PlanNamespaces(*spec));
    benchmark::DoNotOptimize(PlanDevices(*spec));
  }
}
BENCHMARK(BM_PlanMountsAndNamespaces);

void BM_SeccompCompile(benchmark::State& state) {
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.architectures = {"SCMP_ARCH_X86_64"};
  SeccompSyscall allow{{}, "SCMP_ACT_ALLOW", std::nullopt, {}};
  for (const char* n : {"read", "write", "openat", "close", "mmap", "munmap", "brk", "execve",
                        "exit_group", "rt_sigaction", "fstat", "newfstatat", "getpid", "clone"})
    allow.names.push_back(n);
  sc.syscalls.push_back(allow);
  for (auto _ : state) benchmark::DoNotOptimize(CompileSeccomp(sc));
}
BENCHMARK(BM_SeccompCompile);

void BM_CgroupDetect(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cgroup::DetectHost(sys::RealSys()));
}
BENCHMARK(BM_CgroupDetect);

void BM_CgroupCreateRemove(benchmark::State& state) {
  if (!RequireRoot(state)) return;
  auto host = cgroup::DetectHost(sys::RealSys());
  Resources res;
  res.memory = MemoryResources{};
  res.memory->limit = 64 << 20;
  for (auto _ : state) {
    auto m = cgroup::MakeManager(sys::RealSys(), *host, "cvb-phases-bench-cg");
    if (!(*m)->Create(res).ok()) {
      state.SkipWithError("cgroup create failed");
      break;
    }
    (void)cgroup::Remove(sys::RealSys(), (*m)->created());
  }
}
BENCHMARK(BM_CgroupCreateRemove)->Unit(benchmark::kMicrosecond);

void BM_Clone3Plain(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = Clone3(0);
    if (pid == 0) _exit(0);
    Reap(pid);
  }
}
BENCHMARK(BM_Clone3Plain)->Unit(benchmark::kMicrosecond);

void BM_Clone3Namespaces(benchmark::State& state) {
  if (!RequireRoot(state)) return;
  for (auto _ : state) {
    pid_t pid = Clone3(kBenchNamespaces);
    if (pid == 0) _exit(0);
    Reap(pid);
  }
}
BENCHMARK(BM_Clone3Namespaces)->Unit(benchmark::kMicrosecond);

// The child's root set-up without exec: rslave, rootfs bind, proc + tmpfs /dev, pivot_root.
void BM_MountsAndPivotRoot(benchmark::State& state) {
  if (!RequireRoot(state)) return;
  std::string rootfs = BenchDir() + "/rootfs";
  for (auto _ : state) {
    pid_t pid = Clone3(kBenchNamespaces);
    if (pid == 0) {
      const char* r = rootfs.c_str();
      if (mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) _exit(1);
      if (mount(r, r, nullptr, MS_BIND | MS_REC, nullptr) != 0) _exit(2);
      if (chdir(r) != 0) _exit(3);
      if (mount("proc", "proc", "proc", 0, nullptr) != 0) _exit(4);
      if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID, "mode=755") != 0) _exit(5);
      if (syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0) _exit(6);
      _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("child set-up failed");
      break;
    }
  }
}
BENCHMARK(BM_MountsAndPivotRoot)->Unit(benchmark::kMicrosecond);

void BM_StateSave(benchmark::State& state) {
  StateStore store(BenchDir() + "/state");
  (void)store.Reserve("cvb-bench-state");
  State s;
  s.id = "cvb-bench-state";
  s.cgroup_leaves = {"/sys/fs/cgroup/memory/a", "/sys/fs/cgroup/pids/a"};
  for (auto _ : state) benchmark::DoNotOptimize(store.Save(s));
  (void)store.Remove("cvb-bench-state");
}
BENCHMARK(BM_StateSave)->Unit(benchmark::kMicrosecond);

// Create + start + wait + delete of /bin/true through the library (cvrun run minus exec of cvrun).
void BM_RunTrueInProcess(benchmark::State& state) {
  if (!RequireRoot(state)) return;
  std::string bundle = BenchDir() + "/bundle";
  (void)MakeDirs(bundle);
  (void)WriteFile(bundle + "/config.json", BenchConfig());
  int i = 0;
  std::map<std::string, double> sums;
  for (auto _ : state) {
    Runtime rt(RuntimeOptions{BenchDir() + "/state", 0});
    auto r = rt.Run(CreateOptions{"cvb-bench-run-" + std::to_string(i++), bundle, "", "", 0}, false);
    if (!r.ok() || *r != 0) {
      state.SkipWithError(r.ok() ? "non-zero exit" : r.error().message().c_str());
      break;
    }
    for (const auto& [name, us] : rt.timings().us) sums[name] += static_cast<double>(us);
  }
  // Mean per-phase microseconds as counters: clone_us, mounts_us, ...
  for (const auto& [name, sum] : sums)
    state.counters[name + "_us"] = benchmark::Counter(sum / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RunTrueInProcess)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cvb::runtime

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  (void)cvb::RemoveTree(cvb::runtime::BenchDir());
  return 0;
}
