#include "cvb/runtime/features.h"

#include <cstdio>

#include "commands.h"

namespace cvb::runtime::cli {

void AddFeaturesCommand(CLI::App& app, Cli& cli) {
  auto* cmd = app.add_subcommand("features", "print the runtime-spec features JSON of this cvrun");
  cmd->callback([&cli] {
    cli.action = []() -> Result<int> {
      std::printf("%s\n", FeaturesJson().c_str());
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
