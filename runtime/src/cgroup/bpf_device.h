// Device rules on cgroup v2: an eBPF program of type BPF_PROG_TYPE_CGROUP_DEVICE that the kernel
// runs on every open and mknod of a device node by a process of the cgroup (cgroup v2 has no
// devices.allow / devices.deny files).
//
// What the program decides, for rules in spec order (linux.resources.devices, then what
// cgroup::DeviceRules appends):
//   - every access bit a request asks for (m = mknod, r = read, w = write) is decided on its own:
//     the LAST rule that matches the device (type: a matches b and c; no major / minor: any)
//     and whose access holds that bit decides it; no such rule: denied (default deny);
//   - the request is allowed when every bit it asks for is allowed.
// For rules on the same device this is what the v1 devices controller does with the same rules
// written in the same order (it keeps its exceptions per access bit: "deny c 1:3 w" after
// "allow c 1:3 rwm" leaves "c 1:3 rm"), so a config behaves alike on hybrid hosts (v1 rules) and
// pure v2 hosts. Where they differ the program is the stricter: a deny broader than an earlier
// allow ("allow c 1:3 rwm; deny c 1:* w") denies here, while v1 drops only an exception of
// exactly the same device and ignores it. crun's program lets the last rule whose access holds
// ALL the requested bits decide, so "allow c 1:3 rwm; deny c 1:3 w" lets an O_RDWR open
// through ("w" does not hold "rw"); runc's reaches the v1 answer through an emulation of v1.
//
// A rule whose major or minor does not fit 32 bits matches no device and is left out.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "cvb/common/result.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime::cgroup {

// The instructions (no maps, no helper calls: any kernel with cgroup v2 device programs, 4.15+,
// and BPF_JMP32 compares, 5.1+, loads it).
std::vector<bpf_insn> DeviceProgram(const std::vector<DeviceRule>& rules);

// BPF_PROG_LOAD of program, then BPF_PROG_ATTACH to the cgroup2 directory `cgroup_dir` as
// BPF_CGROUP_DEVICE with BPF_F_ALLOW_MULTI (programs of the ancestors keep running too: a
// device must pass all of them). The attachment holds the program; it goes when the directory
// is removed. A verifier rejection carries the verifier's log in the error.
Result<void> AttachDeviceProgram(const std::string& cgroup_dir,
                                 const std::vector<bpf_insn>& program);

// Detaches every BPF_CGROUP_DEVICE program attached directly to cgroup_dir (not the inherited
// ones); for tests and for callers that keep a directory.
Result<void> DetachDevicePrograms(const std::string& cgroup_dir);

// IDs of the BPF_CGROUP_DEVICE programs attached directly to cgroup_dir.
Result<std::vector<uint32_t>> AttachedDevicePrograms(const std::string& cgroup_dir);

}  // namespace cvb::runtime::cgroup
