#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.h"

namespace cvb::runtime::cli {

void AddPsCommand(CLI::App& app, Cli& cli) {
  struct Args {
    std::string id;
    std::string format = "table";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("ps", "list the host pids of a container's processes");
  cmd->add_option("--format,-f", args->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->add_option("id", args->id, "container ID")->required();
  cmd->callback([&cli, args] {
    cli.action = [&cli, args]() -> Result<int> {
      CVB_ASSIGN_OR_RETURN(auto pids, cli.MakeRuntime().Ps(args->id));
      if (args->format == "json") {
        std::printf("%s\n", nlohmann::json(pids).dump().c_str());
        return 0;
      }
      std::printf("PID\n");
      for (pid_t pid : pids) std::printf("%d\n", pid);
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
