// The line protocol between cvb-workload and the host, identical for containers and VMs. The
// workload writes lines on its stdout (in a VM: the serial console):
//   CVB READY mode=<mode> start_mono_ns=<n> ready_mono_ns=<n> realtime_ns=<n>
//   CVB RESULT <name>=<value> ...      (figures, units in names: ops_per_s, gb_per_s, ...)
//   CVB ERROR msg=<text with spaces>   (the workload could not do what it was asked)
//   CVB DONE status=<exit code>
//   CVB FINGERPRINT <key>=<value> ...  (fingerprint mode only, before READY: what the workload
//                                       sees of its own configuration; values carry no spaces)
// The host stamps each line on arrival; the workload's own clocks travel inside the line. Lines
// that do not start with "CVB " are ordinary output (a VM's kernel log, for example).
//
// net mode's TCP protocol (server: workload/src/mode_net.cc; client: bench/src/net_client.cc).
// The server prints READY once listening on --port and serves one connection at a time. Each
// connection starts with one ASCII command line from the host:
//   "RECV\n"      host -> instance stream: the host sends bulk data, then shuts down its write
//                 side; the server answers "OK <bytes received>\n".
//   "SEND <ms>\n" instance -> host stream: the server sends bulk data for <ms>, then closes.
//   "ECHO <n>\n"  request/response: the host sends <n> bytes, the server sends them back, and so
//                 on until the host closes (n <= 1 MiB; TCP_NODELAY on both ends).
//   "QUIT\n"      the server answers "BYE\n", prints a RESULT line (connections, rx_bytes,
//                 tx_bytes, echoes) and DONE, and exits 0.
// Without QUIT the server still ends after --seconds. The host computes the figures.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace cvb::workload {

struct Message {
  std::string kind;                          // READY, RESULT, ERROR, DONE, FINGERPRINT
  std::map<std::string, std::string> fields;  // key=value pairs; ERROR's msg keeps its spaces

  std::optional<double> Number(const std::string& key) const;
  std::string Get(const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : it->second;
  }
};

// Finds "CVB <KIND> ..." anywhere in the line (a console may prefix it with noise); nullopt for
// other lines.
std::optional<Message> ParseLine(const std::string& line);
// Formats a message as one line without the newline.
std::string FormatLine(const Message& message);

}  // namespace cvb::workload
