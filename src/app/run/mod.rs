//! `wt run`: the ticket executor. Parallel Ralph loops of agent CLIs, each ticket in its own
//! worktree, verified like `wt done`, integrated through a merge queue that keeps the
//! integration branch green. See docs/run.md.
pub mod merge;
pub mod orphans;
