// Workload modes. Each mode announces READY (AnnounceReady) once it is able to do its work.
#pragma once

#include <signal.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cvb/workload/protocol.h"

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

// Frees what posix_memalign / aligned_alloc gave (the measuring modes' buffers own theirs with
// std::unique_ptr<T, FreeDeleter>).
struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

int RunMode(Context& ctx);
const char* ModesHelp();

// Strict argument checks for the measuring modes: a typo (--second=5) or a bad value
// (--seconds=abc, --mib=-1) is an error, never a silent default that would measure something
// other than what was asked.
// Fails when an argument is not "--key=value" with key in `known`.
std::string UnknownArg(const Context& ctx, const std::vector<std::string>& known);
// The number of "--key=N", def when absent; error text (empty on success) when it is not a
// finite number within [lo, hi].
struct NumberArg {
  double value = 0;
  std::string error;
};
NumberArg ParseNumberArg(const Context& ctx, const std::string& key, double def, double lo,
                         double hi);

// Modes that measure (mode_*.cc). Each prints READY, RESULT lines and DONE; returns the exit code.
int ModeCpu(Context& ctx);
int ModeMem(Context& ctx);
int ModeDisk(Context& ctx);
int ModeNet(Context& ctx);
// Prints FINGERPRINT (SelfFingerprint), READY, then idles until SIGTERM (mode_fingerprint.cc).
int ModeFingerprint(Context& ctx);
// The workload's view of its own configuration: kernel, capabilities, seccomp, rlimits, mounts,
// id maps, interfaces and their state, /dev entries.
Message SelfFingerprint();

// Formats a figure for a RESULT line (no spaces; enough digits for ratios).
std::string Fig(double v);

}  // namespace cvb::workload
