//! The one integration-test binary. Each area of wt has a module; all of them drive the real
//! `wt` binary against real temporary git repositories (see `common`).

mod common;
mod concurrency;
mod smoke;
