#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "cvb/common/unique_fd.h"
#include "security.h"

namespace cvb::runtime {
namespace {

Result<uint32_t> Action(const std::string& name, std::optional<uint32_t> errno_ret,
                        const std::string& where) {
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(errno_ret.value_or(EPERM));
  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  return Failure(where + ": unknown action \"" + name + "\"");
}

scmp_compare Op(const std::string& op) {
  if (op == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (op == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (op == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (op == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (op == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (op == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return SCMP_CMP_EQ;
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};

}  // namespace

Result<SeccompProgram> CompileSeccomp(const Seccomp& sc) {
  CVB_ASSIGN_OR_RETURN(uint32_t def, Action(sc.default_action, sc.default_errno_ret,
                                            "linux.seccomp.defaultAction"));
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(def));
  if (!ctx) return Failure("linux.seccomp: seccomp_init failed");
  // no_new_privs is the runtime's business (process.noNewPrivileges), not libseccomp's.
  seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0);
  for (size_t i = 0; i < sc.architectures.size(); ++i) {
    std::string name = sc.architectures[i];
    if (name.rfind("SCMP_ARCH_", 0) == 0) name = name.substr(10);
    for (auto& ch : name) ch = static_cast<char>(tolower(ch));
    uint32_t arch = seccomp_arch_resolve_name(name.c_str());
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
