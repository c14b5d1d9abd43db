#include "modes.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cvb/common/clock.h"
#include "cvb/workload/protocol.h"
#include "isolation_probe.h"

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
    {"cpu", ModeCpu,
     "  cpu [--seconds=2]     integer and floating-point kernels: int_ops_per_s, fp_ops_per_s\n"},
    {"mem", ModeMem,
     "  mem [--seconds=2 --mib=64 --ra_mib=64]\n"
     "                        STREAM copy/scale/add/triad on 3 arrays of MIB each (GB/s) and\n"
     "                        random 64-bit updates in a table of RA_MIB (random_access_mups)\n"},
    {"disk", ModeDisk,
     "  disk [--dir=${CVB_DATA_DIR:-/data} --mib=256 --seconds=1]\n"
     "                        sequential write/read MB/s of a MIB file, 4 KiB random read/write\n"
     "                        IOPS for SECONDS each; O_DIRECT where allowed (direct=1|0)\n"},
    {"net", ModeNet,
     "  net [--port=5201 --seconds=60]\n"
     "                        TCP server for the host's stream and request/response client\n"
     "                        (protocol.h); exits on QUIT or after SECONDS\n"},
    {"isolation", ModeIsolation,
     "  isolation [--file=P --token=T --fd=P --process=A --iface=N --port=N --hostname=H\n"
     "             --device=MAJ:MIN --boot-id=U]\n"
     "                        what the instance sees and may do of the host, one RESULT line\n"
     "                        per check (cvb/workload/isolation.h)\n"},
    {"fingerprint", ModeFingerprint,
     "  fingerprint           print a FINGERPRINT line (own view of capabilities, seccomp,\n"
     "                        rlimits, mounts, id maps, interfaces), READY, idle until SIGTERM\n"},
};

}  // namespace

std::string UnknownArg(const Context& ctx, const std::vector<std::string>& known) {
  for (const auto& a : ctx.args) {
    size_t eq = a.find('=');
    if (a.rfind("--", 0) != 0 || eq == std::string::npos || eq == 2)
      return "argument '" + a + "': expected --key=value";
    std::string key = a.substr(2, eq - 2);
    bool ok = false;
    for (const auto& k : known) ok |= k == key;
    if (!ok) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return "unknown argument --" + key + " for mode " + ctx.mode + " (known: " + list + ")";
    }
  }
  return "";
}

NumberArg ParseNumberArg(const Context& ctx, const std::string& key, double def, double lo,
                         double hi) {
  NumberArg n{def, ""};
  std::string v = ctx.Arg(key, "");
  if (v.empty()) return n;
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(v.c_str(), &end);
  // d != d: NaN.
  if (end == v.c_str() || *end != 0 || errno == ERANGE || d != d || d < lo || d > hi) {
    n.error = "--" + key + "=" + v + ": expected a number in [" + Fig(lo) + ", " + Fig(hi) + "]";
    return n;
  }
  n.value = d;
  return n;
}

std::string Fig(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

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
