#include "commands.h"

namespace cvb::runtime::cli {

void AddResumeCommand(CLI::App& app, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("resume", "thaw a paused container");
  cmd->add_option("id", *id, "container ID")->required();
  cmd->callback([&cli, id] {
    cli.action = [&cli, id]() -> Result<int> {
      CVB_TRY(cli.MakeRuntime().Resume(*id));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
