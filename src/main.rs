//! The `wt` binary: parse the command line and hand over to [`wt::cli::run`].

fn main() {
    std::process::exit(wt::cli::run());
}
