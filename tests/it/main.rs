//! The one integration-test binary. Each area of wt has a module; all of them drive the real
//! `wt` binary against real temporary git repositories (see `common`).

// Test code: an unwrap that fails is a failed test.
#![allow(clippy::unwrap_used)]

mod agents;
mod architecture;
mod cache;
mod ci_gate;
mod ci_tree;
mod cli_def;
mod common;
mod concurrency;
mod context;
mod demo;
mod docs;
mod errors;
mod fixtures;
mod fuzz;
mod git_safety;
mod gitindex;
mod graph_props;
mod hostile;
mod importing;
mod layouts;
mod lookup;
mod loop_e2e;
mod loop_rules;
mod onboarding;
mod order;
mod plan_roundtrip;
mod planning;
mod review;
mod rough_edges;
mod run_loop;
mod run_merge;
mod scale;
mod scheduling;
mod smoke;
mod state_branch;
mod templates;
mod text_output;
mod verbs;
mod workflow_e2e;
