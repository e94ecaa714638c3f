//! Byte-exact YAML frontmatter splitting and single-field edits.
//!
//! A ticket file starts with a `---` line, followed by YAML, followed by a
//! closing `---` (or `...`) line and the markdown body. The functions here
//! never re-serialize the YAML: editing one field rewrites exactly that
//! field's lines and leaves every other byte of the file untouched.

/// The result of [`split`]: the frontmatter YAML and the body, with their
/// positions in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// Text between the opening and closing delimiter lines (excluding both); may be empty.
    pub yaml: &'a str,
    /// Byte offset of `yaml` in the file.
    pub yaml_offset: usize,
    /// 1-based file line number of the first yaml line (normally 2).
    pub yaml_first_line: usize,
    /// Everything after the closing delimiter line (after its newline).
    pub body: &'a str,
    /// Byte offset of `body` in the file.
    pub body_offset: usize,
    /// 1-based file line number of the first body line.
    pub body_first_line: usize,
}

/// Errors found while locating frontmatter or its fields. Lines and columns are 1-based.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FrontmatterError {
    /// The file does not start with a `---` line.
    #[error("line {line}: file does not start with a '---' line (hint: tickets start with a '---' line)")]
    NoFrontmatter { line: usize },
    /// The opening `---` is never followed by a closing `---` line.
    #[error("line {line}: the frontmatter opened by '---' is never closed (hint: add a '---' line after the last field)")]
    Unterminated { line: usize },
    /// A line at column 0 that is not `key: value`, a comment, or a `- ` list item.
    #[error("line {line}, column {column}: expected a top-level 'key: value' line")]
    UnexpectedLine { line: usize, column: usize },
    /// A quoted string or `[`/`{` flow collection that is never closed.
    #[error(
        "line {line}, column {column}: quoted value or '[...]'/'{{...}}' list is never closed"
    )]
    UnterminatedValue { line: usize, column: usize },
}

/// A top-level key of the frontmatter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The key, unquoted.
    pub key: String,
    /// 1-based file line of the key.
    pub line: usize,
    /// Byte offset (in the full file text) of the start of the key line.
    pub start: usize,
    /// Byte offset just after the newline of the field's last line.
    pub end: usize,
}

/// A value to store in a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
    /// A flow mapping of plain scalars, `{usd: 0.4, tokens: 1200}`: keys and values are
    /// written as given (wt's own numbers and words, never user text).
    Flow(Vec<(String, String)>),
}

// ---------------------------------------------------------------------------
// Lines

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    start: usize,
    content: &'a str,
    eol: &'a str,
    next: usize,
    no: usize,
}

/// The line starting at `pos` (which must be a char boundary), ending at `\n` or `to`.
fn line_at(text: &str, pos: usize, to: usize, no: usize) -> Line<'_> {
    let rest = text.get(pos..to).unwrap_or("");
    let (content_len, eol_len) = match rest.find('\n') {
        Some(i) if i > 0 && rest.as_bytes()[i - 1] == b'\r' => (i - 1, 2),
        Some(i) => (i, 1),
        None => (rest.len(), 0),
    };
    Line {
        start: pos,
        content: &rest[..content_len],
        eol: &rest[content_len..content_len + eol_len],
        next: pos + content_len + eol_len,
        no,
    }
}

fn lines_in(text: &str, from: usize, to: usize, first_no: usize) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut pos = from;
    let mut no = first_no;
    while pos < to {
        let l = line_at(text, pos, to, no);
        pos = l.next;
        no += 1;
        out.push(l);
    }
    out
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_delim(content: &str, delim: &str) -> bool {
    content
        .strip_prefix(delim)
        .is_some_and(|r| r.trim_matches([' ', '\t', '\r']).is_empty())
}

/// Splits a ticket file into frontmatter YAML and body.
pub fn split(text: &str) -> Result<Split<'_>, FrontmatterError> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let first = line_at(text, bom, text.len(), 1);
    if !is_delim(first.content, "---") {
        return Err(FrontmatterError::NoFrontmatter { line: 1 });
    }
    let mut pos = first.next;
    let mut no = 2;
    while pos < text.len() {
        let l = line_at(text, pos, text.len(), no);
        if is_delim(l.content, "---") || is_delim(l.content, "...") {
            return Ok(Split {
                yaml: &text[first.next..l.start],
                yaml_offset: first.next,
                yaml_first_line: 2,
                body: &text[l.next..],
                body_offset: l.next,
                body_first_line: no + 1,
            });
        }
        pos = l.next;
        no += 1;
    }
    Err(FrontmatterError::Unterminated { line: 1 })
}

/// Line ending used by the opening delimiter (`"\r\n"` or `"\n"`).
fn file_eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

// ---------------------------------------------------------------------------
// Scanning keys and values

enum LineKind {
    Blank,
    Comment,
    Indented { comment: bool },
    Dash,
    Key { key: String, colon: usize },
    Bad,
}

fn is_dash_item(s: &str) -> bool {
    s == "-" || s.starts_with("- ") || s.starts_with("-\t")
}

fn classify(content: &str) -> LineKind {
    let b = content.as_bytes();
    if content.trim_matches([' ', '\t', '\r']).is_empty() {
        return LineKind::Blank;
    }
    match b[0] {
        b' ' | b'\t' => LineKind::Indented {
            comment: content.trim_start_matches([' ', '\t']).starts_with('#'),
        },
        b'#' => LineKind::Comment,
        b'-' if is_dash_item(content) => LineKind::Dash,
        q @ (b'"' | b'\'') => {
            let mut st = if q == b'"' {
                Scan::Double
            } else {
                Scan::Single
            };
            let Some(end) = scan(&mut st, b, 1) else {
                return LineKind::Bad;
            };
            let mut i = end;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            if b.get(i) == Some(&b':') && b.get(i + 1).is_none_or(|c| is_ws(*c)) {
                let inner = &content[1..end - 1];
                let key = if q == b'"' {
                    unescape_double(inner)
                } else {
                    inner.replace("''", "'")
                };
                LineKind::Key { key, colon: i }
            } else {
                LineKind::Bad
            }
        }
        b'?' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
        | b'`' | b',' | b':' => LineKind::Bad,
        _ => {
            let mut i = 0;
            while i < b.len() {
                if b[i] == b':' && b.get(i + 1).is_none_or(|c| is_ws(*c)) {
                    let key = content[..i].trim_end_matches([' ', '\t']);
                    if key.contains(" #") || key.contains("\t#") {
                        return LineKind::Bad;
                    }
                    return LineKind::Key {
                        key: key.to_string(),
                        colon: i,
                    };
                }
                i += 1;
            }
            LineKind::Bad
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Double,
    Single,
    Flow { depth: usize, quote: Option<u8> },
}

/// Continues scanning a quoted scalar or flow collection from byte `i` of `s`.
/// Returns the index just after its end, or `None` if it continues on the next line.
fn scan(state: &mut Scan, s: &[u8], mut i: usize) -> Option<usize> {
    while i < s.len() {
        let b = s[i];
        match state {
            Scan::Double => match b {
                b'\\' => i += 1,
                b'"' => return Some(i + 1),
                _ => {}
            },
            Scan::Single => {
                if b == b'\'' {
                    if s.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        return Some(i + 1);
                    }
                }
            }
            Scan::Flow { depth, quote } => match *quote {
                Some(b'"') => match b {
                    b'\\' => i += 1,
                    b'"' => *quote = None,
                    _ => {}
                },
                Some(_) => {
                    if b == b'\'' {
                        if s.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            *quote = None;
                        }
                    }
                }
                None => match b {
                    b'[' | b'{' => *depth += 1,
                    b']' | b'}' => {
                        *depth = depth.saturating_sub(1);
                        if *depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    b'"' | b'\''
                        if i == 0
                            || matches!(s[i - 1], b' ' | b'\t' | b'[' | b'{' | b',' | b':') =>
                    {
                        *quote = Some(b)
                    }
                    b'#' if i == 0 || is_ws(s[i - 1]) => return None,
                    _ => {}
                },
            },
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValKind {
    /// Nothing (or only a comment) after the colon.
    Empty,
    Plain,
    Double,
    Single,
    /// A single-line `[...]` or `{...}`.
    Flow,
    /// Block scalar, anchor, alias, tag, or something unparseable.
    Other,
    /// A quoted scalar or flow collection continuing on later lines.
    Open(Scan),
}

#[derive(Debug, Clone, Copy)]
struct ValueInfo {
    val_start: usize,
    val_end: usize,
    kind: ValKind,
}

/// Analyses the value starting after byte `from` of a line (`from` is just after `:` or `-`).
fn analyze_value(content: &str, from: usize) -> ValueInfo {
    let b = content.as_bytes();
    let mut vs = from;
    while vs < b.len() && is_ws(b[vs]) {
        vs += 1;
    }
    let empty = ValueInfo {
        val_start: from,
        val_end: from,
        kind: ValKind::Empty,
    };
    if vs >= b.len() || b[vs] == b'#' {
        return empty;
    }
    let (mut st, kind) = match b[vs] {
        b'"' => (Scan::Double, ValKind::Double),
        b'\'' => (Scan::Single, ValKind::Single),
        b'[' | b'{' => (
            Scan::Flow {
                depth: 1,
                quote: None,
            },
            ValKind::Flow,
        ),
        b'|' | b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => {
            return ValueInfo {
                val_start: vs,
                val_end: b.len(),
                kind: ValKind::Other,
            }
        }
        _ => {
            let mut end = b.len();
            let mut i = vs;
            while i + 1 < b.len() {
                if is_ws(b[i]) && b[i + 1] == b'#' {
                    end = i;
                    break;
                }
                i += 1;
            }
            let val_end = vs + content[vs..end].trim_end_matches([' ', '\t']).len();
            return ValueInfo {
                val_start: vs,
                val_end,
                kind: ValKind::Plain,
            };
        }
    };
    match scan(&mut st, b, vs + 1) {
        None => ValueInfo {
            val_start: vs,
            val_end: b.len(),
            kind: ValKind::Open(st),
        },
        Some(end) => {
            let rest = &content[end..];
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let ok = trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len());
            ValueInfo {
                val_start: vs,
                val_end: end,
                kind: if ok { kind } else { ValKind::Other },
            }
        }
    }
}

fn has_comment(tail: &str) -> bool {
    tail.trim_start_matches([' ', '\t']).starts_with('#')
}

fn unescape_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<char> {
            let h: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
        };
        match e {
            'n' => out.push('\n'),
            't' | '\t' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'v' => out.push('\u{b}'),
            'N' => out.push('\u{85}'),
            '_' => out.push('\u{a0}'),
            'L' => out.push('\u{2028}'),
            'P' => out.push('\u{2029}'),
            'x' => out.extend(hex(&mut chars, 2)),
            'u' => out.extend(hex(&mut chars, 4)),
            'U' => out.extend(hex(&mut chars, 8)),
            other => out.push(other),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Fields

struct RawField {
    key: String,
    key_idx: usize,
    last_idx: usize,
    colon: usize,
    val: ValueInfo,
}

struct Analysis<'a> {
    split: Split<'a>,
    lines: Vec<Line<'a>>,
    fields: Vec<RawField>,
}

fn column(content: &str, byte: usize) -> usize {
    content.get(..byte).map_or(1, |p| p.chars().count() + 1)
}

fn analyze(text: &str) -> Result<Analysis<'_>, FrontmatterError> {
    let sp = split(text)?;
    let lines = lines_in(
        text,
        sp.yaml_offset,
        sp.yaml_offset + sp.yaml.len(),
        sp.yaml_first_line,
    );
    let mut fields = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        match classify(l.content) {
            LineKind::Blank | LineKind::Comment | LineKind::Indented { comment: true } => i += 1,
            LineKind::Indented { comment: false } | LineKind::Dash | LineKind::Bad => {
                let ws = l.content.len() - l.content.trim_start_matches([' ', '\t']).len();
                return Err(FrontmatterError::UnexpectedLine {
                    line: l.no,
                    column: column(l.content, ws),
                });
            }
            LineKind::Key { key, colon } => {
                let val = analyze_value(l.content, colon + 1);
                let mut last = i;
                let mut j = i + 1;
                if let ValKind::Open(mut st) = val.kind {
                    let mut closed = false;
                    while j < lines.len() {
                        last = j;
                        j += 1;
                        if scan(&mut st, lines[last].content.as_bytes(), 0).is_some() {
                            closed = true;
                            break;
                        }
                    }
                    if !closed {
                        return Err(FrontmatterError::UnterminatedValue {
                            line: l.no,
                            column: column(l.content, val.val_start),
                        });
                    }
                }
                let block_scalar = val.kind == ValKind::Other
                    && matches!(l.content.as_bytes().get(val.val_start), Some(b'|' | b'>'));
                while j < lines.len() {
                    match classify(lines[j].content) {
                        LineKind::Blank | LineKind::Comment => {}
                        LineKind::Indented { comment } => {
                            if !comment || block_scalar {
                                last = j;
                            }
                        }
                        LineKind::Dash => last = j,
                        _ => break,
                    }
                    j += 1;
                }
                fields.push(RawField {
                    key,
                    key_idx: i,
                    last_idx: last,
                    colon,
                    val,
                });
                i = last + 1;
            }
        }
    }
    Ok(Analysis {
        split: sp,
        lines,
        fields,
    })
}

/// Top-level keys of the frontmatter, in file order.
pub fn fields(text: &str) -> Result<Vec<Field>, FrontmatterError> {
    let a = analyze(text)?;
    Ok(a.fields
        .iter()
        .map(|f| Field {
            key: f.key.clone(),
            line: a.lines[f.key_idx].no,
            start: a.lines[f.key_idx].start,
            end: a.lines[f.last_idx].next,
        })
        .collect())
}

// ---------------------------------------------------------------------------
// Rendering

fn needs_escape(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0x9f).contains(&u)
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn plain_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return false;
    };
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return false;
    }
    if b"-?:,[]{}#&*!|>'\"%@`".contains(&first) {
        return false;
    }
    if s.contains(": ") || s.contains(":\t") || s.ends_with(':') || s.contains(" #") {
        return false;
    }
    if s.chars().any(|c| needs_escape(c) || c == '\t') {
        return false;
    }
    const KEYWORDS: &[&str] = &[
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".inf", ".nan", "<<", "=",
    ];
    let lower = s.to_ascii_lowercase();
    if KEYWORDS.contains(&lower.as_str()) {
        return false;
    }
    let numeric_start = first.is_ascii_digit()
        || (matches!(first, b'+' | b'.')
            && b.get(1).is_some_and(|c| c.is_ascii_digit() || *c == b'.'));
    // Numbers and timestamps never contain a space without also containing ':'.
    if numeric_start && (!s.contains(' ') || s.contains(':')) {
        return false;
    }
    true
}

fn double_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn single_quote(s: &str) -> Option<String> {
    if s.chars().any(|c| needs_escape(c) || c == '\t') {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

/// Renders a string as a YAML scalar: plain if that round-trips unambiguously,
/// otherwise double-quoted with escapes.
pub fn render_scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        double_quote(s)
    }
}

/// Quote style of an existing value, used to keep the file's style on edits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

fn render_str(s: &str, style: Style) -> String {
    match style {
        Style::Double => double_quote(s),
        Style::Single => single_quote(s).unwrap_or_else(|| double_quote(s)),
        Style::Plain => render_scalar(s),
    }
}

fn render_item(s: &str, style: Style) -> String {
    // In a flow list a quote after a space or a `#` would start a quoted value or a comment
    // for wt's own reader (found by fuzzing: `labels: [A '0]` could not be edited again).
    if style == Style::Plain && s.contains([',', '[', ']', '{', '}', '\'', '"', '#', ':']) {
        return double_quote(s);
    }
    render_str(s, style)
}

fn render_value(v: &Value, style: Style) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => render_str(s, style),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(|s| render_item(s, Style::Plain)).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Flow(pairs) => {
            let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn style_of(kind: ValKind) -> Style {
    match kind {
        ValKind::Single => Style::Single,
        ValKind::Double => Style::Double,
        _ => Style::Plain,
    }
}

// ---------------------------------------------------------------------------
// Editing

struct BlockItem {
    /// Index (into lines) of the item's `-` line.
    first: usize,
    /// Index of the last line of the item's segment (inclusive).
    last: usize,
    value: Option<String>,
}

struct BlockList<'a> {
    indent: &'a str,
    gap: &'a str,
    style: Style,
    eol: &'a str,
    items: Vec<BlockItem>,
}

fn item_value(content: &str, dash: usize) -> (ValueInfo, Option<String>) {
    let v = analyze_value(content, dash + 1);
    let inner = content.get(v.val_start..v.val_end).unwrap_or("");
    let value = match v.kind {
        ValKind::Plain => Some(inner.to_string()),
        ValKind::Double => inner
            .get(1..inner.len().saturating_sub(1))
            .map(unescape_double),
        ValKind::Single => inner
            .get(1..inner.len().saturating_sub(1))
            .map(|s| s.replace("''", "'")),
        _ => None,
    };
    (v, value)
}

/// Recognises `key:` followed by `- item` lines (at one indentation).
fn block_list<'a>(lines: &[Line<'a>], f: &RawField) -> Option<BlockList<'a>> {
    if f.val.kind != ValKind::Empty || f.last_idx == f.key_idx {
        return None;
    }
    let mut list: Option<BlockList<'a>> = None;
    for (k, line) in lines
        .iter()
        .enumerate()
        .take(f.last_idx + 1)
        .skip(f.key_idx + 1)
    {
        let c = line.content;
        let stripped = c.trim_start_matches([' ', '\t']);
        let ws = c.len() - stripped.len();
        if stripped.is_empty() || stripped.starts_with('#') {
            if let Some(it) = list.as_mut().and_then(|l| l.items.last_mut()) {
                it.last = k;
            }
            continue;
        }
        match list.as_mut() {
            None => {
                if !is_dash_item(stripped) {
                    return None;
                }
                let (v, value) = item_value(c, ws);
                list = Some(BlockList {
                    indent: &c[..ws],
                    gap: if v.kind == ValKind::Empty {
                        " "
                    } else {
                        &c[ws + 1..v.val_start]
                    },
                    style: style_of(v.kind),
                    eol: line.eol,
                    items: vec![BlockItem {
                        first: k,
                        last: k,
                        value,
                    }],
                });
            }
            Some(l) => {
                if &c[..ws] == l.indent && is_dash_item(stripped) {
                    let (_, value) = item_value(c, ws);
                    l.items.push(BlockItem {
                        first: k,
                        last: k,
                        value,
                    });
                } else if ws > l.indent.len() {
                    let it = l.items.last_mut()?;
                    it.last = k;
                    it.value = None;
                } else {
                    return None;
                }
            }
        }
    }
    list
}

/// Longest common subsequence pairs (old index, new index).
fn lcs_pairs(old: &[Option<String>], new: &[String]) -> Vec<(usize, usize)> {
    let (n, m) = (old.len(), new.len());
    if n.saturating_mul(m) > 4_000_000 {
        return Vec::new();
    }
    let mut t = vec![0u32; (n + 1) * (m + 1)];
    let idx = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[idx(i, j)] = if old[i].as_deref() == Some(new[j].as_str()) {
                t[idx(i + 1, j + 1)] + 1
            } else {
                t[idx(i + 1, j)].max(t[idx(i, j + 1)])
            };
        }
    }
    let mut pairs = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if old[i].as_deref() == Some(new[j].as_str()) {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if t[idx(i + 1, j)] >= t[idx(i, j + 1)] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// Rewrites the items of a block list, keeping unchanged items' lines verbatim.
fn rewrite_block_list(
    text: &str,
    lines: &[Line<'_>],
    f: &RawField,
    bl: &BlockList<'_>,
    new: &[String],
) -> (usize, usize, String) {
    let start = lines[f.key_idx].next;
    let end = lines[f.last_idx].next;
    let mut out = String::new();
    let first_item = bl.items.first().map_or(f.last_idx + 1, |it| it.first);
    // Blank/comment lines between the key and the first item.
    if let Some(l) = lines.get(first_item) {
        out.push_str(&text[start..l.start]);
    }
    let new_line = |out: &mut String, s: &str| {
        out.push_str(bl.indent);
        out.push('-');
        out.push_str(bl.gap);
        out.push_str(&render_item(s, bl.style));
        out.push_str(bl.eol);
    };
    let old: Vec<Option<String>> = bl.items.iter().map(|it| it.value.clone()).collect();
    let mut nj = 0;
    for (oi, ni) in lcs_pairs(&old, new) {
        for s in &new[nj..ni] {
            new_line(&mut out, s);
        }
        let it = &bl.items[oi];
        out.push_str(&text[lines[it.first].start..lines[it.last].next]);
        nj = ni + 1;
    }
    for s in &new[nj..] {
        new_line(&mut out, s);
    }
    (start, end, out)
}

/// Computes the replacement for an existing field.
fn edit_field(
    text: &str,
    lines: &[Line<'_>],
    f: &RawField,
    value: &Value,
) -> (usize, usize, String) {
    let kl = lines[f.key_idx];
    let key_part = &kl.content[..=f.colon];
    let multi = f.last_idx > f.key_idx;
    if let Value::List(items) = value {
        if !items.is_empty() {
            if let Some(bl) = block_list(lines, f) {
                return rewrite_block_list(text, lines, f, &bl, items);
            }
        }
    }
    let rendered = render_value(value, style_of(f.val.kind));
    let single_line = !multi
        && matches!(
            f.val.kind,
            ValKind::Empty | ValKind::Plain | ValKind::Double | ValKind::Single | ValKind::Flow
        );
    let mut line = String::new();
    if single_line && f.val.kind != ValKind::Empty {
        let tail = &kl.content[f.val.val_end..];
        if rendered.is_empty() {
            line.push_str(key_part);
            if has_comment(tail) {
                line.push_str(tail);
            }
        } else {
            line.push_str(&kl.content[..f.val.val_start]);
            line.push_str(&rendered);
            line.push_str(tail);
        }
    } else {
        // Empty value, or a value whose lines are all replaced by one line.
        line.push_str(key_part);
        if !rendered.is_empty() {
            line.push(' ');
            line.push_str(&rendered);
        }
        if f.val.kind == ValKind::Empty {
            let tail = &kl.content[f.colon + 1..];
            if has_comment(tail) {
                line.push_str(tail);
            }
        }
    }
    line.push_str(kl.eol);
    (kl.start, lines[f.last_idx].next, line)
}

/// Replace byte ranges of `text` (start, end, replacement); ranges must not overlap.
pub(crate) fn apply(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    for (s, e, r) in edits {
        out.push_str(&text[pos..s]);
        out.push_str(&r);
        pos = e;
    }
    out.push_str(&text[pos..]);
    out
}

/// Sets top-level `key` to `value`, changing only that field's lines. If the key is
/// absent, a `key: value` line is inserted just before the closing delimiter.
/// If the key occurs more than once, the first occurrence is edited and later ones removed.
pub fn set_field(text: &str, key: &str, value: &Value) -> Result<String, FrontmatterError> {
    let a = analyze(text)?;
    let mut edits = Vec::new();
    field_edits(text, &a, key, value, &mut edits);
    Ok(apply(text, edits))
}

/// The edits that set top-level `key` to `value` in `text` (analysed as `a`), as
/// [`set_field`] describes them.
fn field_edits(
    text: &str,
    a: &Analysis<'_>,
    key: &str,
    value: &Value,
    edits: &mut Vec<(usize, usize, String)>,
) {
    let mut matching = a.fields.iter().filter(|f| f.key == key);
    let Some(first) = matching.next() else {
        let at = a.split.yaml_offset + a.split.yaml.len();
        let rendered = render_value(value, Style::Plain);
        let mut line = render_scalar(key);
        line.push(':');
        if !rendered.is_empty() {
            line.push(' ');
            line.push_str(&rendered);
        }
        line.push_str(file_eol(text));
        edits.push((at, at, line));
        return;
    };
    edits.push(edit_field(text, &a.lines, first, value));
    for f in matching {
        edits.push((
            a.lines[f.key_idx].start,
            a.lines[f.last_idx].next,
            String::new(),
        ));
    }
}

/// [`set_field`] for each of `fields` in turn, in one pass: the frontmatter is analysed once
/// and every edit made on the original text (each changes only its own field's lines, and
/// absent keys are inserted before the closing delimiter in the order given), which is what
/// setting them one after the other gives. A key given twice is set one after the other.
pub fn set_fields(text: &str, fields: &[(&str, Value)]) -> Result<String, FrontmatterError> {
    let twice = fields
        .iter()
        .enumerate()
        .any(|(i, (k, _))| fields[..i].iter().any(|(j, _)| j == k));
    if twice {
        let mut out = text.to_string();
        for (k, v) in fields {
            out = set_field(&out, k, v)?;
        }
        return Ok(out);
    }
    let a = analyze(text)?;
    let mut edits = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        field_edits(text, &a, key, value, &mut edits);
    }
    Ok(apply(text, edits))
}

/// Every top-level field of the frontmatter with its text, verbatim (the key line and the
/// lines that continue it, line endings included), in file order.
pub fn raw_fields(text: &str) -> Result<Vec<(String, String)>, FrontmatterError> {
    Ok(fields(text)?
        .into_iter()
        .map(|f| {
            let raw = text[f.start..f.end].to_string();
            (f.key, raw)
        })
        .collect())
}

/// Sets top-level `key` to `raw`, the field's whole text as [`raw_fields`] gives it: every
/// occurrence of `key` is removed and `raw` (with a line ending added when it has none) is
/// inserted before the closing delimiter. Refused (`None`) unless `raw` is exactly one
/// top-level field named `key`.
pub fn set_raw_field(text: &str, key: &str, raw: &str) -> Option<String> {
    let eol = file_eol(text);
    let mut raw = raw.to_string();
    if !raw.ends_with('\n') {
        raw.push_str(eol);
    }
    let probe = format!("---\n{raw}---\n");
    match fields(&probe).ok()?.as_slice() {
        [f] if f.key == key && f.end == 4 + raw.len() => {}
        _ => return None,
    }
    let text = remove_field(text, key).ok()?;
    let sp = split(&text).ok()?;
    let at = sp.yaml_offset + sp.yaml.len();
    Some(apply(&text, vec![(at, at, raw)]))
}

/// Removes every occurrence of top-level `key` (exactly its byte range). No-op if absent.
pub fn remove_field(text: &str, key: &str) -> Result<String, FrontmatterError> {
    let a = analyze(text)?;
    let edits = a
        .fields
        .iter()
        .filter(|f| f.key == key)
        .map(|f| {
            (
                a.lines[f.key_idx].start,
                a.lines[f.last_idx].next,
                String::new(),
            )
        })
        .collect();
    Ok(apply(text, edits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TICKET: &str = r#"---
id: J-7f3ak2m9
kind: job
title: "Add login form"   # a comment
status: open
priority: 2
parent: P-ab12cd34
depends_on: [J-aaaa1111, J-bbbb2222]
labels:
  - ui
  - auth
claimed_by:
---
# Add login form
## Description
...
"#;

    #[derive(serde::Deserialize, Debug)]
    struct T {
        title: String,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Full {
        id: String,
        title: String,
        status: Option<String>,
        priority: Option<i64>,
        #[serde(default)]
        labels: Vec<String>,
        #[serde(default)]
        depends_on: Vec<String>,
        claimed_by: Option<String>,
    }

    fn yaml_of(text: &str) -> &str {
        split(text).expect("split").yaml
    }

    /// Asserts that `new` equals `old` with exactly the byte range `old[s..e]` replaced.
    fn only_changed(old: &str, new: &str, changed_old_line: &str, new_line: &str) {
        let at = old.find(changed_old_line).expect("old line present");
        let expect = format!(
            "{}{}{}",
            &old[..at],
            new_line,
            &old[at + changed_old_line.len()..]
        );
        assert_eq!(new, expect);
    }

    #[test]
    fn split_basic() {
        let s = split(TICKET).unwrap();
        assert!(s.yaml.starts_with("id: J-7f3ak2m9\n"));
        assert!(s.yaml.ends_with("claimed_by:\n"));
        assert_eq!(s.yaml_offset, 4);
        assert_eq!(s.yaml_first_line, 2);
        assert_eq!(s.body, "# Add login form\n## Description\n...\n");
        assert_eq!(s.body_first_line, 14);
        assert_eq!(&TICKET[s.body_offset..], s.body);
        assert_eq!(&TICKET[s.yaml_offset..s.yaml_offset + s.yaml.len()], s.yaml);
    }

    #[test]
    fn split_variants() {
        let s = split("\u{feff}---  \r\na: 1\r\n... \r\nbody").unwrap();
        assert_eq!(s.yaml, "a: 1\r\n");
        assert_eq!(s.yaml_offset, 3 + 7);
        assert_eq!(s.body, "body");
        assert_eq!(s.body_first_line, 4);
        let s = split("---\n---\n").unwrap();
        assert_eq!(s.yaml, "");
        assert_eq!(s.body, "");
        assert_eq!(s.body_first_line, 3);
        let s = split("---\na: 1\n---").unwrap();
        assert_eq!(s.body, "");
        // Indented '---' does not close.
        assert_eq!(
            split("---\na: |\n  ---\n---\nx").unwrap().yaml,
            "a: |\n  ---\n"
        );
    }

    #[test]
    fn split_errors() {
        assert_eq!(
            split("# title\n---\n"),
            Err(FrontmatterError::NoFrontmatter { line: 1 })
        );
        assert_eq!(split(""), Err(FrontmatterError::NoFrontmatter { line: 1 }));
        assert_eq!(
            split("----\n---\n"),
            Err(FrontmatterError::NoFrontmatter { line: 1 })
        );
        assert_eq!(
            split("---\na: 1\n"),
            Err(FrontmatterError::Unterminated { line: 1 })
        );
        assert_eq!(
            split("---"),
            Err(FrontmatterError::Unterminated { line: 1 })
        );
        let msg = FrontmatterError::NoFrontmatter { line: 1 }.to_string();
        assert!(msg.contains("line 1") && msg.contains("'---'"), "{msg}");
        assert_eq!(
            fields("---\na: 1\nb c\n---\n"),
            Err(FrontmatterError::UnexpectedLine { line: 3, column: 1 })
        );
        assert_eq!(
            fields("---\n  x: 1\n---\n"),
            Err(FrontmatterError::UnexpectedLine { line: 2, column: 3 })
        );
        assert_eq!(
            fields("---\na: 1\nb: \"open\n  still\n---\n"),
            Err(FrontmatterError::UnterminatedValue { line: 3, column: 4 })
        );
        assert!(set_field("---\nbad\n---\n", "a", &Value::Null).is_err());
    }

    #[test]
    fn fields_ranges() {
        let f = fields(TICKET).unwrap();
        let keys: Vec<&str> = f.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "id",
                "kind",
                "title",
                "status",
                "priority",
                "parent",
                "depends_on",
                "labels",
                "claimed_by"
            ]
        );
        let labels = &f[7];
        assert_eq!(labels.line, 9);
        assert_eq!(
            &TICKET[labels.start..labels.end],
            "labels:\n  - ui\n  - auth\n"
        );
        assert_eq!(f[2].line, 4);
        assert_eq!(
            &TICKET[f[2].start..f[2].end],
            "title: \"Add login form\"   # a comment\n"
        );
        let t = "---\nlist:\n- a\n\n# c\n- b\n\n# trailing\nnext: |\n  x\n  # y\n\n# z\n'q k': 1\n\"d\\tk\" : 2\n---\n";
        let f = fields(t).unwrap();
        assert_eq!(&t[f[0].start..f[0].end], "list:\n- a\n\n# c\n- b\n");
        assert_eq!(&t[f[1].start..f[1].end], "next: |\n  x\n  # y\n");
        assert_eq!(f[2].key, "q k");
        assert_eq!(f[3].key, "d\tk");
        assert_eq!(f[3].line, 15);
        // Multi-line flow with the closing bracket at column 0.
        let t = "---\ndeps: [\n  a, b,\n]\nx: 1\n---\n";
        let f = fields(t).unwrap();
        assert_eq!(&t[f[0].start..f[0].end], "deps: [\n  a, b,\n]\n");
        assert_eq!(f[1].key, "x");
    }

    #[test]
    fn set_single_line_fields() {
        let out = set_field(TICKET, "status", &Value::Str("done".into())).unwrap();
        only_changed(TICKET, &out, "status: open\n", "status: done\n");
        let out = set_field(TICKET, "priority", &Value::Int(-3)).unwrap();
        only_changed(TICKET, &out, "priority: 2\n", "priority: -3\n");
        let out = set_field(TICKET, "claimed_by", &Value::Str("alice".into())).unwrap();
        only_changed(TICKET, &out, "claimed_by:\n", "claimed_by: alice\n");
        let out2 = set_field(&out, "claimed_by", &Value::Null).unwrap();
        assert_eq!(out2, TICKET);
        let out = set_field(TICKET, "status", &Value::Bool(true)).unwrap();
        only_changed(TICKET, &out, "status: open\n", "status: true\n");
        // Quoted style and trailing comment are kept.
        let out = set_field(TICKET, "title", &Value::Str("Log \"in\" # now".into())).unwrap();
        only_changed(
            TICKET,
            &out,
            "title: \"Add login form\"   # a comment\n",
            "title: \"Log \\\"in\\\" # now\"   # a comment\n",
        );
        let full: Full = serde_saphyr::from_str(yaml_of(&out)).unwrap();
        assert_eq!(full.title, "Log \"in\" # now");
        // Flow list stays a flow list.
        let out = set_field(
            TICKET,
            "depends_on",
            &Value::List(vec!["J-1".into(), "a, b".into()]),
        )
        .unwrap();
        only_changed(
            TICKET,
            &out,
            "depends_on: [J-aaaa1111, J-bbbb2222]\n",
            "depends_on: [J-1, \"a, b\"]\n",
        );
        let full: Full = serde_saphyr::from_str(yaml_of(&out)).unwrap();
        assert_eq!(full.depends_on, ["J-1", "a, b"]);
        let out = set_field(TICKET, "depends_on", &Value::List(vec![])).unwrap();
        only_changed(
            TICKET,
            &out,
            "depends_on: [J-aaaa1111, J-bbbb2222]\n",
            "depends_on: []\n",
        );
    }

    #[test]
    fn set_keeps_odd_spacing_quotes_and_comments() {
        let t = "---\n# header comment\n\"title\"  :   'It''s'  # c1\nstatus:\topen # c2\n\nowner: # nobody yet\n---\nbody # not yaml\n";
        let out = set_field(t, "title", &Value::Str("Bob's".into())).unwrap();
        only_changed(
            t,
            &out,
            "\"title\"  :   'It''s'  # c1\n",
            "\"title\"  :   'Bob''s'  # c1\n",
        );
        let out = set_field(t, "status", &Value::Str("in progress".into())).unwrap();
        only_changed(
            t,
            &out,
            "status:\topen # c2\n",
            "status:\tin progress # c2\n",
        );
        let out = set_field(t, "status", &Value::Null).unwrap();
        only_changed(t, &out, "status:\topen # c2\n", "status: # c2\n");
        let out = set_field(t, "owner", &Value::Str("me".into())).unwrap();
        only_changed(t, &out, "owner: # nobody yet\n", "owner: me # nobody yet\n");
        // A '#' inside quotes is not a comment.
        let t = "---\ntitle: \"a # b\" # real\n---\n";
        let out = set_field(t, "title", &Value::Str("x".into())).unwrap();
        assert_eq!(out, "---\ntitle: \"x\" # real\n---\n");
    }

    #[test]
    fn crlf_bom_and_unicode() {
        let t = "\u{feff}---\r\ntitle: Café 🎉 crème\r\nstatus: open\r\nlabels:\r\n  - a\r\n---\r\n# Body\r\n";
        let out = set_field(t, "title", &Value::Str("Ünïcødé 🚀 done".into())).unwrap();
        only_changed(
            t,
            &out,
            "title: Café 🎉 crème\r\n",
            "title: Ünïcødé 🚀 done\r\n",
        );
        let out = set_field(t, "assignee", &Value::Str("zoë".into())).unwrap();
        only_changed(t, &out, "---\r\n# Body", "assignee: zoë\r\n---\r\n# Body");
        let out = set_field(t, "labels", &Value::List(vec!["a".into(), "b".into()])).unwrap();
        only_changed(t, &out, "  - a\r\n", "  - a\r\n  - b\r\n");
        let out = remove_field(t, "status").unwrap();
        only_changed(t, &out, "status: open\r\n", "");
        let parsed: T = serde_saphyr::from_str(yaml_of(&out)).unwrap();
        assert_eq!(parsed.title, "Café 🎉 crème");
    }

    #[test]
    fn insert_when_absent() {
        let out = set_field(TICKET, "assignee", &Value::Str("yes".into())).unwrap();
        only_changed(
            TICKET,
            &out,
            "claimed_by:\n---\n",
            "claimed_by:\nassignee: \"yes\"\n---\n",
        );
        let out = set_field("---\n---\nbody\n", "tags", &Value::List(vec!["x".into()])).unwrap();
        assert_eq!(out, "---\ntags: [x]\n---\nbody\n");
        let out = set_field("---\n---\n", "k", &Value::Null).unwrap();
        assert_eq!(out, "---\nk:\n---\n");
        let out = set_field("---\n---\n", "a key: x", &Value::Int(1)).unwrap();
        assert_eq!(out, "---\n\"a key: x\": 1\n---\n");
        assert_eq!(fields(&out).unwrap()[0].key, "a key: x");
    }

    #[test]
    fn regression_a_flow_list_item_with_a_quote_is_written_so_it_can_be_edited_again() {
        for item in ["A '0", "a \"b", "x #y", "k: v", "it's"] {
            let out = set_field(TICKET, "depends_on", &Value::List(vec![item.into()])).unwrap();
            let again = set_field(&out, "status", &Value::Str("done".into()));
            assert!(again.is_ok(), "{item:?}: {out}");
            let full: Full = serde_saphyr::from_str(yaml_of(&out)).unwrap();
            assert_eq!(full.depends_on, [item]);
        }
    }

    #[test]
    fn block_list_edits() {
        let out = set_field(
            TICKET,
            "labels",
            &Value::List(vec!["ui".into(), "auth".into(), "new one".into()]),
        )
        .unwrap();
        only_changed(TICKET, &out, "  - auth\n", "  - auth\n  - new one\n");
        let out = set_field(TICKET, "labels", &Value::List(vec!["auth".into()])).unwrap();
        only_changed(TICKET, &out, "  - ui\n", "");
        let out = set_field(
            TICKET,
            "labels",
            &Value::List(vec!["first".into(), "ui".into(), "auth".into()]),
        )
        .unwrap();
        only_changed(TICKET, &out, "  - ui\n", "  - first\n  - ui\n");
        let full: Full = serde_saphyr::from_str(yaml_of(&out)).unwrap();
        assert_eq!(full.labels, ["first", "ui", "auth"]);
        let out = set_field(TICKET, "labels", &Value::List(vec![])).unwrap();
        only_changed(TICKET, &out, "labels:\n  - ui\n  - auth\n", "labels: []\n");
        // Column-0 dashes, quoted items, comments between items.
        let t = "---\nl: # my list\n- 'x' # keep\n# between\n- \"y\"\n---\n";
        let out = set_field(
            t,
            "l",
            &Value::List(vec!["x".into(), "y".into(), "z's".into()]),
        )
        .unwrap();
        assert_eq!(
            out,
            "---\nl: # my list\n- 'x' # keep\n# between\n- \"y\"\n- 'z''s'\n---\n"
        );
        let out = set_field(t, "l", &Value::Str("scalar".into())).unwrap();
        assert_eq!(out, "---\nl: scalar # my list\n---\n");
    }

    #[test]
    fn complex_values_replaced_whole() {
        let t = "---\na: 1\ndesc: |\n  line one\n\n  # line two\nmap:\n  k: v\n  j: w\nz: 2\n---\n";
        let out = set_field(t, "desc", &Value::Str("short".into())).unwrap();
        assert_eq!(
            out,
            "---\na: 1\ndesc: short\nmap:\n  k: v\n  j: w\nz: 2\n---\n"
        );
        let out = set_field(t, "map", &Value::List(vec!["x".into()])).unwrap();
        assert_eq!(
            out,
            "---\na: 1\ndesc: |\n  line one\n\n  # line two\nmap: [x]\nz: 2\n---\n"
        );
        let t = "---\nx: &anc foo\ny: *anc\nf: [a,\n  b]\n---\n";
        let out = set_field(t, "y", &Value::Int(5)).unwrap();
        assert_eq!(out, "---\nx: &anc foo\ny: 5\nf: [a,\n  b]\n---\n");
        let out = set_field(t, "f", &Value::List(vec!["c".into()])).unwrap();
        assert_eq!(out, "---\nx: &anc foo\ny: *anc\nf: [c]\n---\n");
    }

    #[test]
    fn removal() {
        let out = remove_field(TICKET, "labels").unwrap();
        only_changed(TICKET, &out, "labels:\n  - ui\n  - auth\n", "");
        assert_eq!(remove_field(TICKET, "nope").unwrap(), TICKET);
        let out = remove_field(TICKET, "title").unwrap();
        only_changed(
            TICKET,
            &out,
            "title: \"Add login form\"   # a comment\n",
            "",
        );
        // Duplicates: all removed by remove_field; set_field keeps only the first.
        let t = "---\na: 1\nb: 2\na: 3\n---\n";
        assert_eq!(remove_field(t, "a").unwrap(), "---\nb: 2\n---\n");
        assert_eq!(
            set_field(t, "a", &Value::Int(9)).unwrap(),
            "---\na: 9\nb: 2\n---\n"
        );
    }

    #[test]
    fn body_never_touched() {
        let t = "---\ntitle: x\n---\ntitle: y\n---\n";
        let out = set_field(t, "title", &Value::Str("z".into())).unwrap();
        assert_eq!(out, "---\ntitle: z\n---\ntitle: y\n---\n");
        let out = set_field(t, "new", &Value::Int(1)).unwrap();
        assert_eq!(out, "---\ntitle: x\nnew: 1\n---\ntitle: y\n---\n");
    }

    #[test]
    fn render_scalar_rules() {
        for plain in [
            "hello",
            "Add login form",
            "a:b",
            "a#b",
            "J-7f3ak2m9",
            "café 🎉",
            "2 factor auth",
            "it's",
            ".",
        ] {
            assert_eq!(render_scalar(plain), plain);
        }
        for quoted in [
            "",
            " x",
            "x ",
            "-x",
            "- x",
            "?",
            ":x",
            "a: b",
            "a #b",
            "x:",
            "#x",
            "[x",
            "{x",
            "&a",
            "*a",
            "!t",
            "|",
            ">",
            "'q",
            "\"q",
            "%p",
            "@a",
            "`b",
            "null",
            "Null",
            "~",
            "true",
            "FALSE",
            "yes",
            "No",
            "on",
            "OFF",
            "y",
            "12",
            "-1",
            "+1",
            "1.5",
            ".5",
            ".inf",
            ".NaN",
            "1e3",
            "0x1F",
            "0o7",
            "2024-01-01",
            "12:30",
            "a\nb",
            "a\tb",
            "\u{7}",
            "<<",
        ] {
            let r = render_scalar(quoted);
            assert!(r.starts_with('"'), "{quoted:?} rendered as {r}");
            let t = format!("---\ntitle: {r}\n---\n");
            let p: T = serde_saphyr::from_str(yaml_of(&t)).unwrap();
            assert_eq!(p.title, quoted);
        }
        assert_eq!(render_scalar("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn full_roundtrip_through_parser() {
        let full: Full = serde_saphyr::from_str(yaml_of(TICKET)).unwrap();
        assert_eq!(full.labels, ["ui", "auth"]);
        let mut t = TICKET.to_string();
        t = set_field(
            &t,
            "labels",
            &Value::List(vec!["a,b".into(), "true".into(), "x y".into()]),
        )
        .unwrap();
        t = set_field(&t, "claimed_by", &Value::Str("123".into())).unwrap();
        t = set_field(&t, "status", &Value::Null).unwrap();
        t = set_field(&t, "priority", &Value::Int(i64::MIN)).unwrap();
        let full: Full = serde_saphyr::from_str(yaml_of(&t)).unwrap();
        assert_eq!(
            full,
            Full {
                id: "J-7f3ak2m9".into(),
                title: "Add login form".into(),
                status: None,
                priority: Some(i64::MIN),
                labels: vec!["a,b".into(), "true".into(), "x y".into()],
                depends_on: vec!["J-aaaa1111".into(), "J-bbbb2222".into()],
                claimed_by: Some("123".into()),
            }
        );
    }

    proptest! {
        #[test]
        fn title_roundtrip(s in prop_oneof![
            any::<String>(),
            "[ -~]{0,16}",
            "(-|\\.|\\+|[0-9]|null|true|y|~|:|#| |'|\")*[a-z0-9 .:#'\"-]{0,6}",
        ]) {
            for base in [TICKET, "---\r\ntitle: 'x'\r\n---\r\n", "---\ntitle:\n---\n", "---\nid: 1\n---\n"] {
                let out = set_field(base, "title", &Value::Str(s.clone())).unwrap();
                let parsed: T = serde_saphyr::from_str(yaml_of(&out)).unwrap();
                prop_assert_eq!(&parsed.title, &s);
                prop_assert_eq!(split(&out).unwrap().body, split(base).unwrap().body);
            }
        }

        #[test]
        fn list_roundtrip(items in proptest::collection::vec(
            prop_oneof![any::<String>(), "[ -~]{0,10}"], 0..5)) {
            for base in [TICKET, "---\r\nlabels: ['x']\r\n---\r\n"] {
                let out = set_field(base, "labels", &Value::List(items.clone())).unwrap();
                #[derive(serde::Deserialize)]
                struct L { labels: Vec<String> }
                let l: L = serde_saphyr::from_str(yaml_of(&out)).unwrap();
                prop_assert_eq!(&l.labels, &items);
            }
        }

        #[test]
        fn setting_fields_at_once_is_setting_them_one_by_one(
            picks in proptest::collection::vec((0usize..8, prop_oneof![
                any::<String>().prop_map(Value::Str),
                "[ -~]{0,12}".prop_map(Value::Str),
                proptest::collection::vec("[ -~]{0,6}", 0..3).prop_map(Value::List),
                Just(Value::Null),
            ]), 0..8)
        ) {
            const KEYS: [&str; 8] =
                ["title", "status", "labels", "depends_on", "new_key", "claimed_by", "id", "x y"];
            let fields: Vec<(&str, Value)> =
                picks.iter().map(|(k, v)| (KEYS[*k], v.clone())).collect();
            for base in [
                TICKET,
                "---\r\ntitle: 'x'\r\nlabels:\r\n  - a\r\n---\r\nbody\r\n",
                "---\ntitle:\nstatus: open\nstatus: done\n---\n",
                "---\n---\n",
            ] {
                let mut one_by_one = Ok(base.to_string());
                for (k, v) in &fields {
                    one_by_one = one_by_one.and_then(|t| set_field(&t, k, v));
                }
                prop_assert_eq!(set_fields(base, &fields), one_by_one);
            }
        }

        #[test]
        fn never_panics(s in "(---\r?\n)?([a-z\"' :#\\[\\]{}|>&*-]{0,12}\r?\n){0,8}(---\n)?.{0,5}") {
            let _ = split(&s);
            let _ = fields(&s);
            let _ = set_field(&s, "a", &Value::List(vec!["x".into()]));
            let _ = set_field(&s, "a", &Value::Str("y".into()));
            let _ = remove_field(&s, "a");
        }
    }
}
