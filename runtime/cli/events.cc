#include <cstdio>

#include "commands.h"

namespace cvb::runtime::cli {
namespace {

// "5s", "250ms", "1m", "2h", "1500us" (Go durations without fractions); plain numbers are seconds.
Result<int> ParseIntervalMs(const std::string& text) {
  size_t end = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &end);
  } catch (...) {
    return Failure("--interval: expected a duration such as 5s, got \"" + text + "\"");
  }
  std::string unit = text.substr(end);
  double ms;
  if (unit.empty() || unit == "s")
    ms = value * 1000.0;
  else if (unit == "ms")
    ms = static_cast<double>(value);
  else if (unit == "us" || unit == "µs")
    ms = value / 1000.0;
  else if (unit == "m")
    ms = value * 60000.0;
  else if (unit == "h")
    ms = value * 3600000.0;
  else
    return Failure("--interval: unknown unit in \"" + text + "\"");
  if (ms < 1 || ms > 86400000.0)
    return Failure("--interval: must be between 1ms and 24h, got \"" + text + "\"");
  return static_cast<int>(ms);
}

}  // namespace

void AddEventsCommand(CLI::App& app, Cli& cli) {
  struct Args {
    std::string id;
    bool stats = false;
    std::string interval = "5s";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "events", "stream a container's OOM events and periodic cgroup stats as JSON lines");
  cmd->add_flag("--stats", args->stats, "print one stats event and exit");
  cmd->add_option("--interval", args->interval, "time between stats events (default 5s)");
  cmd->add_option("id", args->id, "container ID")->required();
  cmd->callback([&cli, args] {
    cli.action = [&cli, args]() -> Result<int> {
      CVB_ASSIGN_OR_RETURN(int interval_ms, ParseIntervalMs(args->interval));
      CVB_TRY(
          cli.MakeRuntime().Events(args->id, args->stats, interval_ms, [](const std::string& line) {
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
          }));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
