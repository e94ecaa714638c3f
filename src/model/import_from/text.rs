//! Text helpers the readers share: cleaning hostile text, dates, a lenient frontmatter
//! reader and `## ` sections.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};

/// One line of text: control characters dropped, whitespace runs kept, ends trimmed.
pub fn line(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// Multi-line text: `\r\n` as `\n`, control characters other than newline and tab dropped,
/// trailing blank space trimmed.
pub fn block(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .trim_end()
        .trim_start_matches('\n')
        .to_string()
}

/// A date or time as wt writes it (RFC 3339 in UTC, whole seconds), from the forms the
/// trackers write: RFC 3339 with any offset and fraction, `YYYY-MM-DD HH:MM[:SS]`,
/// `YYYY-MM-DDTHH:MM`, `YYYY-MM-DD` (midnight UTC). None for anything else.
pub fn time(s: &str) -> Option<String> {
    let s = s.trim().trim_matches(|c| c == '\'' || c == '"');
    let utc = |d: DateTime<Utc>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(utc(d.with_timezone(&Utc)));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, f) {
            return Some(utc(d.and_utc()));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| utc(d.and_utc()))
}

/// A label made of free text: trimmed, lowercase, inner spaces as `-`.
pub fn label(s: &str) -> String {
    line(s)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
}

/// A file that starts with a `---` line: the text between it and the next `---` line, and
/// the body after that.
pub fn split_frontmatter(text: &str) -> Option<(&str, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut at = 0;
    for l in rest.split_inclusive('\n') {
        if l.trim_end() == "---" {
            let body = &rest[at + l.len()..];
            return Some((&rest[..at], body));
        }
        at += l.len();
    }
    None
}

/// A frontmatter value as a line reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Text(String),
    List(Vec<String>),
}

impl Raw {
    pub fn text(&self) -> String {
        match self {
            Raw::Text(s) => s.clone(),
            Raw::List(v) => v.join(", "),
        }
    }
    pub fn list(&self) -> Vec<String> {
        match self {
            Raw::Text(s) if s.is_empty() => Vec::new(),
            Raw::Text(s) => vec![s.clone()],
            Raw::List(v) => v.clone(),
        }
    }
}

/// Strip one pair of matching quotes.
pub fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            let inner = &s[1..s.len() - 1];
            return if q == '\'' {
                inner.replace("''", "'")
            } else {
                inner.replace("\\\"", "\"").replace("\\\\", "\\")
            };
        }
    }
    s.to_string()
}

/// Read frontmatter the way the line-oriented trackers do (`ticket` reads each `key: value`
/// line with awk): `key: value`, `key: [a, b]`, and `key:` followed by `  - item` lines. A
/// ` #` comment after a value is dropped. Never fails: lines it cannot read are skipped.
pub fn lenient_fields(yaml: &str) -> Vec<(String, Raw)> {
    let mut out: Vec<(String, Raw)> = Vec::new();
    for l in yaml.lines() {
        let l = l.trim_end_matches('\r');
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if let Some(item) = l
            .trim_start()
            .strip_prefix("- ")
            .or_else(|| (l.trim_start() == "-").then_some(""))
        {
            if l.starts_with([' ', '\t', '-']) {
                if let Some((_, Raw::List(v))) = out.last_mut() {
                    v.push(unquote(item));
                    continue;
                }
                if let Some((_, r @ Raw::Text(_))) = out.last_mut() {
                    if r.text().is_empty() {
                        *r = Raw::List(vec![unquote(item)]);
                        continue;
                    }
                }
            }
            continue;
        }
        if l.starts_with([' ', '\t']) {
            continue;
        }
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let key = k.trim().to_string();
        let mut v = v.trim().to_string();
        if let Some(i) = v.find(" #") {
            if !v.starts_with(['"', '\'']) {
                v.truncate(i);
                v = v.trim().to_string();
            }
        }
        let raw = if let Some(inner) = v.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            Raw::List(
                inner
                    .split(',')
                    .map(unquote)
                    .filter(|x| !x.is_empty())
                    .collect(),
            )
        } else {
            Raw::Text(unquote(&v))
        };
        out.push((key, raw));
    }
    out
}

/// A markdown body cut at its `## ` headings (outside fenced code): the text before the
/// first one, then each heading's text and the lines under it.
pub fn sections(body: &str) -> (String, Vec<(String, String)>) {
    let mut pre = String::new();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut fence: Option<&str> = None;
    for l in body.split_inclusive('\n') {
        let t = l.trim_end();
        let trimmed = t.trim_start();
        if let Some(f) = fence {
            if trimmed.starts_with(f) {
                fence = None;
            }
        } else if trimmed.starts_with("```") {
            fence = Some("```");
        } else if trimmed.starts_with("~~~") {
            fence = Some("~~~");
        } else if let Some(h) = t.strip_prefix("## ") {
            out.push((h.trim().to_string(), String::new()));
            continue;
        }
        match out.last_mut() {
            Some((_, s)) => s.push_str(l),
            None => pre.push_str(l),
        }
    }
    (pre, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_from_each_tracker_become_utc_seconds() {
        assert_eq!(
            time("2025-10-14T12:34:56.123456-07:00").as_deref(),
            Some("2025-10-14T19:34:56Z")
        );
        assert_eq!(
            time("2025-08-23 21:13").as_deref(),
            Some("2025-08-23T21:13:00Z")
        );
        assert_eq!(
            time("'2025-07-27'").as_deref(),
            Some("2025-07-27T00:00:00Z")
        );
        assert_eq!(
            time("2026-01-24T23:57:57Z").as_deref(),
            Some("2026-01-24T23:57:57Z")
        );
        assert_eq!(time("yesterday"), None);
    }

    #[test]
    fn lenient_fields_read_what_strict_yaml_refuses() {
        let f = lenient_fields(
            "id: task-1\nassignee: @alice\nlabels:\n  - a\n  - 'b c'\ndeps: [x-1, \"x-2\"]\nparent: t-9  # Epic\ntitle: a: b\n",
        );
        assert_eq!(f[0], ("id".into(), Raw::Text("task-1".into())));
        assert_eq!(f[1], ("assignee".into(), Raw::Text("@alice".into())));
        assert_eq!(
            f[2],
            ("labels".into(), Raw::List(vec!["a".into(), "b c".into()]))
        );
        assert_eq!(
            f[3],
            ("deps".into(), Raw::List(vec!["x-1".into(), "x-2".into()]))
        );
        assert_eq!(f[4], ("parent".into(), Raw::Text("t-9".into())));
        assert_eq!(f[5], ("title".into(), Raw::Text("a: b".into())));
    }

    #[test]
    fn sections_ignore_headings_in_code() {
        let (pre, s) = sections("intro\n## A\none\n```\n## not\n```\n## B\ntwo\n");
        assert_eq!(pre, "intro\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].1, "one\n```\n## not\n```\n");
        assert_eq!(s[1], ("B".into(), "two\n".into()));
    }

    #[test]
    fn hostile_text_loses_its_control_characters() {
        assert_eq!(line("a\u{1b}[31mb\u{7}\n"), "a[31mb");
        assert_eq!(block("x\r\ny\u{0}\n\n"), "x\ny");
    }
}
