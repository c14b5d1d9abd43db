#include "process_env.h"

#include <cstdlib>
#include <cstring>

namespace cvb::runtime {

bool NeedsHome(const std::vector<std::string>& env) {
  for (const auto& e : env)
    if (e.rfind("HOME=", 0) == 0 && e.size() > 5) return false;
  return true;
}

std::vector<std::string> WithoutHome(std::vector<std::string> env) {
  std::vector<std::string> out;
  for (auto& e : env)
    if (e.rfind("HOME=", 0) != 0) out.push_back(std::move(e));
  return out;
}

int ListenFdsFor(pid_t self, const char* listen_fds, const char* listen_pid) {
  if (!listen_fds || !*listen_fds || !listen_pid || !*listen_pid) return 0;
  char* end = nullptr;
  long pid = std::strtol(listen_pid, &end, 10);
  if (*end != 0 || pid != self) return 0;
  long n = std::strtol(listen_fds, &end, 10);
  if (*end != 0 || n <= 0 || n > 1024) return 0;
  return static_cast<int>(n);
}

std::vector<std::string> WithListenFds(std::vector<std::string> env, int n) {
  std::vector<std::string> out;
  for (auto& e : env)
    if (e.rfind("LISTEN_FDS=", 0) != 0 && e.rfind("LISTEN_PID=", 0) != 0) out.push_back(std::move(e));
  out.push_back("LISTEN_FDS=" + std::to_string(n));
  out.push_back("LISTEN_PID=1");
  return out;
}

void HomeEnvFromPasswd(const char* passwd, size_t len, uid_t uid, char* out, size_t out_size) {
  memcpy(out, "HOME=/", 7);
  size_t line = 0;
  while (line < len) {
    size_t eol = line;
    while (eol < len && passwd[eol] != '\n') ++eol;
    // Fields: name, password, uid, gid, gecos, home, shell.
    size_t field_start[7] = {}, field_end[7] = {};
    int field = 0;
    field_start[0] = line;
    for (size_t i = line; i <= eol && field < 7; ++i) {
      if (i == eol || passwd[i] == ':') {
        field_end[field] = i;
        if (++field < 7) field_start[field] = i + 1;
      }
    }
    if (field >= 6) {
      // The uid field must be exactly the decimal uid.
      uid_t value = 0;
      bool digits = field_end[2] > field_start[2];
      for (size_t i = field_start[2]; i < field_end[2] && digits; ++i) {
        if (passwd[i] < '0' || passwd[i] > '9') digits = false;
        else value = value * 10 + static_cast<uid_t>(passwd[i] - '0');
      }
      size_t home_len = field_end[5] - field_start[5];
      if (digits && value == uid) {
        if (home_len > 0 && home_len + 6 <= out_size) {
          memcpy(out + 5, passwd + field_start[5], home_len);
          out[5 + home_len] = 0;
        }
        return;
      }
    }
    line = eol + 1;
  }
}

}  // namespace cvb::runtime
