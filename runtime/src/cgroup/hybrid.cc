// Hybrid hosts (v1 controllers + a cgroup2 mount, usually at /sys/fs/cgroup/unified, holding few
// or no controllers): limits go through v1, and a controller-less unified directory joined at
// clone time tracks the processes (cgroup.kill, one cgroup.procs to read).
#include "cgroup/manager.h"

namespace cvb::runtime::cgroup {
namespace {

class Hybrid : public Manager {
 public:
  Hybrid(sys::Sys& sys, const Host& host, const std::string& cgroups_path)
      : v1_(MakeV1(sys, host, cgroups_path)),
        v2_(MakeV2(sys, host, cgroups_path, /*apply_limits=*/false)) {}

  Result<void> Create(const Resources& res) override {
    auto r = v1_->Create(res);
    // Record what v1 made before anything else can fail, so that cleanup sees it.
    Collect();
    if (!r.ok()) return r;
    r = v2_->Create(Resources{});
    Collect();
    return r;
  }
  int CloneIntoFd() const override { return v2_->CloneIntoFd(); }
  Result<void> AddProcess(pid_t pid) override {
    CVB_TRY(v1_->AddProcess(pid));
    return v2_->AddProcess(pid);
  }
  // Existing containers are opened as V1 (OpenManager): this one only creates.
  Result<void> Update(const Resources&) override {
    return Failure("cgroup: update needs a manager from OpenManager");
  }

 private:
  void Collect() {
    leaves_ = v1_->leaves();
    leaves_.insert(leaves_.end(), v2_->leaves().begin(), v2_->leaves().end());
    created_ = v1_->created();
    created_.insert(created_.end(), v2_->created().begin(), v2_->created().end());
  }

  std::unique_ptr<Manager> v1_, v2_;
};

}  // namespace

std::unique_ptr<Manager> MakeHybrid(sys::Sys& sys, const Host& host,
                                    const std::string& cgroups_path) {
  return std::make_unique<Hybrid>(sys, host, cgroups_path);
}

}  // namespace cvb::runtime::cgroup
