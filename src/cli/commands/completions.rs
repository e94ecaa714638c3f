use clap::CommandFactory;
use clap_complete::Shell;

use crate::app::onboarding::CompletionsReport;
use crate::app::report::SchemaVersion;
use crate::cli::{Ctx, Out};

/// Print a shell completion script for wt.
///
/// bash: `wt completions bash > ~/.local/share/bash-completion/completions/wt`;
/// zsh: `wt completions zsh > ~/.zfunc/_wt` (with ~/.zfunc on fpath);
/// fish: `wt completions fish > ~/.config/fish/completions/wt.fish`;
/// PowerShell: `wt completions powershell | Out-String | Invoke-Expression`;
/// elvish: `eval (wt completions elvish | slurp)`.
#[derive(clap::Args)]
pub struct Args {
    /// bash, zsh, fish, powershell or elvish.
    pub shell: Shell,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = crate::cli::Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "wt", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn run(args: Args, _ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = CompletionsReport {
        schema_version: SchemaVersion,
        shell: args.shell.to_string(),
        script: script(args.shell),
    };
    Ok(Out::new(r, |r: &CompletionsReport| r.script.clone()).exact())
}
