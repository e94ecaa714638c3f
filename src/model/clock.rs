//! The clock, overridable with `WT_NOW` (RFC 3339) so tests and replays are deterministic,
//! or, for code running in-process (tests that call `wt::app::` directly), pinned for one
//! thread with [`pin`], which takes precedence over `WT_NOW` and touches no environment.

use std::cell::Cell;

use chrono::{DateTime, SecondsFormat, Utc};

thread_local! {
    /// The time [`pin`] set on this thread, if any.
    static PINNED: Cell<Option<DateTime<Utc>>> = const { Cell::new(None) };
}

/// While the returned guard lives, `now()` on this thread is `at` (and commits made on this
/// thread carry it, as with `WT_NOW`). Dropping the guard restores what was pinned before.
/// Other threads are untouched, so tests running in parallel each keep their own clock.
#[must_use = "the clock is pinned only while the guard lives"]
pub fn pin(at: DateTime<Utc>) -> Pinned {
    Pinned {
        previous: PINNED.with(|p| p.replace(Some(at))),
    }
}

/// Keeps the clock of this thread pinned (see [`pin`]).
pub struct Pinned {
    previous: Option<DateTime<Utc>>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        PINNED.with(|p| p.set(self.previous));
    }
}

/// The time this thread's [`pin`] or `WT_NOW` pins, if any (`WT_NOW` only when set and valid).
pub fn override_now() -> Option<DateTime<Utc>> {
    if let Some(at) = PINNED.with(Cell::get) {
        return Some(at);
    }
    let v = std::env::var("WT_NOW").ok()?;
    DateTime::parse_from_rfc3339(v.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Now, or the time [`pin`] or `WT_NOW` pins.
pub fn now() -> DateTime<Utc> {
    override_now().unwrap_or_else(Utc::now)
}

/// `now()` as the timestamp wt writes into tickets (`2026-11-20T12:00:00Z`).
pub fn timestamp() -> String {
    now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_holds_on_its_thread_only_and_ends_with_its_guard() {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let later = at + chrono::Duration::hours(1);
        let outer = pin(at);
        assert_eq!(timestamp(), "2026-01-02T03:04:05Z");
        {
            let _inner = pin(later);
            assert_eq!(now(), later);
        }
        assert_eq!(now(), at, "the inner guard restores the outer pin");
        let other = std::thread::spawn(|| PINNED.with(Cell::get))
            .join()
            .unwrap();
        assert_eq!(other, None, "another thread's clock is not pinned");
        drop(outer);
        assert_eq!(PINNED.with(Cell::get), None);
    }
}
