//! The one integration-test binary. Each area of wt has a module; all of them drive the real
//! `wt` binary against real temporary git repositories (see `common`).

mod ci_gate;
mod common;
mod concurrency;
mod errors;
mod fixtures;
mod git_safety;
mod graph_props;
mod scale;
mod scheduling;
mod smoke;
mod state_branch;
mod verbs;
