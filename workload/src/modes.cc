#include "modes.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cvb/common/clock.h"
#include "cvb/workload/protocol.h"

namespace cvb::workload {

std::string Context::Arg(const std::string& key, const std::string& def) const {
  std::string prefix = "--" + key + "=";
  for (const auto& a : args)
    if (a.rfind(prefix, 0) == 0) return a.substr(prefix.size());
  return def;
}

double Context::ArgNumber(const std::string& key, double def) const {
  std::string v = Arg(key, "");
  if (v.empty()) return def;
  return std::strtod(v.c_str(), nullptr);
}

namespace {

void WriteLine(const std::string& line) {
  std::string with_nl = line + "\n";
  // One write per line: lines from one process never interleave on the console.
  ssize_t r = ::write(1, with_nl.data(), with_nl.size());
  (void)r;
}

int ModeReady(Context& ctx) {
  AnnounceReady(ctx);
  Done(0);
  return 0;
}

int ModeIdle(Context& ctx) {
  AnnounceReady(ctx);
  // Sleep until SIGTERM/SIGINT; pause() returns on the signal.
  while (!ctx.stopping()) ::pause();
  Done(0);
  return 0;
}

struct ModeEntry {
  const char* name;
  int (*run)(Context&);
  const char* help;
};

const ModeEntry kModes[] = {
    {"ready", ModeReady, "  ready                 announce READY and exit 0\n"},
    {"idle", ModeIdle, "  idle                  announce READY, sleep until SIGTERM\n"},
};

}  // namespace

void AnnounceReady(const Context& ctx) {
  Message m{"READY",
            {{"mode", ctx.mode},
             {"start_mono_ns", std::to_string(ctx.start_mono_ns)},
             {"ready_mono_ns", std::to_string(MonotonicNs())},
             {"realtime_ns", std::to_string(RealtimeNs())},
             {"pid", std::to_string(::getpid())}}};
  WriteLine(FormatLine(m));
}

void Result(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string line = "CVB RESULT";
  for (const auto& [k, v] : fields) line += " " + k + "=" + v;
  WriteLine(line);
}

int Fail(const std::string& message) {
  WriteLine("CVB ERROR msg=" + message);
  return 1;
}

void Done(int status) { WriteLine("CVB DONE status=" + std::to_string(status)); }

int RunMode(Context& ctx) {
  for (const auto& m : kModes)
    if (ctx.mode == m.name) return m.run(ctx);
  std::fprintf(stderr, "cvb-workload: unknown mode '%s'\n", ctx.mode.c_str());
  return 2;
}

const char* ModesHelp() {
  static std::string help;
  if (help.empty())
    for (const auto& m : kModes) help += m.help;
  return help.c_str();
}

}  // namespace cvb::workload
