//! A ticket file's bytes as wt reads them: the ticket, the frontmatter keys it does not
//! know, or the problem that keeps it from being read. Pure: the caches store exactly this.

use serde::{Deserialize, Serialize};

use crate::model::frontmatter;
use crate::model::ticket::{self, Problem, Ticket, KNOWN_FIELDS};

/// What a ticket file parses to. The path is part of the key, so a record is exactly what
/// parsing that path with that blob's text returns.
// Nearly every record is a ticket: boxing it would cost an allocation per ticket.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Parsed {
    Ticket {
        ticket: Ticket,
        /// Frontmatter keys wt does not know, with their file line (for `wt check`).
        unknown_fields: Vec<(String, usize)>,
    },
    Problem(Problem),
}

/// Parse one ticket file's bytes.
pub fn parse_blob(path: &str, bytes: &[u8]) -> Parsed {
    match std::str::from_utf8(bytes) {
        Ok(text) => match ticket::parse(path, text) {
            Ok(ticket) => Parsed::Ticket {
                ticket,
                unknown_fields: unknown_fields(text),
            },
            Err(p) => Parsed::Problem(p),
        },
        Err(_) => Parsed::Problem(Problem {
            path: path.to_string(),
            line: 1,
            column: None,
            message: "not UTF-8 text".into(),
            hint: Some("save the file as UTF-8".into()),
        }),
    }
}

/// Top-level frontmatter keys not in [`KNOWN_FIELDS`], with their lines.
pub fn unknown_fields(text: &str) -> Vec<(String, usize)> {
    if only_known_keys(text) {
        return Vec::new();
    }
    frontmatter::fields(text)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| !KNOWN_FIELDS.contains(&f.key.as_str()))
        .map(|f| (f.key, f.line))
        .collect()
}

/// A quick, conservative look: true only when every line of the frontmatter that starts at
/// column 0 (other than blanks and comments) is `<known field>:` followed by a space, a tab
/// or the end of the line. Then [`frontmatter::fields`] cannot name an unknown key (its keys
/// come from such lines), and the exact but slower analysis is skipped.
fn only_known_keys(text: &str) -> bool {
    let Ok(sp) = frontmatter::split(text) else {
        return false;
    };
    sp.yaml
        .split('\n')
        .all(|line| match line.as_bytes().first() {
            None | Some(b' ' | b'\t' | b'#') => true,
            Some(_) => line.split_once(':').is_some_and(|(key, rest)| {
                KNOWN_FIELDS.contains(&key)
                    && rest
                        .as_bytes()
                        .first()
                        .is_none_or(|c| *c == b' ' || *c == b'\t')
            }),
        })
}
