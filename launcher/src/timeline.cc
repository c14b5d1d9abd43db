#include "cvb/launcher/timeline.h"

#include "cvb/common/clock.h"

namespace cvb::launcher {

void Timeline::Mark(const std::string& name) { MarkAt(name, MonotonicNs()); }

void Timeline::MarkAt(const std::string& name, int64_t mono_ns) {
  for (auto& m : marks_) {
    if (m.first == name) {
      m.second = mono_ns;
      return;
    }
  }
  marks_.emplace_back(name, mono_ns);
}

std::optional<int64_t> Timeline::At(const std::string& name) const {
  for (const auto& m : marks_)
    if (m.first == name) return m.second;
  return std::nullopt;
}

std::optional<double> Timeline::SinceLaunchMs(const std::string& name) const {
  auto launch = At("launch");
  auto at = At(name);
  if (!launch || !at) return std::nullopt;
  return NsToMs(*at - *launch);
}

std::map<std::string, double> Timeline::Counters() const {
  std::map<std::string, double> out;
  for (const auto& [name, ns] : marks_) {
    if (name == "launch") continue;
    if (auto ms = SinceLaunchMs(name)) out[name + "_ms"] = *ms;
  }
  for (const auto& [name, v] : extras_) out[name] = v;
  return out;
}

}  // namespace cvb::launcher
