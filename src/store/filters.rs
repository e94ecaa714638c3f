//! Whether git may change a file's bytes on their way between a blob and the work tree.
//!
//! git converts content with `core.autocrlf` (`true`: CRLF in the work tree, LF in blobs;
//! `input`: LF in blobs), and with the attributes `text`, `eol`, `crlf` (with `core.eol`),
//! `ident`, `filter` (drivers such as LFS) and `working-tree-encoding`. Where any of these can
//! apply, a file is not its blob's bytes: the clean check must hash files as `git add` would,
//! and wt must write files as `git checkout` would. Both are left to the `git` command then
//! (see [`crate::store::index::cli`]), which applies every filter exactly as git does.
//!
//! The question is answered from configuration and the presence of attribute files only, so
//! that a repository without any of these settings pays a few `stat` calls: `core.autocrlf`,
//! then the attribute files git reads for the paths (`.gitattributes` in the work tree's root
//! and in each folder on the way to a path, `$GIT_COMMON_DIR/info/attributes`,
//! `core.attributesFile` or `~/.config/git/attributes`, `/etc/gitattributes`), each looked
//! through for one of the attribute names above. It errs on the side of "may convert": a
//! file that cannot be read, or a macro that merely mentions `text`, sends the paths the
//! exact (slower) way.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use git2::Repository;

/// The attributes that can make git convert content.
const CONVERTING: [&str; 6] = [
    "text",
    "eol",
    "crlf",
    "filter",
    "ident",
    "working-tree-encoding",
];

/// May git convert the content of any of `paths` (relative to `workdir`, the work tree of
/// `repo`) between blob and file?
pub fn may_convert(repo: &Repository, workdir: &Path, paths: &[&str]) -> bool {
    let config = repo.config().ok();
    let get = |key: &str| config.as_ref().and_then(|c| c.get_string(key).ok());
    if get("core.autocrlf").is_some_and(|v| autocrlf_converts(&v)) {
        return true;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    if std::env::var_os("GIT_ATTR_NOSYSTEM").is_none() {
        files.push(PathBuf::from("/etc/gitattributes"));
    }
    match get("core.attributesFile") {
        Some(f) => files.extend(expand_home(&f)),
        None => {
            let xdg = std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
            files.extend(xdg.map(|d| d.join("git/attributes")));
        }
    }
    files.push(repo.commondir().join("info/attributes"));
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    dirs.insert("");
    for p in paths {
        for (i, c) in p.char_indices() {
            if c == '/' {
                dirs.insert(&p[..i]);
            }
        }
    }
    files.extend(dirs.iter().map(|d| workdir.join(d).join(".gitattributes")));
    files.iter().any(|f| file_may_convert(f))
}

/// `core.autocrlf` set to a value that converts (`true` or `input`).
fn autocrlf_converts(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "true" | "yes" | "on" | "1" | "input"
    )
}

fn expand_home(path: &str) -> Option<PathBuf> {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(rest)),
        None => Some(PathBuf::from(path)),
    }
}

/// Does the attribute file at `path` name a converting attribute? (No file: no.)
fn file_may_convert(path: &Path) -> bool {
    match std::fs::read(path) {
        Ok(bytes) => names_converting_attribute(&String::from_utf8_lossy(&bytes)),
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
        ),
    }
}

/// Does any line of a gitattributes file set, unset or define (in a macro) one of the
/// converting attributes?
fn names_converting_attribute(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return false;
        }
        // The pattern: a quoted one may contain blanks.
        let rest = if let Some(quoted) = line.strip_prefix('"') {
            let mut escaped = false;
            let end = quoted.char_indices().find(|&(_, c)| {
                let close = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                close
            });
            match end {
                Some((i, _)) => &quoted[i + 1..],
                None => return true,
            }
        } else {
            line.split_once(char::is_whitespace).map_or("", |(_, r)| r)
        };
        rest.split_whitespace().any(|attr| {
            let name = attr.trim_start_matches(['-', '!']);
            let name = name.split('=').next().unwrap_or(name);
            CONVERTING.contains(&name)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converting_attributes_are_found_and_others_are_not() {
        for yes in [
            "*.md text",
            "* text=auto",
            ".work/** eol=crlf",
            "*.txt -crlf",
            "*.bin filter=lfs diff=lfs merge=lfs -text",
            "*.c ident",
            "*.txt working-tree-encoding=UTF-16",
            "[attr]mine text eol=lf",
            "\"a b.md\" text",
            "*.md !eol",
        ] {
            assert!(names_converting_attribute(yes), "{yes}");
        }
        for no in [
            "",
            "# * text=auto",
            "*.png binary",
            "*.rs diff=rust linguist-language=Rust",
            "text export-ignore",
            "\"text eol\" merge=union",
        ] {
            assert!(!names_converting_attribute(no), "{no}");
        }
    }

    #[test]
    fn autocrlf_values() {
        for v in ["true", "TRUE", "input", "1", "yes", "on"] {
            assert!(autocrlf_converts(v), "{v}");
        }
        for v in ["false", "0", "no", "off", ""] {
            assert!(!autocrlf_converts(v), "{v}");
        }
    }
}
