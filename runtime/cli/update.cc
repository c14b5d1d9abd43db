#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "cvb/common/file.h"

namespace cvb::runtime::cli {
namespace {

// "100m", "1G", "4096", "-1": bytes (binary units, as runc and docker read them).
Result<int64_t> ParseBytes(const std::string& flag, const std::string& text) {
  if (text == "-1") return -1;
  size_t end = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &end);
  } catch (...) {
    return Failure(flag + ": expected a size such as 512m, got \"" + text + "\"");
  }
  std::string unit = text.substr(end);
  for (auto& c : unit) c = static_cast<char>(tolower(c));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  int64_t scale = 1;
  if (unit == "k")
    scale = int64_t{1} << 10;
  else if (unit == "m")
    scale = int64_t{1} << 20;
  else if (unit == "g")
    scale = int64_t{1} << 30;
  else if (!unit.empty())
    return Failure(flag + ": unknown unit in \"" + text + "\"");
  if (value < 0) return Failure(flag + ": must be -1 or positive, got \"" + text + "\"");
  return static_cast<int64_t>(value) * scale;
}

}  // namespace

// "-5", "100000": an integer, or an error naming the flag.
static Result<int64_t> ParseInteger(const std::string& flag, const std::string& text,
                                    bool allow_negative) {
  size_t end = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &end);
  } catch (...) {
    end = 0;
  }
  if (end == 0 || end != text.size() || (!allow_negative && value < 0))
    return Failure(flag + ": expected " +
                   (allow_negative ? "an integer" : "a non-negative integer") + ", got \"" + text +
                   "\"");
  return static_cast<int64_t>(value);
}

void AddUpdateCommand(CLI::App& app, Cli& cli) {
  struct Args {
    std::string id;
    std::string resources;
    std::map<std::string, std::string> flags;  // flag -> value, for the flags given
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "update", "change a live container's cgroup limits (a field cvrun cannot apply is refused)");
  cmd->add_option("--resources,-r", args->resources,
                  "linux.resources JSON file (- = stdin); the flags below override it");
  // runc's flag names; --cpu-shares is kept as an alias of runc's --cpu-share. A zero means
  // "unchanged" where runc reads it so (linux.resources zeros, see resources_unset.h).
  static const struct {
    const char* names;  // CLI11 names
    const char* key;    // the flag as matched below
    const char* help;
  } kFlags[] = {
      {"--memory", "--memory", "memory limit (bytes, or 512k/m/g)"},
      {"--memory-swap", "--memory-swap", "memory + swap limit; -1 = unlimited"},
      {"--memory-reservation", "--memory-reservation", "memory soft limit"},
      {"--pids-limit", "--pids-limit", "maximum number of tasks (-1: no limit; 0: unchanged)"},
      {"--cpu-quota", "--cpu-quota", "CFS quota in us per period (-1: none)"},
      {"--cpu-period", "--cpu-period", "CFS period in us"},
      {"--cpu-share,--cpu-shares", "--cpu-share", "CPU shares (relative weight)"},
      {"--cpuset-cpus", "--cpuset-cpus", "CPUs allowed (0-3,5)"},
      {"--cpuset-mems", "--cpuset-mems", "memory nodes allowed"},
      {"--blkio-weight", "--blkio-weight", "block IO weight, 10..1000"}};
  for (const auto& flag : kFlags) {
    std::string key = flag.key;
    cmd->add_option_function<std::string>(
        flag.names, [args, key](const std::string& v) { args->flags[key] = v; }, flag.help);
  }
  cmd->add_option("id", args->id, "container ID")->required();
  cmd->callback([&cli, args] {
    cli.action = [&cli, args]() -> Result<int> {
      nlohmann::json res = nlohmann::json::object();
      if (!args->resources.empty()) {
        std::string text;
        if (args->resources == "-") {
          char buf[4096];
          size_t n;
          while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) text.append(buf, n);
        } else {
          auto file = ReadFile(args->resources);
          if (!file.ok()) return file.error().wrap("--resources");
          text = *file;
        }
        res = nlohmann::json::parse(text, nullptr, false);
        if (res.is_discarded() || !res.is_object())
          return Failure("--resources " + args->resources + ": expected a JSON object");
      }
      for (const auto& [flag, value] : args->flags) {
        if (flag == "--memory") {
          CVB_ASSIGN_OR_RETURN(res["memory"]["limit"], ParseBytes(flag, value));
        } else if (flag == "--memory-swap") {
          CVB_ASSIGN_OR_RETURN(res["memory"]["swap"], ParseBytes(flag, value));
        } else if (flag == "--memory-reservation") {
          CVB_ASSIGN_OR_RETURN(res["memory"]["reservation"], ParseBytes(flag, value));
        } else if (flag == "--pids-limit") {
          CVB_ASSIGN_OR_RETURN(res["pids"]["limit"], ParseInteger(flag, value, true));
        } else if (flag == "--cpu-quota") {
          CVB_ASSIGN_OR_RETURN(res["cpu"]["quota"], ParseInteger(flag, value, true));
        } else if (flag == "--cpu-period") {
          CVB_ASSIGN_OR_RETURN(int64_t v, ParseInteger(flag, value, false));
          res["cpu"]["period"] = static_cast<uint64_t>(v);
        } else if (flag == "--cpu-share") {
          CVB_ASSIGN_OR_RETURN(int64_t v, ParseInteger(flag, value, false));
          res["cpu"]["shares"] = static_cast<uint64_t>(v);
        } else if (flag == "--cpuset-cpus") {
          res["cpu"]["cpus"] = value;
        } else if (flag == "--cpuset-mems") {
          res["cpu"]["mems"] = value;
        } else if (flag == "--blkio-weight") {
          CVB_ASSIGN_OR_RETURN(int64_t v, ParseInteger(flag, value, false));
          res["blockIO"]["weight"] = static_cast<uint64_t>(v);
        }
      }
      if (res.empty()) return Failure("update: nothing to update (give --resources or a flag)");
      CVB_TRY(cli.MakeRuntime().Update(args->id, res.dump()));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
