//! The clock, overridable with `WT_NOW` (RFC 3339) so tests and replays are deterministic.

use chrono::{DateTime, SecondsFormat, Utc};

/// The time `WT_NOW` pins, if set and valid.
pub fn override_now() -> Option<DateTime<Utc>> {
    let v = std::env::var("WT_NOW").ok()?;
    DateTime::parse_from_rfc3339(v.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Now, or the time `WT_NOW` pins.
pub fn now() -> DateTime<Utc> {
    override_now().unwrap_or_else(Utc::now)
}

/// `now()` as the timestamp wt writes into tickets (`2026-11-20T12:00:00Z`).
pub fn timestamp() -> String {
    now().to_rfc3339_opts(SecondsFormat::Secs, true)
}
