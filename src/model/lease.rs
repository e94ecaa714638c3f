//! Claim leases and fencing tokens.
//!
//! A claim carries three fields besides `claimed_by`/`claimed_at`:
//! - `claim_expires`: when the lease runs out (`claims.lease_minutes` after the claim or the
//!   last `wt heartbeat`). An expired claim is *stale*: `wt claim ID --steal-stale` (or
//!   `wt claim --next` with `claims.steal_stale_on_next`) may take it over.
//! - `claim_token`: a random token drawn for every claim and every takeover. `wt done`,
//!   `wt release` and `wt heartbeat` given a token (`--token` or `WT_CLAIM_TOKEN`) act only if
//!   it is still the ticket's token, so an agent whose claim was taken over cannot finish work
//!   it no longer owns. The token is a fence against mistakes, not a secret: it is in the file.
//! - `claim_stolen_from`: the previous holder when the claim was taken over. Such a claim
//!   demands its token: a superseded agent that shares the new holder's name and carries no
//!   token is refused too.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::RngExt;

use crate::error::{Error, Result};
use crate::model::frontmatter::{self, Value};
use crate::model::ticket::Ticket;

/// Environment variable an agent's claim token can be passed in.
pub const TOKEN_ENV: &str = "WT_CLAIM_TOKEN";
/// Length of a claim token.
pub const TOKEN_LEN: usize = 16;
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The claim fields wt sets and clears, in the order they are inserted into a file.
pub const CLAIM_FIELDS: &[&str] = &[
    "claimed_by",
    "claimed_at",
    "claim_expires",
    "claim_token",
    "claim_stolen_from",
];

/// A fresh random claim token (about 80 bits). It starts with a letter, so YAML never reads
/// it as a number and the file holds it unquoted.
pub fn new_token() -> String {
    let mut rng = rand::rng();
    let letters = &ALPHABET[10..];
    let mut t = String::with_capacity(TOKEN_LEN);
    t.push(letters[rng.random_range(0..letters.len())] as char);
    for _ in 1..TOKEN_LEN {
        t.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    t
}

/// The token an agent carries: the explicit one, else `WT_CLAIM_TOKEN`.
pub fn token_from(explicit: Option<&str>) -> Option<String> {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var(TOKEN_ENV).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The expiry of a lease of `minutes` starting at `now` (None: 0 = never expires).
pub fn expiry(now: DateTime<Utc>, minutes: u32) -> Option<String> {
    if minutes == 0 {
        return None;
    }
    Some((now + Duration::minutes(i64::from(minutes))).to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Set a claim field. A field the file lacks is inserted after the last claim field it has
/// (normally `claimed_at`), so the claim reads as one block; `Null` on an absent field is a
/// no-op (files without lease fields stay as they are).
pub fn set_claim_field(text: &str, key: &str, value: &Value) -> Result<String> {
    let err =
        |e: frontmatter::FrontmatterError| Error::invalid(format!("cannot edit `{key}`: {e}"));
    let fields = frontmatter::fields(text).map_err(err)?;
    if fields.iter().any(|f| f.key == key) {
        return frontmatter::set_field(text, key, value).map_err(err);
    }
    if *value == Value::Null {
        return Ok(text.to_string());
    }
    let pos = CLAIM_FIELDS.iter().position(|k| *k == key);
    let anchor = pos.and_then(|p| {
        CLAIM_FIELDS[..p]
            .iter()
            .rev()
            .find_map(|k| fields.iter().find(|f| f.key == *k))
    });
    let Some(anchor) = anchor else {
        return frontmatter::set_field(text, key, value).map_err(err);
    };
    // Render `key: value` exactly as set_field would, on an empty frontmatter.
    let rendered = frontmatter::set_field("---\n---\n", key, value).map_err(err)?;
    let line = rendered
        .strip_prefix("---\n")
        .and_then(|r| r.strip_suffix("---\n"))
        .unwrap_or_default()
        .trim_end_matches('\n');
    let eol = if text[..anchor.end].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let at = anchor.end;
    let mut out = String::with_capacity(text.len() + line.len() + 2);
    out.push_str(&text[..at]);
    if !text[..at].ends_with('\n') {
        out.push_str(eol);
    }
    out.push_str(line);
    out.push_str(eol);
    out.push_str(&text[at..]);
    Ok(out)
}

/// Set several fields, claim fields through [`set_claim_field`].
pub fn set_fields(text: &str, fields: &[(&str, Value)]) -> Result<String> {
    if !fields.iter().any(|(k, _)| CLAIM_FIELDS.contains(k)) {
        // No claim field: every field in one pass (the same text as one by one).
        return frontmatter::set_fields(text, fields)
            .map_err(|e| Error::invalid(format!("cannot edit the frontmatter: {e}")));
    }
    let mut out = text.to_string();
    for (k, v) in fields {
        out = if CLAIM_FIELDS.contains(k) {
            set_claim_field(&out, k, v)?
        } else {
            frontmatter::set_field(&out, k, v)
                .map_err(|e| Error::invalid(format!("cannot edit `{k}`: {e}")))?
        };
    }
    Ok(out)
}

/// Empty the lease fields (`claim_expires`, `claim_token`, `claim_stolen_from`) a file has.
pub fn clear_lease_fields(text: &str) -> Result<String> {
    set_fields(
        text,
        &[
            ("claim_expires", Value::Null),
            ("claim_token", Value::Null),
            ("claim_stolen_from", Value::Null),
        ],
    )
}

/// Clear the lease fields of a parsed ticket.
pub fn clear_lease(t: &mut Ticket) {
    t.claimed_by = None;
    t.claimed_at = None;
    t.claim_expires = None;
    t.claim_token = None;
    t.claim_stolen_from = None;
}

/// The `detail` of an error refusing an agent whose claim is gone or was taken over: the
/// claim as it is now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClaimNow<'a> {
    pub id: &'a str,
    pub claimed_by: &'a Option<String>,
    pub claimed_at: &'a Option<String>,
    pub claim_stolen_from: &'a Option<String>,
}

fn superseded_detail(t: &Ticket) -> ClaimNow<'_> {
    ClaimNow {
        id: &t.id,
        claimed_by: &t.claimed_by,
        claimed_at: &t.claimed_at,
        claim_stolen_from: &t.claim_stolen_from,
    }
}

/// Does `agent` (carrying `token`, if any) hold `t`'s claim? `verb` names the action for the
/// message. With a token, the token must be the ticket's current one (it alone proves the
/// claim). Without one, the name must match and the claim must not be a takeover.
pub fn verify_holder(t: &Ticket, agent: &str, token: Option<&str>, verb: &str) -> Result<()> {
    let Some(holder) = t.claimed_by.as_deref() else {
        let mut e = Error::refused(format!("{} is not claimed", t.id));
        e = if token.is_some() {
            e.with_hint(format!(
                "your claim on {} is gone (released, or finished by force); do not {verb} it",
                t.id
            ))
        } else {
            e.with_hint(format!("claim it first: wt claim {}", t.id))
        };
        return Err(e.with_detail(superseded_detail(t)));
    };
    match token {
        Some(tok) => {
            if t.claim_token.as_deref() == Some(tok) {
                return Ok(());
            }
            let since = t.claimed_at.as_deref().unwrap_or("an unknown time");
            let how = match &t.claim_stolen_from {
                Some(prev) => format!(" (taken over from {prev}'s stale claim)"),
                None => String::new(),
            };
            Err(Error::refused(format!(
                "cannot {verb} {}: your claim token does not match; it is held by {holder} since {since}{how}",
                t.id
            ))
            .with_hint("your claim was superseded: stop working on this ticket and pick another (`wt ready`)")
            .with_detail(superseded_detail(t)))
        }
        None => {
            if holder != agent {
                return Err(Error::refused(format!(
                    "{} is claimed by {holder}, not by {agent}",
                    t.id
                ))
                .with_hint(format!("only the holder may {verb} it"))
                .with_detail(superseded_detail(t)));
            }
            if let Some(prev) = &t.claim_stolen_from {
                return Err(Error::refused(format!(
                    "{}'s claim was taken over from {prev}'s stale lease; {verb} needs the claim's token",
                    t.id
                ))
                .with_hint(format!(
                    "pass --token (printed by `wt claim`) or set {TOKEN_ENV}; without it a superseded agent could not be told apart"
                ))
                .with_detail(superseded_detail(t)));
            }
            Ok(())
        }
    }
}

/// The field edits that give `t` a new status and clear its claim, and the ticket after them.
pub fn release_as(
    t: &Ticket,
    status: crate::model::ticket::Status,
    now: &str,
) -> (Vec<(&'static str, Value)>, Ticket) {
    let fields = vec![
        ("status", Value::Str(status.as_str().into())),
        ("claimed_by", Value::Null),
        ("claimed_at", Value::Null),
        ("claim_expires", Value::Null),
        ("claim_token", Value::Null),
        ("claim_stolen_from", Value::Null),
        ("updated", Value::Str(now.to_string())),
    ];
    let mut ticket = t.clone();
    ticket.status = status;
    clear_lease(&mut ticket);
    ticket.updated = Some(now.to_string());
    (fields, ticket)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "---\nid: J-a\nkind: job\ntitle: x\nstatus: open\nclaimed_by:\nclaimed_at:\ncreated: now\n---\nbody\n";

    #[test]
    fn absent_lease_fields_are_inserted_after_claimed_at_in_order() {
        let out = set_fields(
            T,
            &[
                ("claimed_by", Value::Str("a".into())),
                ("claimed_at", Value::Str("2026-01-01T00:00:00Z".into())),
                ("claim_expires", Value::Str("2026-01-01T00:30:00Z".into())),
                ("claim_token", Value::Str("abc".into())),
                ("claim_stolen_from", Value::Null),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "---\nid: J-a\nkind: job\ntitle: x\nstatus: open\nclaimed_by: a\nclaimed_at: \"2026-01-01T00:00:00Z\"\nclaim_expires: \"2026-01-01T00:30:00Z\"\nclaim_token: abc\ncreated: now\n---\nbody\n"
        );
        let cleared = clear_lease_fields(&out).unwrap();
        assert!(
            cleared.contains("claim_expires:\nclaim_token:\ncreated"),
            "{cleared}"
        );
        assert_eq!(clear_lease_fields(T).unwrap(), T);
    }

    #[test]
    fn tokens_are_written_unquoted() {
        for _ in 0..200 {
            let t = new_token();
            assert_eq!(t.len(), TOKEN_LEN);
            assert_eq!(frontmatter::render_scalar(&t), t);
        }
    }

    #[test]
    fn crlf_files_keep_crlf() {
        let t = T.replace('\n', "\r\n");
        let out = set_claim_field(&t, "claim_token", &Value::Str("abc".into())).unwrap();
        assert!(
            out.contains("claimed_at:\r\nclaim_token: abc\r\ncreated"),
            "{out:?}"
        );
    }

    fn claimed(by: &str, token: &str, stolen: Option<&str>) -> Ticket {
        Ticket {
            id: "J-a".into(),
            claimed_by: Some(by.into()),
            claim_token: Some(token.into()),
            claim_stolen_from: stolen.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn token_proves_the_claim_and_a_taken_over_claim_needs_it() {
        let t = claimed("b", "tok", None);
        assert!(verify_holder(&t, "b", None, "finish").is_ok());
        assert!(verify_holder(&t, "a", None, "finish").is_err());
        assert!(verify_holder(&t, "a", Some("tok"), "finish").is_ok());
        assert!(verify_holder(&t, "b", Some("old"), "finish").is_err());
        let stolen = claimed("b", "tok2", Some("b"));
        assert!(verify_holder(&stolen, "b", None, "finish").is_err());
        assert!(verify_holder(&stolen, "b", Some("tok"), "finish").is_err());
        assert!(verify_holder(&stolen, "b", Some("tok2"), "finish").is_ok());
    }

    #[test]
    fn stale_means_expired_at_or_before_now() {
        let mut t = claimed("b", "tok", None);
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!t.is_stale(now));
        t.claim_expires = Some("2026-01-01T00:30:00Z".into());
        assert!(t.is_stale(now));
        t.claim_expires = Some("2026-01-01T00:31:00Z".into());
        assert!(!t.is_stale(now));
        t.claim_expires = Some("garbage".into());
        assert!(!t.is_stale(now));
    }
}
