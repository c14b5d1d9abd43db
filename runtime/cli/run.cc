#include "commands.h"

namespace cvb::runtime::cli {

void AddRunCommand(CLI::App& app, Cli& cli) {
  struct Args {
    CreateOptions create;
    bool detach = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "create and start a container, wait for it, delete it");
  cmd->add_option("--bundle,-b", args->create.bundle, "bundle directory (config.json)");
  cmd->add_option("--pid-file", args->create.pid_file, "write the init's pid here");
  cmd->add_option("--console-socket", args->create.console_socket, "AF_UNIX socket for a pty");
  cmd->add_option("--preserve-fds", args->create.preserve_fds, "pass fds 3..3+N-1");
  cmd->add_flag("--detach,-d", args->detach, "return once it runs");
  cmd->add_flag("--no-pivot,--no-new-keyring")->description("accepted and ignored");
  cmd->add_option("id", args->create.id, "container ID")->required();
  cmd->callback([&cli, args] {
    cli.action = [&cli, args]() -> Result<int> {
      return cli.MakeRuntime().Run(args->create, args->detach);
    };
  });
}

}  // namespace cvb::runtime::cli
