// config.json → Spec. A Parser records the first error (with its JSON path) and keeps going with
// default values, so the parsing code reads as a plain walk over the document.
#include <sys/capability.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "cvb/common/file.h"
#include "cvb/runtime/spec.h"
#include "namespaces.h"
#include "resources_unset.h"
#include "security.h"

namespace cvb::runtime {
namespace {

using nlohmann::json;

std::string Join(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}
std::string Index(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

class Parser {
 public:
  bool failed() const { return error_.has_value(); }
  const Error& error() const { return *error_; }

  void Fail(const std::string& path, const std::string& what) {
    if (!error_) error_ = Failure(path + ": " + what);
  }

  // The member `key` of object `o`, or nullptr when absent (or null).
  const json* Member(const json& o, std::string_view key) {
    if (!o.is_object()) return nullptr;
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return nullptr;
    return &*it;
  }

  const json* Object(const json& o, std::string_view key, const std::string& base) {
    const json* v = Member(o, key);
    if (v && !v->is_object()) {
      Fail(Join(base, key), "expected an object");
      return nullptr;
    }
    return v;
  }

  const json* Array(const json& o, std::string_view key, const std::string& base) {
    const json* v = Member(o, key);
    if (v && !v->is_array()) {
      Fail(Join(base, key), "expected an array");
      return nullptr;
    }
    return v;
  }

  std::optional<std::string> Str(const json& o, std::string_view key, const std::string& base,
                                 bool required = false) {
    const json* v = Member(o, key);
    if (!v) {
      if (required) Fail(Join(base, key), "missing required field");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Fail(Join(base, key), "expected a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<bool> Bool(const json& o, std::string_view key, const std::string& base) {
    const json* v = Member(o, key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      Fail(Join(base, key), "expected a boolean");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<int64_t> Int(const json& o, std::string_view key, const std::string& base,
                             bool required = false) {
    const json* v = Member(o, key);
    if (!v) {
      if (required) Fail(Join(base, key), "missing required field");
      return std::nullopt;
    }
    return IntValue(*v, Join(base, key));
  }

  std::optional<int64_t> IntValue(const json& v, const std::string& path) {
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        Fail(path, "integer out of range");
        return std::nullopt;
      }
      return static_cast<int64_t>(u);
    }
    if (v.is_number_integer()) return v.get<int64_t>();
    Fail(path, "expected an integer");
    return std::nullopt;
  }

  std::optional<uint64_t> Uint(const json& o, std::string_view key, const std::string& base,
                               bool required = false) {
    const json* v = Member(o, key);
    if (!v) {
      if (required) Fail(Join(base, key), "missing required field");
      return std::nullopt;
    }
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    if (v->is_number_integer()) {
      Fail(Join(base, key), "expected a non-negative integer");
      return std::nullopt;
    }
    Fail(Join(base, key), "expected an integer");
    return std::nullopt;
  }

  std::optional<uint32_t> U32(const json& o, std::string_view key, const std::string& base,
                              bool required = false) {
    auto v = Uint(o, key, base, required);
    if (!v) return std::nullopt;
    if (*v > std::numeric_limits<uint32_t>::max()) {
      Fail(Join(base, key), "integer out of range");
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  std::vector<std::string> Strings(const json& o, std::string_view key, const std::string& base) {
    std::vector<std::string> out;
    const json* a = Array(o, key, base);
    if (!a) return out;
    std::string path = Join(base, key);
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_string()) {
        Fail(Index(path, i), "expected a string");
        continue;
      }
      out.push_back((*a)[i].get<std::string>());
    }
    return out;
  }

  std::map<std::string, std::string> StringMap(const json& o, std::string_view key,
                                               const std::string& base) {
    std::map<std::string, std::string> out;
    const json* m = Object(o, key, base);
    if (!m) return out;
    for (auto it = m->begin(); it != m->end(); ++it) {
      if (!it.value().is_string()) {
        Fail(Join(Join(base, key), it.key()), "expected a string");
        continue;
      }
      out[it.key()] = it.value().get<std::string>();
    }
    return out;
  }

 private:
  std::optional<Error> error_;
};

const std::map<std::string, int>& RlimitNames() {
  static const std::map<std::string, int> names = {
      {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
  };
  return names;
}

bool IsKnownCapability(const std::string& name) {
  cap_value_t v;
  return cap_from_name(name.c_str(), &v) == 0;
}

bool IsKnownSeccompAction(const std::string& a) {
  static const std::vector<std::string> names = SeccompActionNames();
  return std::find(names.begin(), names.end(), a) != names.end();
}

bool IsKnownSeccompOp(const std::string& op) {
  static const std::vector<std::string> names = SeccompOperatorNames();
  return std::find(names.begin(), names.end(), op) != names.end();
}

void ParseCapabilities(Parser& p, const json& o, const std::string& path, Capabilities& caps) {
  struct Set {
    const char* key;
    std::vector<std::string>* names;
  } sets[] = {{"bounding", &caps.bounding},
              {"effective", &caps.effective},
              {"inheritable", &caps.inheritable},
              {"permitted", &caps.permitted},
              {"ambient", &caps.ambient}};
  for (auto& set : sets) {
    *set.names = p.Strings(o, set.key, path);
    for (size_t i = 0; i < set.names->size(); ++i)
      if (!IsKnownCapability((*set.names)[i]))
        p.Fail(Index(Join(path, set.key), i), "unknown capability \"" + (*set.names)[i] + "\"");
  }
}

void ParseProcess(Parser& p, const json& o, Process& proc) {
  const std::string base = "process";
  proc.terminal = p.Bool(o, "terminal", base).value_or(false);
  if (const json* u = p.Object(o, "user", base)) {
    const std::string ub = "process.user";
    proc.user.uid = p.U32(*u, "uid", ub).value_or(0);
    proc.user.gid = p.U32(*u, "gid", ub).value_or(0);
    proc.user.umask = p.U32(*u, "umask", ub);
    if (const json* g = p.Array(*u, "additionalGids", ub)) {
      for (size_t i = 0; i < g->size(); ++i) {
        const json& v = (*g)[i];
        if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xffffffffu) {
          p.Fail(Index("process.user.additionalGids", i), "expected a non-negative integer");
          continue;
        }
        proc.user.additional_gids.push_back(v.get<uint32_t>());
      }
    }
  }
  proc.args = p.Strings(o, "args", base);
  if (!p.Member(o, "args")) p.Fail("process.args", "missing required field");
  else if (proc.args.empty() && !p.failed()) p.Fail("process.args", "must not be empty");
  proc.env = p.Strings(o, "env", base);
  for (size_t i = 0; i < proc.env.size(); ++i)
    if (proc.env[i].find('=') == std::string::npos)
      p.Fail(Index("process.env", i), "expected KEY=VALUE");
  proc.cwd = p.Str(o, "cwd", base, /*required=*/true).value_or("/");
  if (!proc.cwd.empty() && proc.cwd[0] != '/' && !p.failed())
    p.Fail("process.cwd", "must be an absolute path");
  if (const json* c = p.Object(o, "capabilities", base)) {
    proc.capabilities.emplace();
    ParseCapabilities(p, *c, "process.capabilities", *proc.capabilities);
  }
  if (const json* r = p.Array(o, "rlimits", base)) {
    for (size_t i = 0; i < r->size(); ++i) {
      std::string rb = Index("process.rlimits", i);
      Rlimit lim;
      lim.type = p.Str((*r)[i], "type", rb, true).value_or("");
      lim.soft = p.Uint((*r)[i], "soft", rb, true).value_or(0);
      lim.hard = p.Uint((*r)[i], "hard", rb, true).value_or(0);
      auto it = RlimitNames().find(lim.type);
      if (!lim.type.empty() && it == RlimitNames().end())
        p.Fail(rb + ".type", "unknown rlimit \"" + lim.type + "\"");
      else if (it != RlimitNames().end())
        lim.resource = it->second;
      if (lim.soft > lim.hard) p.Fail(rb, "soft limit is above the hard limit");
      proc.rlimits.push_back(lim);
    }
  }
  proc.no_new_privileges = p.Bool(o, "noNewPrivileges", base).value_or(false);
  // Labels cvrun cannot apply are refused rather than running the process unconfined; an empty
  // one asks for nothing.
  if (!p.Str(o, "apparmorProfile", base).value_or("").empty())
    p.Fail(Join(base, "apparmorProfile"), "AppArmor profiles are not supported by cvrun");
  if (!p.Str(o, "selinuxLabel", base).value_or("").empty())
    p.Fail(Join(base, "selinuxLabel"), "SELinux labels are not supported by cvrun");
  if (auto adj = p.Int(o, "oomScoreAdj", base)) {
    if (*adj < -1000 || *adj > 1000) p.Fail("process.oomScoreAdj", "must be in [-1000, 1000]");
    proc.oom_score_adj = static_cast<int>(*adj);
  }
}

void ParseMounts(Parser& p, const json& o, std::vector<Mount>& mounts) {
  const json* a = p.Array(o, "mounts", "");
  if (!a) return;
  for (size_t i = 0; i < a->size(); ++i) {
    std::string mb = Index("mounts", i);
    if (!(*a)[i].is_object()) {
      p.Fail(mb, "expected an object");
      continue;
    }
    Mount m;
    m.destination = p.Str((*a)[i], "destination", mb, true).value_or("");
    m.type = p.Str((*a)[i], "type", mb).value_or("");
    m.source = p.Str((*a)[i], "source", mb).value_or("");
    m.options = p.Strings((*a)[i], "options", mb);
    if (!m.destination.empty() && m.destination[0] != '/')
      p.Fail(mb + ".destination", "must be an absolute path");
    bool bind = m.type == "bind";
    for (const auto& opt : m.options) bind |= opt == "bind" || opt == "rbind";
    if (m.type.empty() && !bind) p.Fail(mb + ".type", "missing (required unless a bind mount)");
    if (bind && m.source.empty()) p.Fail(mb + ".source", "a bind mount needs a source");
    for (const auto& opt : m.options)
      if (opt == "idmap" || opt == "ridmap")
        p.Fail(mb + ".options", "\"" + opt + "\" (id-mapped mounts) is not supported by cvrun");
    mounts.push_back(std::move(m));
  }
}

std::vector<Hook> ParseHookList(Parser& p, const json& o, const char* key) {
  std::vector<Hook> hooks;
  const json* a = p.Array(o, key, "hooks");
  if (!a) return hooks;
  for (size_t i = 0; i < a->size(); ++i) {
    std::string hb = Index(std::string("hooks.") + key, i);
    Hook h;
    h.path = p.Str((*a)[i], "path", hb, true).value_or("");
    h.args = p.Strings((*a)[i], "args", hb);
    h.env = p.Strings((*a)[i], "env", hb);
    h.env_set = p.Member((*a)[i], "env") != nullptr;
    if (auto t = p.Int((*a)[i], "timeout", hb)) {
      if (*t <= 0) p.Fail(hb + ".timeout", "must be positive");
      h.timeout_s = static_cast<int>(*t);
    }
    if (!h.path.empty() && h.path[0] != '/') p.Fail(hb + ".path", "must be an absolute path");
    hooks.push_back(std::move(h));
  }
  return hooks;
}

std::vector<IdMapping> ParseMappings(Parser& p, const json& o, const char* key) {
  std::vector<IdMapping> out;
  const json* a = p.Array(o, key, "linux");
  if (!a) return out;
  for (size_t i = 0; i < a->size(); ++i) {
    std::string b = Index(std::string("linux.") + key, i);
    IdMapping m;
    m.container_id = p.U32((*a)[i], "containerID", b, true).value_or(0);
    m.host_id = p.U32((*a)[i], "hostID", b, true).value_or(0);
    m.size = p.U32((*a)[i], "size", b, true).value_or(0);
    out.push_back(m);
  }
  return out;
}

// The linux.resources members ParseResources reads. Any other member is refused, by create and by
// update alike, so that nothing a config asks for is dropped silently (e.g. cpu.realtimeRuntime,
// rdma, memory.useHierarchy). Returns the first unknown member's path.
std::optional<std::string> UnknownResourceField(const json& doc) {
  static const std::map<std::string, std::vector<std::string>> kKnown = {
      {"memory", {"limit", "reservation", "swap", "swappiness", "kernelTCP", "disableOOMKiller",
                  "kernel"}},
      {"cpu", {"shares", "quota", "period", "cpus", "mems"}},
      {"pids", {"limit"}},
      {"devices", {}},
      {"blockIO",
       {"weight", "leafWeight", "weightDevice", "throttleReadBpsDevice", "throttleWriteBpsDevice",
        "throttleReadIOPSDevice", "throttleWriteIOPSDevice"}},
      {"hugepageLimits", {}},
      {"network", {"classID", "priorities"}},
      {"rdma", {}},  // refused by ParseResources with its own reason
      {"unified", {}}};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (it.value().is_null()) continue;
    auto known = kKnown.find(it.key());
    if (known == kKnown.end()) return "linux.resources." + it.key();
    if (!it.value().is_object() || known->second.empty()) continue;
    for (auto f = it.value().begin(); f != it.value().end(); ++f) {
      if (f.value().is_null()) continue;
      if (std::find(known->second.begin(), known->second.end(), f.key()) == known->second.end())
        return "linux.resources." + it.key() + "." + f.key();
    }
  }
  return std::nullopt;
}

void ParseResources(Parser& p, const json& given, Resources& res) {
  // Zeros that runc reads as "not set" (Docker sends blockIO.weight 0 on every container) are
  // not settings: dropped before anything is checked or planned.
  json o = given;
  DropUnsetResourceValues(o);
  if (auto unknown = UnknownResourceField(o)) {
    p.Fail(*unknown, "cvrun cannot apply this field");
    return;
  }
  const std::string base = "linux.resources";
  if (const json* m = p.Object(o, "memory", base)) {
    const std::string mb = base + ".memory";
    MemoryResources mem;
    mem.limit = p.Int(*m, "limit", mb);
    mem.reservation = p.Int(*m, "reservation", mb);
    mem.swap = p.Int(*m, "swap", mb);
    mem.swappiness = p.Uint(*m, "swappiness", mb);
    mem.kernel_tcp = p.Int(*m, "kernelTCP", mb);
    mem.disable_oom_killer = p.Bool(*m, "disableOOMKiller", mb);
    // memory.kernel (kmem limits) is deprecated in the spec and gone from cgroup v2.
    if (p.Member(*m, "kernel")) p.Fail(mb + ".kernel", "kernel memory limits are not supported");
    if (mem.swappiness && *mem.swappiness > 100) p.Fail(mb + ".swappiness", "must be in [0, 100]");
    if (mem.limit && *mem.limit < -1) p.Fail(mb + ".limit", "must be -1 or positive");
    if (mem.limit && mem.swap && *mem.swap > 0 && *mem.limit > 0 && *mem.swap < *mem.limit)
      p.Fail(mb + ".swap", "must be at least memory.limit (it counts memory + swap)");
    res.memory = mem;
  }
  if (const json* c = p.Object(o, "cpu", base)) {
    const std::string cb = base + ".cpu";
    CpuResources cpu;
    cpu.shares = p.Uint(*c, "shares", cb);
    cpu.quota = p.Int(*c, "quota", cb);
    cpu.period = p.Uint(*c, "period", cb);
    cpu.cpus = p.Str(*c, "cpus", cb).value_or("");
    cpu.mems = p.Str(*c, "mems", cb).value_or("");
    res.cpu = cpu;
  }
  if (const json* pids = p.Object(o, "pids", base))
    res.pids_limit = p.Int(*pids, "limit", base + ".pids", true);
  res.unified = p.StringMap(o, "unified", base);
  if (const json* a = p.Array(o, "devices", base)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string db = Index(base + ".devices", i);
      DeviceRule r;
      auto allow = p.Bool((*a)[i], "allow", db);
      if (!allow && !p.failed()) p.Fail(db + ".allow", "missing required field");
      r.allow = allow.value_or(false);
      r.type = p.Str((*a)[i], "type", db).value_or("a");
      if (r.type != "a" && r.type != "c" && r.type != "b")
        p.Fail(db + ".type", "expected one of a, c, b");
      r.major = p.Int((*a)[i], "major", db);
      r.minor = p.Int((*a)[i], "minor", db);
      if (r.major && *r.major < 0) r.major.reset();  // -1 means any, as runc reads it
      if (r.minor && *r.minor < 0) r.minor.reset();
      r.access = p.Str((*a)[i], "access", db).value_or("rwm");
      if (r.access.empty()) r.access = "rwm";
      for (char c : r.access)
        if (c != 'r' && c != 'w' && c != 'm') p.Fail(db + ".access", "expected letters of rwm");
      res.devices.push_back(std::move(r));
    }
  }
  if (const json* b = p.Object(o, "blockIO", base)) {
    const std::string bb = base + ".blockIO";
    BlockIo io;
    auto weight = [&](const json& obj, const char* key, const std::string& where) {
      std::optional<uint16_t> out;
      if (auto w = p.Uint(obj, key, where)) {
        if (*w < 10 || *w > 1000) p.Fail(Join(where, key), "must be in [10, 1000]");
        out = static_cast<uint16_t>(*w);
      }
      return out;
    };
    io.weight = weight(*b, "weight", bb);
    io.leaf_weight = weight(*b, "leafWeight", bb);
    auto devices = [&](const char* key, bool throttle) {
      std::vector<BlockIoDevice> out;
      const json* a = p.Array(*b, key, bb);
      if (!a) return out;
      for (size_t i = 0; i < a->size(); ++i) {
        std::string db = Index(bb + "." + key, i);
        BlockIoDevice d;
        d.major = p.Int((*a)[i], "major", db, true).value_or(0);
        d.minor = p.Int((*a)[i], "minor", db, true).value_or(0);
        if (throttle) {
          d.rate = p.Uint((*a)[i], "rate", db, true).value_or(0);
        } else {
          d.weight = weight((*a)[i], "weight", db);
          d.leaf_weight = weight((*a)[i], "leafWeight", db);
        }
        out.push_back(d);
      }
      return out;
    };
    io.weight_device = devices("weightDevice", false);
    io.throttle_read_bps = devices("throttleReadBpsDevice", true);
    io.throttle_write_bps = devices("throttleWriteBpsDevice", true);
    io.throttle_read_iops = devices("throttleReadIOPSDevice", true);
    io.throttle_write_iops = devices("throttleWriteIOPSDevice", true);
    res.block_io = std::move(io);
  }
  if (const json* a = p.Array(o, "hugepageLimits", base)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string hb = Index(base + ".hugepageLimits", i);
      HugepageLimit h;
      h.page_size = p.Str((*a)[i], "pageSize", hb, true).value_or("");
      h.limit = p.Uint((*a)[i], "limit", hb, true).value_or(0);
      res.hugepage_limits.push_back(std::move(h));
    }
  }
  if (const json* n = p.Object(o, "network", base)) {
    const std::string nb = base + ".network";
    NetworkResources net;
    net.class_id = p.U32(*n, "classID", nb);
    if (const json* a = p.Array(*n, "priorities", nb)) {
      for (size_t i = 0; i < a->size(); ++i) {
        std::string pb = Index(nb + ".priorities", i);
        std::string name = p.Str((*a)[i], "name", pb, true).value_or("");
        uint32_t prio = p.U32((*a)[i], "priority", pb, true).value_or(0);
        if (name.find_first_of(" \n/") != std::string::npos)
          p.Fail(pb + ".name", "invalid interface name");
        net.priorities.push_back({name, prio});
      }
    }
    res.network = std::move(net);
  }
  if (p.Member(o, "rdma")) p.Fail(base + ".rdma", "not supported by cvrun");
}

void ParseSeccomp(Parser& p, const json& o, Seccomp& sc) {
  const std::string base = "linux.seccomp";
  sc.default_action = p.Str(o, "defaultAction", base, true).value_or("");
  if (!sc.default_action.empty() && !IsKnownSeccompAction(sc.default_action))
    p.Fail(base + ".defaultAction", "unknown action \"" + sc.default_action + "\"");
  sc.default_errno_ret = p.U32(o, "defaultErrnoRet", base);
  sc.architectures = p.Strings(o, "architectures", base);
  sc.flags = p.Strings(o, "flags", base);
  for (size_t i = 0; i < sc.flags.size(); ++i) {
    const std::string& f = sc.flags[i];
    if (SeccompFlagValue(f) == 0)
      p.Fail(Index(base + ".flags", i), "unsupported flag \"" + f + "\"");
  }
  if (p.Member(o, "listenerPath")) p.Fail(base + ".listenerPath", "not supported by cvrun");
  const json* a = p.Array(o, "syscalls", base);
  if (!a) return;
  for (size_t i = 0; i < a->size(); ++i) {
    std::string sb = Index(base + ".syscalls", i);
    SeccompSyscall s;
    s.names = p.Strings((*a)[i], "names", sb);
    if (s.names.empty() && !p.failed()) p.Fail(sb + ".names", "missing or empty");
    s.action = p.Str((*a)[i], "action", sb, true).value_or("");
    if (!s.action.empty() && !IsKnownSeccompAction(s.action))
      p.Fail(sb + ".action", "unknown action \"" + s.action + "\"");
    s.errno_ret = p.U32((*a)[i], "errnoRet", sb);
    if (const json* args = p.Array((*a)[i], "args", sb)) {
      for (size_t j = 0; j < args->size(); ++j) {
        std::string ab = Index(sb + ".args", j);
        SeccompArg arg;
        arg.index = p.U32((*args)[j], "index", ab, true).value_or(0);
        arg.value = p.Uint((*args)[j], "value", ab, true).value_or(0);
        arg.value_two = p.Uint((*args)[j], "valueTwo", ab).value_or(0);
        arg.op = p.Str((*args)[j], "op", ab, true).value_or("");
        if (arg.index > 5) p.Fail(ab + ".index", "must be in [0, 5]");
        if (!arg.op.empty() && !IsKnownSeccompOp(arg.op))
          p.Fail(ab + ".op", "unknown operator \"" + arg.op + "\"");
        s.args.push_back(arg);
      }
    }
    sc.syscalls.push_back(std::move(s));
  }
}

void ParseLinux(Parser& p, const json& o, Linux& lx) {
  const std::string base = "linux";
  if (const json* a = p.Array(o, "namespaces", base)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string nb = Index("linux.namespaces", i);
      Namespace ns;
      ns.type = p.Str((*a)[i], "type", nb, true).value_or("");
      ns.path = p.Str((*a)[i], "path", nb).value_or("");
      bool known = NamespaceFlag(ns.type) != 0;
      if (!ns.type.empty() && !known)
        p.Fail(nb + ".type", "unknown namespace type \"" + ns.type + "\"");
      for (const auto& prev : lx.namespaces)
        if (prev.type == ns.type && known) p.Fail(nb + ".type", "duplicate namespace " + ns.type);
      if (!ns.path.empty() && ns.path[0] != '/')
        p.Fail(nb + ".path", "must be an absolute path");
      lx.namespaces.push_back(std::move(ns));
    }
  }
  lx.uid_mappings = ParseMappings(p, o, "uidMappings");
  lx.gid_mappings = ParseMappings(p, o, "gidMappings");
  if (const json* a = p.Array(o, "devices", base)) {
    for (size_t i = 0; i < a->size(); ++i) {
      std::string db = Index("linux.devices", i);
      Device d;
      d.type = p.Str((*a)[i], "type", db, true).value_or("");
      d.path = p.Str((*a)[i], "path", db, true).value_or("");
      d.major = p.Int((*a)[i], "major", db).value_or(0);
      d.minor = p.Int((*a)[i], "minor", db).value_or(0);
      d.file_mode = p.U32((*a)[i], "fileMode", db);
      d.uid = p.U32((*a)[i], "uid", db);
      d.gid = p.U32((*a)[i], "gid", db);
      if (!d.type.empty() && d.type != "c" && d.type != "b" && d.type != "u" && d.type != "p")
        p.Fail(db + ".type", "expected one of c, b, u, p");
      if (!d.path.empty() && d.path.rfind("/dev/", 0) != 0)
        p.Fail(db + ".path", "must be under /dev/");
      for (const auto& part : Split(d.path, '/'))
        if (part == "..") p.Fail(db + ".path", "must not contain \"..\"");
      if ((d.type == "c" || d.type == "b") &&
          (!p.Member((*a)[i], "major") || !p.Member((*a)[i], "minor")))
        p.Fail(db, "a c or b device needs major and minor");
      lx.devices.push_back(std::move(d));
    }
  }
  lx.cgroups_path = p.Str(o, "cgroupsPath", base).value_or("");
  if (const json* r = p.Object(o, "resources", base)) ParseResources(p, *r, lx.resources);
  lx.masked_paths = p.Strings(o, "maskedPaths", base);
  lx.readonly_paths = p.Strings(o, "readonlyPaths", base);
  for (size_t i = 0; i < lx.masked_paths.size(); ++i)
    if (lx.masked_paths[i].empty() || lx.masked_paths[i][0] != '/')
      p.Fail(Index("linux.maskedPaths", i), "must be an absolute path");
  for (size_t i = 0; i < lx.readonly_paths.size(); ++i)
    if (lx.readonly_paths[i].empty() || lx.readonly_paths[i][0] != '/')
      p.Fail(Index("linux.readonlyPaths", i), "must be an absolute path");
  lx.sysctl = p.StringMap(o, "sysctl", base);
  for (const auto& [key, value] : lx.sysctl)
    if (key.find('/') != std::string::npos || key.find("..") != std::string::npos)
      p.Fail("linux.sysctl." + key, "invalid sysctl name");
  if (const json* s = p.Object(o, "seccomp", base)) {
    lx.seccomp.emplace();
    ParseSeccomp(p, *s, *lx.seccomp);
  }
  for (const char* key : {"intelRdt", "timeOffsets", "personality"})
    if (p.Member(o, key)) p.Fail(Join(base, key), "not supported by cvrun");
  if (!p.Str(o, "mountLabel", base).value_or("").empty())
    p.Fail(Join(base, "mountLabel"), "SELinux labels are not supported by cvrun");
  lx.rootfs_propagation = p.Str(o, "rootfsPropagation", base).value_or("");
  if (!lx.rootfs_propagation.empty()) {
    static const char* const kProps[] = {"private", "rprivate", "slave", "rslave",
                                         "shared",  "rshared",  "unbindable", "runbindable"};
    bool ok = false;
    for (const char* k : kProps) ok |= lx.rootfs_propagation == k;
    if (!ok) p.Fail("linux.rootfsPropagation", "unknown propagation \"" +
                                                   lx.rootfs_propagation + "\"");
  }
}

}  // namespace

bool Spec::HasNamespace(std::string_view type) const { return FindNamespace(type) != nullptr; }

const Namespace* Spec::FindNamespace(std::string_view type) const {
  for (const auto& ns : linux.namespaces)
    if (ns.type == type) return &ns;
  return nullptr;
}

Result<Spec> ParseSpec(std::string_view json_text) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again with a callback-free SAX to find where it broke, for the message.
    struct Locator : nlohmann::json_sax<json> {
      size_t where = 0;
      std::string what;
      bool null() override { return true; }
      bool boolean(bool) override { return true; }
      bool number_integer(number_integer_t) override { return true; }
      bool number_unsigned(number_unsigned_t) override { return true; }
      bool number_float(number_float_t, const string_t&) override { return true; }
      bool string(string_t&) override { return true; }
      bool binary(binary_t&) override { return true; }
      bool start_object(std::size_t) override { return true; }
      bool key(string_t&) override { return true; }
      bool end_object() override { return true; }
      bool start_array(std::size_t) override { return true; }
      bool end_array() override { return true; }
      bool parse_error(std::size_t pos, const std::string&,
                       const nlohmann::detail::exception& ex) override {
        where = pos;
        what = ex.what();
        return false;
      }
    } locator;
    json::sax_parse(json_text.begin(), json_text.end(), &locator, json::input_format_t::json,
                    /*strict=*/true);
    return Failure("config.json: malformed JSON at byte " + std::to_string(locator.where) +
                   (locator.what.empty() ? "" : " (" + locator.what + ")"));
  }
  if (!doc.is_object()) return Failure("config.json: expected a JSON object at the top level");
  Parser p;
  Spec spec;
  spec.oci_version = p.Str(doc, "ociVersion", "", true).value_or("");
  if (!spec.oci_version.empty() && spec.oci_version.rfind("1.", 0) != 0)
    p.Fail("ociVersion", "unsupported version \"" + spec.oci_version + "\" (need 1.x)");
  if (const json* proc = p.Object(doc, "process", "")) ParseProcess(p, *proc, spec.process);
  else p.Fail("process", "missing required field");
  if (const json* root = p.Object(doc, "root", "")) {
    spec.root.path = p.Str(*root, "path", "root", true).value_or("");
    spec.root.readonly = p.Bool(*root, "readonly", "root").value_or(false);
    if (spec.root.path.empty() && !p.failed()) p.Fail("root.path", "must not be empty");
  } else {
    p.Fail("root", "missing required field");
  }
  spec.hostname = p.Str(doc, "hostname", "").value_or("");
  spec.domainname = p.Str(doc, "domainname", "").value_or("");
  ParseMounts(p, doc, spec.mounts);
  if (const json* hooks = p.Object(doc, "hooks", "")) {
    spec.hooks.prestart = ParseHookList(p, *hooks, "prestart");
    spec.hooks.create_runtime = ParseHookList(p, *hooks, "createRuntime");
    spec.hooks.create_container = ParseHookList(p, *hooks, "createContainer");
    spec.hooks.start_container = ParseHookList(p, *hooks, "startContainer");
    spec.hooks.poststart = ParseHookList(p, *hooks, "poststart");
    spec.hooks.poststop = ParseHookList(p, *hooks, "poststop");
  }
  spec.annotations = p.StringMap(doc, "annotations", "");
  if (const json* lx = p.Object(doc, "linux", "")) ParseLinux(p, *lx, spec.linux);
  if (!p.failed()) {
    // Cross-field checks.
    if (!spec.hostname.empty() && !spec.HasNamespace("uts"))
      p.Fail("hostname", "setting a hostname needs a new uts namespace");
    if (spec.HasNamespace("user") && spec.linux.uid_mappings.empty() &&
        spec.FindNamespace("user")->path.empty())
      p.Fail("linux.uidMappings", "a new user namespace needs uid mappings");
    {
      for (const auto& [key, value] : spec.linux.sysctl) {
        bool net = key.rfind("net.", 0) == 0;
        bool ipc = key.rfind("kernel.shm", 0) == 0 || key.rfind("kernel.msg", 0) == 0 ||
                   key == "kernel.sem" || key.rfind("fs.mqueue.", 0) == 0;
        bool uts = key == "kernel.hostname" || key == "kernel.domainname";
        if (net && !spec.HasNamespace("network"))
          p.Fail("linux.sysctl." + key, "needs a network namespace");
        else if (ipc && !spec.HasNamespace("ipc"))
          p.Fail("linux.sysctl." + key, "needs an ipc namespace");
        else if (!net && !ipc && !uts)
          p.Fail("linux.sysctl." + key, "not a namespaced sysctl");
      }
    }
  }
  if (p.failed()) return p.error();
  return spec;
}

Result<Resources> ParseResourcesJson(std::string_view json_text) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Failure("linux.resources: malformed JSON");
  if (!doc.is_object()) return Failure("linux.resources: expected a JSON object");
  Parser p;
  Resources res;
  ParseResources(p, doc, res);
  if (p.failed()) return p.error();
  return res;
}

Result<Process> ParseProcessJson(std::string_view json_text) {
  json doc = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Failure("malformed JSON (expected an object)");
  Parser p;
  Process process;
  ParseProcess(p, doc, process);
  if (p.failed()) return p.error();
  return process;
}

Result<Spec> ParseBundleSpec(std::string_view json_text, const std::string& source,
                             const std::string& bundle_dir) {
  auto spec = ParseSpec(json_text);
  if (!spec.ok()) return spec.error().wrap(source);
  if (spec->root.path[0] != '/') spec->root.path = bundle_dir + "/" + spec->root.path;
  return spec;
}

Result<Spec> LoadSpec(const std::string& bundle_dir, std::string* config_text) {
  std::string path = bundle_dir + "/config.json";
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  auto spec = ParseBundleSpec(*text, path, bundle_dir);
  if (!spec.ok()) return spec.error();
  if (config_text) *config_text = std::move(text).value();
  struct stat st;
  if (::stat(spec->root.path.c_str(), &st) != 0)
    return Error{errno, path + ": root.path: rootfs " + spec->root.path};
  if (!S_ISDIR(st.st_mode))
    return Failure(path + ": root.path: rootfs " + spec->root.path + " is not a directory");
  return spec;
}

}  // namespace cvb::runtime
