#include "commands.h"

namespace cvb::runtime::cli {

void AddExecCommand(CLI::App& app, Cli& cli) {
  auto opts = std::make_shared<ExecOptions>();
  auto* cmd = app.add_subcommand("exec", "run another process in a running container");
  cmd->add_option("--process,-p", opts->process_file, "an OCI process.json (instead of a command)");
  cmd->add_flag("--tty,-t", opts->tty, "give the process a pty (needs --console-socket)");
  cmd->add_option("--console-socket", opts->console_socket, "AF_UNIX socket for the pty master");
  cmd->add_flag("--detach,-d", opts->detach, "return once the process runs");
  cmd->add_option("--pid-file", opts->pid_file, "write the process's pid here");
  cmd->add_option("--cwd", opts->cwd, "working directory inside the container");
  // One value per occurrence: `-e A=b ID cmd` must not take the ID and the command as values.
  cmd->add_option("--env,-e", opts->env, "KEY=VALUE (repeatable)")->allow_extra_args(false);
  cmd->add_option("--user,-u", opts->user, "uid[:gid]");
  cmd->add_option("--cap,-c", opts->caps, "add a capability (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-new-privs", opts->no_new_privs, "set no_new_privileges");
  cmd->add_option("--preserve-fds", opts->preserve_fds, "pass fds 3..3+N-1 to the process");
  cmd->add_option("--process-label", opts->process_label, "SELinux label: refused unless empty");
  cmd->add_option("--apparmor", opts->apparmor, "AppArmor profile: refused unless empty");
  cmd->add_option("id", opts->id, "container ID")->required();
  // Everything after the ID is the command, options included (`exec ID sh -c 'ls -l'`).
  cmd->prefix_command();
  cmd->callback([&cli, opts, cmd] {
    opts->args = cmd->remaining();
    if (!opts->args.empty() && opts->args.front() == "--") opts->args.erase(opts->args.begin());
    cli.action = [&cli, opts]() -> Result<int> {
      // No process in the container may ever reach cvrun's binary on the host (CVE-2019-5736):
      // from here on cvrun runs from a sealed memfd copy of itself.
      CVB_TRY(ReexecFromSealedCopy());
      return cli.MakeRuntime().Exec(*opts);
    };
  });
}

}  // namespace cvb::runtime::cli
