// `events --stats` data from a fake cgroup tree: runc's shape, numbers from the right files.
#include "cgroup/stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "sys/sys.h"

namespace cvb::runtime::cgroup {
namespace {

const char kMountinfo[] =
    "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";

TEST(CgroupStats, V1FromTheHierarchiesFiles) {
  sys::FakeSys fs;
  Host host = ParseHost(kMountinfo, "0::/\n");
  const std::string acct = "/sys/fs/cgroup/cpuacct/c", cpu = "/sys/fs/cgroup/cpu/c",
                    mem = "/sys/fs/cgroup/memory/c", pids = "/sys/fs/cgroup/pids/c";
  fs.AddFile(acct + "/cpuacct.usage", "123456789\n");
  fs.AddFile(acct + "/cpuacct.usage_percpu", "100 200 \n");
  fs.AddFile(acct + "/cpuacct.stat", "user 30\nsystem 7\n");
  fs.AddFile(cpu + "/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 4000\n");
  fs.AddFile(mem + "/memory.usage_in_bytes", "4096\n");
  fs.AddFile(mem + "/memory.max_usage_in_bytes", "8192\n");
  fs.AddFile(mem + "/memory.limit_in_bytes", "67108864\n");
  fs.AddFile(mem + "/memory.failcnt", "2\n");
  fs.AddFile(mem + "/memory.memsw.usage_in_bytes", "5000\n");
  fs.AddFile(mem + "/memory.stat", "cache 1024\nrss 3072\n");
  fs.AddFile(pids + "/pids.current", "3\n");
  fs.AddFile(pids + "/pids.max", "max\n");
  auto d = ReadStats(fs, host, {mem, pids, cpu, acct, "/sys/fs/cgroup/unified/c"}, 100);
  EXPECT_EQ(d["cpu"]["usage"]["total"], 123456789u);
  EXPECT_EQ(d["cpu"]["usage"]["percpu"], nlohmann::json::array({100, 200}));
  EXPECT_EQ(d["cpu"]["usage"]["user"], 300000000u);  // 30 ticks of 10 ms
  EXPECT_EQ(d["cpu"]["usage"]["kernel"], 70000000u);
  EXPECT_EQ(d["cpu"]["throttling"]["throttled_periods"], 3u);
  EXPECT_EQ(d["cpu"]["throttling"]["throttled_time"], 4000u);
  EXPECT_EQ(d["memory"]["usage"]["usage"], 4096u);
  EXPECT_EQ(d["memory"]["usage"]["max"], 8192u);
  EXPECT_EQ(d["memory"]["usage"]["limit"], 67108864u);
  EXPECT_EQ(d["memory"]["usage"]["failcnt"], 2u);
  EXPECT_EQ(d["memory"]["swap"]["usage"], 5000u);
  EXPECT_EQ(d["memory"]["cache"], 1024u);
  EXPECT_EQ(d["memory"]["raw"]["rss"], 3072u);
  EXPECT_EQ(d["pids"]["current"], 3u);
  EXPECT_EQ(d["pids"]["limit"], 0u);  // "max": no limit, as runc reports it
  EXPECT_TRUE(d["blkio"]["ioServiceBytesRecursive"].empty());
  EXPECT_TRUE(d["hugetlb"].empty());
}

TEST(CgroupStats, V2FromOneDirectory) {
  sys::FakeSys fs;
  Host host = ParseHost("30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n");
  const std::string dir = "/sys/fs/cgroup/c";
  fs.AddFile(dir + "/cpu.stat",
             "usage_usec 500\nuser_usec 300\nsystem_usec 200\nnr_periods 4\nnr_throttled 1\n"
             "throttled_usec 9\n");
  fs.AddFile(dir + "/memory.current", "4096\n");
  fs.AddFile(dir + "/memory.max", "max\n");
  fs.AddFile(dir + "/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
  fs.AddFile(dir + "/memory.stat", "anon 3000\nfile 1000\n");
  fs.AddFile(dir + "/pids.current", "2\n");
  fs.AddFile(dir + "/pids.max", "100\n");
  fs.AddFile(dir + "/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  auto d = ReadStats(fs, host, {dir}, 100);
  EXPECT_EQ(d["cpu"]["usage"]["total"], 500000u);
  EXPECT_EQ(d["cpu"]["usage"]["user"], 300000u);
  EXPECT_EQ(d["cpu"]["throttling"]["throttled_time"], 9000u);
  EXPECT_EQ(d["memory"]["usage"]["usage"], 4096u);
  EXPECT_EQ(d["memory"]["usage"]["limit"], UINT64_MAX);
  EXPECT_EQ(d["memory"]["usage"]["failcnt"], 5u);
  EXPECT_EQ(d["memory"]["cache"], 1000u);
  EXPECT_EQ(d["pids"]["limit"], 100u);
  ASSERT_EQ(d["blkio"]["ioServiceBytesRecursive"].size(), 2u);
  EXPECT_EQ(d["blkio"]["ioServiceBytesRecursive"][1]["op"], "Write");
  EXPECT_EQ(d["blkio"]["ioServiceBytesRecursive"][1]["value"], 20u);
  EXPECT_EQ(OomKillCount("low 0\noom 2\noom_kill 3\n"), 3u);
  EXPECT_EQ(OomKillCount("low 0\n"), 0u);
}

}  // namespace
}  // namespace cvb::runtime::cgroup
