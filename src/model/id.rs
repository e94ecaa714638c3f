//! Ticket IDs: a kind letter, a dash and 8 random base-32 characters (`J-7f3ak2m9`).
//!
//! 40 random bits make a collision between two agents or clones creating tickets at the same
//! time vanishingly unlikely (about 1 in 20 million for two sets of 10,000), and a creator also
//! re-draws any ID already present in the tree it commits on.

use rand::RngExt;
use std::collections::HashSet;

use crate::error::{Error, Result};
pub use crate::model::ticket::looks_like_id_prefix;
use crate::model::ticket::{Kind, Ticket};

/// Crockford-style alphabet: digits and lowercase letters without i, l, o, u.
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Number of random characters in an ID.
pub const ID_LEN: usize = 8;

/// A fresh ID for `kind` that is not in `taken`.
pub fn generate(kind: Kind, taken: &dyn Fn(&str) -> bool) -> String {
    let mut rng = rand::rng();
    loop {
        let mut id = String::with_capacity(ID_LEN + 2);
        id.push_str(kind.prefix());
        id.push('-');
        for _ in 0..ID_LEN {
            let i = rng.random_range(0..ALPHABET.len());
            id.push(ALPHABET[i] as char);
        }
        if !taken(&id) {
            return id;
        }
    }
}

/// A file-name slug of a title: lowercase ASCII words joined by dashes, at most 40 bytes.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= 40 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Resolve a user-supplied ID, alias or unique ID prefix against the tickets.
///
/// Matching is case-insensitive; the kind prefix may be left out (`7f3a` finds `J-7f3ak2m9`).
/// An exact ID comes first, then an exact alias (the ID a ticket had in the tracker it was
/// imported from, `bd-a3f8`), then a unique ID prefix. An ID that more than one file carries
/// (exactly, or but for case) names no ticket: the error names every such file.
pub fn resolve<'a>(tickets: &'a [Ticket], query: &str) -> Result<&'a Ticket> {
    let q = query.trim();
    if !q.is_empty() && !tickets.iter().any(|t| t.id.eq_ignore_ascii_case(q)) {
        let mut named = tickets
            .iter()
            .filter(|t| t.aliases.iter().any(|a| a.eq_ignore_ascii_case(q)));
        if let Some(first) = named.next() {
            let rest: Vec<&str> = named.map(|t| t.id.as_str()).collect();
            if rest.is_empty() {
                return Ok(first);
            }
            let mut ids = vec![first.id.as_str()];
            ids.extend(rest);
            ids.sort_unstable();
            return Err(Error::invalid(format!(
                "`{query}` is ambiguous: it names {} tickets ({})",
                ids.len(),
                ids.join(", ")
            ))
            .with_hint("use one of the ticket IDs"));
        }
    }
    let i = resolve_position(tickets.iter().map(|t| t.id.as_str()), query)?;
    let id = &tickets[i].id;
    if tickets
        .iter()
        .filter(|t| t.id.eq_ignore_ascii_case(id))
        .nth(1)
        .is_some()
    {
        let named: Vec<String> = tickets
            .iter()
            .filter(|t| t.id.eq_ignore_ascii_case(id))
            .map(|t| format!("{} in {}", t.id, t.path))
            .collect();
        return Err(Error::invalid(format!(
            "`{query}` names {} ticket files (their ids are equal, or equal but for case): {}",
            named.len(),
            named.join(", ")
        ))
        .with_hint("an id names one ticket: give all but one of them a new id (`wt check` lists every duplicate)"));
    }
    Ok(&tickets[i])
}

/// [`resolve`] over a list of IDs: the position of the ID `query` names (the first one with
/// that ID when an ID appears twice).
pub fn resolve_position<'a>(
    ids: impl Iterator<Item = &'a str> + Clone,
    query: &str,
) -> Result<usize> {
    let q = query.trim().to_ascii_lowercase();
    if q.is_empty() {
        return Err(Error::invalid("empty ticket ID"));
    }
    if let Some(i) = ids.clone().position(|id| id.eq_ignore_ascii_case(&q)) {
        return Ok(i);
    }
    let mut uniq: Vec<(usize, &str)> = Vec::new();
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        let lower = id.to_ascii_lowercase();
        let hit = lower.starts_with(&q)
            || (!q.contains('-')
                && lower
                    .split_once('-')
                    .is_some_and(|(_, r)| r.starts_with(&q)));
        if hit && seen.insert(id) {
            uniq.push((i, id));
        }
    }
    match uniq.len() {
        0 => Err(Error::not_found(format!("no ticket matches `{query}`"))
            .with_hint("`wt list` shows every ticket and its ID")),
        1 => Ok(uniq[0].0),
        n => {
            let mut ids: Vec<&str> = uniq.iter().map(|(_, id)| *id).collect();
            ids.sort_unstable();
            ids.truncate(8);
            Err(Error::invalid(format!(
                "`{query}` is ambiguous: {n} tickets match ({}{})",
                ids.join(", "),
                if n > 8 { ", …" } else { "" }
            ))
            .with_hint("type more characters of the ID"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_kind_prefix_and_length() {
        let id = generate(Kind::Job, &|_| false);
        assert!(id.starts_with("J-"));
        assert_eq!(id.len(), 2 + ID_LEN);
        assert!(looks_like_id_prefix(&id));
    }

    #[test]
    fn generate_skips_taken_ids() {
        let first = generate(Kind::Task, &|_| false);
        let second = generate(Kind::Task, &|id| id == first);
        assert_ne!(first, second);
    }

    #[test]
    fn slug_is_lowercase_dashed_and_bounded() {
        assert_eq!(slug("Add login form!"), "add-login-form");
        assert_eq!(slug("  Über café -- v2 "), "ber-caf-v2");
        assert!(slug(&"x".repeat(100)).len() <= 40);
        assert_eq!(slug("???"), "");
    }
}
