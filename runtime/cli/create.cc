#include "commands.h"

namespace cvb::runtime::cli {

void AddCreateCommand(CLI::App& app, Cli& cli) {
  auto opts = std::make_shared<CreateOptions>();
  auto* cmd = app.add_subcommand("create", "create a container (its init waits for `start`)");
  cmd->add_option("--bundle,-b", opts->bundle, "bundle directory (config.json)");
  cmd->add_option("--pid-file", opts->pid_file, "write the init's pid here");
  cmd->add_option("--console-socket", opts->console_socket, "AF_UNIX socket for the pty master");
  cmd->add_option("--preserve-fds", opts->preserve_fds, "pass fds 3..3+N-1 to the container");
  cmd->add_flag("--no-pivot,--no-new-keyring")->description("accepted and ignored");
  cmd->add_option("id", opts->id, "container ID")->required();
  cmd->callback([&cli, opts] {
    cli.action = [&cli, opts]() -> Result<int> {
      CVB_TRY(cli.MakeRuntime().Create(*opts));
      return 0;
    };
  });
}

}  // namespace cvb::runtime::cli
