//! `broker shell-init SHELL`: the shell function that lets `broker use` set credentials in the
//! shell it is typed in. A program cannot change its parent's environment, so the function runs
//! `broker use --shell-code SHELL …` and has the shell evaluate what it prints: code quoted for
//! that shell (see [`crate::format`]), never anything else. Every other command passes through.

use crate::error::Result;
use crate::{exit_codes, output};

/// Print the shell function that makes `broker use` work in your shell
///
/// Defines a function `broker` that runs `broker use …` through the shell itself, so that it can
/// set the credentials in that shell; every other broker command runs as it is. Load it from
/// your shell's start-up file.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  eval \"$(broker shell-init bash)\"     # in ~/.bashrc (zsh: ~/.zshrc, with zsh)
  broker shell-init fish | source      # in ~/.config/fish/config.fish
  Invoke-Expression (& broker shell-init powershell | Out-String)   # in $PROFILE")]
pub struct Args {
    /// The shell
    #[arg(value_name = "SHELL", value_parser = ["bash", "zsh", "fish", "powershell"])]
    shell: String,
}

pub fn run(args: Args) -> Result<u8> {
    output::stdout(script(&args.shell).as_bytes())?;
    Ok(exit_codes::SUCCESS)
}

/// The function for `shell`.
pub fn script(shell: &str) -> &'static str {
    match shell {
        "fish" => FISH,
        "powershell" => POWERSHELL,
        _ => POSIX,
    }
}

const POSIX: &str = r#"# broker shell-init: `broker use PROFILE` sets credentials in this shell
broker() {
  if [ "${1-}" = use ]; then
    shift
    local __broker_code
    __broker_code="$(command broker use --shell-code sh "$@")" || return
    eval "$__broker_code"
  else
    command broker "$@"
  fi
}
"#;

const FISH: &str = r#"# broker shell-init: `broker use PROFILE` sets credentials in this shell
function broker --wraps broker
    if test (count $argv) -ge 1; and test "$argv[1]" = use
        command broker use --shell-code fish $argv[2..-1] | source
        return $pipestatus[1]
    end
    command broker $argv
end
"#;

const POWERSHELL: &str = r#"# broker shell-init: `broker use PROFILE` sets credentials in this shell
function broker {
    $exe = Get-Command -CommandType Application broker | Select-Object -First 1
    if ($args.Count -ge 1 -and $args[0] -eq 'use') {
        $code = & $exe use --shell-code powershell @($args | Select-Object -Skip 1)
        if ($LASTEXITCODE -eq 0 -and $code) { Invoke-Expression ($code -join "`n") }
    } else {
        & $exe @args
    }
}
"#;
