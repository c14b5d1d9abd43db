// What each runtime was given, kept in the run directory so that a run can be reproduced: the
// OCI config.json a runtime got, QEMU's argv, a libvirt domain's XML, native's command line.
//
// One directory per launcher (<out>/instances/<launcher>/, LauncherConfig::artefacts_dir). Each
// distinct *shape* of an artefact is written once, exactly as the first instance of that shape
// got it: instances of one shape differ only in per-instance names (container id, network
// namespace, /data directory, VM name, tap, MAC, addresses), which the shape leaves out. The
// first shape of "config.json" is written as config.json, the next ones as config-2.json,
// config-3.json...; index.json lists each file with the request it served and the per-instance
// values of the instance it was taken from.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cvb/common/result.h"

namespace cvb::launcher {

class ArtefactRecorder {
 public:
  // dir "" records nothing (launchers made outside a sweep, tests).
  explicit ArtefactRecorder(std::string dir = "") : dir_(std::move(dir)) {}
  ArtefactRecorder(const ArtefactRecorder&) = delete;
  ArtefactRecorder& operator=(const ArtefactRecorder&) = delete;

  // Records content as `name` (e.g. "config.json") unless an artefact of that name and the same
  // shape was recorded before. The shape is content with every string of per_instance replaced
  // by a placeholder. `what` says which request it served ("mode disk, /data volume"). Returns
  // the path written, or "" when the shape was already recorded (or recording is off). Safe
  // from several threads (fleets start instances concurrently).
  Result<std::string> Record(const std::string& name, const std::string& content,
                             const std::vector<std::string>& per_instance, const std::string& what);

  const std::string& dir() const { return dir_; }

 private:
  Result<void> WriteIndex();

  std::string dir_;
  std::mutex mu_;
  std::set<std::string> shapes_;       // name + '\0' + shape
  std::map<std::string, int> counts_;  // name -> files written under it
  struct Entry {
    std::string file, what;
    std::vector<std::string> per_instance;
  };
  std::vector<Entry> index_;
};

struct WorkloadRequest;
// "mode disk --mib=128 --seconds=1, /data, network": which request an artefact served.
std::string RequestSummary(const WorkloadRequest& request);

// "libvirt/kernel:minimal" -> "libvirt-kernel:minimal": a launcher's display name as one path
// component.
std::string ArtefactDirName(const std::string& display_name);

}  // namespace cvb::launcher
