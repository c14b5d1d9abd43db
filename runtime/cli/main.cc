// cvrun: an OCI runtime (runc/crun command line). Exceptions stop here; the library returns
// Result.
#include <cstdio>
#include <exception>

#include "commands.h"
#include "cvb/common/clock.h"
#include "cvb/runtime/log.h"

int main(int argc, char** argv) {
  using namespace cvb::runtime;
  cli::Cli cli;
  cli.flags.start_ns = cvb::MonotonicNs();
  CLI::App app{"cvrun: a small, fast OCI container runtime (runc/crun compatible CLI)", "cvrun"};
  app.set_version_flag("--version,-v", std::string("cvrun version 0.1.0\nspec: 1.0.2"));
  app.option_defaults()->always_capture_default();
  app.add_option("--root", cli.flags.root, "state directory")->capture_default_str();
  app.add_option("--log", cli.flags.log, "log file (default: stderr)");
  app.add_option("--log-format", cli.flags.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", cli.flags.debug, "debug output");
  app.add_flag("--systemd-cgroup", cli.flags.systemd_cgroup, "accepted and ignored");
  app.add_option("--rootless", cli.flags.rootless, "accepted and ignored");
  app.add_option("--criu", cli.flags.criu, "accepted and ignored");
  app.add_option("--log-level", cli.flags.log_level, "accepted and ignored");
  app.require_subcommand(1);
  cli::AddCreateCommand(app, cli);
  cli::AddStartCommand(app, cli);
  cli::AddStateCommand(app, cli);
  cli::AddKillCommand(app, cli);
  cli::AddDeleteCommand(app, cli);
  cli::AddExecCommand(app, cli);
  cli::AddRunCommand(app, cli);
  cli::AddListCommand(app, cli);
  cli::AddPsCommand(app, cli);
  cli::AddSpecCommand(app, cli);
  cli::AddPauseCommand(app, cli);
  cli::AddResumeCommand(app, cli);
  cli::AddUpdateCommand(app, cli);
  cli::AddEventsCommand(app, cli);
  cli::AddFeaturesCommand(app, cli);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  Log::Get().Configure(cli.flags.log, cli.flags.log_format == "json", cli.flags.debug);
  try {
    auto result = cli.action();
    if (!result.ok()) {
      Log::Get().Error(result.error().message());
      return 1;
    }
    return *result;
  } catch (const std::exception& e) {
    Log::Get().Error(e.what());
    return 1;
  }
}
