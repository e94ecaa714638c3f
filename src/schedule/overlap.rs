//! Do two tickets' `files` overlap? Paths and globs, compared without touching the disk.
//!
//! Meaning of an entry in `files`:
//! - a path without glob characters (`src/auth`, `src/db.rs`) names that file or directory
//!   and everything under it;
//! - a glob (`src/auth/*.rs`, `src/**`, `web/{a,b}.html`) follows `globset` syntax with `*`,
//!   `?`, `[…]` and `{…}` staying inside one path segment and `**` spanning segments; a path
//!   it matches also stands for everything under that path.
//!
//! Two entries overlap when some path could be covered by both. The test walks both
//! entries segment by segment:
//! - two literal segments must be equal;
//! - a literal and a glob segment: the glob must match the literal (exact, via `globset`);
//! - two glob segments: their literal prefixes must be prefixes of one another and their
//!   literal suffixes suffixes of one another (`*.rs` and `*.md` are disjoint);
//! - when either entry ends (one is a directory holding the other) or reaches `**`, the
//!   entries overlap.
//!
//! The test is sound (it never reports two entries as disjoint when a path matches both) but
//! conservative: anything after a `**` is assumed to overlap (`src/**/*.rs` and
//! `src/a/b.md` are reported as overlapping), and two glob segments with compatible
//! prefixes and suffixes are assumed to overlap (`[ab]x` and `[cd]x`). A ticket with no
//! `files` declares nothing and overlaps nothing.

use globset::GlobBuilder;

#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Glob(String),
    /// `**` (or a segment containing it).
    Any,
}

/// One parsed `files` entry.
#[derive(Debug, Clone)]
pub struct PathPattern {
    segs: Vec<Seg>,
    pub raw: String,
}

const META: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

impl PathPattern {
    pub fn new(raw: &str) -> PathPattern {
        let t = raw.trim();
        let t = t.strip_prefix("./").unwrap_or(t);
        let segs = t
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .map(|s| {
                if s.contains("**") {
                    Seg::Any
                } else if s.contains(META) {
                    Seg::Glob(s.to_string())
                } else {
                    Seg::Lit(s.to_string())
                }
            })
            .collect();
        PathPattern {
            segs,
            raw: raw.to_string(),
        }
    }

    /// Whether a path could be covered by both `self` and `other`.
    pub fn overlaps(&self, other: &PathPattern) -> bool {
        for (a, b) in self.segs.iter().zip(&other.segs) {
            match (a, b) {
                (Seg::Any, _) | (_, Seg::Any) => return true,
                (Seg::Lit(x), Seg::Lit(y)) => {
                    if x != y {
                        return false;
                    }
                }
                (Seg::Lit(l), Seg::Glob(g)) | (Seg::Glob(g), Seg::Lit(l)) => {
                    if !glob_matches(g, l) {
                        return false;
                    }
                }
                (Seg::Glob(x), Seg::Glob(y)) => {
                    if !globs_compatible(x, y) {
                        return false;
                    }
                }
            }
        }
        // One ran out: it names a directory holding what the other names (or both are equal).
        true
    }
}

/// Does a single-segment glob match a literal segment? An invalid glob counts as a match
/// (fail closed: assume the overlap).
fn glob_matches(glob: &str, lit: &str) -> bool {
    match GlobBuilder::new(glob).literal_separator(true).build() {
        Ok(g) => g.compile_matcher().is_match(lit),
        Err(_) => true,
    }
}

fn globs_compatible(a: &str, b: &str) -> bool {
    let prefix = |s: &str| -> String { s.chars().take_while(|c| !META.contains(c)).collect() };
    let suffix = |s: &str| -> String {
        let mut v: Vec<char> = s.chars().rev().take_while(|c| !META.contains(c)).collect();
        v.reverse();
        v.into_iter().collect()
    };
    let (pa, pb) = (prefix(a), prefix(b));
    let (sa, sb) = (suffix(a), suffix(b));
    (pa.starts_with(&pb) || pb.starts_with(&pa)) && (sa.ends_with(&sb) || sb.ends_with(&sa))
}

/// Parse every entry of a `files` list.
pub fn patterns(files: &[String]) -> Vec<PathPattern> {
    files.iter().map(|f| PathPattern::new(f)).collect()
}

/// The first pair (a, b) of overlapping entries, if any.
pub fn first_overlap<'a>(a: &'a [PathPattern], b: &'a [PathPattern]) -> Option<(&'a str, &'a str)> {
    a.iter().find_map(|x| {
        b.iter()
            .find(|y| x.overlaps(y))
            .map(|y| (x.raw.as_str(), y.raw.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(a: &str, b: &str) -> bool {
        let (x, y) = (PathPattern::new(a), PathPattern::new(b));
        let r = x.overlaps(&y);
        assert_eq!(r, y.overlaps(&x), "overlap must be symmetric: {a} / {b}");
        r
    }

    #[test]
    fn literal_paths_overlap_when_equal_or_nested() {
        assert!(ov("src/db.rs", "src/db.rs"));
        assert!(ov("./src/db.rs", "src//db.rs"));
        assert!(ov("src/auth", "src/auth/login.rs"));
        assert!(!ov("src/auth.rs", "src/auth/login.rs"));
        assert!(!ov("src/a.rs", "src/b.rs"));
        assert!(!ov("web/login.html", "src/login.html"));
    }

    #[test]
    fn globs_overlap_the_paths_they_match() {
        assert!(ov("src/auth/**", "src/auth/login.rs"));
        assert!(ov("src/auth/**", "src/auth"));
        assert!(!ov("src/auth/**", "src/db/schema.sql"));
        assert!(ov("src/*.rs", "src/main.rs"));
        assert!(!ov("src/*.rs", "src/main.md"));
        assert!(
            ov("src/*", "src/auth/login.rs"),
            "src/auth matches src/* and holds login.rs"
        );
        assert!(ov("web/{login,logout}.html", "web/login.html"));
        assert!(!ov("web/{login,logout}.html", "web/signup.html"));
        assert!(ov("src/?b.rs", "src/ab.rs"));
    }

    #[test]
    fn two_globs_are_compared_by_literal_prefix_and_suffix() {
        assert!(ov("src/*.rs", "src/a*"));
        assert!(!ov("src/*.rs", "src/*.md"));
        assert!(!ov("src/auth_*", "src/db_*"));
        assert!(ov("src/auth/**", "src/*/login.rs"));
        assert!(!ov("docs/**", "src/**"));
        assert!(
            ov("**/*.rs", "docs/readme.md"),
            "after ** wt assumes overlap"
        );
    }

    #[test]
    fn an_invalid_glob_is_assumed_to_overlap() {
        assert!(ov("src/[a.rs", "src/b.rs"));
    }
}
