#include "commands.h"

namespace cvb::runtime::cli {

void AddStartCommand(CLI::App& app, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("start", "start a created container");
  cmd->add_option("id", *id, "container ID")->required();
  cmd->callback([&cli, id] {
    cli.action = [&cli, id]() -> Result<int> {
      CVB_TRY(cli.MakeRuntime().Start(*id));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
