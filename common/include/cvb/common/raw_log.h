// Logging that is safe after fork/clone and in signal handlers: no allocation, no locks, one
// write(2) per call (built on the stack).
#pragma once

#include <cstdint>

namespace cvb::rawlog {

// Writes "<prefix><msg>[: <strerror-free errno number>]\n" to fd with a single write(2).
void Write(int fd, const char* msg, int err = 0);
// Writes "<a><b>\n".
void Write2(int fd, const char* a, const char* b);
// Formats v in decimal into buf (at least 21 bytes); returns buf.
char* FormatInt(int64_t v, char* buf);

}  // namespace cvb::rawlog
