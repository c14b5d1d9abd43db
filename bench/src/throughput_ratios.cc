// Ratios to native and device-limit flags of a throughput run, computed from the whole run once
// every repetition is in (throughput.h says the rule).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "throughput.h"

namespace cvb::bench {
namespace {

const char* const kRatioSuffixes[] = {"_ratio_to_native", "_ratio_to_native_veth",
                                      "_ratio_to_native_flagged"};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsDerivedKey(const std::string& key) {
  if (key == "native_samples") return true;
  for (const char* suffix : kRatioSuffixes)
    if (EndsWith(key, suffix)) return true;
  return false;
}

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct EntryName {
  std::string launcher, mode, path;  // path: "" (the launcher's own) or "veth" (native over veth)
};

// "throughput/<launcher>/mode:<mode>[/path:<path>]"; the launcher may itself hold a '/'
// (libvirt/kernel:minimal).
std::optional<EntryName> ParseEntryName(const std::string& run_name) {
  const std::string prefix = "throughput/";
  if (run_name.rfind(prefix, 0) != 0) return std::nullopt;
  size_t m = run_name.find("/mode:", prefix.size());
  if (m == std::string::npos) return std::nullopt;
  EntryName e;
  e.launcher = run_name.substr(prefix.size(), m - prefix.size());
  std::string rest = run_name.substr(m + 6);
  size_t p = rest.find("/path:");
  e.mode = rest.substr(0, p);
  if (p != std::string::npos) e.path = rest.substr(p + 6);
  return e;
}

}  // namespace

std::string ThroughputRatioRule() {
  return "each repetition's figure / the median of all native repetitions of the same mode in "
         "this run (loopback for net); net figures also / the median of native over a veth pair "
         "(_ratio_to_native_veth: containment without the network path); native's own ratios "
         "therefore centre on 1.0 and show native's spread. A disk figure whose median ratio "
         "exceeds " +
         Fixed(kDeviceLimitRatio, 1) +
         "x native's O_DIRECT figure on the same "
         "device is flagged (flags.<figure>; its ratio moved to _ratio_to_native_flagged): it was "
         "served from a cache, not the device";
}

std::string ThroughputRunName(const std::string& launcher, const std::string& mode,
                              const std::string& path) {
  return "throughput/" + launcher + "/mode:" + mode + (path.empty() ? "" : "/path:" + path);
}

Result<void> FinishThroughputResults(nlohmann::json& doc, const std::string& native) {
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    return Failure("throughput results: no benchmarks array");
  auto& benchmarks = doc["benchmarks"];
  // Successful repetitions by run name, and every aggregate entry.
  std::map<std::string, std::vector<nlohmann::json*>> iterations;
  std::vector<nlohmann::json*> aggregates;
  for (auto& b : benchmarks) {
    if (!b.is_object()) continue;
    // Derived keys from an earlier pass (or from an older cvbench) never survive.
    for (auto it = b.begin(); it != b.end();) {
      if (IsDerivedKey(it.key()) || it.key() == "flags")
        it = b.erase(it);
      else
        ++it;
    }
    std::string run_name = b.value("run_name", b.value("name", ""));
    if (b.value("run_type", "") == "aggregate") {
      aggregates.push_back(&b);
    } else if (!b.value("error_occurred", false)) {
      iterations[run_name].push_back(&b);
    }
  }
  auto values = [&](const std::string& run_name, const std::string& key) {
    std::vector<double> v;
    auto it = iterations.find(run_name);
    if (it == iterations.end()) return v;
    for (const auto* b : it->second)
      if (b->contains(key) && (*b)[key].is_number()) v.push_back((*b)[key].get<double>());
    return v;
  };

  std::string device_check;
  for (const auto& [mode, spec] : ThroughputModes()) {
    std::string native_run = ThroughputRunName(native, mode);
    size_t native_samples = iterations.count(native_run) ? iterations[native_run].size() : 0;
    std::map<std::string, double> base, veth_base;
    for (const auto& f : spec.figures) {
      auto v = values(native_run, f);
      if (!v.empty() && Median(v) > 0) base[f] = Median(v);
      if (mode == "net") {
        auto w = values(ThroughputRunName(native, mode, "veth"), f);
        if (!w.empty() && Median(w) > 0) veth_base[f] = Median(w);
      }
    }
    // O_DIRECT on native's disk is the device's own figure; without it there is no device limit
    // to compare with.
    bool native_direct = false;
    if (mode == "disk" && native_samples) {
      auto d = values(native_run, "direct");
      native_direct =
          !d.empty() && std::all_of(d.begin(), d.end(), [](double x) { return x == 1; });
      device_check = native_direct
                         ? "disk figures above " + Fixed(kDeviceLimitRatio, 1) +
                               "x native's O_DIRECT figures are flagged"
                         : "native's disk ran without O_DIRECT (direct=0): cached figures cannot "
                           "be told from the device's, nothing flagged";
    }
    for (auto& [run_name, entries] : iterations) {
      auto name = ParseEntryName(run_name);
      if (!name || name->mode != mode) continue;
      for (auto* b : entries) {
        for (const auto& f : spec.figures) {
          if (!b->contains(f) || !(*b)[f].is_number()) continue;
          double v = (*b)[f].get<double>();
          if (base.count(f)) (*b)[f + "_ratio_to_native"] = v / base[f];
          if (veth_base.count(f)) (*b)[f + "_ratio_to_native_veth"] = v / veth_base[f];
        }
        if (native_samples) (*b)["native_samples"] = static_cast<double>(native_samples);
      }
      if (!native_direct || name->launcher == native) continue;
      for (const auto& f : spec.figures) {
        auto r = values(run_name, f + "_ratio_to_native");
        if (r.empty() || Median(r) <= kDeviceLimitRatio) continue;
        std::string reason = Fixed(Median(r), 1) +
                             "x native's O_DIRECT figure on the same device "
                             "(limit " +
                             Fixed(kDeviceLimitRatio, 1) +
                             "x): served from a cache, "
                             "not the device";
        auto d = values(run_name, "direct");
        if (!d.empty() && std::any_of(d.begin(), d.end(), [](double x) { return x != 1; }))
          reason += "; the workload could not open its file with O_DIRECT (direct=0)";
        else
          reason += "; O_DIRECT was accepted but not honoured";
        for (auto* b : entries) {
          (*b)[f + "_ratio_to_native_flagged"] = (*b)[f + "_ratio_to_native"];
          b->erase(f + "_ratio_to_native");
          (*b)["flags"][f] = reason;
        }
      }
    }
  }

  // Aggregates of the derived keys, from the repetitions, as Google Benchmark computes its own
  // (stddev with n-1; cv = stddev / mean).
  for (auto* a : aggregates) {
    std::string run_name = a->value("run_name", "");
    std::string kind = a->value("aggregate_name", "");
    auto it = iterations.find(run_name);
    if (it == iterations.end()) continue;
    std::set<std::string> keys;
    for (const auto* b : it->second)
      for (auto kv = b->begin(); kv != b->end(); ++kv)
        if (IsDerivedKey(kv.key())) keys.insert(kv.key());
    for (const auto& k : keys) {
      auto v = values(run_name, k);
      if (v.empty()) continue;
      double n = static_cast<double>(v.size()), mean = 0;
      for (double x : v) mean += x / n;
      double ss = 0;
      for (double x : v) ss += (x - mean) * (x - mean);
      double stddev = v.size() > 1 ? std::sqrt(ss / (n - 1)) : 0;
      double out;
      if (kind == "mean")
        out = mean;
      else if (kind == "median")
        out = Median(v);
      else if (kind == "stddev")
        out = stddev;
      else if (kind == "cv")
        out = mean != 0 ? stddev / mean : 0;
      else if (kind == "min")
        out = *std::min_element(v.begin(), v.end());
      else if (kind == "max")
        out = *std::max_element(v.begin(), v.end());
      else
        continue;
      (*a)[k] = out;
    }
    if (!it->second.empty() && it->second.front()->contains("flags"))
      (*a)["flags"] = (*it->second.front())["flags"];
  }
  auto& context = doc["context"];
  context["throughput_ratio_rule"] = ThroughputRatioRule();
  if (!device_check.empty()) context["throughput_device_check"] = device_check;
  return Ok();
}

}  // namespace cvb::bench
