//! Ticket text is hostile input: characters that must never reach a terminal as they are, and
//! the one escaping scheme every text rendering uses.
//!
//! Unsafe characters: the C0 controls (U+0000–U+001F), DEL (U+007F), the C1 controls
//! (U+0080–U+009F), the bidirectional formatting characters (U+061C, U+200E, U+200F,
//! U+202A–U+202E, U+2066–U+2069: "Trojan Source" reordering) and the line and paragraph
//! separators U+2028 and U+2029.
//!
//! Escaping: a unsafe character below U+0080 is shown as `\xNN` (ESC as `\x1b`, NUL as
//! `\x00`), any other as `\u{NNNN}` (`\u{202e}`), lowercase hex. Backslashes are not
//! escaped, so the escaped text is for reading, not for parsing back: `--json` gives the
//! exact text.

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
    s[clean_prefix(s, false)..].chars().find(|&c| is_unsafe(c))
}

/// How many leading bytes of `s` are, in whole blocks of 64, printable ASCII (and, with
/// `breaks`, line feeds and tabs): nothing there needs a second look, and the end is a char
/// boundary (everything before it is ASCII). Most text is all such bytes; a block is checked
/// without branching, which the compiler turns into vector instructions.
fn clean_prefix(s: &str, breaks: bool) -> usize {
    let mut clean = 0;
    for block in s.as_bytes().chunks(64) {
        let ok = block.iter().fold(true, |ok, &b| {
            ok & ((0x20..0x7f).contains(&b) | (breaks & ((b == b'\n') | (b == b'\t'))))
        });
        if !ok {
            break;
        }
        clean += block.len();
    }
    clean
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

/// `s` for one line of output: every unsafe character escaped, line breaks and tabs too.
pub fn escape_line(s: &str) -> Cow<'_, str> {
    if first_unsafe(s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` as multi-line output (a ticket body, a whole report): every unsafe character escaped
/// but the line feed, the tab, and a carriage return that ends a line (`\r\n`), which keep
/// multi-line text readable and cannot move the cursor back over what was printed.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    let keep =
        |c: char, next: Option<char>| c == '\n' || c == '\t' || (c == '\r' && next == Some('\n'));
    // Before `from` every byte is kept as it is (and none is a carriage return).
    let from = clean_prefix(s, true);
    let rest = &s[from..];
    let mut chars = rest.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        if is_unsafe(c) && !keep(c, chars.peek().copied()) {
            clean = false;
            break;
        }
    }
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..from]);
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if is_unsafe(c) && !keep(c, chars.peek().copied()) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
        // The printable-ASCII fast paths pass every byte below 0x80 but these, wherever
        // they are (in the first block of 64 bytes, or after it).
        for (b, pad) in (0u8..0x80).flat_map(|b| [(b, 0), (b, 63), (b, 64), (b, 200)]) {
            let s = format!("{}{}b", "a".repeat(pad), b as char);
            let printable = (0x20..0x7f).contains(&b);
            assert_eq!(first_unsafe(&s).is_none(), printable, "{b:#x}");
            let kept = printable || b == b'\n' || b == b'\t';
            assert_eq!(escape_text(&s) == s, kept, "{b:#x}");
        }
        let long = format!("{}\u{1b}é\r\n\r", "x".repeat(100));
        assert_eq!(
            escape_text(&long),
            format!("{}\\x1bé\r\n\\x0d", "x".repeat(100))
        );
        assert_eq!(
            first_unsafe(&format!("{}é\u{202e}", "y".repeat(70))),
            Some('\u{202e}')
        );
    }
}
