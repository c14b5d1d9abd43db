// The host side of the net mode: a TCP client for the workload's server (protocol in
// workload/include/cvb/workload/protocol.h). It measures from the host, as a user of a service in
// the instance would see it: stream throughput both ways and small request/response latency.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::bench {

struct NetClientOptions {
  std::string address;  // the instance's NetworkAddress()
  int port = 5201;
  double stream_seconds = 1;  // each stream direction
  double rr_seconds = 1;      // request/response phase
  size_t rr_bytes = 1;        // request and response size
  // Connecting is retried until this passes: READY means listening, but a fresh veth or tap may
  // need a moment before the first SYN gets through.
  std::chrono::milliseconds connect_timeout{10'000};
  // Bound on every single wait once connected.
  std::chrono::milliseconds io_timeout{30'000};
};

struct NetFigures {
  double stream_mb_per_s = 0;     // host -> instance, 1e6 bytes per second
  double stream_rx_mb_per_s = 0;  // instance -> host
  double rr_p50_us = 0;
  double rr_p99_us = 0;
  double rr_per_s = 0;
  double rr_count = 0;
};

// Runs the stream and request/response tests, one connection each.
Result<NetFigures> RunNetClient(const NetClientOptions& options);
// Tells the server to finish (QUIT); it then prints its RESULT and DONE and exits.
Result<void> SendNetQuit(const NetClientOptions& options);

// p-th percentile (0..100) by nearest rank of unsorted samples; 0 for none.
double Percentile(std::vector<double> samples, double p);

}  // namespace cvb::bench
