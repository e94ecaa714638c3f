//! A ticket's acceptance criteria: the checklist under every `Acceptance Criteria` heading,
//! numbered from 1 in the order written (as `wt show` lists them and `wt tick` takes them),
//! and ticking them by rewriting only the character between the brackets.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::frontmatter;
use crate::model::markdown;
use crate::model::ticket::CRITERIA_HEADING;

/// One acceptance criterion of a ticket file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Criterion {
    /// Its number, from 1, in the order written.
    pub number: usize,
    pub checked: bool,
    /// Its text (first line), trimmed.
    pub text: String,
    /// Its line in the ticket file (1-based).
    pub line: usize,
    /// Byte offset and length of the character between its brackets in the file.
    #[serde(skip)]
    symbol: Option<(usize, usize)>,
}

/// The acceptance criteria of a ticket file's text (none when its frontmatter cannot be read).
pub fn criteria(text: &str) -> Vec<Criterion> {
    let Ok(split) = frontmatter::split(text) else {
        return Vec::new();
    };
    // Under every heading of that name: a second one (in a description, say) can only add
    // boxes to tick, never hide the real ones.
    markdown::task_items_under_all(split.body, CRITERIA_HEADING)
        .into_iter()
        .enumerate()
        .map(|(k, i)| Criterion {
            number: k + 1,
            checked: i.checked,
            text: i.text,
            line: split.body_first_line + i.line - 1,
            symbol: i.symbol.map(|(at, len)| (split.body_offset + at, len)),
        })
        .collect()
}

/// The criteria not ticked yet.
pub fn unticked(text: &str) -> Vec<Criterion> {
    criteria(text).into_iter().filter(|c| !c.checked).collect()
}

/// Tick (or, with `checked` false, untick) criteria `numbers` of a ticket file's text.
/// Only the character between each box's brackets changes (`x` when ticking, a space when
/// unticking); every other byte stays. Returns the new text and the numbers that changed.
pub fn set_checked(text: &str, numbers: &[usize], checked: bool) -> Result<(String, Vec<usize>)> {
    let all = criteria(text);
    if all.is_empty() {
        return Err(Error::invalid(format!(
            "the ticket has no acceptance criteria (no checklist under `## {CRITERIA_HEADING}`)"
        )));
    }
    let mut edits: Vec<(usize, usize)> = Vec::new();
    let mut changed = Vec::new();
    for &n in numbers {
        let Some(c) = all.iter().find(|c| c.number == n) else {
            return Err(Error::invalid(format!(
                "no criterion {n}: the ticket has {} (numbered 1 to {})",
                all.len(),
                all.len()
            ))
            .with_hint("`wt show <ID>` lists them with their numbers"));
        };
        if c.checked == checked || changed.contains(&n) {
            continue;
        }
        let Some(symbol) = c.symbol else {
            return Err(Error::invalid(format!(
                "criterion {n} (line {}) has no box wt can rewrite",
                c.line
            )));
        };
        edits.push(symbol);
        changed.push(n);
    }
    // From the end, so that a box whose character is longer than one byte does not move
    // the ones before it.
    edits.sort_unstable_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    let new = if checked { "x" } else { " " };
    for (at, len) in edits {
        if out.get(at..at + len).is_none() {
            return Err(Error::internal(
                "a criterion's box is not where it was found",
            ));
        }
        out.replace_range(at..at + len, new);
    }
    changed.sort_unstable();
    Ok((out, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "---\nid: J-a\n---\n# Job\n\n- [ ] not a criterion\n\n## Acceptance Criteria\n\n- [ ] first\n- [X] second\n  - [ ] nested third\n\n```\n- [ ] in code\n```\n\n## Notes\n- [ ] after\n";

    #[test]
    fn criteria_are_numbered_in_order_under_their_heading_only() {
        let c = criteria(FILE);
        let got: Vec<(usize, bool, &str, usize)> = c
            .iter()
            .map(|c| (c.number, c.checked, c.text.as_str(), c.line))
            .collect();
        assert_eq!(
            got,
            [
                (1, false, "first", 10),
                (2, true, "second", 11),
                (3, false, "nested third", 12)
            ]
        );
        assert_eq!(unticked(FILE).len(), 2);
    }

    #[test]
    fn ticking_rewrites_only_the_box_characters() {
        let (text, changed) = set_checked(FILE, &[1, 3, 2], true).unwrap();
        assert_eq!(changed, vec![1, 3]);
        assert_eq!(
            text,
            FILE.replace("- [ ] first", "- [x] first")
                .replace("- [ ] nested", "- [x] nested")
        );
        let (back, changed) = set_checked(&text, &[1, 2], false).unwrap();
        assert_eq!(changed, vec![1, 2]);
        assert_eq!(
            back,
            FILE.replace("- [X] second", "- [ ] second")
                .replace("- [ ] nested", "- [x] nested")
        );
        assert!(set_checked(FILE, &[4], true).is_err());
        assert!(set_checked("---\nid: x\n---\nno list\n", &[1], true).is_err());
        // CRLF files keep their line endings.
        let crlf = FILE.replace('\n', "\r\n");
        let (t, _) = set_checked(&crlf, &[1], true).unwrap();
        assert_eq!(t, crlf.replace("- [ ] first", "- [x] first"));
    }
}
