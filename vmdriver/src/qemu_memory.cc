#include "cvb/vmdriver/qemu_memory.h"

#include <cstdlib>
#include <sstream>

#include "cvb/common/file.h"

namespace cvb::vmdriver {
namespace {

struct Mapping {
  uint64_t size = 0;
  bool anonymous = false;
  bool executable = false;
  uint64_t rss = 0, pss = 0;
};

bool Field(const std::string& line, const char* name, uint64_t* kb) {
  size_t n = std::char_traits<char>::length(name);
  if (line.compare(0, n, name) != 0 || line.size() <= n || line[n] != ':') return false;
  *kb = std::strtoull(line.c_str() + n + 1, nullptr, 10) * 1024;
  return true;
}

}  // namespace

Result<QemuMemory> ParseQemuSmaps(const std::string& smaps, uint64_t guest_ram_bytes) {
  std::vector<Mapping> maps;
  QemuMemory m;
  uint64_t pclean = 0, pdirty = 0;
  std::istringstream in(smaps);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // A mapping header: "start-end perms offset dev inode [path]".
    size_t dash = line.find('-');
    if (dash != std::string::npos && dash > 0 &&
        std::isxdigit(static_cast<unsigned char>(line[0])) && line.find(':') > dash) {
      char* end = nullptr;
      uint64_t start = std::strtoull(line.c_str(), &end, 16);
      uint64_t stop = std::strtoull(line.c_str() + dash + 1, &end, 16);
      std::istringstream hdr(line);
      std::string range, perms, offset, dev, inode, path;
      hdr >> range >> perms >> offset >> dev >> inode >> path;
      Mapping mp;
      mp.size = stop - start;
      mp.anonymous = path.empty() && inode == "0";
      mp.executable = perms.size() > 2 && perms[2] == 'x';
      maps.push_back(mp);
      continue;
    }
    uint64_t v;
    if (Field(line, "Rss", &v)) {
      m.total.rss += v;
      if (!maps.empty()) maps.back().rss = v;
    } else if (Field(line, "Pss", &v)) {
      m.total.pss += v;
      if (!maps.empty()) maps.back().pss = v;
    } else if (Field(line, "Private_Clean", &v)) {
      pclean += v;
    } else if (Field(line, "Private_Dirty", &v)) {
      pdirty += v;
    } else if (Field(line, "Swap", &v)) {
      m.total.swap += v;
    }
  }
  if (maps.empty()) return Failure("smaps: no mappings");
  m.total.uss = pclean + pdirty;
  m.total.processes = 1;
  // QEMU maps guest RAM as one anonymous region of the guest's size (sometimes rounded up for
  // alignment): take the smallest anonymous mapping at least that big and at most 2 MiB more.
  const Mapping* best = nullptr;
  for (const auto& mp : maps) {
    if (!mp.anonymous || mp.size < guest_ram_bytes || mp.size > guest_ram_bytes + (2u << 20))
      continue;
    if (!best || mp.size < best->size) best = &mp;
  }
  // TCG's translation cache: QEMU maps it anonymous read-write-execute (no split-wx on Linux
  // hosts); nothing else in QEMU is anonymous and executable.
  for (const auto& mp : maps)
    if (mp.anonymous && mp.executable && &mp != best) {
      m.tcg_cache_rss += mp.rss;
      m.tcg_cache_pss += mp.pss;
    }
  if (best) {
    m.guest_ram_bytes = best->size;
    m.guest_ram_rss = best->rss;
    m.guest_ram_pss = best->pss;
  }
  return m;
}

Result<QemuMemory> ReadQemuMemory(pid_t pid, uint64_t guest_ram_bytes) {
  std::string path = "/proc/" + std::to_string(pid) + "/smaps";
  CVB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto m = ParseQemuSmaps(text, guest_ram_bytes);
  if (!m) return m.error().wrap(path);
  return m;
}

}  // namespace cvb::vmdriver
