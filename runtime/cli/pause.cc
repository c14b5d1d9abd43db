#include "commands.h"

namespace cvb::runtime::cli {

void AddPauseCommand(CLI::App& app, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto* cmd =
      app.add_subcommand("pause", "freeze every process of a running container (cgroup freezer)");
  cmd->add_option("id", *id, "container ID")->required();
  cmd->callback([&cli, id] {
    cli.action = [&cli, id]() -> Result<int> {
      CVB_TRY(cli.MakeRuntime().Pause(*id));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
