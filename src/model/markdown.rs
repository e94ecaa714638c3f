//! Sections and GFM task lists in a ticket body.
//!
//! Structure is found with comrak's AST (so code blocks containing `## Fake`
//! or `- [ ]` never count); edits are made by byte offset so that existing
//! text is never rewritten.

use comrak::nodes::NodeValue;
use comrak::{parse_document, Arena, Options};

/// A heading and everything up to the next heading of the same or higher level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based line of the heading (first line of a setext heading) within the text.
    pub heading_line: usize,
    /// Heading level, 1-6.
    pub level: u8,
    /// Byte offset of the heading's first line.
    pub start: usize,
    /// Byte offset just after the heading (after a setext underline, if any).
    pub content_start: usize,
    /// Byte offset where the section ends (next same-or-higher heading, or end of text).
    pub end: usize,
}

/// A GFM task-list item (`- [ ] item` / `- [x] item`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskItem {
    /// 1-based line within the text.
    pub line: usize,
    pub checked: bool,
    /// The item's text (first line only), trimmed.
    pub text: String,
    /// Byte offset (within the text) and length of the character between the brackets
    /// (` `, `x` or `X`), when wt found it: ticking rewrites exactly these bytes.
    pub symbol: Option<(usize, usize)>,
}

struct Heading {
    level: u8,
    text: String,
    start_line: usize,
    end_line: usize,
}

struct Parsed {
    headings: Vec<Heading>,
    tasks: Vec<TaskItem>,
}

/// Byte offsets of line starts, treating `\n`, `\r\n` and lone `\r` as line
/// endings (as CommonMark/comrak do). `starts[k]` is the start of line `k + 1`.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            starts: line_starts(text),
        }
    }

    /// Byte offset of the start of 1-based `line` (clamped to the text length).
    fn start(&self, line: usize) -> usize {
        line.checked_sub(1)
            .and_then(|i| self.starts.get(i))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Byte offset just after the line ending of 1-based `line`.
    fn end(&self, line: usize) -> usize {
        self.start(line + 1)
    }

    /// The content of 1-based `line`, without its line ending.
    fn content(&self, line: usize) -> &'a str {
        let s = self
            .text
            .get(self.start(line)..self.end(line))
            .unwrap_or("");
        s.trim_end_matches(['\n', '\r'])
    }
}

/// Byte offsets of line starts, treating `\n`, `\r\n` and lone `\r` as line endings (as
/// CommonMark/comrak do). Element `k` is the start of line `k + 1`.
pub fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => starts.push(i + 1),
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 1;
            }
            b'\r' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The lines of `text` without their line endings, splitting where [`line_starts`] does
/// (`\n`, `\r\n`, lone `\r`). A final line ending gives no empty last line.
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let starts = line_starts(text);
    let n = if text.is_empty() || text.ends_with(['\n', '\r']) {
        starts.len() - 1
    } else {
        starts.len()
    };
    (0..n).map(move |k| {
        let end = starts.get(k + 1).copied().unwrap_or(text.len());
        text[starts[k]..end].trim_end_matches(['\n', '\r'])
    })
}

/// The line ending that ends `text` (`\r\n`, `\n` or a lone `\r`), if it ends in one.
fn trailing_eol(text: &str) -> Option<&'static str> {
    if text.ends_with("\r\n") {
        Some("\r\n")
    } else if text.ends_with('\n') {
        Some("\n")
    } else if text.ends_with('\r') {
        Some("\r")
    } else {
        None
    }
}

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.tasklist = true;
    o.extension.table = true;
    o.extension.strikethrough = true;
    o
}

fn parse(text: &str, lines: &Lines<'_>) -> Parsed {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let mut headings = Vec::new();
    for node in root.children() {
        let ast = node.data();
        if let NodeValue::Heading(h) = &ast.value {
            headings.push(Heading {
                level: h.level,
                text: node.collect_text().trim().to_string(),
                start_line: ast.sourcepos.start.line,
                end_line: ast.sourcepos.end.line.max(ast.sourcepos.start.line),
            });
        }
    }
    let mut tasks = Vec::new();
    for node in root.descendants() {
        let ast = node.data();
        if let NodeValue::TaskItem(t) = &ast.value {
            let line = ast.sourcepos.start.line;
            let content = lines.content(line);
            // The symbol's last byte is at 1-based column `end.column`; `]` follows it.
            let after = content
                .get(t.symbol_sourcepos.end.column..)
                .and_then(|s| s.strip_prefix(']'))
                .or_else(|| {
                    let from = ast.sourcepos.start.column.saturating_sub(1);
                    let s = content.get(from..)?;
                    s.find(']').and_then(|i| s.get(i + 1..))
                })
                .unwrap_or("");
            tasks.push(TaskItem {
                line,
                checked: t.symbol.is_some(),
                text: after.trim().to_string(),
                symbol: box_symbol(content, ast.sourcepos.start.column)
                    .map(|(at, len)| (lines.start(line) + at, len)),
            });
        }
    }
    Parsed { headings, tasks }
}

/// Where the character inside a task item's `[ ]` is on its line `content`, whose item starts
/// at 1-based byte column `column`: (offset in the line, length), when the box is there.
fn box_symbol(content: &str, column: usize) -> Option<(usize, usize)> {
    let from = column.saturating_sub(1);
    let rest = content.get(from..)?;
    let open = rest.find('[')?;
    let at = from + open + 1;
    let c = content.get(at..)?.chars().next()?;
    let close = at + c.len_utf8();
    (content.get(close..)?.starts_with(']')).then_some((at, c.len_utf8()))
}

fn same_heading(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Index of the first heading matching `heading`, and the index of the heading ending its section.
fn locate(headings: &[Heading], heading: &str) -> Option<(usize, Option<usize>)> {
    let i = headings
        .iter()
        .position(|h| same_heading(&h.text, heading))?;
    let level = headings[i].level;
    let next = headings
        .iter()
        .skip(i + 1)
        .position(|h| h.level <= level)
        .map(|k| i + 1 + k);
    Some((i, next))
}

fn section_in(lines: &Lines<'_>, headings: &[Heading], heading: &str) -> Option<Section> {
    locate(headings, heading).map(|at| section_at(lines, headings, at))
}

/// Start of the line that ends the text a plan import stored in a ticket body
/// (`<!-- wt:plan-end -->`); wt's own sections come after it.
pub const PLAN_END: &str = "<!-- wt:plan-end";

/// Byte offset just after the plan-end line of `text` (see [`PLAN_END`]), or 0 when there is
/// none.
pub fn plan_end(text: &str) -> usize {
    let lines = Lines::new(text);
    for l in 1..=lines.starts.len() {
        let c = lines.content(l).trim();
        if c.starts_with(PLAN_END) && c.ends_with("-->") {
            return lines.end(l);
        }
    }
    0
}

/// The level of wt's own sections (`## Amendments`, `## Progress`).
pub const WT_SECTION_LEVEL: u8 = 2;

/// Index of the heading of wt's own section `heading` and of the heading that ends it: the
/// **last** level-2 heading with that text that starts after the plan text (see
/// [`plan_end`]). Headings of that name at other levels, or before the plan-end line, are
/// the author's text: a description can never stand in for wt's section.
fn locate_wt(
    lines: &Lines<'_>,
    headings: &[Heading],
    heading: &str,
) -> Option<(usize, Option<usize>)> {
    let from = plan_end(lines.text);
    let i = headings.iter().rposition(|h| {
        h.level == WT_SECTION_LEVEL
            && same_heading(&h.text, heading)
            && lines.start(h.start_line) >= from
    })?;
    let next = headings
        .iter()
        .skip(i + 1)
        .position(|h| h.level <= WT_SECTION_LEVEL)
        .map(|k| i + 1 + k);
    Some((i, next))
}

fn section_at(
    lines: &Lines<'_>,
    headings: &[Heading],
    (i, next): (usize, Option<usize>),
) -> Section {
    let h = &headings[i];
    Section {
        heading_line: h.start_line,
        level: h.level,
        start: lines.start(h.start_line),
        content_start: lines.end(h.end_line),
        end: next.map_or(lines.text.len(), |n| lines.start(headings[n].start_line)),
    }
}

/// wt's own section `heading` (`Amendments`, `Progress`): the last level-2 heading of that
/// name after the plan text, if any (see `locate_wt`).
pub fn wt_section(text: &str, heading: &str) -> Option<Section> {
    let lines = Lines::new(text);
    let parsed = parse(text, &lines);
    locate_wt(&lines, &parsed.headings, heading).map(|at| section_at(&lines, &parsed.headings, at))
}

/// The content of wt's own section `heading`, without its heading line.
pub fn wt_section_content<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let s = wt_section(text, heading)?;
    text.get(s.content_start..s.end)
}

/// Task items under **every** heading named `heading` (any level, outside code blocks): the
/// acceptance criteria `wt done` requires ticked. A second heading of that name can only add
/// boxes to tick; it never hides the others.
pub fn task_items_under_all(text: &str, heading: &str) -> Vec<TaskItem> {
    let lines = Lines::new(text);
    let parsed = parse(text, &lines);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (i, h) in parsed.headings.iter().enumerate() {
        if !same_heading(&h.text, heading) {
            continue;
        }
        let last = parsed.headings[i + 1..]
            .iter()
            .find(|n| n.level <= h.level)
            .map_or(usize::MAX, |n| n.start_line);
        ranges.push((h.end_line + 1, last));
    }
    parsed
        .tasks
        .into_iter()
        .filter(|t| ranges.iter().any(|&(a, b)| t.line >= a && t.line < b))
        .collect()
}

/// Finds the first section whose heading text matches `heading` (case-insensitive, trimmed, any level).
pub fn find_section(text: &str, heading: &str) -> Option<Section> {
    let lines = Lines::new(text);
    let parsed = parse(text, &lines);
    section_in(&lines, &parsed.headings, heading)
}

/// The content of the named section, without its heading line(s).
pub fn section_content<'a>(text: &'a str, heading: &str) -> Option<&'a str> {
    let s = find_section(text, heading)?;
    text.get(s.content_start..s.end)
}

/// All GFM task items, or only those inside the named section (including nested
/// items and items under sub-headings). Returns nothing if the section is absent.
pub fn task_items(text: &str, heading: Option<&str>) -> Vec<TaskItem> {
    let lines = Lines::new(text);
    let parsed = parse(text, &lines);
    let Some(heading) = heading else {
        return parsed.tasks;
    };
    let Some((i, next)) = locate(&parsed.headings, heading) else {
        return Vec::new();
    };
    let first = parsed.headings[i].end_line + 1;
    let last = next.map_or(usize::MAX, |n| parsed.headings[n].start_line);
    parsed
        .tasks
        .into_iter()
        .filter(|t| t.line >= first && t.line < last)
        .collect()
}

/// Top-level headings: (level, text, 1-based line).
pub fn headings(text: &str) -> Vec<(u8, String, usize)> {
    let lines = Lines::new(text);
    parse(text, &lines)
        .headings
        .into_iter()
        .map(|h| (h.level, h.text, h.start_line))
        .collect()
}

fn detect_eol(text: &str) -> &'static str {
    let b = text.as_bytes();
    match text.find(['\n', '\r']) {
        Some(i) if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') => "\r\n",
        Some(i) if b[i] == b'\r' => "\r",
        _ => "\n",
    }
}

fn ends_with_eol(s: &str) -> bool {
    s.ends_with(['\n', '\r'])
}

/// Whether the first line of `s` is blank (only spaces/tabs).
fn starts_with_blank_line(s: &str) -> bool {
    let first = s.split(['\n', '\r']).next().unwrap_or("");
    first.trim_matches([' ', '\t']).is_empty() && s.len() > first.len()
}

fn normalize_entry(entry: &str, eol: &str) -> String {
    let trimmed = entry.trim_end_matches(['\n', '\r']);
    let mut out = split_lines(trimmed).collect::<Vec<_>>().join(eol);
    out.push_str(eol);
    out
}

/// Appends `entry` at the end of the named section's content, or appends a new
/// `level` heading with `entry` at the end of the text if the section is absent.
/// Only inserts: the text before and after the insertion point is kept byte for byte.
pub fn append_to_section(text: &str, heading: &str, level: u8, entry: &str) -> String {
    let lines = Lines::new(text);
    let parsed = parse(text, &lines);
    let sec = section_in(&lines, &parsed.headings, heading);
    append_at(text, &lines, sec, heading, level, entry)
}

/// Appends `entry` to wt's own section `heading` (see [`wt_section`]), or appends a new
/// `## heading` with `entry` at the end of the text when there is none. Only inserts.
pub fn append_to_wt_section(text: &str, heading: &str, entry: &str) -> String {
    let lines = Lines::new(text);
    let parsed = parse(text, &lines);
    let sec = locate_wt(&lines, &parsed.headings, heading)
        .map(|at| section_at(&lines, &parsed.headings, at));
    append_at(text, &lines, sec, heading, WT_SECTION_LEVEL, entry)
}

/// The line that closes the block `text` ends in, when it ends inside a fenced code block
/// or an HTML block that is never closed: anything appended after it would be part of that
/// block (a heading would be code). None when the text ends outside such a block.
fn open_block_closer(text: &str) -> Option<String> {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let last = root.last_child()?;
    let closer = match &last.data().value {
        NodeValue::CodeBlock(c) if c.fenced && !c.closed => {
            std::iter::repeat_n(char::from(c.fence_char), c.fence_length.max(3)).collect()
        }
        NodeValue::HtmlBlock(h) => {
            let lit = h.literal.to_ascii_lowercase();
            let (ends, closer): (&[&str], &str) = match h.block_type {
                1 => (
                    &["</script>", "</pre>", "</style>", "</textarea>"],
                    "</pre>",
                ),
                2 => (&["-->"], "-->"),
                3 => (&["?>"], "?>"),
                4 => (&[">"], ">"),
                5 => (&["]]>"], "]]>"),
                _ => return None,
            };
            // The opening line itself may close it (`<!-- x -->`); then it is not open.
            let first = split_lines(&lit).next().unwrap_or("");
            let body = &lit[first.len().min(lit.len())..];
            let opener_closes = match h.block_type {
                2 => first
                    .trim_start()
                    .get(4..)
                    .is_some_and(|r| r.contains("-->")),
                3 => first
                    .trim_start()
                    .get(2..)
                    .is_some_and(|r| r.contains("?>")),
                4 => first.trim_start().get(2..).is_some_and(|r| r.contains('>')),
                5 => first
                    .trim_start()
                    .get(9..)
                    .is_some_and(|r| r.contains("]]>")),
                _ => ends.iter().any(|e| first.contains(e)),
            };
            if opener_closes || ends.iter().any(|e| body.contains(e)) {
                return None;
            }
            closer.to_string()
        }
        _ => return None,
    };
    Some(closer)
}

fn append_at(
    text: &str,
    lines: &Lines<'_>,
    sec: Option<Section>,
    heading: &str,
    level: u8,
    entry: &str,
) -> String {
    // Text that ends in an open code or HTML block would swallow what is appended: close it.
    let closer = match &sec {
        Some(s) if s.end < text.len() => None,
        _ => open_block_closer(text),
    };
    let Some(sec) = sec else {
        // The inserted lines end the way the line before them ends: a `\n` after a lone
        // `\r` would join it into one `\r\n` line ending and swallow a blank line.
        let eol = trailing_eol(text).unwrap_or_else(|| detect_eol(text));
        let entry = normalize_entry(entry, eol);
        let mut out = text.to_string();
        if !out.is_empty() {
            if !ends_with_eol(&out) {
                out.push_str(eol);
            }
            if let Some(c) = &closer {
                out.push_str(c);
                out.push_str(eol);
            }
            let last_line = Lines::new(&out);
            let n = last_line.starts.len().saturating_sub(1);
            if !last_line.content(n).trim().is_empty() {
                out.push_str(eol);
            }
        }
        let level = level.clamp(1, 6);
        out.push_str(&"#".repeat(usize::from(level)));
        out.push(' ');
        out.push_str(heading.trim());
        out.push_str(eol);
        out.push_str(eol);
        out.push_str(&entry);
        return out;
    };
    let content = text.get(sec.content_start..sec.end).unwrap_or("");
    let at = if content.trim().is_empty() {
        sec.content_start
    } else {
        // Just after the last non-blank line of the section.
        let first = lines.starts.partition_point(|&s| s < sec.content_start) + 1;
        let last = lines.starts.partition_point(|&s| s < sec.end);
        (first..=last)
            .rev()
            .find(|&l| !lines.content(l).trim().is_empty())
            .map_or(sec.content_start, |l| lines.end(l).min(sec.end))
    };
    // The inserted lines end the way the line before the insertion point ends, so that no
    // line ending of theirs can join one of the text's into a single line ending (`\r` then
    // `\n` is one `\r\n`): the lines the finder sees are the lines written.
    let eol = trailing_eol(&text[..at]).unwrap_or_else(|| detect_eol(text));
    let entry = normalize_entry(entry, eol);
    let mut ins = String::new();
    if at > 0 && !ends_with_eol(&text[..at]) {
        ins.push_str(eol);
    }
    if let Some(c) = &closer {
        ins.push_str(c);
        ins.push_str(eol);
    }
    ins.push_str(eol);
    ins.push_str(&entry);
    if at < text.len() && !starts_with_blank_line(&text[at..]) {
        ins.push_str(eol);
    }
    let mut out = String::with_capacity(text.len() + ins.len());
    out.push_str(&text[..at]);
    out.push_str(&ins);
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BODY: &str = "# Add login form

## Description

Build the form.

```md
## Fake heading
- [ ] fake task
```

### Details

- [ ] nested under details

## Acceptance Criteria

- [ ] form renders
- [x] validates email
  - [X] nested checked
- plain item

Notes
-----

- [ ] in notes

## Amendments
";

    #[test]
    fn headings_skip_code_blocks_and_include_setext() {
        let hs = headings(BODY);
        let names: Vec<(u8, &str, usize)> =
            hs.iter().map(|(l, t, n)| (*l, t.as_str(), *n)).collect();
        assert_eq!(
            names,
            [
                (1, "Add login form", 1),
                (2, "Description", 3),
                (3, "Details", 12),
                (2, "Acceptance Criteria", 16),
                (2, "Notes", 23),
                (2, "Amendments", 28),
            ]
        );
    }

    #[test]
    fn sections() {
        let s = find_section(BODY, "  description ").unwrap();
        assert_eq!(s.heading_line, 3);
        assert_eq!(s.level, 2);
        assert_eq!(&BODY[s.start..s.content_start], "## Description\n");
        let content = section_content(BODY, "Description").unwrap();
        assert!(content.starts_with("\nBuild the form."));
        assert!(content.contains("### Details"));
        assert!(content.ends_with("- [ ] nested under details\n\n"));
        assert!(BODY[s.end..].starts_with("## Acceptance Criteria"));
        let notes = find_section(BODY, "NOTES").unwrap();
        assert_eq!(&BODY[notes.start..notes.content_start], "Notes\n-----\n");
        assert_eq!(section_content(BODY, "notes"), Some("\n- [ ] in notes\n\n"));
        assert_eq!(section_content(BODY, "Amendments"), Some(""));
        assert!(find_section(BODY, "Fake heading").is_none());
        let top = find_section(BODY, "add login form").unwrap();
        assert_eq!((top.start, top.end), (0, BODY.len()));
    }

    #[test]
    fn tasks() {
        let all = task_items(BODY, None);
        let got: Vec<(usize, bool, &str)> = all
            .iter()
            .map(|t| (t.line, t.checked, t.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (14, false, "nested under details"),
                (18, false, "form renders"),
                (19, true, "validates email"),
                (20, true, "nested checked"),
                (26, false, "in notes"),
            ]
        );
        let ac = task_items(BODY, Some("acceptance criteria"));
        assert_eq!(ac.len(), 3);
        assert_eq!(ac[0].text, "form renders");
        assert_eq!(task_items(BODY, Some("Description")).len(), 1);
        assert!(task_items(BODY, Some("Missing")).is_empty());
        assert!(task_items(BODY, Some("Amendments")).is_empty());
        let t = "- [ ]  ünïcode ✓ task  \r\n- [x]\r\n";
        let items = task_items(t, None);
        assert_eq!(items[0].text, "ünïcode ✓ task");
        assert_eq!(items.len(), 2);
        assert!(items[1].checked && items[1].text.is_empty());
        let t = "> - [ ] quoted\n1. [x] ordered\n";
        let items = task_items(t, None);
        assert_eq!(items[0].text, "quoted");
        assert_eq!((items[1].line, items[1].text.as_str()), (2, "ordered"));
        // Lone CR line endings are lines too (as in CommonMark).
        let t = "a\r\r## H\r- [ ] x\r";
        assert_eq!(task_items(t, Some("h"))[0].line, 4);
        assert_eq!(
            append_to_section(t, "h", 2, "y"),
            "a\r\r## H\r- [ ] x\r\ry\r"
        );
    }

    #[test]
    fn append_into_non_empty_section() {
        let out = append_to_section(BODY, "Acceptance Criteria", 2, "- [ ] new one");
        let at = BODY.find("- plain item\n").unwrap() + "- plain item\n".len();
        assert_eq!(
            out,
            format!("{}\n- [ ] new one\n{}", &BODY[..at], &BODY[at..])
        );
        // Section followed directly by a heading gets a blank line after the entry.
        let t = "## A\ntext\n## B\n";
        assert_eq!(
            append_to_section(t, "a", 2, "entry\n\n\n"),
            "## A\ntext\n\nentry\n\n## B\n"
        );
        // Multi-line entry, section at end of text without trailing newline.
        let t = "## Progress\n- one";
        assert_eq!(
            append_to_section(t, "Progress", 2, "- two\n  more"),
            "## Progress\n- one\n\n- two\n  more\n"
        );
    }

    #[test]
    fn append_into_empty_section() {
        let out = append_to_section(BODY, "amendments", 2, "2024: changed");
        assert_eq!(out, format!("{BODY}\n2024: changed\n"));
        let t = "## A\n## B\n";
        assert_eq!(append_to_section(t, "A", 2, "x"), "## A\n\nx\n\n## B\n");
        let t = "## A\n\n\n## B\n";
        assert_eq!(append_to_section(t, "A", 2, "x"), "## A\n\nx\n\n\n## B\n");
        assert_eq!(append_to_section("## A", "A", 2, "x"), "## A\n\nx\n");
    }

    #[test]
    fn append_missing_section() {
        assert_eq!(
            append_to_section("text", "Progress", 2, "did it"),
            "text\n\n## Progress\n\ndid it\n"
        );
        assert_eq!(
            append_to_section("text\n", "Progress", 3, "did it"),
            "text\n\n### Progress\n\ndid it\n"
        );
        assert_eq!(
            append_to_section("text\n\n", "Progress", 2, "did it"),
            "text\n\n## Progress\n\ndid it\n"
        );
        assert_eq!(append_to_section("", "P", 0, "x"), "# P\n\nx\n");
        // A fake heading in a code block does not count.
        let t = "```\n## Progress\n```\n";
        assert_eq!(
            append_to_section(t, "Progress", 2, "x"),
            "```\n## Progress\n```\n\n## Progress\n\nx\n"
        );
    }

    #[test]
    fn regression_an_entry_appended_after_an_unclosed_block_is_not_swallowed_by_it() {
        // Found by fuzzing: a body ending inside a code fence took the new `## Progress`
        // heading as code, so every entry went into the fence and none was ever found.
        for (text, closer) in [
            ("```\n", "```"),
            ("text\n\n~~~~ rust\nlet x;\n", "~~~~"),
            ("<!-- a comment\nnever closed\n", "-->"),
            ("## Progress\n\n```\ncode\n", "```"),
        ] {
            let out = append_to_wt_section(text, "Progress", "- entry");
            assert!(out.starts_with(text), "{out:?}");
            assert!(out.contains(closer), "{out:?}");
            let content = wt_section_content(&out, "Progress").unwrap_or_default();
            assert!(content.contains("- entry"), "{out:?}");
            assert!(
                crate::model::journal::progress_entries(&out).contains(&"- entry".to_string()),
                "{out:?}"
            );
        }
        // A closed block, or one closed on its own line, gets nothing added.
        for text in ["```\ncode\n```\n", "<!-- one line -->\n"] {
            let out = append_to_wt_section(text, "Progress", "- entry");
            assert_eq!(out, format!("{text}\n## Progress\n\n- entry\n"));
        }
    }

    #[test]
    fn crlf() {
        let t = "## Progress\r\n\r\n- one\r\n\r\n## Next\r\n- [x] done\r\n";
        let out = append_to_section(t, "progress", 2, "- two\nthree");
        assert_eq!(
            out,
            "## Progress\r\n\r\n- one\r\n\r\n- two\r\nthree\r\n\r\n## Next\r\n- [x] done\r\n"
        );
        let s = find_section(t, "Next").unwrap();
        assert_eq!(s.heading_line, 5);
        assert_eq!(&t[s.start..s.content_start], "## Next\r\n");
        let items = task_items(t, Some("next"));
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].line, items[0].text.as_str()), (6, "done"));
        let out = append_to_section(t, "Other", 2, "x");
        assert_eq!(out, format!("{t}\r\n## Other\r\n\r\nx\r\n"));
    }

    fn is_insertion(old: &str, new: &str) -> bool {
        let prefix = old
            .bytes()
            .zip(new.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let suffix = old
            .bytes()
            .rev()
            .zip(new.bytes().rev())
            .take_while(|(a, b)| a == b)
            .count();
        new.len() >= old.len() && prefix + suffix >= old.len()
    }

    proptest! {
        #[test]
        fn append_only_inserts(
            entry in "[a-z #\\-\\[\\]`\n]{0,40}",
            heading in prop_oneof![Just("Description"), Just("Acceptance Criteria"), Just("Notes"), Just("Amendments"), Just("Missing"), Just("Details")],
            crlf in any::<bool>(),
        ) {
            let body = if crlf { BODY.replace('\n', "\r\n") } else { BODY.to_string() };
            let out = append_to_section(&body, heading, 2, &entry);
            prop_assert!(is_insertion(&body, &out), "{:?}", out);
            let eol = if crlf { "\r\n" } else { "\n" };
            let want = entry.trim_end_matches('\n').lines().collect::<Vec<_>>().join(eol);
            prop_assert!(out.contains(&want));
        }

        #[test]
        fn never_panics(text in "([#\\-\\[\\]xX `=*>\r\n]|ü|🎉|[a-c]){0,80}", entry in ".{0,10}") {
            let _ = headings(&text);
            let _ = task_items(&text, None);
            let _ = task_items(&text, Some("a"));
            if let Some(s) = find_section(&text, "a") {
                prop_assert!(s.start <= s.content_start && s.content_start <= s.end && s.end <= text.len());
            }
            let out = append_to_section(&text, "a", 2, &entry);
            prop_assert!(is_insertion(&text, &out));
        }
    }
}
