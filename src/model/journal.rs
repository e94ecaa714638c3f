//! Append-only entries in a ticket body: numbered amendments written by auditors
//! (`## Amendments`) and the progress log (`## Progress`).
//!
//! Entries are only ever appended with [`markdown::append_to_section`], which keeps every
//! earlier byte of the file. Two shapes:
//!
//! - an amendment is a level-3 heading `### Amendment N — <time> by <auditor>` followed by the
//!   auditor's text; headings inside that text are pushed down to level 4 or deeper, so that a
//!   `## Heading` in an audit report can never end the Amendments section and put the next
//!   amendment out of order;
//! - a progress entry is one list item `- <time> <agent> (attempt N): <message>` whose further
//!   lines (message, `Files:`) are indented under it, so any markdown inside stays inside the
//!   item.

use comrak::nodes::NodeValue;
use comrak::{parse_document, Arena, Options};

use crate::error::{Error, Result};
use crate::model::frontmatter;
use crate::model::markdown;

/// Section that holds the auditors' amendments.
pub const AMENDMENTS: &str = "Amendments";
/// Section that holds the progress log.
pub const PROGRESS: &str = "Progress";

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.tasklist = true;
    o.extension.table = true;
    o.extension.strikethrough = true;
    o
}

pub use crate::model::markdown::line_starts;

/// Push every top-level heading of `text` down to at least `min_level` (ATX headings get more
/// `#`; a setext heading becomes an ATX heading of `min_level`). Nothing else changes.
pub fn demote_headings(text: &str, min_level: u8) -> String {
    relevel(text, |l| l.max(min_level))
}

/// Shift the top-level headings of `text` so that the highest one is at `top` (never up),
/// keeping their relative levels (capped at 6).
pub fn shift_headings(text: &str, top: u8) -> String {
    let Some(min) = markdown::headings(text).iter().map(|h| h.0).min() else {
        return text.to_string();
    };
    let by = top.saturating_sub(min);
    relevel(text, |l| (l + by).min(6))
}

fn relevel(text: &str, level_of: impl Fn(u8) -> u8) -> String {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let starts = line_starts(text);
    let line_start = |l: usize| {
        starts
            .get(l.saturating_sub(1))
            .copied()
            .unwrap_or(text.len())
    };
    // (start, end, replacement) byte edits.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for node in root.children() {
        let ast = node.data();
        let NodeValue::Heading(h) = &ast.value else {
            continue;
        };
        let min_level = level_of(h.level);
        if h.level >= min_level {
            continue;
        }
        let first = ast.sourcepos.start.line;
        let last = ast.sourcepos.end.line.max(first);
        if h.setext {
            // Text lines first..last-1, underline on `last`.
            let from = line_start(first);
            let underline_start = line_start(last);
            let underline_end = line_start(last + 1);
            let words: Vec<&str> = text[from..underline_start].split_whitespace().collect();
            let eol = &text[from..underline_end];
            let eol = if eol.ends_with("\r\n") {
                "\r\n"
            } else if eol.ends_with('\r') {
                "\r"
            } else if eol.ends_with('\n') {
                "\n"
            } else {
                ""
            };
            edits.push((
                from,
                underline_end,
                format!(
                    "{} {}{eol}",
                    "#".repeat(min_level as usize),
                    words.join(" ")
                ),
            ));
        } else {
            let from = line_start(first);
            let line = &text[from..line_start(first + 1)];
            let hash = line.find('#').unwrap_or(0);
            edits.push((
                from + hash,
                from + hash,
                "#".repeat((min_level - h.level) as usize),
            ));
        }
    }
    crate::model::frontmatter::apply(text, edits)
}

/// Append `entry` to wt's own section `heading` of a whole ticket file (frontmatter kept as
/// is; see [`markdown::wt_section`]); the section is created at the end of the body (level 2)
/// when absent.
pub fn append(file_text: &str, heading: &str, entry: &str) -> Result<String> {
    let split = frontmatter::split(file_text).map_err(|e| Error::invalid(e.to_string()))?;
    let body = markdown::append_to_wt_section(split.body, heading, entry);
    Ok(format!("{}{}", &file_text[..split.body_offset], body))
}

/// The highest amendment number in the body's Amendments section (0 when there is none).
pub fn last_amendment_number(body: &str) -> u32 {
    let Some(content) = markdown::wt_section_content(body, AMENDMENTS) else {
        return 0;
    };
    markdown::headings(content)
        .into_iter()
        .filter_map(|(_, text, _)| {
            let rest = text.strip_prefix("Amendment ")?;
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse::<u32>().ok()
        })
        .max()
        .unwrap_or(0)
}

/// One amendment entry.
pub fn amendment_entry(
    number: u32,
    now: &str,
    auditor: &str,
    attempt: u32,
    implemented_by: Option<&str>,
    text: &str,
) -> String {
    let by = implemented_by
        .map(|i| format!(" by {i}"))
        .unwrap_or_default();
    format!(
        "### Amendment {number} — {now} by {auditor}\n\n_Audit of attempt {attempt}{by}: failed._\n\n{}",
        demote_headings(text.trim_matches(['\n', '\r']), 4)
    )
}

/// One progress entry: a list item; later lines are indented under it.
pub fn progress_entry(
    now: &str,
    agent: &str,
    attempt: Option<u32>,
    message: &str,
    files: &[String],
) -> String {
    let mut lines = markdown::split_lines(message.trim_matches(['\n', '\r']));
    let first = lines.next().unwrap_or("").trim_end();
    let tag = attempt
        .map(|a| format!(" (attempt {a})"))
        .unwrap_or_default();
    let mut out = format!("- {now} {agent}{tag}: {first}");
    for l in lines {
        out.push('\n');
        if !l.trim().is_empty() {
            out.push_str("  ");
            out.push_str(l.trim_end());
        }
    }
    if !files.is_empty() {
        out.push_str("\n  Files: ");
        out.push_str(&files.join(", "));
    }
    out
}

/// The entries of the body's Progress section, oldest first: each top-level block (normally
/// one list item per entry) as its source text without trailing line breaks.
pub fn progress_entries(body: &str) -> Vec<String> {
    let Some(content) = markdown::wt_section_content(body, PROGRESS) else {
        return Vec::new();
    };
    blocks(content)
}

/// The body's Amendments section content (without its heading), trimmed; None when empty.
pub fn amendments(body: &str) -> Option<String> {
    let c = markdown::wt_section_content(body, AMENDMENTS)?.trim();
    (!c.is_empty()).then(|| c.to_string())
}

/// Top-level blocks of `text` as source text; list items count one by one; HTML comments
/// (template hints) are skipped.
fn blocks(text: &str) -> Vec<String> {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let starts = line_starts(text);
    let slice = |first: usize, last: usize| -> String {
        let a = starts
            .get(first.saturating_sub(1))
            .copied()
            .unwrap_or(text.len());
        let b = starts.get(last).copied().unwrap_or(text.len());
        text[a..b].trim_end_matches(['\n', '\r']).to_string()
    };
    let mut out = Vec::new();
    for node in root.children() {
        let ast = node.data();
        match &ast.value {
            NodeValue::List(_) => {
                for item in node.children() {
                    let p = item.data().sourcepos;
                    out.push(slice(p.start.line, p.end.line.max(p.start.line)));
                }
            }
            NodeValue::HtmlBlock(_) => {}
            _ => {
                let p = ast.sourcepos;
                out.push(slice(p.start.line, p.end.line.max(p.start.line)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demote_pushes_atx_and_setext_headings_down_and_leaves_code_alone() {
        let t = "# Top\ntext\n\nSub\n---\n\n```\n# not a heading\n```\n#### deep\n";
        let d = demote_headings(t, 4);
        assert_eq!(
            d,
            "#### Top\ntext\n\n#### Sub\n\n```\n# not a heading\n```\n#### deep\n"
        );
    }

    #[test]
    fn amendments_are_numbered_from_the_section() {
        let body = "# T\n\n## Amendments\n\n### Amendment 1 — x by a\n\nfix\n\n### Amendment 3 — y by b\n\nmore\n\n## Progress\n";
        assert_eq!(last_amendment_number(body), 3);
        assert_eq!(last_amendment_number("# T\n"), 0);
    }

    #[test]
    fn appended_amendment_with_headings_keeps_later_entries_in_order() {
        let file = "---\nid: J-a\n---\n# T\n\n## Amendments\n\n## Progress\n\n- p1\n";
        let e1 = amendment_entry(1, "t1", "aud", 1, Some("imp"), "## Problems\n\nbad");
        let f1 = append(file, AMENDMENTS, &e1).unwrap();
        let e2 = amendment_entry(2, "t2", "aud", 2, None, "still bad");
        let f2 = append(&f1, AMENDMENTS, &e2).unwrap();
        assert!(f2.starts_with(&f1[..f1.find("## Progress").unwrap()]));
        let a1 = f2.find("Amendment 1").unwrap();
        let a2 = f2.find("Amendment 2").unwrap();
        let p = f2.find("## Progress").unwrap();
        assert!(a1 < a2 && a2 < p, "{f2}");
        assert!(f2.contains("#### Problems"));
        assert_eq!(last_amendment_number(&f2), 2);
    }

    #[test]
    fn a_progress_message_with_lone_cr_line_endings_stays_inside_its_entry() {
        // A lone `\r` is a line ending to the markdown finder: the lines after it are
        // indented under the item too, so `## Progress` in a message starts no section.
        let e = progress_entry("t1", "a", None, "did it\r## Progress\r\rmore", &[]);
        assert_eq!(e, "- t1 a: did it\n  ## Progress\n\n  more");
        let file = "---\nid: J-a\n---\n# T\n";
        let f1 = append(file, PROGRESS, &e).unwrap();
        let f2 = append(&f1, PROGRESS, "- t2 b: second").unwrap();
        let body = frontmatter::split(&f2).unwrap().body;
        assert_eq!(progress_entries(body), vec![e.as_str(), "- t2 b: second"]);
    }

    #[test]
    fn progress_entries_are_list_items_in_order() {
        let body = "# T\n\n## Progress\n\n<!-- hint -->\n\n- a\n  more\n- b\n\n## Next\n";
        assert_eq!(progress_entries(body), vec!["- a\n  more", "- b"]);
        let e = progress_entry(
            "2026",
            "impl-1",
            Some(2),
            "did it\n\n## sub",
            &["a.rs".into()],
        );
        assert_eq!(
            e,
            "- 2026 impl-1 (attempt 2): did it\n\n  ## sub\n  Files: a.rs"
        );
    }
}
