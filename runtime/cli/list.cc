#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.h"

namespace cvb::runtime::cli {

void AddListCommand(CLI::App& app, Cli& cli) {
  auto format = std::make_shared<std::string>("table");
  auto quiet = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("list", "list containers (ID, PID, STATUS, BUNDLE, CREATED)");
  cmd->add_option("--format,-f", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  cmd->add_flag("--quiet,-q", *quiet, "display only container IDs (as runc)");
  cmd->callback([&cli, format, quiet] {
    cli.action = [&cli, format, quiet]() -> Result<int> {
      CVB_ASSIGN_OR_RETURN(auto containers, cli.MakeRuntime().List());
      if (*quiet) {
        for (const auto& c : containers) std::printf("%s\n", c.state.id.c_str());
        return 0;
      }
      if (*format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& c : containers)
          out.push_back(nlohmann::json::parse(c.state.OciJson(c.status)));
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
      }
      std::printf("%-24s %-8s %-9s %-40s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
      for (const auto& c : containers)
        std::printf("%-24s %-8d %-9s %-40s %s\n", c.state.id.c_str(),
                    c.status == Status::kStopped ? 0 : c.state.pid, StatusName(c.status),
                    c.state.bundle.c_str(), c.state.created.c_str());
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
