#include "commands.h"

namespace cvb::runtime::cli {

void AddDeleteCommand(CLI::App& app, Cli& cli) {
  struct Args {
    std::string id;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("delete", "delete a container (its cgroups and state)");
  cmd->add_flag("--force,-f", args->force, "kill it first if it runs; recover a crashed create");
  cmd->add_option("id", args->id, "container ID")->required();
  cmd->callback([&cli, args] {
    cli.action = [&cli, args]() -> Result<int> {
      CVB_TRY(cli.MakeRuntime().Delete(args->id, args->force));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
