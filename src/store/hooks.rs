//! The `git` commands behind wt's pre-commit hook, run in a working tree: where hooks live,
//! the tree of what is staged, and setting unstaged edits aside and back.
//!
//! These run the `git` command rather than libgit2 because hooks run inside git anyway, and
//! git honours `GIT_INDEX_FILE`, which it points at a temporary index for `git commit -a`
//! and `git commit <paths>`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::Oid;
use crate::error::{Error, Result};

fn git(cwd: &Path, args: &[&str]) -> Result<Output> {
    git_os(cwd, args.iter().map(OsStr::new))
}

fn git_os<'a>(cwd: &Path, args: impl IntoIterator<Item = &'a OsStr>) -> Result<Output> {
    Command::new("git")
        .current_dir(cwd)
        .args(args)
        .output()
        .map_err(|e| {
            Error::setup(format!("cannot run git: {e}"))
                .with_hint("the hook needs the git command on PATH")
        })
}

/// Run git and return stdout, or an error with git's message.
fn git_ok(cwd: &Path, args: &[&str]) -> Result<Vec<u8>> {
    let out = git(cwd, args)?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(Error::internal(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The hooks folder git uses for the repository at `cwd` (`git rev-parse --git-path hooks`,
/// which honours `core.hooksPath` and linked worktrees), as an absolute path.
pub fn hooks_dir(cwd: &Path) -> Result<PathBuf> {
    let out = git(
        cwd,
        &["rev-parse", "--path-format=absolute", "--git-path", "hooks"],
    )?;
    let text = if out.status.success() {
        out.stdout
    } else {
        // git before 2.31 has no --path-format; the answer is then relative to cwd.
        git_ok(cwd, &["rev-parse", "--git-path", "hooks"]).map_err(|e| {
            Error::setup(format!("cannot find the hooks folder: {}", e.message))
                .with_hint("run wt inside a git repository")
        })?
    };
    let p = PathBuf::from(String::from_utf8_lossy(&text).trim());
    Ok(if p.is_absolute() { p } else { cwd.join(p) })
}

/// git config `core.hooksPath` as git at `cwd` sees it, if set (None too when git cannot
/// be run).
pub fn hooks_path_config(cwd: &Path) -> Option<String> {
    git(cwd, &["config", "--get", "core.hooksPath"])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The tree of what is staged at `cwd` (`git write-tree`, which writes its tree objects).
pub fn staged_tree(cwd: &Path) -> Result<Oid> {
    let out = String::from_utf8_lossy(&git_ok(cwd, &["write-tree"])?).into_owned();
    Oid::from_str(out.trim()).map_err(|_| Error::internal(format!("not an object id: `{out}`")))
}

/// Tracked files at `cwd` whose working-tree copy differs from the index
/// (`git diff --name-only`).
pub fn unstaged_paths(cwd: &Path) -> Result<Vec<String>> {
    let out = git_ok(cwd, &["diff", "--name-only", "--no-ext-diff", "-z"])?;
    Ok(out
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}

/// The difference between the tree `staged` (the index's) and the working tree at `cwd`, as
/// a binary patch `git apply` takes; None when there is none. Submodules are ignored.
pub fn unstaged_patch(cwd: &Path, staged: Oid) -> Result<Option<Vec<u8>>> {
    let tree = staged.to_string();
    let out = git(
        cwd,
        &[
            "diff-index",
            "--ignore-submodules",
            "--binary",
            "--exit-code",
            "--no-color",
            "--no-ext-diff",
            &tree,
            "--",
        ],
    )?;
    match out.status.code() {
        Some(0) => Ok(None),
        Some(1) if out.stdout.iter().all(u8::is_ascii_whitespace) => Ok(None),
        Some(1) => Ok(Some(out.stdout)),
        _ => Err(Error::internal(format!(
            "git diff-index failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// Make the tracked files at `cwd` match the index (`git checkout -- .`).
pub fn checkout_index(cwd: &Path) -> Result<()> {
    git_ok(cwd, &["checkout", "--", "."]).map(|_| ())
}

/// Apply the patch file `patch` to the working tree at `cwd` (`git apply`), a second time
/// with `core.autocrlf=false` if the first fails. Whether either worked.
pub fn apply_patch(cwd: &Path, patch: &Path) -> bool {
    let p = patch.as_os_str();
    for extra in [&[][..], &["-c", "core.autocrlf=false"][..]] {
        let args = extra
            .iter()
            .map(OsStr::new)
            .chain(["apply", "--whitespace=nowarn"].map(OsStr::new))
            .chain([p]);
        if git_os(cwd, args).is_ok_and(|o| o.status.success()) {
            return true;
        }
    }
    false
}

/// Whether the changes of patch file `patch` are already in the working tree at `cwd`
/// (`git apply --reverse --check` succeeds: they could be taken out again).
pub fn patch_is_applied(cwd: &Path, patch: &Path) -> bool {
    let args = ["apply", "--reverse", "--check", "--whitespace=nowarn"]
        .map(OsStr::new)
        .into_iter()
        .chain([patch.as_os_str()]);
    git_os(cwd, args).is_ok_and(|o| o.status.success())
}

/// The index file git uses in the hook it is running (`GIT_INDEX_FILE`, relative to the
/// working tree `cwd` where git runs hooks), None outside a hook.
pub fn hook_index_file(cwd: &Path) -> Option<PathBuf> {
    let v = std::env::var_os("GIT_INDEX_FILE").filter(|v| !v.is_empty())?;
    let p = PathBuf::from(v);
    Some(if p.is_absolute() { p } else { cwd.join(p) })
}

/// The version of the `git` command (major, minor), None when it cannot be run or read.
pub fn git_version(cwd: &Path) -> Option<(u32, u32)> {
    let out = git(cwd, &["--version"]).ok()?;
    parse_git_version(&String::from_utf8_lossy(&out.stdout))
}

/// `git version 2.47.3` (or `2.39.2.windows.1`, `2.54.0.rc1`) -> (2, 47).
pub fn parse_git_version(text: &str) -> Option<(u32, u32)> {
    let v = text.trim().strip_prefix("git version ")?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    Some((major, minor))
}

/// The working tree's root at `cwd` (`git rev-parse --show-toplevel`), None in a bare
/// repository or outside one.
pub fn toplevel(cwd: &Path) -> Option<PathBuf> {
    let out = git(cwd, &["rev-parse", "--show-toplevel"]).ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then(|| PathBuf::from(text))
}

/// The common git directory at `cwd` (shared by all worktrees), absolute.
pub fn common_dir(cwd: &Path) -> Result<PathBuf> {
    let out = git_ok(
        cwd,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out).trim()))
}

/// Is `path` (absolute, inside the working tree at `cwd`) tracked by git there?
pub fn is_tracked(cwd: &Path, path: &Path) -> bool {
    let args = ["ls-files", "--error-unmatch", "--"]
        .map(OsStr::new)
        .into_iter()
        .chain([path.as_os_str()]);
    git_os(cwd, args).is_ok_and(|o| o.status.success())
}

/// Every value of the multi-valued git config `key` at `cwd` (repository and global).
pub fn config_values(cwd: &Path, key: &str) -> Vec<String> {
    git(cwd, &["config", "--get-all", key])
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Set `key` to `value` in the repository's own config (`git config --local`).
pub fn config_set_local(cwd: &Path, key: &str, value: &str) -> Result<()> {
    git_ok(cwd, &["config", "--local", "--replace-all", key, value]).map(|_| ())
}

/// Remove every value of `key` from the repository's own config (nothing when unset).
pub fn config_unset_local(cwd: &Path, key: &str) -> Result<()> {
    let out = git(cwd, &["config", "--local", "--unset-all", key])?;
    // Exit 5: the key was not set.
    if out.status.success() || out.status.code() == Some(5) {
        Ok(())
    } else {
        Err(Error::internal(format!(
            "git config --unset-all {key} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn git_versions_parse_with_suffixes() {
        use super::parse_git_version as p;
        assert_eq!(p("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(p("git version 2.39.2.windows.1"), Some((2, 39)));
        assert_eq!(p("git version 2.54.0.rc1"), Some((2, 54)));
        assert_eq!(p("git version 3.0"), Some((3, 0)));
        assert_eq!(p("hub version 1"), None);
    }
}
