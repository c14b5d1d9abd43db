#include <cstdio>

#include "commands.h"

namespace cvb::runtime::cli {

void AddStateCommand(CLI::App& app, Cli& cli) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("state", "print the OCI state JSON of a container");
  cmd->add_option("id", *id, "container ID")->required();
  cmd->callback([&cli, id] {
    cli.action = [&cli, id]() -> Result<int> {
      CVB_ASSIGN_OR_RETURN(std::string json, cli.MakeRuntime().StateJson(*id));
      std::printf("%s\n", json.c_str());
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
