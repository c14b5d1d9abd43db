// The context block of every result file: what was measured, where, under which conditions.
// Keys are stable: scripts/plot, scripts/report and scripts/compare read them.
#pragma once

#include <map>
#include <string>

namespace cvb::bench {

// Host facts: git_sha, git_dirty, kernel, cpu_model, cpus_online, mem_total_bytes, hostname,
// cgroup_mode, accelerator, date_utc, cvbench_version, ksm_run, cpu_governor,
// thp_enabled, thp_defrag, build_type, compiler, qemu_version, libvirt_version.
std::map<std::string, std::string> HostContext();

// The readers behind the newer keys, each on a root directory so that tests can give a fake
// tree. All return a value that says what is absent rather than an empty string.

// cpu_governor: scaling_governor of every <sys_root>/devices/system/cpu/cpu<N>/cpufreq; one
// value when all CPUs agree ("performance"), "cpu0=performance,cpu1=powersave" when they
// differ, "none (no cpufreq)" when no CPU has cpufreq (virtual machines, containers).
std::string ReadCpuGovernor(const std::string& sys_root = "/sys");
// thp_enabled / thp_defrag: the selected (bracketed) value of
// <sys_root>/kernel/mm/transparent_hugepage/<file> ("madvise"), the raw text when nothing is
// bracketed, "absent" when the file is missing.
std::string ReadThpSetting(const std::string& file, const std::string& sys_root = "/sys");
// First line of `<program> --version` ("QEMU emulator version 7.2.22 (Debian ...)"), or
// "absent (<program> not found)" / "unknown (<program> --version failed)".
std::string ProgramVersionLine(const std::string& program);
// build_type: CMAKE_BUILD_TYPE of this build ("Release"; "unset" when none was given).
std::string BuildType();
// compiler: the compiler that built cvbench, name and version ("GNU 12.2.0").
std::string CompilerDescription();

}  // namespace cvb::bench
