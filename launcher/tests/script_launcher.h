// ScriptLauncher: a fake launcher whose "workload" is a shell script writing the protocol's
// lines into a pipe. For contract tests of the interface and of code built on it.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include "cvb/common/clock.h"
#include "cvb/launcher/launcher.h"
#include "cvb/launcher/workload_channel.h"

namespace cvb::launcher::testing {

class ScriptInstance : public Instance {
 public:
  ScriptInstance(Child child, UniqueFd out) : child_(std::move(child)), channel_(std::move(out)) {}
  Result<void> WaitReady(std::chrono::milliseconds timeout) override {
    auto m = channel_.WaitReady(MonotonicNs() + timeout.count() * 1'000'000, timeline_);
    if (!m) return m.error();
    ready_ = *m;
    return Ok();
  }
  Result<ExitStatus> WaitExit(std::chrono::milliseconds timeout) override {
    CVB_TRY(channel_.Drain(MonotonicNs() + timeout.count() * 1'000'000));
    auto st = child_.Wait(timeout);
    if (!st) return st.error();
    timeline_.Mark("exit");
    results_ = channel_.results();
    return *st;
  }
  Result<void> Stop(std::chrono::milliseconds) override {
    child_.Kill();
    (void)child_.Wait();
    timeline_.Mark("exit");
    return Ok();
  }
  Result<void> Teardown() override {
    timeline_.SetExtra("teardown_ms", 0);
    return Ok();
  }
  std::vector<pid_t> HostPids() override {
    return child_.running() ? std::vector<pid_t>{child_.pid()} : std::vector<pid_t>{};
  }

 private:
  Child child_;
  WorkloadChannel channel_;
};

class ScriptLauncher : public Launcher {
 public:
  explicit ScriptLauncher(std::string script, std::string name = "script")
      : script_(std::move(script)), name_(std::move(name)) {}
  std::string Name() const override { return name_; }
  std::string Kind() const override { return "native"; }
  Result<void> Check() override { return Ok(); }
  Result<void> Prepare(const image::Image&) override { return Ok(); }
  Result<std::unique_ptr<Instance>> Start(const WorkloadRequest&) override {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe");
    UniqueFd r(fds[0]), w(fds[1]);
    int64_t launch = MonotonicNs();
    SpawnOptions o;
    o.stdout_fd = w.get();
    CVB_ASSIGN_OR_RETURN(Child c, Spawn({"/bin/sh", "-c", script_}, o));
    auto inst = std::make_unique<ScriptInstance>(std::move(c), std::move(r));
    inst->timeline().MarkAt("launch", launch);
    inst->timeline().Mark("create");
    return std::unique_ptr<Instance>(std::move(inst));
  }
  std::map<std::string, std::string> Conditions() const override { return {{"version", "sh"}}; }

 private:
  std::string script_;
  std::string name_;
};

}  // namespace cvb::launcher::testing
