#include "commands.h"

namespace cvb::runtime::cli {

void AddKillCommand(CLI::App& app, Cli& cli) {
  struct Args {
    std::string id;
    std::string signal = "TERM";
    bool all = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("kill", "send a signal to a container's init");
  cmd->add_flag("--all,-a", args->all, "signal every process in the container's cgroup");
  cmd->add_option("id", args->id, "container ID")->required();
  cmd->add_option("signal", args->signal, "TERM, SIGTERM, 15 ... (default TERM)");
  cmd->callback([&cli, args] {
    cli.action = [&cli, args]() -> Result<int> {
      CVB_ASSIGN_OR_RETURN(int sig, ParseSignal(args->signal));
      CVB_TRY(cli.MakeRuntime().Kill(args->id, sig, args->all));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
