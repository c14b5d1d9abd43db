#include "cgroup/stats.h"

#include <cstdint>
#include <cstdlib>
#include <map>

#include "cvb/common/file.h"

namespace cvb::runtime::cgroup {
namespace {

using nlohmann::json;

constexpr const char* kHugepageSizes[] = {"64KB", "2MB", "32MB", "512MB", "1GB", "16GB"};

uint64_t ToU64(const std::string& text) {
  std::string t = Trim(text);
  if (t == "max") return UINT64_MAX;
  return std::strtoull(t.c_str(), nullptr, 10);
}

// A file holding one number; 0 when there is no such file.
uint64_t Number(sys::Sys& sys, const std::string& path) {
  auto text = sys.ReadFile(path);
  return text.ok() ? ToU64(*text) : 0;
}

// "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events).
std::map<std::string, uint64_t> KeyValues(sys::Sys& sys, const std::string& path) {
  std::map<std::string, uint64_t> out;
  auto text = sys.ReadFile(path);
  if (!text.ok()) return out;
  for (const auto& line : Split(*text, '\n')) {
    auto fields = Split(line, ' ');
    if (fields.size() == 2) out[fields[0]] = ToU64(fields[1]);
  }
  return out;
}

std::vector<uint64_t> Numbers(sys::Sys& sys, const std::string& path) {
  std::vector<uint64_t> out;
  auto text = sys.ReadFile(path);
  if (!text.ok()) return out;
  for (const auto& field : Split(Trim(*text), ' ')) out.push_back(ToU64(field));
  return out;
}

json MemoryEntry(uint64_t usage, uint64_t max, uint64_t limit, uint64_t failcnt) {
  return {{"usage", usage}, {"max", max}, {"limit", limit}, {"failcnt", failcnt}};
}

json V1MemoryEntry(sys::Sys& sys, const std::string& dir, const std::string& prefix) {
  const std::string p = dir + "/" + prefix;
  return MemoryEntry(Number(sys, p + "usage_in_bytes"), Number(sys, p + "max_usage_in_bytes"),
                     Number(sys, p + "limit_in_bytes"), Number(sys, p + "failcnt"));
}

// "8:0 Read 4096" lines (the "Total N" line has no device and is left out, as runc does).
json V1BlkioEntries(sys::Sys& sys, const std::string& path) {
  json out = json::array();
  auto text = sys.ReadFile(path);
  if (!text.ok()) return out;
  for (const auto& line : Split(*text, '\n')) {
    auto f = Split(line, ' ');
    if (f.size() != 3) continue;
    auto colon = f[0].find(':');
    if (colon == std::string::npos) continue;
    out.push_back({{"major", ToU64(f[0].substr(0, colon))},
                   {"minor", ToU64(f[0].substr(colon + 1))},
                   {"op", f[1]},
                   {"value", ToU64(f[2])}});
  }
  return out;
}

json EmptyBlkio() {
  return {{"ioServiceBytesRecursive", json::array()}, {"ioServicedRecursive", json::array()}};
}

json V1Stats(sys::Sys& sys, const std::map<std::string, std::string>& dirs, long ticks) {
  auto dir = [&](const char* c) {
    auto it = dirs.find(c);
    return it == dirs.end() ? std::string() : it->second;
  };
  json data;
  {
    const std::string acct = dir("cpuacct"), cpu = dir("cpu");
    auto stat =
        acct.empty() ? std::map<std::string, uint64_t>{} : KeyValues(sys, acct + "/cpuacct.stat");
    const uint64_t ns_per_tick = ticks > 0 ? 1000000000ull / static_cast<uint64_t>(ticks) : 0;
    auto throttle =
        cpu.empty() ? std::map<std::string, uint64_t>{} : KeyValues(sys, cpu + "/cpu.stat");
    data["cpu"] = {
        {"usage",
         {{"total", acct.empty() ? 0 : Number(sys, acct + "/cpuacct.usage")},
          {"percpu",
           acct.empty() ? std::vector<uint64_t>{} : Numbers(sys, acct + "/cpuacct.usage_percpu")},
          {"percpu_kernel", acct.empty() ? std::vector<uint64_t>{}
                                         : Numbers(sys, acct + "/cpuacct.usage_percpu_sys")},
          {"percpu_user", acct.empty() ? std::vector<uint64_t>{}
                                       : Numbers(sys, acct + "/cpuacct.usage_percpu_user")},
          {"kernel", stat["system"] * ns_per_tick},
          {"user", stat["user"] * ns_per_tick}}},
        {"throttling",
         {{"periods", throttle["nr_periods"]},
          {"throttled_periods", throttle["nr_throttled"]},
          {"throttled_time", throttle["throttled_time"]}}}};
  }
  {
    const std::string mem = dir("memory");
    json raw = json::object();
    if (!mem.empty())
      for (const auto& [k, v] : KeyValues(sys, mem + "/memory.stat")) raw[k] = v;
    data["memory"] = {
        {"cache", raw.value("cache", uint64_t{0})},
        {"usage", mem.empty() ? MemoryEntry(0, 0, 0, 0) : V1MemoryEntry(sys, mem, "memory.")},
        {"swap", mem.empty() ? MemoryEntry(0, 0, 0, 0) : V1MemoryEntry(sys, mem, "memory.memsw.")},
        {"kernel", mem.empty() ? MemoryEntry(0, 0, 0, 0) : V1MemoryEntry(sys, mem, "memory.kmem.")},
        {"kernelTCP",
         mem.empty() ? MemoryEntry(0, 0, 0, 0) : V1MemoryEntry(sys, mem, "memory.kmem.tcp.")},
        {"raw", raw}};
  }
  {
    const std::string pids = dir("pids");
    uint64_t limit = pids.empty() ? 0 : Number(sys, pids + "/pids.max");
    data["pids"] = {{"current", pids.empty() ? 0 : Number(sys, pids + "/pids.current")},
                    {"limit", limit == UINT64_MAX ? 0 : limit}};
  }
  {
    const std::string blkio = dir("blkio");
    data["blkio"] = EmptyBlkio();
    if (!blkio.empty()) {
      data["blkio"]["ioServiceBytesRecursive"] =
          V1BlkioEntries(sys, blkio + "/blkio.throttle.io_service_bytes_recursive");
      data["blkio"]["ioServicedRecursive"] =
          V1BlkioEntries(sys, blkio + "/blkio.throttle.io_serviced_recursive");
    }
  }
  data["hugetlb"] = json::object();
  if (const std::string h = dir("hugetlb"); !h.empty())
    for (const char* size : kHugepageSizes) {
      std::string p = h + "/hugetlb." + size + ".";
      if (!sys.Exists(p + "usage_in_bytes")) continue;
      data["hugetlb"][size] = {{"usage", Number(sys, p + "usage_in_bytes")},
                               {"max", Number(sys, p + "max_usage_in_bytes")},
                               {"failcnt", Number(sys, p + "failcnt")}};
    }
  return data;
}

json V2Stats(sys::Sys& sys, const std::string& dir) {
  json data;
  auto cpu = KeyValues(sys, dir + "/cpu.stat");
  data["cpu"] = {{"usage",
                  {{"total", cpu["usage_usec"] * 1000},
                   {"percpu", json::array()},
                   {"percpu_kernel", json::array()},
                   {"percpu_user", json::array()},
                   {"kernel", cpu["system_usec"] * 1000},
                   {"user", cpu["user_usec"] * 1000}}},
                 {"throttling",
                  {{"periods", cpu["nr_periods"]},
                   {"throttled_periods", cpu["nr_throttled"]},
                   {"throttled_time", cpu["throttled_usec"] * 1000}}}};
  json raw = json::object();
  for (const auto& [k, v] : KeyValues(sys, dir + "/memory.stat")) raw[k] = v;
  auto events = KeyValues(sys, dir + "/memory.events");
  uint64_t usage = Number(sys, dir + "/memory.current");
  uint64_t limit = sys.Exists(dir + "/memory.max") ? Number(sys, dir + "/memory.max") : 0;
  uint64_t swap = Number(sys, dir + "/memory.swap.current");
  uint64_t swap_max = Number(sys, dir + "/memory.swap.max");
  // As on v1 (memsw), "swap" counts memory + swap.
  uint64_t swap_limit =
      limit == UINT64_MAX || swap_max == UINT64_MAX ? UINT64_MAX : limit + swap_max;
  data["memory"] = {
      {"cache", raw.value("file", uint64_t{0})},
      {"usage", MemoryEntry(usage, Number(sys, dir + "/memory.peak"), limit, events["max"])},
      {"swap", MemoryEntry(usage + swap, 0, swap_limit, 0)},
      {"kernel", MemoryEntry(raw.value("kernel", uint64_t{0}), 0, 0, 0)},
      {"kernelTCP", MemoryEntry(raw.value("sock", uint64_t{0}), 0, 0, 0)},
      {"raw", raw}};
  uint64_t pids_limit = Number(sys, dir + "/pids.max");
  data["pids"] = {{"current", Number(sys, dir + "/pids.current")},
                  {"limit", pids_limit == UINT64_MAX ? 0 : pids_limit}};
  data["blkio"] = EmptyBlkio();
  if (auto io = sys.ReadFile(dir + "/io.stat"); io.ok()) {
    for (const auto& line : Split(*io, '\n')) {
      auto f = Split(line, ' ');
      if (f.empty()) continue;
      auto colon = f[0].find(':');
      if (colon == std::string::npos) continue;
      uint64_t major = ToU64(f[0].substr(0, colon)), minor = ToU64(f[0].substr(colon + 1));
      for (size_t i = 1; i < f.size(); ++i) {
        auto eq = f[i].find('=');
        if (eq == std::string::npos) continue;
        std::string key = f[i].substr(0, eq);
        uint64_t value = ToU64(f[i].substr(eq + 1));
        const char* list = key == "rbytes" || key == "wbytes" ? "ioServiceBytesRecursive"
                           : key == "rios" || key == "wios"   ? "ioServicedRecursive"
                                                              : nullptr;
        if (!list) continue;
        data["blkio"][list].push_back({{"major", major},
                                       {"minor", minor},
                                       {"op", key[0] == 'r' ? "Read" : "Write"},
                                       {"value", value}});
      }
    }
  }
  data["hugetlb"] = json::object();
  for (const char* size : kHugepageSizes) {
    std::string p = dir + "/hugetlb." + std::string(size) + ".";
    if (!sys.Exists(p + "current")) continue;
    data["hugetlb"][size] = {{"usage", Number(sys, p + "current")},
                             {"max", Number(sys, p + "max")},
                             {"failcnt", KeyValues(sys, p + "events")["max"]}};
  }
  return data;
}

}  // namespace

uint64_t OomKillCount(const std::string& memory_events) {
  for (const auto& line : Split(memory_events, '\n')) {
    auto f = Split(line, ' ');
    if (f.size() == 2 && f[0] == "oom_kill") return ToU64(f[1]);
  }
  return 0;
}

json ReadStats(sys::Sys& sys, const Host& host, const std::vector<std::string>& leaves,
               long clock_ticks) {
  if (host.mode == Host::Mode::kV2) {
    for (const auto& leaf : leaves)
      if (leaf.compare(0, host.unified_mount.size() + 1, host.unified_mount + "/") == 0)
        return V2Stats(sys, leaf);
    return V2Stats(sys, "");
  }
  std::map<std::string, std::string> dirs;
  for (const auto& h : host.v1)
    for (const auto& leaf : leaves)
      if (leaf.compare(0, h.mount.size() + 1, h.mount + "/") == 0)
        for (const auto& c : h.controllers) dirs[c] = leaf;
  return V1Stats(sys, dirs, clock_ticks);
}

}  // namespace cvb::runtime::cgroup
