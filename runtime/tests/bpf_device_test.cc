// The cgroup v2 device program (cgroup/bpf_device.h), checked without a kernel: a small
// interpreter of the instructions DeviceProgram emits runs them on requests, after the checks
// the kernel's verifier would make (known opcodes only, every jump forward and inside the
// program, every instruction reachable, r0 set before exit, verdict 0 or 1). Its decisions are
// compared with hand-written expectations and, for many random rule lists, with a direct
// reading of the rules ("per access bit, the last matching rule wins; default deny").
#include "cgroup/bpf_device.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "cgroup/manager.h"

namespace cvb::runtime::cgroup {
namespace {

struct Request {
  char type;  // 'c' or 'b'
  uint32_t major, minor;
  std::string access;  // letters of "mrw"
};

uint32_t Bits(const std::string& access) {
  uint32_t b = 0;
  for (char c : access)
    b |= c == 'm' ? BPF_DEVCG_ACC_MKNOD : c == 'r' ? BPF_DEVCG_ACC_READ : BPF_DEVCG_ACC_WRITE;
  return b;
}

// What the kernel's verifier would refuse, as text ("" when none).
std::string Verify(const std::vector<bpf_insn>& prog) {
  const std::set<uint8_t> known = {BPF_LDX | BPF_W | BPF_MEM,   BPF_ALU | BPF_AND | BPF_K,
                                   BPF_ALU | BPF_RSH | BPF_K,   BPF_ALU | BPF_MOV | BPF_X,
                                   BPF_ALU64 | BPF_MOV | BPF_K, BPF_JMP32 | BPF_JNE | BPF_K,
                                   BPF_JMP32 | BPF_JEQ | BPF_K, BPF_JMP | BPF_JA,
                                   BPF_JMP | BPF_EXIT};
  if (prog.empty()) return "empty program";
  std::vector<bool> reached(prog.size(), false);
  std::vector<size_t> todo = {0};
  while (!todo.empty()) {
    size_t pc = todo.back();
    todo.pop_back();
    if (pc >= prog.size()) return "falls off the end at " + std::to_string(pc);
    if (reached[pc]) continue;
    reached[pc] = true;
    const bpf_insn& i = prog[pc];
    if (!known.count(i.code)) return "unknown opcode at " + std::to_string(pc);
    uint8_t cls = BPF_CLASS(i.code);
    if (cls == BPF_JMP || cls == BPF_JMP32) {
      if (BPF_OP(i.code) == BPF_EXIT) continue;
      if (i.off < 0) return "backward jump at " + std::to_string(pc);
      todo.push_back(pc + 1 + static_cast<size_t>(i.off));
      if (BPF_OP(i.code) != BPF_JA) todo.push_back(pc + 1);
    } else {
      todo.push_back(pc + 1);
    }
  }
  for (size_t pc = 0; pc < prog.size(); ++pc)
    if (!reached[pc]) return "unreachable instruction " + std::to_string(pc);
  return "";
}

// Runs the program on one request: 1 allow, 0 deny, -1 a fault.
int Interpret(const std::vector<bpf_insn>& prog, const Request& req) {
  bpf_cgroup_dev_ctx ctx{};
  ctx.access_type =
      (Bits(req.access) << 16) | (req.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  ctx.major = req.major;
  ctx.minor = req.minor;
  uint64_t r[11] = {};
  bool set[11] = {};
  bool is_ctx[11] = {};
  is_ctx[BPF_REG_1] = set[BPF_REG_1] = true;
  for (size_t pc = 0, steps = 0; pc < prog.size() && steps < 100000; ++pc, ++steps) {
    const bpf_insn& i = prog[pc];
    auto write = [&](uint8_t reg, uint64_t v) {
      r[reg] = v;
      set[reg] = true;
      is_ctx[reg] = false;
    };
    switch (i.code) {
      case BPF_LDX | BPF_W | BPF_MEM: {
        if (!is_ctx[i.src_reg] || i.off < 0 || i.off > 8 || i.off % 4) return -1;
        uint32_t word;
        std::memcpy(&word, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        write(i.dst_reg, word);
        break;
      }
      case BPF_ALU | BPF_AND | BPF_K:
        if (!set[i.dst_reg]) return -1;
        write(i.dst_reg, static_cast<uint32_t>(r[i.dst_reg]) & static_cast<uint32_t>(i.imm));
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        if (!set[i.dst_reg]) return -1;
        write(i.dst_reg, static_cast<uint32_t>(r[i.dst_reg]) >> i.imm);
        break;
      case BPF_ALU | BPF_MOV | BPF_X:
        if (!set[i.src_reg] || is_ctx[i.src_reg]) return -1;
        write(i.dst_reg, static_cast<uint32_t>(r[i.src_reg]));
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        write(i.dst_reg, static_cast<uint64_t>(static_cast<int64_t>(i.imm)));
        break;
      case BPF_JMP32 | BPF_JNE | BPF_K:
      case BPF_JMP32 | BPF_JEQ | BPF_K: {
        if (!set[i.dst_reg] || is_ctx[i.dst_reg]) return -1;
        bool eq = static_cast<uint32_t>(r[i.dst_reg]) == static_cast<uint32_t>(i.imm);
        if (eq == (BPF_OP(i.code) == BPF_JEQ)) pc += static_cast<size_t>(i.off);
        break;
      }
      case BPF_JMP | BPF_JA:
        pc += static_cast<size_t>(i.off);
        break;
      case BPF_JMP | BPF_EXIT:
        if (!set[BPF_REG_0] || r[0] > 1) return -1;
        return static_cast<int>(r[0]);
      default:
        return -1;
    }
  }
  return -1;
}

// The rules read directly: per requested bit, the last rule matching the device that holds the
// bit ("a": every device, every bit) decides; none: denied.
bool Reference(const std::vector<DeviceRule>& rules, const Request& req) {
  for (char bit : req.access) {
    bool allowed = false;
    for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
      const DeviceRule& r = *it;
      bool match = r.type == "a" ||
                   (r.type[0] == req.type && r.access.find(bit) != std::string::npos &&
                    (!r.major || *r.major == req.major) && (!r.minor || *r.minor == req.minor));
      if (match) {
        allowed = r.allow;
        break;
      }
    }
    if (!allowed) return false;
  }
  return true;
}

DeviceRule Rule(bool allow, const char* type, std::optional<int64_t> major,
                std::optional<int64_t> minor, const char* access) {
  return DeviceRule{allow, type, major, minor, access};
}

int Decide(const std::vector<DeviceRule>& rules, const Request& req) {
  auto prog = DeviceProgram(rules);
  std::string bad = Verify(prog);
  EXPECT_EQ(bad, "");
  return bad.empty() ? Interpret(prog, req) : -1;
}

TEST(BpfDevice, DenyAllThenAllowNull) {
  std::vector<DeviceRule> rules = {Rule(false, "a", {}, {}, "rwm"), Rule(true, "c", 1, 3, "rwm")};
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "rw"}), 1);  // /dev/null opens
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "m"}), 1);
  EXPECT_EQ(Decide(rules, {'c', 1, 5, "r"}), 0);  // /dev/zero does not
  EXPECT_EQ(Decide(rules, {'b', 1, 3, "r"}), 0);  // the block device with the same numbers
  EXPECT_EQ(Decide(rules, {'c', 10, 232, "rw"}), 0);
}

TEST(BpfDevice, NoRulesDeniesEverythingAllowAllAllowsEverything) {
  EXPECT_EQ(Decide({}, {'c', 1, 3, "r"}), 0);
  EXPECT_EQ(Decide({Rule(true, "a", {}, {}, "rwm")}, {'b', 8, 0, "rwm"}), 1);
  // "a" is every device and every access (as v1 reads it), whatever access the rule names.
  EXPECT_EQ(Decide({Rule(true, "a", {}, {}, "r")}, {'b', 8, 0, "w"}), 1);
  EXPECT_EQ(
      Decide({Rule(true, "a", {}, {}, "rwm"), Rule(false, "a", {}, {}, "m")}, {'c', 1, 3, "r"}), 0);
}

TEST(BpfDevice, TheLastMatchingRuleWins) {
  std::vector<DeviceRule> rules = {Rule(true, "c", 1, {}, "rwm"), Rule(false, "c", 1, 5, "rwm")};
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "rw"}), 1);
  EXPECT_EQ(Decide(rules, {'c', 1, 5, "r"}), 0);
  std::swap(rules[0], rules[1]);  // the broad allow now comes last
  EXPECT_EQ(Decide(rules, {'c', 1, 5, "r"}), 1);
}

TEST(BpfDevice, EachAccessBitIsDecidedOnItsOwn) {
  // "deny w" after "allow rwm": read-only opens pass, an O_RDWR open does not (crun's program
  // would let "rw" through, since the deny rule's "w" does not hold both bits).
  std::vector<DeviceRule> rules = {Rule(false, "a", {}, {}, "rwm"), Rule(true, "c", 1, 3, "rwm"),
                                   Rule(false, "c", 1, 3, "w")};
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "r"}), 1);
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "rw"}), 0);
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "w"}), 0);
  // Two allows, one bit each, together allow both.
  std::vector<DeviceRule> split = {Rule(true, "c", 4, 1, "r"), Rule(true, "c", 4, 1, "w")};
  EXPECT_EQ(Decide(split, {'c', 4, 1, "rw"}), 1);
  EXPECT_EQ(Decide(split, {'c', 4, 1, "m"}), 0);
}

TEST(BpfDevice, WhatCvrunGivesTheBenchmarkBundle) {
  // Deny all, then what DeviceRules appends: mknod of every node, the default /dev nodes, pts.
  auto rules = DeviceRules({Rule(false, "a", {}, {}, "rwm")}, {});
  EXPECT_EQ(Decide(rules, {'b', 8, 0, "m"}), 1);  // mknod passes...
  EXPECT_EQ(Decide(rules, {'b', 8, 0, "r"}), 0);  // ...the open does not
  EXPECT_EQ(Decide(rules, {'c', 10, 232, "rw"}), 0);
  for (auto [major, minor] : std::initializer_list<std::pair<uint32_t, uint32_t>>{
           {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 2}, {136, 7}})
    EXPECT_EQ(Decide(rules, {'c', major, minor, "rwm"}), 1) << major << ":" << minor;
}

TEST(BpfDevice, NumbersBeyond32BitsMatchNothing) {
  std::vector<DeviceRule> rules = {Rule(true, "c", (int64_t{1} << 32) + 1, 3, "rwm")};
  EXPECT_EQ(Decide(rules, {'c', 1, 3, "r"}), 0);
}

TEST(BpfDevice, ShapeAndVerifierChecks) {
  // Six loads/shifts read the request; an allow-everything program has no deny exit at all
  // (it would be unreachable, which the verifier refuses).
  auto all = DeviceProgram({Rule(true, "a", {}, {}, "rwm")});
  EXPECT_EQ(Verify(all), "");
  EXPECT_EQ(all[0].code, BPF_LDX | BPF_W | BPF_MEM);
  EXPECT_EQ(all[2].off, static_cast<int16_t>(offsetof(bpf_cgroup_dev_ctx, major)));
  EXPECT_EQ(all[3].off, static_cast<int16_t>(offsetof(bpf_cgroup_dev_ctx, minor)));
  int exits = 0;
  for (const auto& i : all) exits += i.code == (BPF_JMP | BPF_EXIT);
  EXPECT_EQ(exits, 1);
  // The checker itself catches what the verifier would refuse.
  auto broken = all;
  broken.push_back(broken.back());
  EXPECT_NE(Verify(broken), "");  // unreachable
  broken = all;
  for (auto& i : broken)
    if (BPF_CLASS(i.code) == BPF_JMP32) {
      i.off = 1000;
      break;
    }
  EXPECT_NE(Verify(broken), "");  // jumps out
}

// Many random rule lists over a small universe of devices: the program decides every request
// as the rules read directly do.
TEST(BpfDevice, AgreesWithTheRulesOnRandomRuleLists) {
  std::mt19937 rng(20261128);
  const char* types[] = {"a", "c", "b"};
  const std::optional<int64_t> majors[] = {std::nullopt, 1, 5};
  const std::optional<int64_t> minors[] = {std::nullopt, 3, 5};
  const char* accesses[] = {"m", "r", "w", "rw", "rm", "wm", "rwm"};
  int compared = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<DeviceRule> rules;
    int n = static_cast<int>(rng() % 7);
    for (int k = 0; k < n; ++k) {
      // "a" rarely: it resets everything before it.
      const char* type = rng() % 6 == 0 ? types[0] : types[1 + rng() % 2];
      rules.push_back(
          Rule(rng() % 2, type, majors[rng() % 3], minors[rng() % 3], accesses[rng() % 7]));
    }
    auto prog = DeviceProgram(rules);
    ASSERT_EQ(Verify(prog), "") << "round " << round;
    for (char type : {'c', 'b'})
      for (uint32_t major : {1u, 5u, 7u})
        for (uint32_t minor : {3u, 5u, 9u})
          for (const char* access : accesses) {
            Request req{type, major, minor, access};
            ASSERT_EQ(Interpret(prog, req), Reference(rules, req) ? 1 : 0)
                << "round " << round << ": " << type << " " << major << ":" << minor << " "
                << access;
            ++compared;
          }
  }
  EXPECT_EQ(compared, 400 * 2 * 3 * 3 * 7);
}

}  // namespace
}  // namespace cvb::runtime::cgroup
