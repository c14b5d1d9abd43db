// cvb-workload: the one static program that runs inside every instance (native process,
// container, VM). It announces READY on stdout, does what its mode asks, and reports figures as
// RESULT lines (protocol.h). It is linked statically so that the same bits run in a busybox
// rootfs, an initramfs and on the host.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cvb/common/clock.h"
#include "modes.h"

namespace {

volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

void Usage() {
  std::fprintf(stderr,
               "usage: cvb-workload MODE [ARGS...]\n"
               "modes:\n%s",
               cvb::workload::ModesHelp());
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t start_mono_ns = cvb::MonotonicNs();
  // Lines must reach the host as soon as they are written: no stdio buffering on a pipe.
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    Usage();
    return argc < 2 ? 2 : 0;
  }
  struct sigaction sa {};
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  cvb::workload::Context ctx;
  ctx.mode = argv[1];
  for (int i = 2; i < argc; ++i) ctx.args.emplace_back(argv[i]);
  ctx.start_mono_ns = start_mono_ns;
  ctx.stop_flag = &g_stop;
  return cvb::workload::RunMode(ctx);
}
