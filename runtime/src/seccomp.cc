#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "cvb/common/unique_fd.h"
#include "security.h"

namespace cvb::runtime {
namespace {

struct ActionEntry {
  const char* name;
  uint32_t action;  // with errno_ret (or EPERM) in the low bits for ERRNO / TRACE
  bool takes_errno;
};
constexpr ActionEntry kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
};

struct OperatorEntry {
  const char* name;
  scmp_compare op;
};
constexpr OperatorEntry kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// The runtime spec's architecture names; those libseccomp resolves are the supported ones.
constexpr const char* kSpecArchitectures[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB"};

struct FlagEntry {
  const char* name;
  unsigned flag;
};
constexpr FlagEntry kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

Result<uint32_t> Action(const std::string& name, std::optional<uint32_t> errno_ret,
                        const std::string& where) {
  for (const auto& a : kActions)
    if (name == a.name)
      return a.takes_errno ? a.action | (errno_ret.value_or(EPERM) & 0xffff) : a.action;
  return Failure(where + ": unknown action \"" + name + "\"");
}

scmp_compare Op(const std::string& op) {
  for (const auto& o : kOperators)
    if (op == o.name) return o.op;
  return SCMP_CMP_EQ;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

}  // namespace

uint32_t ResolveSeccompArchitecture(const std::string& spec_name) {
  std::string name = spec_name;
  if (name.rfind("SCMP_ARCH_", 0) == 0) name = name.substr(10);
  for (auto& ch : name) ch = static_cast<char>(tolower(ch));
  return seccomp_arch_resolve_name(name.c_str());
}

std::vector<std::string> SeccompActionNames() {
  std::vector<std::string> out;
  for (const auto& a : kActions) out.push_back(a.name);
  return out;
}

std::vector<std::string> SeccompOperatorNames() {
  std::vector<std::string> out;
  for (const auto& o : kOperators) out.push_back(o.name);
  return out;
}

std::vector<std::string> SeccompArchitectureNames() {
  // Those CompileSeccomp can add to a filter on this host: libseccomp resolves the name and
  // accepts it next to the native one (it refuses e.g. big-endian ones on x86_64).
  std::vector<std::string> out;
  for (const char* a : kSpecArchitectures) {
    uint32_t arch = ResolveSeccompArchitecture(a);
    if (arch == 0) continue;
    std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (!ctx) continue;
    int r = seccomp_arch_add(ctx.get(), arch);
    if (r == 0 || r == -EEXIST) out.push_back(a);
  }
  return out;
}

std::vector<std::string> SeccompFlagNames() {
  std::vector<std::string> out;
  for (const auto& f : kFlags) out.push_back(f.name);
  return out;
}

unsigned SeccompFlagValue(const std::string& name) {
  for (const auto& f : kFlags)
    if (name == f.name) return f.flag;
  return 0;
}

bool SeccompFlagSupported(const std::string& name) {
  unsigned flag = SeccompFlagValue(name);
  if (flag == 0) return false;
  // With a NULL program the kernel checks the flags first: EFAULT means it knows them.
  errno = 0;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, nullptr);
  return r < 0 && errno == EFAULT;
}

Result<SeccompProgram> CompileSeccomp(const Seccomp& sc) {
  CVB_ASSIGN_OR_RETURN(
      uint32_t def, Action(sc.default_action, sc.default_errno_ret, "linux.seccomp.defaultAction"));
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(def));
  if (!ctx) return Failure("linux.seccomp: seccomp_init failed");
  // no_new_privs is the runtime's business (process.noNewPrivileges), not libseccomp's.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < sc.architectures.size(); ++i) {
    uint32_t arch = ResolveSeccompArchitecture(sc.architectures[i]);
    if (arch == 0)
      return Failure("linux.seccomp.architectures[" + std::to_string(i) + "]: unknown \"" +
                     sc.architectures[i] + "\"");
    int r = seccomp_arch_add(ctx.get(), arch);
    if (r != 0 && r != -EEXIST)
      return Error{-r, "linux.seccomp.architectures[" + std::to_string(i) + "]"};
  }
  for (size_t i = 0; i < sc.syscalls.size(); ++i) {
    const auto& s = sc.syscalls[i];
    std::string where = "linux.seccomp.syscalls[" + std::to_string(i) + "]";
    CVB_ASSIGN_OR_RETURN(uint32_t action, Action(s.action, s.errno_ret, where + ".action"));
    if (action == def) continue;  // libseccomp refuses rules equal to the default
    std::vector<scmp_arg_cmp> cmps;
    for (const auto& a : s.args)
      cmps.push_back(scmp_arg_cmp{a.index, Op(a.op), a.value, a.value_two});
    for (const auto& name : s.names) {
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) continue;  // unknown on this kernel/arch: skip, as runc does
      int r = seccomp_rule_add_array(ctx.get(), action, nr, static_cast<unsigned>(cmps.size()),
                                     cmps.empty() ? nullptr : cmps.data());
      if (r != 0 && r != -EEXIST) return Error{-r, where + ": rule for " + name};
    }
  }
  UniqueFd mem(memfd_create("cvrun-seccomp", MFD_CLOEXEC));
  if (!mem) return ErrnoError("linux.seccomp: memfd_create");
  if (int r = seccomp_export_bpf(ctx.get(), mem.get()); r != 0)
    return Error{-r, "linux.seccomp: export BPF"};
  off_t size = lseek(mem.get(), 0, SEEK_END);
  SeccompProgram prog;
  prog.filter.resize(static_cast<size_t>(size) / sizeof(sock_filter));
  if (pread(mem.get(), prog.filter.data(), static_cast<size_t>(size), 0) != size)
    return ErrnoError("linux.seccomp: read BPF");
  return prog;
}

}  // namespace cvb::runtime
