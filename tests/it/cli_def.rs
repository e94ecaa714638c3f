//! The clap definition of the command line is consistent: clap's own debug assertions
//! (duplicate or conflicting flags, bad defaults, broken `requires`/`conflicts_with`
//! references, ...) checked for every subcommand, without running a verb.

use clap::{CommandFactory, Parser};

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

/// What a command line definition accepts, verb by verb: each command's path with its
/// arguments (ID, flags, whether it takes a value, is required, global, positional index,
/// possible values), sorted, and its subcommands.
fn shape(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    let mut args: Vec<String> = cmd
        .get_arguments()
        .map(|a| {
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            format!(
                "{} long={:?} short={:?} takes={} required={} global={} index={:?} num={:?} action={:?} values={values:?} conflicts={:?}",
                a.get_id(),
                a.get_long(),
                a.get_short(),
                a.get_action().takes_values(),
                a.is_required_set(),
                a.is_global_set(),
                a.get_index(),
                a.get_num_args(),
                a.get_action(),
                cmd.get_arg_conflicts_with(a)
                    .iter()
                    .map(|c| c.get_id().to_string())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    args.sort();
    out.push(format!("{path}: {}", args.join("; ")));
    for sub in cmd.get_subcommands() {
        // clap's own `help` subcommand: it only ever prints help, which `parse` leaves
        // to the whole definition.
        if sub.get_name() != "help" {
            shape(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
}

/// `wt::cli::parse` reads a valid command line with `Quick` (each verb defined only when
/// invoked) and everything else with `Cli`: the two must accept exactly the same command
/// lines, so their definitions are compared verb by verb, argument by argument.
#[test]
fn the_quick_parser_defines_every_verb_like_the_whole_definition() {
    let mut whole = wt::cli::Cli::command();
    whole.build();
    let mut quick = wt::cli::Quick::command();
    quick.build();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    shape(&whole, "wt", &mut a);
    shape(&quick, "wt", &mut b);
    assert!(a.len() > 40, "{a:?}");
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|l| !y.contains(l)).cloned().collect()
    };
    assert_eq!(
        (only(&a, &b), only(&b, &a)),
        (Vec::new(), Vec::new()),
        "verbs defined differently (whole, quick)"
    );
    // And they read the same command lines the same way (spot checks of each kind).
    for line in [
        &["wt", "--json", "ready", "--kind", "task"][..],
        &["wt", "ready", "--json"],
        &["wt", "-C", "/tmp", "claim", "T-abc", "--agent", "a"],
        &["wt", "dep", "add", "T-a", "T-b"],
        &["wt", "done", "T-a", "--no-ci", "--reason", "r"],
    ] {
        let q = wt::cli::parse(line.iter().copied());
        let w = wt::cli::Cli::try_parse_from(line.iter().copied());
        assert_eq!(
            q.as_ref().map(|c| (c.json, c.dir.clone())).ok(),
            w.as_ref().map(|c| (c.json, c.dir.clone())).ok(),
            "{line:?}"
        );
        assert!(q.is_ok(), "{line:?}");
    }
    // A mistake is reported by the whole definition, with its help.
    let err = wt::cli::parse(["wt", "ready", "--bogus"])
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--bogus"), "{err}");
    let help = wt::cli::parse(["wt", "--help"]).err().expect("help");
    assert!(
        help.to_string()
            .contains("List tickets that can be started now"),
        "{help}"
    );
}
