#include "resources_unset.h"

#include <cstdint>
#include <initializer_list>

namespace cvb::runtime {
namespace {

using nlohmann::json;

bool IsZero(const json& v) {
  return (v.is_number_unsigned() && v.get<uint64_t>() == 0) ||
         (v.is_number_integer() && v.get<int64_t>() == 0);
}

// Erases the members of `object` named in `keys` whose value is the integer 0.
void EraseZeros(json& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it != object.end() && IsZero(*it)) object.erase(it);
  }
}

}  // namespace

void DropUnsetResourceValues(json& res) {
  if (!res.is_object()) return;
  if (auto m = res.find("memory"); m != res.end() && m->is_object()) {
    EraseZeros(*m, {"limit", "reservation", "swap", "kernel", "kernelTCP"});
    // runc: `int64(*MemorySwappiness) == -1` skips it; JSON carries it as 2^64-1.
    if (auto s = m->find("swappiness");
        s != m->end() && s->is_number_unsigned() && s->get<uint64_t>() == UINT64_MAX)
      m->erase(s);
    // runc writes memory.oom_control only for true.
    if (auto o = m->find("disableOOMKiller"); o != m->end() && o->is_boolean() && !o->get<bool>())
      m->erase(o);
  }
  if (auto c = res.find("cpu"); c != res.end() && c->is_object()) {
    EraseZeros(*c, {"shares", "quota", "period", "realtimeRuntime", "realtimePeriod"});
    for (const char* key : {"cpus", "mems"})
      if (auto s = c->find(key); s != c->end() && s->is_string() && s->get<std::string>().empty())
        c->erase(s);
  }
  if (auto p = res.find("pids"); p != res.end() && p->is_object()) {
    if (auto l = p->find("limit"); l != p->end() && IsZero(*l)) res.erase(p);
  }
  if (auto b = res.find("blockIO"); b != res.end() && b->is_object()) {
    EraseZeros(*b, {"weight", "leafWeight"});
    if (auto wd = b->find("weightDevice"); wd != b->end() && wd->is_array()) {
      json kept = json::array();
      for (auto& entry : *wd) {
        if (entry.is_object()) {
          EraseZeros(entry, {"weight", "leafWeight"});
          // major/minor alone set nothing: runc writes a weight device only for a non-zero weight.
          if (!entry.contains("weight") && !entry.contains("leafWeight")) continue;
        }
        kept.push_back(entry);
      }
      if (kept.empty()) b->erase(wd);
      else *wd = std::move(kept);
    }
  }
  if (auto n = res.find("network"); n != res.end() && n->is_object()) EraseZeros(*n, {"classID"});
  for (const char* key : {"rdma", "unified"})
    if (auto e = res.find(key); e != res.end() && e->is_object() && e->empty()) res.erase(e);
  for (const char* key : {"memory", "cpu", "blockIO", "network"})
    if (auto e = res.find(key); e != res.end() && e->is_object() && e->empty()) res.erase(e);
}

}  // namespace cvb::runtime
