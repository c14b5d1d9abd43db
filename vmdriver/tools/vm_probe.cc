// vm_probe: boots the image N times through the given VM launchers, side by side, and prints the
// per-phase medians and QEMU's memory. A developer's tool for the VM launchers (the suite's
// numbers come from `cvbench run`).
//   vm_probe [--runs N] [--launchers qemu,libvirt] [--kernel distro] [--mode ready|idle]
//            [--net] [--disk] [--work DIR] [key=value launcher params...]
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cvb/common/file.h"
#include "cvb/image/image.h"
#include "cvb/vmdriver/launchers.h"

using namespace cvb;

namespace {
double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

int main(int argc, char** argv) {
  int runs = 5;
  std::vector<std::string> names = {"qemu", "libvirt"};
  std::string kernel = "distro", mode = "ready", work = "/tmp/cvb-vm-probe";
  bool net = false, disk = false;
  std::map<std::string, std::string> params;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--runs")
      runs = std::stoi(next());
    else if (a == "--launchers")
      names = Split(next(), ',');
    else if (a == "--kernel")
      kernel = next();
    else if (a == "--mode")
      mode = next();
    else if (a == "--work")
      work = next();
    else if (a == "--net")
      net = true;
    else if (a == "--disk")
      disk = true;
    else if (auto eq = a.find('='); eq != std::string::npos)
      params[a.substr(0, eq)] = a.substr(eq + 1);
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  auto img = image::BuildImage();
  if (!img) {
    std::cerr << "image: " << img.error().message() << "\n";
    return 1;
  }
  (void)MakeDirs(work);
  launcher::Registry reg;
  vmdriver::RegisterVmLaunchers(reg);
  std::map<std::string, std::unique_ptr<launcher::Launcher>> ls;
  for (const auto& n : names) {
    auto l = reg.Make({n, work, kernel, params});
    if (!l) {
      std::cerr << n << ": " << l.error().message() << "\n";
      return 1;
    }
    if (auto p = (*l)->Prepare(*img); !p) {
      std::cerr << n << ": " << p.error().message() << "\n";
      return 1;
    }
    for (const auto& [k, v] : (*l)->Conditions()) std::cout << n << "." << k << " = " << v << "\n";
    ls[n] = std::move(*l);
  }
  std::map<std::string, std::map<std::string, std::vector<double>>> counters;
  for (int r = 0; r < runs; ++r) {
    for (const auto& n : names) {  // interleaved, so load changes hit both alike
      launcher::WorkloadRequest req;
      req.mode = mode;
      req.needs_network = net;
      req.needs_disk = disk;
      auto inst = ls[n]->Start(req);
      if (!inst) {
        std::cerr << n << ": start: " << inst.error().message() << "\n";
        return 1;
      }
      auto ready = (*inst)->WaitReady(std::chrono::seconds(60));
      if (!ready) {
        std::cerr << n << ": " << ready.error().message() << "\n";
        return 1;
      }
      if (auto* vi = dynamic_cast<vmdriver::VmInstanceInfo*>(inst->get())) {
        if (auto m = vi->QemuMemoryNow()) {
          counters[n]["pss_mib"].push_back(m->total.pss / 1048576.0);
          counters[n]["uss_mib"].push_back(m->total.uss / 1048576.0);
          counters[n]["guest_ram_pss_mib"].push_back(m->guest_ram_pss / 1048576.0);
          counters[n]["vmm_pss_mib"].push_back(m->vmm_pss() / 1048576.0);
        }
      }
      if (!(*inst)->NetworkAddress().empty())
        std::cout << n << " guest at " << (*inst)->NetworkAddress() << "\n";
      if (mode != "idle") {
        auto ex = (*inst)->WaitExit(std::chrono::seconds(120));
        if (!ex) std::cerr << n << ": exit: " << ex.error().message() << "\n";
      } else if (auto s = (*inst)->Stop(std::chrono::seconds(30)); !s) {
        std::cerr << n << ": stop: " << s.error().message() << "\n";
      }
      for (const auto& m : (*inst)->results()) {
        std::cout << n << " RESULT";
        for (const auto& [k, v] : m.fields) std::cout << " " << k << "=" << v;
        std::cout << "\n";
      }
      if (auto t = (*inst)->Teardown(); !t)
        std::cerr << n << ": teardown: " << t.error().message() << "\n";
      for (const auto& [k, v] : (*inst)->timeline().Counters()) counters[n][k].push_back(v);
      std::cout << n << " run " << r
                << ": ready_ms=" << (*inst)->timeline().SinceLaunchMs("ready").value_or(-1) << "\n";
    }
  }
  for (const auto& n : names) {
    std::cout << "== " << n << " medians over " << runs << " runs\n";
    for (const auto& [k, v] : counters[n]) std::printf("  %-22s %9.1f\n", k.c_str(), Median(v));
  }
  return 0;
}
