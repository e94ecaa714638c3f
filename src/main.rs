//! The `wt` binary: parse the command line and hand over to [`cli::run`].

mod cli;

fn main() {
    std::process::exit(cli::run());
}
