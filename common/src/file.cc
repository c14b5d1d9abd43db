#include "cvb/common/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>

#include "cvb/common/unique_fd.h"

namespace cvb {

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError("open " + path);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<void> WriteFile(const std::string& path, std::string_view data, int mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return ErrnoError("open " + path);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path);
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<void> WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto r = WriteFile(tmp, data, mode);
  if (!r) {
    ::unlink(tmp.c_str());
    return r;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = ErrnoError("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  return Ok();
}

Result<void> WriteFileDurable(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  auto fail = [&tmp](Error e) {
    ::unlink(tmp.c_str());
    return e;
  };
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) return ErrnoError("open " + tmp);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(ErrnoError("write " + tmp));
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail(ErrnoError("fsync " + tmp));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(ErrnoError("rename " + tmp + " to " + path));
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return ErrnoError("open " + dir);
  if (::fsync(dfd.get()) != 0) return ErrnoError("fsync " + dir);
  return Ok();
}

Result<void> MakeDirs(const std::string& path, int mode) {
  if (path.empty()) return Ok();
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      cur = path.substr(0, i);
      if (cur.empty()) continue;
      if (::mkdir(cur.c_str(), static_cast<mode_t>(mode)) != 0 && errno != EEXIST)
        return ErrnoError("mkdir " + cur);
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("stat " + path);
  if (!S_ISDIR(st.st_mode)) return Error{ENOTDIR, "mkdir " + path};
  return Ok();
}

namespace {

Result<void> RemoveAt(int dirfd, const char* name, dev_t dev, const std::string& shown) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoError("stat " + shown);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) return Error{EBUSY, "refusing to cross a mount point at " + shown};
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return ErrnoError("open " + shown);
    DIR* d = ::fdopendir(::dup(fd.get()));
    if (!d) return ErrnoError("opendir " + shown);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
    }
    ::closedir(d);
    for (const auto& n : names) CVB_TRY(RemoveAt(fd.get(), n.c_str(), dev, shown + "/" + n));
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0) return ErrnoError("rmdir " + shown);
  } else if (::unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) {
    return ErrnoError("unlink " + shown);
  }
  return Ok();
}

}  // namespace

Result<void> RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoError("stat " + path);
  }
  return RemoveAt(AT_FDCWD, path.c_str(), st.st_dev, path);
}

bool PathExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<std::string> ListDirectory(const std::string& path) {
  std::vector<std::string> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
  if (!dir) return out;
  while (dirent* e = ::readdir(dir.get()))
    if (std::string n = e->d_name; n != "." && n != "..") out.push_back(std::move(n));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r'))
    --e;
  return std::string(s.substr(b, e - b));
}

std::string ContentHash(std::string_view data) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Result<std::string> HashFile(const std::string& path) {
  CVB_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  return ContentHash(data);
}

}  // namespace cvb
