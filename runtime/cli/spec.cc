#include <fcntl.h>
#include <unistd.h>

#include "commands.h"
#include "cvb/common/file.h"
#include "cvb/runtime/spec.h"

namespace cvb::runtime::cli {

void AddSpecCommand(CLI::App& app, Cli& cli) {
  auto bundle = std::make_shared<std::string>(".");
  auto rootless = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("spec", "write a default config.json into the bundle");
  cmd->add_option("--bundle,-b", *bundle, "where to write config.json");
  cmd->add_flag("--rootless", *rootless,
                "a config for a container started by a non-root user (as runc spec --rootless)");
  cmd->callback([&cli, bundle, rootless] {
    cli.action = [bundle, rootless]() -> Result<int> {
      std::string path = *bundle + "/config.json";
      if (PathExists(path)) return Failure(path + " already exists");
      CVB_TRY(WriteFile(path, *rootless ? RootlessSpecJson(geteuid(), getegid())
                                        : DefaultSpecJson()));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
