//! Pure algorithms over tickets: the dependency graph (readiness, blocking reasons, cycles,
//! order), waves of parallel work, and file overlap between tickets.

pub mod graph;
pub mod order;
pub mod overlap;
pub mod waves;
