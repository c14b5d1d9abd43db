// The cvrun command line: main.cc owns the global flags, each subcommand lives in its own file
// and registers itself with Add<Name>Command.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "cvb/common/result.h"
#include "cvb/runtime/container.h"

namespace cvb::runtime::cli {

struct GlobalFlags {
  std::string root = "/run/cvrun";
  std::string log;
  std::string log_format = "text";
  bool debug = false;
  int64_t start_ns = 0;
  // Accepted for compatibility with engines that pass them; they change nothing.
  bool systemd_cgroup = false;
  std::string rootless;
  std::string criu;
  std::string log_level;
};

struct Cli {
  GlobalFlags flags;
  // Set by the chosen subcommand; returns the process exit code.
  std::function<Result<int>()> action;

  Runtime MakeRuntime() const { return Runtime(RuntimeOptions{flags.root, flags.start_ns}); }
};

void AddCreateCommand(CLI::App& app, Cli& cli);
void AddStartCommand(CLI::App& app, Cli& cli);
void AddStateCommand(CLI::App& app, Cli& cli);
void AddKillCommand(CLI::App& app, Cli& cli);
void AddDeleteCommand(CLI::App& app, Cli& cli);
void AddExecCommand(CLI::App& app, Cli& cli);
void AddRunCommand(CLI::App& app, Cli& cli);
void AddListCommand(CLI::App& app, Cli& cli);
void AddPsCommand(CLI::App& app, Cli& cli);
void AddSpecCommand(CLI::App& app, Cli& cli);
void AddPauseCommand(CLI::App& app, Cli& cli);
void AddResumeCommand(CLI::App& app, Cli& cli);
void AddUpdateCommand(CLI::App& app, Cli& cli);
void AddEventsCommand(CLI::App& app, Cli& cli);
void AddFeaturesCommand(CLI::App& app, Cli& cli);

}  // namespace cvb::runtime::cli
