// The throughput suite's logic, apart from Google Benchmark so that it can be tested alone: which
// workload request each mode makes, which RESULT fields are its figures, one measurement of a
// mode on a launcher (bounded in time, torn down on every path), and the native baseline that
// ratios are computed against.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cvb/common/result.h"
#include "cvb/launcher/launcher.h"

namespace cvb::bench {

// Knobs from --param (all optional): modes=cpu,mem,disk,net; seconds=2 (cpu, mem);
// mem_mib=64 (each of the 3 STREAM arrays), ra_mib=64; disk_file_mib=128 (fits a 256 MiB VM disk
// image), disk_seconds=1 (each random phase); net_seconds=1 (each net phase), net_port=5201.
// Launcher knobs that shape these modes (the same --param map reaches the launchers):
// scratch_dir=/var/tmp/cvbench (host directory for native's and the containers' disk),
// container_disk=volume|overlay (containers' /data: a bind-mounted host directory, or an
// overlayfs with its upper layer on the host disk like an engine's writable layer), and the VM
// launchers' disk_mib/disk_cache (vmdriver/include/cvb/vmdriver/launchers.h).
//
// Where each mode runs: disk in /data (containers: the volume or overlay above; VMs: ext4 on a
// virtio-blk raw image, cache=none where the host filesystem allows O_DIRECT; native: a scratch
// directory via CVB_DATA_DIR); net against a server at Instance::NetworkAddress() (containers: a
// veth into their own named netns; VMs: a tap; native: 127.0.0.1, and once more over a veth pair
// into a netns of its own, entry throughput/native/mode:net/path:veth). runsc refuses net
// (--network=none), which the entry reports as an error with that reason.
struct ThroughputOptions {
  std::vector<std::string> modes = {"cpu", "mem", "disk", "net"};
  double seconds = 2;
  int mem_mib = 64;
  int ra_mib = 64;
  int disk_file_mib = 128;
  double disk_seconds = 1;
  double net_seconds = 1;
  int net_port = 5201;
  std::chrono::milliseconds ready_timeout{60'000};
  // CPUs every measured instance (native included) is pinned to ("" = unpinned); cvbench and its
  // load generators run on the others. --param throughput_pin=auto|off|<cpu list>: auto (the
  // default) takes the last CPU cvbench may use when it may use two or more.
  std::string instance_cpus;
  std::string harness_cpus;
};
Result<ThroughputOptions> ParseThroughputOptions(const std::map<std::string, std::string>& params);

// The RESULT fields of a mode that are measurements (they get a ratio to native), and the ones
// that describe the conditions (counters without ratio, e.g. disk's direct=1|0).
struct ModeFigures {
  std::vector<std::string> figures;
  std::vector<std::string> info;
};
const std::map<std::string, ModeFigures>& ThroughputModes();

// The request for mode on a launcher of this kind ("native", "container", "vm"). Same
// arguments everywhere, except that the native server listens on loopback only (the host's
// other addresses are not ours to use) unless native_over_veth puts it in a namespace of its own.
launcher::WorkloadRequest ThroughputRequest(const std::string& mode, const std::string& kind,
                                            const ThroughputOptions& options,
                                            bool native_over_veth = false);

// One measurement: start, ready, (net: the host client), exit, teardown. Figures by name (mode
// figures, info fields and the host client's figures); an error names the failing phase.
Result<std::map<std::string, double>> MeasureThroughput(launcher::Launcher& launcher,
                                                        const std::string& mode,
                                                        const ThroughputOptions& options,
                                                        bool native_over_veth = false);

// Ratios to native, computed once the whole run is in (the suite's Finish step), by this rule:
// each repetition's figure divided by the median of ALL native repetitions of the same mode in
// the run, "<figure>_ratio_to_native" (above 1 means more than native: faster for rates, slower
// for the *_us latencies). Native's own repetitions get ratios too, which centre on 1.0 and show
// native's spread. Net figures are also divided by native over a veth pair
// ("<figure>_ratio_to_native_veth", entry throughput/native/mode:net/path:veth): that ratio is
// containment alone, while native veth / native loopback is the network path alone. A disk
// figure whose median ratio exceeds kDeviceLimitRatio times native's O_DIRECT figure (when native
// used O_DIRECT) cannot come from the device: the entry gets flags.<figure> with the reason and
// its ratio moves to "<figure>_ratio_to_native_flagged", so nothing reads it as a result.
// Aggregates (mean, median, stddev, cv, min, max) of those keys are recomputed from the
// repetitions; context gains throughput_ratio_rule and throughput_device_check.
inline constexpr double kDeviceLimitRatio = 1.5;
Result<void> FinishThroughputResults(nlohmann::json& doc, const std::string& native_launcher);
std::string ThroughputRatioRule();
// "throughput/<launcher>/mode:<mode>[/path:<path>]".
std::string ThroughputRunName(const std::string& launcher, const std::string& mode,
                              const std::string& path = "");

double Median(std::vector<double> v);

}  // namespace cvb::bench

namespace cvb::bench {
class Suite;
// throughput: each mode on each launcher, entries "throughput/<launcher>/mode:<mode>".
std::unique_ptr<Suite> MakeThroughputSuite();
}  // namespace cvb::bench
