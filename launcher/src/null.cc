#include "cvb/launcher/null.h"

#include "cvb/common/clock.h"

namespace cvb::launcher {
namespace {

class NullInstance : public Instance {
 public:
  explicit NullInstance(int64_t launch_ns) {
    timeline_.MarkAt("launch", launch_ns);
    timeline_.Mark("create");
  }

  Result<void> WaitReady(std::chrono::milliseconds) override {
    timeline_.Mark("first_line");
    timeline_.Mark("ready");
    return Ok();
  }
  Result<ExitStatus> WaitExit(std::chrono::milliseconds) override {
    if (!exited_) timeline_.Mark("exit");
    exited_ = true;
    ExitStatus status;
    status.code = 0;
    return status;
  }
  Result<void> Stop(std::chrono::milliseconds timeout) override {
    auto exited = WaitExit(timeout);
    if (!exited) return exited.error();
    return Ok();
  }
  Result<void> Teardown() override {
    if (torn_down_) return Ok();
    int64_t t0 = MonotonicNs();
    torn_down_ = true;
    timeline_.SetExtra("teardown_ms", (MonotonicNs() - t0) / 1e6);
    return Ok();
  }
  std::vector<pid_t> HostPids() override { return {}; }

 private:
  bool exited_ = false;
  bool torn_down_ = false;
};

class NullLauncher : public Launcher {
 public:
  std::string Name() const override { return "null"; }
  std::string Kind() const override { return "native"; }
  Result<void> Check() override { return Ok(); }
  Result<void> Prepare(const image::Image&) override { return Ok(); }
  Result<void> Supports(const WorkloadRequest& request) const override {
    // It runs no workload: only the start-up figure (mode ready) means anything.
    if (request.mode != "ready" || request.needs_network || request.needs_disk)
      return Failure("null launches nothing: it measures the harness in the startup suite only");
    return Ok();
  }
  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest& request) override {
    int64_t launch_ns = MonotonicNs();  // first, like every launcher's Start
    CVB_TRY(Supports(request));
    return std::unique_ptr<Instance>(std::make_unique<NullInstance>(launch_ns));
  }
  std::map<std::string, std::string> Conditions() const override {
    return {{"version", "no process: the harness's own bookkeeping per launch"}};
  }
};

}  // namespace

Result<std::unique_ptr<Launcher>> MakeNullLauncher(const LauncherConfig&) {
  return std::unique_ptr<Launcher>(std::make_unique<NullLauncher>());
}

}  // namespace cvb::launcher
