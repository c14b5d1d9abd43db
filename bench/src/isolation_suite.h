// isolation: the workload's isolation probe (cvb/workload/isolation.h) inside each instance,
// native as the control, with markers the harness leaves on the host (host_markers.h).
// Counters per entry: one per check, 1 = the host's marker is visible / the action is allowed,
// 0 = isolated / denied, -1 = not tested here; the probe's figures (processes_visible,
// fds_above_2, interfaces_visible, cap_eff_count) and host_port_accepted (connections the
// host's port took: the host's side of host_port). The label lists each check's why.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/workload/protocol.h"

namespace cvb::bench {

struct IsolationReading {
  std::map<std::string, int> values;       // check -> 1, 0 or -1
  std::map<std::string, std::string> why;  // check -> the probe's reason
  std::map<std::string, double> figures;   // processes_visible, ...
  // "host_file=ENOENT host_port=ECONNREFUSED ...", in the order of kIsolationChecks.
  std::string Label() const;
};

// The probe's RESULT lines -> one reading. Fails naming the check when a check is missing,
// repeated, unknown or has a value other than 1, 0, -1: a probe that did not run every check is
// an error, never a row of zeros.
Result<IsolationReading> ReadIsolation(const std::vector<workload::Message>& results);

}  // namespace cvb::bench
