//! Ticket text is hostile input: characters that must never reach a terminal as they are, and
//! the one escaping scheme every text rendering uses.
//!
//! Unsafe characters: the C0 controls (U+0000–U+001F), DEL (U+007F), the C1 controls
//! (U+0080–U+009F), the bidirectional formatting characters (U+061C, U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069: "Trojan Source" reordering) and the line and paragraph
//! separators U+2028 and U+2029.
//!
//! Escaping: a unsafe character below U+0080 is shown as `\xNN` (ESC as `\x1b`, NUL as
//! `\x00`), any other as `\u{NNNN}` (`\u{202e}`), lowercase hex. So that text cannot pass
//! for an escape (a title holding the six characters `\x1b` would look like one holding ESC),
//! a run of backslashes right before what reads as an escape (`x` and two hex digits, or
//! `u{`) is shown doubled; every other backslash is shown as it is (`C:\dir`, `\d+`, `\n`
//! in code stay readable). Reading back: a run of backslashes before `xNN` or `u{`, if odd,
//! ends in an escape, and stands for half its other backslashes. `--json` gives the exact
//! text.
//!
//! Text is escaped once, where it is printed (the whole output of a command, its notes and
//! errors; a commit message): a field inside such text that must stay on one line goes
//! through [`one_line`] only, which needs no backslash.

use std::borrow::Cow;

/// Is `c` a character that text output never passes to a terminal as it is?
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}'
        | '\u{2029}')
}

/// The first unsafe character of `s`, if any.
pub fn first_unsafe(s: &str) -> Option<char> {
    s.chars().find(|&c| is_unsafe(c))
}

/// How a character is named in messages: `U+0000`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// Escape `s`: each character `escape(c, next)` picks, and each run of backslashes that would
/// read as the start of an escape (see the module docs).
fn escape_with(s: &str, escape: impl Fn(char, Option<char>) -> bool) -> Cow<'_, str> {
    // Owned from the first change on.
    let mut out: Option<String> = None;
    // Backslashes seen and not yet written (each is one byte).
    let mut run = 0usize;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            run += 1;
            continue;
        }
        let next = chars.peek().map(|&(_, n)| n);
        let escaped = escape(c, next);
        let rest = &s.as_bytes()[i + c.len_utf8()..];
        let reads_as_escape = escaped
            || (c == 'x' && rest.len() >= 2 && rest[..2].iter().all(u8::is_ascii_hexdigit))
            || (c == 'u' && rest.first() == Some(&b'{'));
        let double = run > 0 && reads_as_escape;
        if out.is_none() && (escaped || double) {
            out = Some(s[..i - run].to_string());
        }
        if let Some(o) = out.as_mut() {
            o.extend(std::iter::repeat_n(
                '\\',
                if double { 2 * run } else { run },
            ));
            if escaped {
                push_escaped(o, c);
            } else {
                o.push(c);
            }
        }
        run = 0;
    }
    match out {
        None => Cow::Borrowed(s),
        Some(mut o) => {
            o.extend(std::iter::repeat_n('\\', run));
            Cow::Owned(o)
        }
    }
}

/// `s` for one line of output, printed as it is: every unsafe character escaped, line breaks
/// and tabs too (and backslashes where they would read as an escape).
pub fn escape_line(s: &str) -> Cow<'_, str> {
    escape_with(s, |c, _| is_unsafe(c))
}

/// `s` as multi-line output (a ticket body, a whole report): every unsafe character escaped
/// but the line feed, the tab, and a carriage return that ends a line (`\r\n`), which keep
/// multi-line text readable and cannot move the cursor back over what was printed (and
/// backslashes where they would read as an escape).
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape_with(s, |c, next| {
        is_unsafe(c) && !(c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')))
    })
}

/// A field of a text that is escaped as a whole when printed ([`escape_text`]), kept on one
/// line: line feeds, carriage returns and tabs become the symbols `␤`, `␍` and `␉`. Nothing
/// else changes (the final escaping shows the rest; JSON keeps it exact).
pub fn one_line(s: &str) -> Cow<'_, str> {
    if !s.contains(['\n', '\r', '\t']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| match c {
                '\n' => '\u{2424}',
                '\r' => '\u{240d}',
                '\t' => '\u{2409}',
                c => c,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_shows_every_unsafe_character_and_keeps_the_rest() {
        assert_eq!(escape_line("plain Ünïcode ✓"), "plain Ünïcode ✓");
        assert_eq!(escape_line("a\u{1b}[31mb"), "a\\x1b[31mb");
        assert_eq!(escape_line("nul\0 tab\t nl\n"), "nul\\x00 tab\\x09 nl\\x0a");
        assert_eq!(escape_line("\u{202e}evil\u{85}"), "\\u{202e}evil\\u{85}");
        assert_eq!(escape_line("\u{7f}"), "\\x7f");
        assert_eq!(
            escape_text("line\r\nnext\ttab\rcr \u{1b}]0;t\u{7}"),
            "line\r\nnext\ttab\\x0dcr \\x1b]0;t\\x07"
        );
        assert_eq!(escape_text("x\r"), "x\\x0d");
        for s in ["a\u{2028}b", "\u{2066}x\u{2069}", "\u{200f}", "\u{61c}"] {
            assert!(first_unsafe(&escape_text(s)).is_none(), "{s:?}");
        }
        assert_eq!(code_point('\0'), "U+0000");
    }

    /// Reads escaped text back (see the module docs).
    fn unescape(s: &str) -> String {
        let b: Vec<char> = s.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != '\\' {
                out.push(b[i]);
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i] == '\\' {
                i += 1;
            }
            let run = i - start;
            let hex2 = |k: usize| {
                b.get(k..k + 2)
                    .is_some_and(|h| h.iter().all(char::is_ascii_hexdigit))
            };
            let esc = b.get(i) == Some(&'x') && hex2(i + 1)
                || (b.get(i) == Some(&'u') && b.get(i + 1) == Some(&'{'));
            if !esc {
                out.extend(std::iter::repeat_n('\\', run));
                continue;
            }
            out.extend(std::iter::repeat_n('\\', run / 2));
            if run % 2 == 1 {
                let (code, len) = if b[i] == 'x' {
                    (b[i + 1..i + 3].iter().collect::<String>(), 3)
                } else {
                    let close = b[i..].iter().position(|&c| c == '}').unwrap();
                    (b[i + 2..i + close].iter().collect::<String>(), close + 1)
                };
                out.push(char::from_u32(u32::from_str_radix(&code, 16).unwrap()).unwrap());
                i += len;
            }
        }
        out
    }

    #[test]
    fn text_that_looks_like_an_escape_is_shown_apart_from_the_escape() {
        // The six characters `\x1b` and ESC were both shown as `\x1b`.
        assert_eq!(escape_line("\u{1b}"), "\\x1b");
        assert_eq!(escape_line("\\x1b"), "\\\\x1b");
        assert_eq!(escape_text("a \\u{202e} b"), "a \\\\u{202e} b");
        assert_eq!(escape_line("\\\u{1b}"), "\\\\\\x1b");
        // Backslashes that cannot pass for an escape are shown as they are.
        for s in [
            "C:\\dir\\file",
            "\\d+\\n",
            "\\\\",
            "\\xg1 \\x1 \\u0041 end\\",
        ] {
            assert!(matches!(escape_text(s), Cow::Borrowed(_)), "{s}");
        }
        assert_eq!(
            one_line("a\r\nb\tc \u{1b}"),
            "a\u{240d}\u{2424}b\u{2409}c \u{1b}"
        );
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_reads_back_as_the_text(
            s in "([\\\\xu{}0-9a-fA-F \\n\\r\\t\\x1b\\x00\\u{202e}]|ü){0,24}"
        ) {
            for e in [escape_line(&s), escape_text(&s)] {
                proptest::prop_assert!(first_unsafe(&e).is_none_or(|c| matches!(c, '\n' | '\t' | '\r')));
                proptest::prop_assert_eq!(unescape(&e), s.clone(), "{:?}", e);
            }
        }
    }
}
