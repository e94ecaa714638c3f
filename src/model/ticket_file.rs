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

/// What an entry of the `.work/` tree is, as git records it. Only regular files are read;
/// wt never follows, reads or replaces anything else there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// A regular file (mode 100644 or 100755).
    #[default]
    File,
    /// A folder.
    Tree,
    /// A symbolic link (mode 120000).
    Symlink,
    /// A submodule (gitlink, mode 160000).
    Gitlink,
    /// An entry whose name is not UTF-8 (any mode); its path is shown lossily.
    NotUtf8,
    /// Any other mode.
    Other,
}

/// The problem `wt check` reports for an entry under `.work/` that is not a regular file or
/// folder (None for those).
pub fn entry_problem(path: &str, kind: EntryKind) -> Option<Problem> {
    let (message, hint) = match kind {
        EntryKind::File | EntryKind::Tree => return None,
        EntryKind::Symlink => (
            "is a symbolic link; wt never follows links under .work/ and skips it",
            "replace it with the file itself, or remove it (`git rm`)",
        ),
        EntryKind::Gitlink => (
            "is a submodule (gitlink); wt skips it",
            "remove it from .work/ (`git rm --cached`)",
        ),
        EntryKind::NotUtf8 => (
            "has a name that is not UTF-8; wt cannot read it and skips it",
            "rename it (`git mv`) to a UTF-8 name such as <ID>-<slug>.md",
        ),
        EntryKind::Other => (
            "is not a regular file; wt skips it",
            "remove it from .work/",
        ),
    };
    Some(Problem {
        path: path.to_string(),
        line: 1,
        column: None,
        message: message.to_string(),
        hint: Some(hint.to_string()),
    })
}

/// Parse one ticket file's bytes.
pub fn parse_blob(path: &str, bytes: &[u8]) -> Parsed {
    match std::str::from_utf8(bytes) {
        Ok(text) => match ticket::parse_reading(path, text) {
            // Read simply: every line is a known field (see ticket::parse_reading).
            Ok((ticket, true)) => Parsed::Ticket {
                ticket,
                unknown_fields: Vec::new(),
            },
            Ok((ticket, false)) => Parsed::Ticket {
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
                ticket::known_field(key).is_some()
                    && rest
                        .as_bytes()
                        .first()
                        .is_none_or(|c| *c == b' ' || *c == b'\t')
            }),
        })
}
