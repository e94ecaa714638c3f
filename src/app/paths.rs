//! The paths a ticket names (`files:`, `artifacts:`) against the working tree: they are
//! repository-relative ([`path_problem`]), and wt never reads outside the work tree through
//! them — a path whose real location (after every symbolic link) is outside the work tree,
//! or inside `.git`, is refused by the verbs that write it and never read by those that read.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::model::ticket::path_problem;

/// The part of a glob before its first segment with a glob character (the whole path when it
/// is no glob).
fn literal_prefix(p: &str) -> &str {
    let mut end = 0;
    for (i, seg) in p.split_inclusive('/').scan(0, |at, s| {
        let i = *at;
        *at += s.len();
        Some((i, s))
    }) {
        if seg.contains(['*', '?', '[', '{']) {
            return &p[..i];
        }
        end = i + seg.len();
    }
    &p[..end]
}

/// Where `rel` really is: its longest existing part resolved through every symbolic link,
/// then the rest as written. `root` must be canonical.
fn resolve(root: &Path, rel: &str) -> std::io::Result<PathBuf> {
    let mut existing = root.to_path_buf();
    let mut rest = PathBuf::new();
    for part in Path::new(rel).components() {
        match part {
            Component::Normal(n) if rest.as_os_str().is_empty() => {
                let next = existing.join(n);
                match std::fs::symlink_metadata(&next) {
                    Ok(_) => existing = next.canonicalize()?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => rest.push(n),
                    Err(e) => return Err(e),
                }
            }
            Component::Normal(n) => rest.push(n),
            Component::CurDir => {}
            // `path_problem` refused the others.
            _ => return Err(std::io::Error::other("not a relative path")),
        }
    }
    if rest.as_os_str().is_empty() {
        return Ok(existing);
    }
    Ok(existing.join(rest))
}

/// Why `rel` (repository-relative, see [`path_problem`]) leads outside the work tree at
/// `root` or into `.git` once symbolic links are followed; None when it stays inside. A glob
/// is judged by its literal part.
pub fn outside_problem(root: &Path, rel: &str) -> Option<String> {
    let root = root.canonicalize().ok()?;
    outside_of_real_root(&root, rel)
}

/// [`outside_problem`] for a `root` that is already canonical (checking many paths).
pub fn outside_of_real_root(root: &Path, rel: &str) -> Option<String> {
    let lit = literal_prefix(rel);
    if lit.trim_matches('/').is_empty() {
        return None;
    }
    match resolve(root, lit) {
        Ok(real) => match real.strip_prefix(root) {
            Err(_) => Some(format!(
                "leads outside the work tree through a symbolic link (to {})",
                real.display()
            )),
            Ok(inner) => inner
                .components()
                .next()
                .is_some_and(|c| c.as_os_str().eq_ignore_ascii_case(".git"))
                .then(|| "leads into `.git` through a symbolic link".to_string()),
        },
        Err(e) => Some(format!("cannot be resolved ({e})")),
    }
}

/// Refuse `paths` of field `field` (`files`, `artifacts`) unless each is repository-relative
/// and, when there is a working tree at `root`, stays inside it.
pub fn check_field(root: Option<&Path>, field: &str, paths: &[String]) -> Result<()> {
    for p in paths {
        let why = path_problem(p).or_else(|| root.and_then(|r| outside_problem(r, p)));
        if let Some(why) = why {
            return Err(Error::invalid(format!(
                "{field}: `{}` {why}",
                crate::model::text::one_line(p)
            ))
            .with_hint(format!(
                "{field} are paths relative to the repository root, such as src/lib.rs or src/**/*.rs"
            )));
        }
    }
    Ok(())
}

/// The regular file `rel` names in the work tree at `root`, by its real path: Ok(None) when
/// there is none, Err(why) when `rel` is not repository-relative or leads outside the work
/// tree (it is then not read).
pub fn file_inside(root: &Path, rel: &str) -> std::result::Result<Option<PathBuf>, String> {
    if let Some(why) = path_problem(rel) {
        return Err(why);
    }
    if let Some(why) = outside_problem(root, rel) {
        return Err(why);
    }
    let Ok(root) = root.canonicalize() else {
        return Ok(None);
    };
    match resolve(&root, rel) {
        Ok(real) if real.is_file() => Ok(Some(real)),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("cannot be resolved ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literal_part_of_a_glob() {
        assert_eq!(literal_prefix("src/lib.rs"), "src/lib.rs");
        assert_eq!(literal_prefix("src/**/*.rs"), "src/");
        assert_eq!(literal_prefix("*.rs"), "");
        assert_eq!(literal_prefix("a/b{c,d}/e"), "a/");
    }
}
