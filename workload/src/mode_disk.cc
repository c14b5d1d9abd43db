// disk mode: sequential write and read (MB/s) of a --mib file in 1 MiB blocks, then 4 KiB random
// reads and writes (IOPS) for --seconds each, in --dir (a container's volume or rootfs
// directory, a VM's virtio-blk filesystem, a host scratch directory for native).
//
// The page cache must not answer for the disk. The file is opened with O_DIRECT where the
// filesystem allows it (direct=1). Where it refuses (tmpfs, some overlay set-ups), the mode falls
// back to buffered I/O made honest by hand (direct=0): writes are timed up to fsync, the file's
// cached pages are dropped (posix_fadvise DONTNEED) before each read phase and every 4 KiB random
// write is followed by fdatasync. The RESULT line says which one was measured.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "cvb/common/clock.h"
#include "modes.h"

namespace cvb::workload {
namespace {

constexpr size_t kSeqBlock = 1 << 20;
constexpr size_t kRandBlock = 4096;


std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Removes the test file however the mode ends.
struct FileGuard {
  std::string path;
  int fd = -1;
  ~FileGuard() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
};

uint64_t NextRandom(uint64_t& r) {
  r ^= r << 13;
  r ^= r >> 7;
  r ^= r << 17;
  return r;
}

}  // namespace

int ModeDisk(Context& ctx) {
  if (auto e = UnknownArg(ctx, {"dir", "mib", "seconds"}); !e.empty()) return Fail(e);
  NumberArg mib = ParseNumberArg(ctx, "mib", 256, 1, 1 << 20);
  NumberArg seconds = ParseNumberArg(ctx, "seconds", 1, 0.01, 3600);
  for (const auto* a : {&mib, &seconds})
    if (!a->error.empty()) return Fail(a->error);
  // /data in containers and VMs; a native run is told its host scratch directory through
  // CVB_DATA_DIR (the native launcher sets it for needs_disk).
  const char* env_dir = std::getenv("CVB_DATA_DIR");
  std::string dir = ctx.Arg("dir", env_dir && *env_dir ? env_dir : "/data");
  const uint64_t file_bytes = static_cast<uint64_t>(mib.value) << 20;
  if (file_bytes < kSeqBlock) return Fail("disk: --mib must be at least 1");

  void* raw = nullptr;
  if (::posix_memalign(&raw, 4096, kSeqBlock) != 0) return Fail("disk: cannot allocate buffer");
  std::unique_ptr<void, FreeDeleter> buf_owner(raw);
  auto* buf = static_cast<unsigned char*>(raw);
  // Incompressible-looking content, so a compressing or deduplicating layer cannot cheat.
  uint64_t r = 0x2545f4914f6cdd1dull ^ static_cast<uint64_t>(MonotonicNs());
  for (size_t i = 0; i < kSeqBlock; i += 8) {
    uint64_t v = NextRandom(r);
    std::memcpy(buf + i, &v, 8);
  }

  FileGuard file;
  file.path = dir + "/cvb-disk-" + std::to_string(::getpid()) + ".dat";
  bool direct = true;
  file.fd = ::open(file.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (file.fd < 0 && errno == EINVAL) {
    direct = false;
    file.fd = ::open(file.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  if (file.fd < 0) return Fail(Errno("disk: open " + file.path));
  const int fd = file.fd;
  AnnounceReady(ctx);

  // Sequential write, timed up to the data being on the device.
  int64_t t0 = MonotonicNs();
  for (uint64_t off = 0; off < file_bytes; off += kSeqBlock) {
    ssize_t w = ::pwrite(fd, buf, kSeqBlock, static_cast<off_t>(off));
    if (w != static_cast<ssize_t>(kSeqBlock)) {
      // O_DIRECT can also be refused at the first write (EINVAL) on some filesystems.
      if (w < 0 && errno == EINVAL && direct && off == 0) {
        direct = false;
        int flags = ::fcntl(fd, F_GETFL);
        if (::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0) {
          off -= kSeqBlock;
          t0 = MonotonicNs();
          continue;
        }
      }
      return Fail(w < 0 ? Errno("disk: write") : "disk: short write (disk full?)");
    }
    if (ctx.stopping()) return Fail("disk: stopped");
  }
  if (::fsync(fd) != 0) return Fail(Errno("disk: fsync"));
  double write_s = (MonotonicNs() - t0) / 1e9;

  auto drop_cache = [&] {
    if (!direct) (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  };
  drop_cache();
  t0 = MonotonicNs();
  for (uint64_t off = 0; off < file_bytes; off += kSeqBlock) {
    ssize_t n = ::pread(fd, buf, kSeqBlock, static_cast<off_t>(off));
    if (n != static_cast<ssize_t>(kSeqBlock)) return Fail(n < 0 ? Errno("disk: read") : "disk: short read");
    if (ctx.stopping()) return Fail("disk: stopped");
  }
  double read_s = (MonotonicNs() - t0) / 1e9;

  const uint64_t blocks = file_bytes / kRandBlock;
  const int64_t budget = static_cast<int64_t>(seconds.value * 1e9);
  drop_cache();
  uint64_t reads = 0;
  t0 = MonotonicNs();
  int64_t t = t0;
  do {
    off_t off = static_cast<off_t>(NextRandom(r) % blocks * kRandBlock);
    if (::pread(fd, buf, kRandBlock, off) != static_cast<ssize_t>(kRandBlock))
      return Fail(Errno("disk: random read"));
    ++reads;
    // Buffered fallback: keep the cache from answering for blocks read earlier.
    if (!direct && reads % 256 == 0) drop_cache();
    t = MonotonicNs();
  } while (t - t0 < budget && !ctx.stopping());
  double rread_s = (t - t0) / 1e9;

  uint64_t writes = 0;
  t0 = MonotonicNs();
  t = t0;
  do {
    off_t off = static_cast<off_t>(NextRandom(r) % blocks * kRandBlock);
    if (::pwrite(fd, buf, kRandBlock, off) != static_cast<ssize_t>(kRandBlock))
      return Fail(Errno("disk: random write"));
    if (!direct && ::fdatasync(fd) != 0) return Fail(Errno("disk: fdatasync"));
    ++writes;
    t = MonotonicNs();
  } while (t - t0 < budget && !ctx.stopping());
  // O_DIRECT writes may still sit in the device's volatile cache: count the flush too.
  if (direct && ::fdatasync(fd) != 0) return Fail(Errno("disk: fdatasync"));
  double rwrite_s = (MonotonicNs() - t0) / 1e9;

  const double mb = file_bytes / 1e6;
  Result({{"seq_write_mb_per_s", Fig(mb / write_s)},
          {"seq_read_mb_per_s", Fig(mb / read_s)},
          {"rand_read_iops", Fig(reads / rread_s)},
          {"rand_write_iops", Fig(writes / rwrite_s)},
          {"direct", direct ? "1" : "0"},
          {"file_mib", Fig(mib.value)}});
  Done(0);
  return 0;
}

}  // namespace cvb::workload
