//! The clap definition of the command line is consistent: clap's own debug assertions
//! (duplicate or conflicting flags, bad defaults, broken `requires`/`conflicts_with`
//! references, ...) checked for every subcommand, without running a verb.

use clap::CommandFactory;

#[test]
fn the_command_line_definition_passes_clap_debug_assertions() {
    let cmd = wt::cli::Cli::command();
    // Every verb is there (a definition that lost its subcommands would pass trivially).
    let verbs: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
    for verb in [
        "list", "show", "claim", "done", "check", "import", "context",
    ] {
        assert!(verbs.contains(&verb), "{verb} missing from {verbs:?}");
    }
    cmd.debug_assert();
}
