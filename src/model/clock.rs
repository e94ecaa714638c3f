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

/// `s` as an RFC 3339 time (what `DateTime::parse_from_rfc3339` reads), in UTC. The form wt
/// writes (`2026-01-02T03:04:05Z`) is read directly; anything else goes to chrono, so the
/// answer is chrono's for every text (a `wt check` of 10,000 tickets read 20,000 times).
pub fn parse_rfc3339(s: &str) -> Option<DateTime<Utc>> {
    match fixed_form(s) {
        Some(t) => Some(t),
        None => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc)),
    }
}

/// Is `s` an RFC 3339 time ([`parse_rfc3339`] reads it)? The form wt writes is judged
/// without building the time.
pub fn is_rfc3339(s: &str) -> bool {
    match fixed_parts(s) {
        Some([year, month, day, hour, minute, second]) => {
            let days = match month {
                2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let valid = (1..=12).contains(&month)
                && (1..=days).contains(&day)
                && hour < 24
                && minute < 60
                && second < 60;
            valid || parse_rfc3339(s).is_some()
        }
        None => parse_rfc3339(s).is_some(),
    }
}

/// The numbers of `YYYY-MM-DDTHH:MM:SSZ` (year, month, day, hour, minute, second), not yet
/// checked for range; None for text of any other form.
fn fixed_parts(s: &str) -> Option<[u32; 6]> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    // The two digits at `i`, `i + 1` as a number.
    let two = |i: usize| -> Option<u32> {
        let (hi, lo) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
        (hi < 10 && lo < 10).then(|| u32::from(hi) * 10 + u32::from(lo))
    };
    Some([
        two(0)? * 100 + two(2)?,
        two(5)?,
        two(8)?,
        two(11)?,
        two(14)?,
        two(17)?,
    ])
}

/// `YYYY-MM-DDTHH:MM:SSZ` with every part in range (seconds below 60); None for anything
/// else, which chrono then reads.
fn fixed_form(s: &str) -> Option<DateTime<Utc>> {
    let [year, month, day, hour, minute, second] = fixed_parts(s)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(date.and_hms_opt(hour, minute, second)?.and_utc())
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

    fn chrono_reads(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    #[test]
    fn rfc3339_times_read_as_chrono_reads_them() {
        for s in [
            "2026-01-02T03:04:05Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "2100-02-29T12:00:00Z",
            "2000-02-29T12:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:60:00Z",
            "2026-12-31T23:59:60Z",
            "2026-01-02t03:04:05z",
            "2026-01-02 03:04:05Z",
            "2026-01-02T03:04:05+01:00",
            "2026-01-02T03:04:05.5Z",
            "2026-01-02T03:04:05",
            "2026-1-02T03:04:05Z",
            "+026-01-02T03:04:05Z",
            "2026-01-02T03:04:0 Z",
            "",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339(s), chrono_reads(s), "{s}");
            assert_eq!(is_rfc3339(s), chrono_reads(s).is_some(), "{s}");
        }
    }

    proptest::proptest! {
        #[test]
        fn rfc3339_times_of_wt_form_read_as_chrono_reads_them(
            s in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}[Zz]"
        ) {
            proptest::prop_assert_eq!(parse_rfc3339(&s), chrono_reads(&s));
            proptest::prop_assert_eq!(is_rfc3339(&s), chrono_reads(&s).is_some());
        }

        #[test]
        fn rfc3339_times_near_the_edges_read_as_chrono_reads_them(
            s in "[0-9]{2}[0-9]{2}-(0[0-9]|1[0-3])-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9]Z"
        ) {
            proptest::prop_assert_eq!(parse_rfc3339(&s), chrono_reads(&s));
            proptest::prop_assert_eq!(is_rfc3339(&s), chrono_reads(&s).is_some());
        }
    }
}
