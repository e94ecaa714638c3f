//! The wt tail of a node in an exported plan: what `wt plan export` adds after a node's text
//! so that `wt plan import` gives back the ticket exactly.
//!
//! A tail is a line `<!-- wt:node {JSON} -->` (an HTML comment: invisible when the plan is
//! rendered) carrying the fields the plan's text does not say ([`Meta`]), optionally followed by
//! a fenced block ```` ```wt-body ```` holding ticket text that is not part of the plan's text
//! (the progress and amendments wt appended, or a whole body that never came from a plan). A
//! phase-spec's or job's tail starts at column 0 at the end of its text; a task's is indented
//! to its item's content, at the end of the item.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::markdown::line_starts;
use crate::model::ticket::Status;

/// Start of a tail's first line.
pub const META_PREFIX: &str = "<!-- wt:node ";
/// The info string of a tail's fenced block.
pub const FENCE_INFO: &str = "wt-body";

/// How the ticket body is made from the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyMode {
    /// The node's text, then the fenced block (which starts with the end-of-plan marker).
    After,
    /// The fenced block alone: a body that never came from a plan.
    Whole,
}

/// What a node's tail says. Every field is optional: only what the text does not already say
/// is written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// The ticket's ID where it was exported: what other nodes' `deps` name it by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A heading that only groups tickets without a parent; no ticket is made of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parentless: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Dependencies by exported ID (another node's `id`, else an existing ticket); when given,
    /// the node's `Depends on:` lines are not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// true: `gate: approval`; false: no gate, even where config or template would add one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
    /// The agent whose work sent it to review (`implemented_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implemented_by: Option<String>,
    /// What an import made it from (`beads:bd-a3f8`, `json:items.json:login`); not a plan's
    /// own `plan:…`, which the import of this plan gives anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// Frontmatter fields wt does not know (a team's own, `estimate: 3`): key → the field's
    /// text verbatim, so that it comes back as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
    /// A task: the checkbox character its own text had (the exported item's checkbox
    /// follows the status instead).
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub checkbox: Option<char>,
    /// Text that stood before a phase-spec's heading (a plan's preamble) in its body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre: Option<String>,
    /// The node's text ended without a line ending; the export added one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pad: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodyMode>,
    /// The fenced block's text ends without a line ending (the export added one).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_eol: bool,
}

impl Meta {
    pub fn is_empty(&self) -> bool {
        *self == Meta::default()
    }
}

/// A tail found at the end of a text.
#[derive(Debug, Clone)]
pub struct Tail {
    /// Byte offset where the tail starts (the text before it is the node's own).
    pub start: usize,
    /// 1-based line of the tail's first line in the text.
    pub line: usize,
    pub meta: Meta,
    /// The fenced block's text (with `no_eol` applied).
    pub fence: Option<String>,
}

/// The width of a list item's marker and the spaces after it (`- [ ] x` → 2, `10. x` → 4).
pub fn item_indent(first_line: &str) -> usize {
    let b = first_line.as_bytes();
    let mut i = b.iter().take_while(|c| **c == b' ').count();
    match b.get(i) {
        Some(b'-' | b'*' | b'+') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i += 1;
        }
        _ => return 2,
    }
    let spaces = b[i.min(b.len())..]
        .iter()
        .take_while(|c| **c == b' ')
        .count();
    i + if (1..=4).contains(&spaces) { spaces } else { 1 }
}

fn strip_eol(s: &str) -> &str {
    s.trim_end_matches(['\n', '\r'])
}

/// The tail at the end of `text`, whose lines (from `from_line`, 1-based) are indented by
/// `indent` spaces. Lines before `from_line` never hold a tail. `source`/`first_line` place
/// error messages. None: no tail.
pub fn find(
    text: &str,
    indent: usize,
    from_line: usize,
    source: &str,
    first_line: usize,
) -> Result<Option<Tail>> {
    let starts = line_starts(text);
    let mut lines: Vec<&str> = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(text.len());
        if s < text.len() {
            lines.push(&text[s..e]);
        }
    }
    let pad: String = " ".repeat(indent);
    let dedent = |l: &str| -> Option<String> {
        let c = strip_eol(l);
        if c.trim().is_empty() {
            Some(String::new())
        } else {
            c.strip_prefix(pad.as_str()).map(str::to_string)
        }
    };
    for k in from_line.saturating_sub(1)..lines.len() {
        let Some(head) = dedent(lines[k]) else {
            continue;
        };
        let Some(json) = head
            .strip_prefix(META_PREFIX)
            .and_then(|r| r.trim_end().strip_suffix("-->"))
        else {
            continue;
        };
        // What follows must be nothing, or one wt-body fence, then only blank lines.
        let rest: Vec<Option<String>> = lines[k + 1..].iter().map(|l| dedent(l)).collect();
        if rest.iter().any(Option::is_none) {
            continue;
        }
        let rest: Vec<String> = rest.into_iter().flatten().collect();
        let mut j = 0;
        let mut fence = None;
        if let Some(open) = rest.first() {
            if !open.is_empty() {
                let ticks = open.bytes().take_while(|c| *c == b'`').count();
                if ticks < 3 || open[ticks..].split_whitespace().next() != Some(FENCE_INFO) {
                    continue;
                }
                let close = rest[1..].iter().position(|l| {
                    let t = l.trim_end();
                    t.len() >= ticks && t.bytes().all(|c| c == b'`')
                });
                let Some(close) = close else {
                    continue;
                };
                let close = close + 1;
                // The content, from the raw lines (their own line endings kept).
                let mut content = String::new();
                for raw in &lines[k + 2..k + 1 + close] {
                    // A blank line may have lost its indentation (editors strip it).
                    content.push_str(
                        raw.strip_prefix(pad.as_str())
                            .unwrap_or_else(|| raw.trim_start_matches(' ')),
                    );
                }
                fence = Some(content);
                j = close + 1;
            }
        }
        if rest[j..].iter().any(|l| !l.is_empty()) {
            continue;
        }
        let at = first_line + k;
        let mut meta: Meta = serde_json::from_str(json.trim()).map_err(|e| {
            Error::invalid(format!(
                "{source}:{at}: a wt:node line that wt cannot read: {e}"
            ))
            .with_hint("this line is written by `wt plan export`; remove it, or export again")
        })?;
        if meta.body.is_some() != fence.is_some() {
            return Err(Error::invalid(format!(
                "{source}:{at}: the wt:node line and its ```wt-body block do not go together"
            ))
            .with_hint("this line is written by `wt plan export`; export again"));
        }
        if let Some(f) = fence.as_mut() {
            if std::mem::take(&mut meta.no_eol) {
                if f.ends_with("\r\n") {
                    f.truncate(f.len() - 2);
                } else if f.ends_with(['\n', '\r']) {
                    f.truncate(f.len() - 1);
                }
            }
        }
        return Ok(Some(Tail {
            start: starts[k],
            line: k + 1,
            meta,
            fence,
        }));
    }
    Ok(None)
}

/// The tail lines for `meta` (and the fenced `fence` text), each prefixed by `indent` spaces
/// and ended by `eol` (the fenced text keeps its own line endings).
pub fn render(meta: &Meta, fence: Option<&str>, indent: usize, eol: &str) -> String {
    let pad = " ".repeat(indent);
    let mut meta = meta.clone();
    let mut content = fence.map(str::to_string);
    if let Some(c) = content.as_mut() {
        if !c.is_empty() && !c.ends_with(['\n', '\r']) {
            c.push_str(eol);
            meta.no_eol = true;
        }
    }
    // One line; no `>` inside (it would let `-->` end the comment early).
    let json = serde_json::to_string(&meta)
        .unwrap_or_else(|_| "{}".into())
        .replace('>', "\\u003e");
    let mut out = format!("{pad}{META_PREFIX}{json} -->{eol}");
    if let Some(c) = content {
        let longest = c
            .split('\n')
            .map(|l| {
                let mut best = 0;
                let mut run = 0;
                for b in l.bytes() {
                    run = if b == b'`' { run + 1 } else { 0 };
                    best = best.max(run);
                }
                best
            })
            .max()
            .unwrap_or(0);
        let ticks = "`".repeat(longest.max(2) + 1);
        out.push_str(&format!("{pad}{ticks}{FENCE_INFO}{eol}"));
        for line in c.split_inclusive('\n') {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push_str(&format!("{pad}{ticks}{eol}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_reads_back_what_was_written() {
        let meta = Meta {
            priority: Some(1),
            title: Some("a --> b".into()),
            body: Some(BodyMode::Whole),
            ..Default::default()
        };
        for fence in [
            "# T\n\n## Progress\n\n- x\n",
            "no eol",
            "```\ncode\n```\n",
            "a\r\nb\r\n",
            "",
        ] {
            for indent in [0, 2, 4] {
                let text = format!(
                    "{}x\n{}",
                    " ".repeat(indent),
                    render(&meta, Some(fence), indent, "\n")
                );
                let t = find(&text, indent, 2, "p.md", 1).unwrap().expect("a tail");
                assert_eq!(t.fence.as_deref(), Some(fence), "{text:?}");
                assert_eq!(t.meta.title.as_deref(), Some("a --> b"));
                assert_eq!(t.start, indent + 2);
            }
        }
        let plain = Meta {
            priority: Some(3),
            ..Default::default()
        };
        let text = format!("x\n{}\n\n", render(&plain, None, 0, "\r\n"));
        let t = find(&text, 0, 1, "p.md", 1).unwrap().expect("a tail");
        assert_eq!(t.meta.priority, Some(3));
        assert!(t.fence.is_none());
        assert!(find("x\n<!-- wt:node {} -->\nmore\n", 0, 1, "p", 1)
            .unwrap()
            .is_none());
        assert!(find("x\n<!-- wt:node {\"bogus\": 1} -->\n", 0, 1, "p", 1).is_err());
    }

    #[test]
    fn item_indent_is_the_marker_and_its_spaces() {
        assert_eq!(item_indent("- [ ] x"), 2);
        assert_eq!(item_indent("  * [x] x"), 4);
        assert_eq!(item_indent("10. [ ] x"), 4);
        assert_eq!(item_indent("-   [ ] x"), 4);
    }
}
