// The isolation probe's checks, shared by the probe (`cvb-workload isolation`, inside every
// instance) and the host side that reads them (bench's isolation suite, scripts/report).
//
// Each check is one line:  CVB RESULT check=<name> value=<1|0|-1> why=<token without spaces>
//   value 1: the host's marker is visible / the action is allowed from inside the instance,
//         0: isolated / denied,
//        -1: could not be tested here (no marker given, the kernel lacks the interface...).
// Plus one line of figures: CVB RESULT processes_visible=N fds_above_2=N interfaces_visible=N
// cap_eff_count=N.
//
// Kinds: a host check looks for a marker the harness made on the host for this instance (a
// process, a file, a port, an interface, an fd left open across the launch) or for the host's
// identity (hostname); a privilege check tries an action on the kernel the instance runs on
// (the host's for a container, its own for a VM or gVisor's Sentry); the kernel check says which
// kernel that is (the host's boot_id seen from inside).
#pragma once

namespace cvb::workload {

enum class IsolationKind { kHost, kPrivilege, kKernel };

struct IsolationCheck {
  const char* name;
  IsolationKind kind;
  const char* what;  // what value 1 means
};

inline constexpr IsolationCheck kIsolationChecks[] = {
    {"host_process", IsolationKind::kHost, "a marker process of the host is visible in /proc"},
    {"host_hostname", IsolationKind::kHost, "the hostname is the host's"},
    {"host_interface", IsolationKind::kHost, "a marker interface of the host is visible"},
    {"host_fd", IsolationKind::kHost, "an fd the harness left open (no CLOEXEC) arrived"},
    {"host_file", IsolationKind::kHost, "a marker file in the host's /tmp is readable at its path"},
    {"host_port", IsolationKind::kHost, "a port listening on the host's 127.0.0.1 accepts"},
    {"proc_sys_write", IsolationKind::kPrivilege,
     "/proc/sys/kernel/hostname opens for writing (nothing is written)"},
    {"sys_write", IsolationKind::kPrivilege,
     "a /sys attribute opens for writing (nothing is written)"},
    {"cap_sys_admin", IsolationKind::kPrivilege, "CapEff holds CAP_SYS_ADMIN"},
    {"no_seccomp", IsolationKind::kPrivilege, "no seccomp filter (Seccomp: 0)"},
    {"device_open", IsolationKind::kPrivilege,
     "a char device the host can open (its major:minor) opens, by an existing node or mknod"},
    {"mount_tmpfs", IsolationKind::kPrivilege, "a new tmpfs mounts (and is unmounted at once)"},
    {"host_kernel", IsolationKind::kKernel,
     "the kernel is the host's (same /proc/sys/kernel/random/boot_id)"},
};

}  // namespace cvb::workload
