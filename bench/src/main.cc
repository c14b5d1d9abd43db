// cvbench: runs sweeps of suites over launchers and writes Google Benchmark JSON.
//   cvbench run --suite startup --launchers native,crun,runc [--repetitions N] [--out DIR]
//   cvbench image build | inspect
//   cvbench list
#include <benchmark/benchmark.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "context.h"
#include "cvb/common/file.h"
#include "cvb/image/image.h"
#include "cvb/image/vm_artifacts.h"
#include "sweep.h"

namespace {

std::string DefaultOutDir() {
  auto ctx = cvb::bench::HostContext();
  std::string date = ctx["date_utc"].substr(0, 10);
  return "results/" + date + "-" + ctx["hostname"] + "-" + ctx["git_sha"].substr(0, 7);
}

// The image and, for each kernel profile asked for, the VM's boot artefacts built from it.
cvb::Result<std::vector<cvb::image::VmArtifacts>> BuildAll(const cvb::image::Image& image,
                                                      const std::vector<std::string>& kernels) {
  std::vector<cvb::image::VmArtifacts> out;
  for (const auto& k : kernels) {
    auto vm = cvb::image::PrepareVmArtifacts(
        image, k, cvb::image::CacheDir(),
        [](const std::string& line) { std::fprintf(stderr, "cvbench: %s\n", line.c_str()); });
    if (!vm) return vm.error().wrap("kernel profile " + k);
    out.push_back(*vm);
  }
  return out;
}

int ImageCommand(bool inspect, const std::vector<std::string>& kernels) {
  auto image = cvb::image::BuildImage();
  if (!image) {
    std::fprintf(stderr, "cvbench: %s\n", image.error().message().c_str());
    return 1;
  }
  auto vms = BuildAll(*image, kernels);
  if (!vms) {
    std::fprintf(stderr, "cvbench: %s\n", vms.error().message().c_str());
    return 1;
  }
  if (!inspect) {
    std::printf("%s\n", image->dir.c_str());
    for (const auto& vm : *vms)
      std::printf("%s: %s %s\n", vm.kernel.profile.c_str(), vm.kernel.vmlinux.c_str(),
                  vm.initramfs.c_str());
    return 0;
  }
  auto sizes = cvb::image::MeasureImage(*image);
  if (!sizes) {
    std::fprintf(stderr, "cvbench: %s\n", sizes.error().message().c_str());
    return 1;
  }
  // The "lightweight" claim, measured: what a container needs beside the host kernel, and what a
  // VM needs (its own kernel and an initramfs holding the same rootfs).
  nlohmann::json j = {{"hash", image->hash},
                      {"dir", image->dir},
                      {"oci_bundle",
                       {{"rootfs_bytes", sizes->rootfs_bytes},
                        {"workload_bytes", sizes->workload_bytes},
                        {"busybox_bytes", sizes->busybox_bytes}}}};
  for (const auto& vm : *vms) {
    j["vm"][vm.kernel.profile] = {{"kernel_version", vm.kernel.version},
                                  {"vmlinux", vm.kernel.vmlinux},
                                  {"kernel_bytes", vm.kernel_bytes},
                                  {"initramfs", vm.initramfs},
                                  {"initramfs_bytes", vm.initramfs_bytes},
                                  {"modules", vm.kernel.modules.size()}};
  }
  std::printf("%s\n", j.dump(2).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cvbench: containers vs virtual machines, measured side by side"};
  app.require_subcommand(1);

  cvb::bench::SweepConfig sweep;
  std::string suites = "startup", launchers = "native,crun,runc", kernels = "distro";
  std::vector<std::string> params;
  int timeout_s = 60;
  bool no_warmup = false;
  auto* run = app.add_subcommand("run", "run suites over launchers; writes <out>/<suite>.json");
  run->add_option("--suite,--suites", suites, "comma-separated suites")->capture_default_str();
  run->add_option("--launchers", launchers, "comma-separated launchers")->capture_default_str();
  run->add_option("--kernel", kernels, "VM kernel profiles: distro,minimal")
      ->capture_default_str();
  run->add_option("--repetitions", sweep.suite_options.repetitions, "measured runs per entry")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  run->add_option("--out", sweep.out_dir, "output directory (default results/<date>-<host>-<sha>)");
  run->add_option("--timeout", timeout_s, "seconds to wait for READY or exit")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  run->add_option("--param", params, "suite knob key=value (repeatable)");
  run->add_flag("--no-warmup", no_warmup, "skip the untimed warm-up launch");
  std::string resume_dir;
  run->add_option("--resume", resume_dir,
                  "continue the interrupted run in DIR (its partial suite files get their "
                  "missing repetitions; same commit, image and options, else refused)");

  auto* image = app.add_subcommand("image", "build or inspect the image");
  image->fallthrough();  // `image build --kernel minimal` as well as `image --kernel minimal build`
  image->require_subcommand(1);
  std::string image_kernels = "distro";
  image->add_option("--kernel", image_kernels, "VM kernel profiles to build too: distro,minimal "
                    "(empty: the OCI bundle only)")
      ->capture_default_str();
  auto* image_build = image->add_subcommand("build", "build the image (cached by content)");
  auto* image_inspect = image->add_subcommand("inspect", "sizes of the image's parts");

  auto* list = app.add_subcommand("list", "list suites and launchers");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto registry = cvb::bench::BuiltinRegistry();
  if (*list) {
    std::printf("suites:\n");
    for (const auto& [name, make] : cvb::bench::SuiteFactories())
      std::printf("  %-12s %s\n", name.c_str(), make()->Description().c_str());
    std::printf("launchers:\n");
    for (const auto& name : registry.Names()) std::printf("  %s\n", name.c_str());
    return 0;
  }
  if (*image_build || *image_inspect)
    return ImageCommand(static_cast<bool>(*image_inspect), cvb::Split(image_kernels, ','));

  // Google Benchmark takes its settings as flags.
  std::vector<std::string> gb_args = {argv[0], "--benchmark_enable_random_interleaving=true"};
  std::vector<char*> gb_argv;
  for (auto& a : gb_args) gb_argv.push_back(a.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  benchmark::Initialize(&gb_argc, gb_argv.data());

  sweep.suites = cvb::Split(suites, ',');
  sweep.launchers = cvb::Split(launchers, ',');
  sweep.kernels = cvb::Split(kernels, ',');
  sweep.suite_options.ready_timeout = std::chrono::seconds(timeout_s);
  sweep.warmup = !no_warmup;
  for (const auto& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "cvbench: --param %s: expected key=value\n", p.c_str());
      return 2;
    }
    sweep.suite_options.params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (!resume_dir.empty()) {
    if (!sweep.out_dir.empty() && sweep.out_dir != resume_dir) {
      std::fprintf(stderr, "cvbench: --resume %s and --out %s name different runs\n",
                   resume_dir.c_str(), sweep.out_dir.c_str());
      return 2;
    }
    if (!cvb::PathExists(resume_dir)) {
      std::fprintf(stderr, "cvbench: --resume %s: no such run directory\n", resume_dir.c_str());
      return 2;
    }
    sweep.out_dir = resume_dir;
    sweep.resume = true;
  }
  if (sweep.out_dir.empty()) sweep.out_dir = DefaultOutDir();
  return cvb::bench::RunSweep(sweep, registry);
}
