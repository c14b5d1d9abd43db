// Workload modes. Each mode announces READY (AnnounceReady) once it is able to do its work.
#pragma once

#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

namespace cvb::workload {

struct Context {
  std::string mode;
  std::vector<std::string> args;
  int64_t start_mono_ns = 0;
  volatile sig_atomic_t* stop_flag = nullptr;
  bool stopping() const { return stop_flag && *stop_flag; }
  // "--key=value" argument, or def.
  std::string Arg(const std::string& key, const std::string& def) const;
  double ArgNumber(const std::string& key, double def) const;
};

// Writes the READY line (mode, the workload's clocks) to stdout.
void AnnounceReady(const Context& ctx);
// Writes "CVB RESULT k=v ..." (pairs in order).
void Result(const std::vector<std::pair<std::string, std::string>>& fields);
// Writes "CVB ERROR msg=..." and returns 1 (an exit code).
int Fail(const std::string& message);
void Done(int status);

int RunMode(Context& ctx);
const char* ModesHelp();

}  // namespace cvb::workload
