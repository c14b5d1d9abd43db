#include "cvb/common/raw_log.h"

#include <unistd.h>

#include <cstddef>

namespace cvb::rawlog {
namespace {

size_t Append(char* dst, size_t pos, size_t cap, const char* s) {
  while (*s && pos + 1 < cap) dst[pos++] = *s++;
  return pos;
}

}  // namespace

char* FormatInt(int64_t v, char* buf) {
  char tmp[24];
  int n = 0;
  bool neg = v < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  do {
    tmp[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u);
  int p = 0;
  if (neg) buf[p++] = '-';
  while (n) buf[p++] = tmp[--n];
  buf[p] = 0;
  return buf;
}

void Write(int fd, const char* msg, int err) {
  char line[512];
  size_t pos = Append(line, 0, sizeof line - 1, msg);
  if (err) {
    char num[24];
    pos = Append(line, pos, sizeof line - 1, ": errno ");
    pos = Append(line, pos, sizeof line - 1, FormatInt(err, num));
  }
  line[pos++] = '\n';
  ssize_t r = ::write(fd, line, pos);
  (void)r;
}

void Write2(int fd, const char* a, const char* b) {
  char line[512];
  size_t pos = Append(line, 0, sizeof line - 1, a);
  pos = Append(line, pos, sizeof line - 1, b);
  line[pos++] = '\n';
  ssize_t r = ::write(fd, line, pos);
  (void)r;
}

}  // namespace cvb::rawlog
