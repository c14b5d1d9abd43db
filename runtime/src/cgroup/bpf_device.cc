#include "cgroup/bpf_device.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "cvb/common/unique_fd.h"

namespace cvb::runtime::cgroup {
namespace {

// Registers the program keeps the request in (loaded once from bpf_cgroup_dev_ctx).
constexpr uint8_t kCtx = BPF_REG_1;     // the context on entry, then scratch
constexpr uint8_t kType = BPF_REG_2;    // BPF_DEVCG_DEV_BLOCK / _CHAR
constexpr uint8_t kAccess = BPF_REG_3;  // BPF_DEVCG_ACC_* bits asked for
constexpr uint8_t kMajor = BPF_REG_4;
constexpr uint8_t kMinor = BPF_REG_5;
constexpr uint8_t kScratch = BPF_REG_1;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i{};
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

// A straight-line assembler with forward labels: jumps name a label, offsets are filled in when
// the program is finished.
class Assembler {
 public:
  using Label = size_t;
  Label NewLabel() {
    label_at_.push_back(kUnbound);
    return label_at_.size() - 1;
  }
  void Bind(Label l) { label_at_[l] = insns_.size(); }
  void Emit(bpf_insn i) { insns_.push_back(i); }
  // if (dst32 != imm) goto l   /   if (dst32 == imm) goto l
  void JumpIfNot(uint8_t dst, uint32_t imm, Label l) {
    Jump(BPF_JMP32 | BPF_JNE | BPF_K, dst, imm, l);
  }
  void JumpIf(uint8_t dst, uint32_t imm, Label l) {
    Jump(BPF_JMP32 | BPF_JEQ | BPF_K, dst, imm, l);
  }
  void Goto(Label l) { Jump(BPF_JMP | BPF_JA, 0, 0, l); }
  void Return(int32_t verdict) {
    Emit(Insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict));
    Emit(Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
  }
  std::vector<bpf_insn> Finish() {
    for (const auto& [at, label] : fixups_)
      insns_[at].off = static_cast<int16_t>(label_at_[label] - at - 1);
    return std::move(insns_);
  }

 private:
  static constexpr size_t kUnbound = SIZE_MAX;
  void Jump(uint8_t code, uint8_t dst, uint32_t imm, Label l) {
    fixups_.emplace_back(insns_.size(), l);
    Emit(Insn(code, dst, 0, 0, static_cast<int32_t>(imm)));
  }
  std::vector<bpf_insn> insns_;
  std::vector<size_t> label_at_;
  std::vector<std::pair<size_t, Label>> fixups_;
};

uint32_t AccessBits(const std::string& access) {
  uint32_t bits = 0;
  for (char c : access) {
    if (c == 'm') bits |= BPF_DEVCG_ACC_MKNOD;
    if (c == 'r') bits |= BPF_DEVCG_ACC_READ;
    if (c == 'w') bits |= BPF_DEVCG_ACC_WRITE;
  }
  return bits;
}

bool Fits32(const std::optional<int64_t>& v) { return !v || (*v >= 0 && *v <= UINT32_MAX); }

}  // namespace

std::vector<bpf_insn> DeviceProgram(const std::vector<DeviceRule>& rules) {
  Assembler a;
  // The request: type and access share the first word (access << 16 | type).
  a.Emit(
      Insn(BPF_LDX | BPF_W | BPF_MEM, kType, kCtx, offsetof(bpf_cgroup_dev_ctx, access_type), 0));
  a.Emit(
      Insn(BPF_LDX | BPF_W | BPF_MEM, kAccess, kCtx, offsetof(bpf_cgroup_dev_ctx, access_type), 0));
  a.Emit(Insn(BPF_LDX | BPF_W | BPF_MEM, kMajor, kCtx, offsetof(bpf_cgroup_dev_ctx, major), 0));
  a.Emit(Insn(BPF_LDX | BPF_W | BPF_MEM, kMinor, kCtx, offsetof(bpf_cgroup_dev_ctx, minor), 0));
  a.Emit(Insn(BPF_ALU | BPF_AND | BPF_K, kType, 0, 0, 0xffff));
  a.Emit(Insn(BPF_ALU | BPF_RSH | BPF_K, kAccess, 0, 0, 16));

  // The verifier rejects unreachable instructions, so the shared "deny" exit is emitted only
  // when some jump goes there.
  Assembler::Label deny = a.NewLabel();
  bool deny_used = false;
  for (uint32_t bit : {BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE}) {
    Assembler::Label next_bit = a.NewLabel();
    // Not asked for: nothing to decide.
    a.Emit(Insn(BPF_ALU | BPF_MOV | BPF_X, kScratch, kAccess, 0, 0));
    a.Emit(Insn(BPF_ALU | BPF_AND | BPF_K, kScratch, 0, 0, static_cast<int32_t>(bit)));
    a.JumpIf(kScratch, 0, next_bit);
    // The last matching rule decides: walk the rules backwards, the first match wins.
    bool decided = false;  // an earlier rule matched every device: the rest cannot be reached
    for (auto it = rules.rbegin(); it != rules.rend() && !decided; ++it) {
      const DeviceRule& r = *it;
      // "a" is every device with every access, as the v1 controller reads it.
      bool any_device = r.type == "a";
      if (!any_device && !(AccessBits(r.access) & bit)) continue;
      if (!any_device && (!Fits32(r.major) || !Fits32(r.minor))) continue;  // matches nothing
      Assembler::Label next_rule = a.NewLabel();
      bool conditional = false;
      if (!any_device) {
        a.JumpIfNot(kType, r.type == "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, next_rule);
        conditional = true;
        if (r.major) a.JumpIfNot(kMajor, static_cast<uint32_t>(*r.major), next_rule);
        if (r.minor) a.JumpIfNot(kMinor, static_cast<uint32_t>(*r.minor), next_rule);
      }
      a.Goto(r.allow ? next_bit : deny);
      deny_used |= !r.allow;
      if (conditional)
        a.Bind(next_rule);
      else
        decided = true;
    }
    if (!decided) {
      a.Goto(deny);  // no rule holds this bit for this device: default deny
      deny_used = true;
    }
    a.Bind(next_bit);
  }
  a.Return(1);
  if (deny_used) {
    a.Bind(deny);
    a.Return(0);
  }
  return a.Finish();
}

namespace {

long Bpf(int cmd, bpf_attr* attr) { return ::syscall(SYS_bpf, cmd, attr, sizeof *attr); }

Result<UniqueFd> OpenCgroupDir(const std::string& dir) {
  // Not O_PATH: BPF_PROG_ATTACH and BPF_PROG_QUERY refuse O_PATH descriptors.
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + dir);
  return fd;
}

Result<UniqueFd> LoadProgram(const std::vector<bpf_insn>& program) {
  // The program calls no helper, so the license string has no effect on what it may do.
  static const char kLicense[] = "GPL";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uintptr_t>(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = reinterpret_cast<uintptr_t>(kLicense);
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  int err = errno;
  if (err != EINVAL && err != EACCES)
    return Error{err, "bpf(BPF_PROG_LOAD, cgroup device program of " +
                          std::to_string(program.size()) + " instructions)"};
  // A verifier rejection: load again with the log on, to say why.
  std::string log(64 * 1024, '\0');
  attr.log_level = 1;
  attr.log_buf = reinterpret_cast<uintptr_t>(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  log.resize(std::strlen(log.c_str()));
  if (log.size() > 2000) log = "..." + log.substr(log.size() - 2000);
  return Error{err, "bpf(BPF_PROG_LOAD): the verifier refused the cgroup device program (" +
                        std::to_string(program.size()) + " instructions): " + log};
}

}  // namespace

Result<void> AttachDeviceProgram(const std::string& cgroup_dir,
                                 const std::vector<bpf_insn>& program) {
  CVB_ASSIGN_OR_RETURN(UniqueFd dir, OpenCgroupDir(cgroup_dir));
  CVB_ASSIGN_OR_RETURN(UniqueFd prog, LoadProgram(program));
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(dir.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0)
    return ErrnoError("bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) to " + cgroup_dir);
  return Ok();  // the attachment keeps the program; our fd closes here
}

Result<std::vector<uint32_t>> AttachedDevicePrograms(const std::string& cgroup_dir) {
  CVB_ASSIGN_OR_RETURN(UniqueFd dir, OpenCgroupDir(cgroup_dir));
  std::vector<uint32_t> ids(64);
  for (;;) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(dir.get());
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = reinterpret_cast<uintptr_t>(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    if (errno != ENOSPC || ids.size() >= 65536)
      return ErrnoError("bpf(BPF_PROG_QUERY, BPF_CGROUP_DEVICE) on " + cgroup_dir);
    ids.resize(ids.size() * 4);
  }
}

Result<void> DetachDevicePrograms(const std::string& cgroup_dir) {
  CVB_ASSIGN_OR_RETURN(auto ids, AttachedDevicePrograms(cgroup_dir));
  CVB_ASSIGN_OR_RETURN(UniqueFd dir, OpenCgroupDir(cgroup_dir));
  for (uint32_t id : ids) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // gone meanwhile
      return ErrnoError("bpf(BPF_PROG_GET_FD_BY_ID, " + std::to_string(id) + ")");
    }
    UniqueFd prog(static_cast<int>(fd));
    std::memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(dir.get());
    attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &attr) != 0 && errno != ENOENT)
      return ErrnoError("bpf(BPF_PROG_DETACH, program " + std::to_string(id) + ") from " +
                        cgroup_dir);
  }
  return Ok();
}

}  // namespace cvb::runtime::cgroup
