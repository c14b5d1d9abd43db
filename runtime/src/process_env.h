// What the container's process finds in its environment besides the config's env, as runc gives
// it: HOME from the container's /etc/passwd when the config sets none, and systemd socket
// activation (LISTEN_FDS) passed through. Planned in the parent (allocation here is fine); the
// passwd lookup runs in the container's init or exec'd process (allocation-free, see child.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace cvb::runtime {

// "HOME=" + at most this many bytes: the slot the init fills (a longer home gives "/").
inline constexpr size_t kHomeValueMax = 4095;

// True when env has no HOME or an empty one: runc then sets it (os.Getenv("HOME") == "").
bool NeedsHome(const std::vector<std::string>& env);
// env without its HOME entries (an empty HOME is replaced, as Go's os.Setenv replaces it).
std::vector<std::string> WithoutHome(std::vector<std::string> env);

// Socket activation as runc does it (go-systemd's activation.Files): when LISTEN_FDS is set and
// LISTEN_PID names this process, the fds 3 .. 3+n-1 go to the container's init (ahead of
// --preserve-fds), which gets LISTEN_FDS=n and LISTEN_PID=1. Returns n, or 0 when the variables
// are absent, malformed, or meant for another process.
int ListenFdsFor(pid_t self, const char* listen_fds, const char* listen_pid);
// env with LISTEN_FDS=n and LISTEN_PID=1 (replacing entries of those names).
std::vector<std::string> WithListenFds(std::vector<std::string> env, int n);

// The home directory of uid in the text of a passwd file (name:pw:uid:gid:gecos:home:shell), or
// "/" when no line has that uid, its home is empty, or it does not fit: written into out as
// "HOME=<dir>" (out_size >= 6). Allocation-free (the init calls it after clone).
void HomeEnvFromPasswd(const char* passwd, size_t len, uid_t uid, char* out, size_t out_size);

}  // namespace cvb::runtime
