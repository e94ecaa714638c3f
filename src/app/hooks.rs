//! The pre-commit hook: installing it without clobbering anyone's hook, and what it runs.
//!
//! Installation asks git where hooks live ([`crate::store::hooks::hooks_dir`], which honours
//! `core.hooksPath` and linked worktrees). A pre-commit hook that is already there and not
//! wt's is renamed to `pre-commit.wt-chained` and run first by wt's hook; uninstall removes
//! wt's hook and renames the old one back, so the folder is as it was. The installed script is
//! `hooks/pre-commit` from wt's repository with the absolute path of the installing wt filled
//! in: the hook runs `wt` from PATH and falls back to that path only when there is none.
//!
//! A hooks folder inside the working tree (`core.hooksPath=.githooks`, usually tracked)
//! would have its tracked files changed. With git 2.54 or later the hook goes into the
//! repository's git config instead (`hook.wt.event=pre-commit`, `hook.wt.command` running the
//! same script kept at `<git common dir>/wt/hooks/pre-commit`), and no file there changes;
//! with an older git it goes into the folder and the install report lists what it changed
//! there and how to commit or undo it.
//!
//! The hook runs `wt hook run pre-commit`, which checks what is being committed: the staged
//! ticket tree (`wt check`'s checks, on the index) when `.work/` changes, and the CI checks
//! when anything else changes. The checks are those of the state branch's committed config;
//! a commit on the state branch itself uses the config it is committing (so a fix to `ci:`
//! can go in with the code it fixes). Unstaged edits are set aside while the checks run — the
//! pre-commit framework's way: a binary diff of the working tree against the index is saved,
//! the index's version checked out, and the diff re-applied afterwards, also when a check
//! fails or wt is interrupted. Untracked files stay where they are. This part drives the
//! `git` command, through [`crate::store::hooks`] (hooks run inside git anyway, and it honours
//! `GIT_INDEX_FILE`, which git points at a temporary index for `git commit -a` and
//! `git commit <paths>`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::store::hooks as git;
use crate::store::Oid;
use serde::Serialize;

use crate::app::ci::{self, record, runner, tree, CiRun, Reporter, RunOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::model::ticket::Problem;
use crate::store::recovery;
use crate::workspace::{self, Workspace};

/// The hook wt installs.
pub const HOOK_NAME: &str = "pre-commit";
/// Where a hook that was there before wt's is kept (and run from).
pub const CHAINED_NAME: &str = "pre-commit.wt-chained";
/// The script's source (`hooks/pre-commit` in wt's repository).
pub const SOURCE: &str = include_str!("../../hooks/pre-commit");
/// The line that marks a pre-commit hook as wt's.
const MARKER: &str = "# wt-hook: pre-commit";
/// Added below the marker when install created the hooks folder.
const CREATED_DIR: &str = "# wt-hook-created-dir: uninstall removes the folder if it is empty";
/// The line install fills in with the path of the wt that installs the hook.
const WT_LINE: &str = "installed_wt=''";
/// wt's hook in git config: `hook.wt.event` and `hook.wt.command` (git 2.54 and later).
pub const CONFIG_NAME: &str = "wt";
/// The first git that runs hooks defined in config.
const CONFIG_HOOKS_SINCE: (u32, u32) = (2, 54);

/// The hooks folder git uses for the repository at `cwd`.
pub fn hooks_dir(cwd: &Path) -> Result<PathBuf> {
    git::hooks_dir(cwd)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script for `wt_exe` (the wt that installs it: the fallback when there is no
/// `wt` on PATH).
pub fn render(wt_exe: Option<&Path>, created_dir: bool) -> String {
    let path = wt_exe
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.contains(['\n', '\r']))
        .unwrap_or_default();
    let mut out = String::with_capacity(SOURCE.len() + path.len());
    for line in SOURCE.lines() {
        if line == WT_LINE {
            out.push_str(&format!("installed_wt={}", shell_quote(&path)));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        if line == MARKER && created_dir {
            out.push_str(CREATED_DIR);
            out.push('\n');
        }
    }
    out
}

fn is_ours(text: &str) -> bool {
    text.lines().any(|l| l == MARKER)
}

/// The wt path a hook script names, if any (`wt='…'` in hooks of earlier versions).
fn embedded_wt(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| {
            l.strip_prefix("installed_wt='")
                .or_else(|| l.strip_prefix("wt='"))
        })
        .and_then(|rest| rest.strip_suffix('\''))
        .map(|s| s.replace(r"'\''", "'"))
        .filter(|s| !s.is_empty())
}

/// The `wt` the hook finds on PATH now (as `command -v wt` would), if any.
pub fn wt_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join("wt"))
        .find(|p| is_executable(p) && p.is_file())
}

/// The script a config-defined hook runs: `<git common dir>/wt/hooks/pre-commit`.
fn config_script(cwd: &Path) -> Result<PathBuf> {
    Ok(git::common_dir(cwd)?
        .join("wt")
        .join("hooks")
        .join(HOOK_NAME))
}

/// wt's hook as git config defines it (`hook.wt.command` for the `pre-commit` event).
fn config_command(cwd: &Path) -> Option<String> {
    let events = git::config_values(cwd, &format!("hook.{CONFIG_NAME}.event"));
    if !events.iter().any(|e| e == HOOK_NAME) {
        return None;
    }
    git::config_values(cwd, &format!("hook.{CONFIG_NAME}.command"))
        .into_iter()
        .next()
}

/// What `wt hook status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct HookStatus {
    pub schema_version: crate::app::report::SchemaVersion,
    pub hooks_dir: String,
    /// Path of the pre-commit hook.
    pub hook: String,
    /// wt's hook is installed (as a file or in git config).
    pub installed: bool,
    /// How: `file` (the hook file is wt's) or `config` (`hook.wt.*` in git config).
    pub method: Option<&'static str>,
    /// A pre-commit hook that is not wt's is there.
    pub other_hook: bool,
    /// The wt that installed the hook (the fallback when there is no `wt` on PATH).
    pub wt: Option<String>,
    /// Whether that path exists.
    pub wt_found: bool,
    /// The `wt` on PATH, which the hook runs first of all.
    pub on_path: Option<String>,
    /// What the hook runs now (None: nothing; every commit fails until wt is on PATH).
    pub runs: Option<String>,
    /// The earlier hook wt's hook runs first, if any.
    pub chained: Option<String>,
    /// git config core.hooksPath, if set.
    pub hooks_path: Option<String>,
}

fn read_hook(path: &Path) -> Result<Option<String>> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(Some(
            String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn exists(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok()
}

pub fn status(cwd: &Path) -> Result<HookStatus> {
    let dir = hooks_dir(cwd)?;
    let hook = dir.join(HOOK_NAME);
    let chained = dir.join(CHAINED_NAME);
    let text = read_hook(&hook)?;
    let in_file = text.as_deref().is_some_and(is_ours);
    let in_config = config_command(cwd).is_some();
    let script = if in_file {
        text.clone()
    } else if in_config {
        read_hook(&config_script(cwd)?)?
    } else {
        None
    };
    let wt = script.as_deref().and_then(embedded_wt);
    let wt_found = wt.as_deref().is_some_and(|p| Path::new(p).is_file());
    let on_path = wt_on_path().map(|p| p.display().to_string());
    let runs = on_path.clone().or_else(|| wt.clone().filter(|_| wt_found));
    Ok(HookStatus {
        schema_version: crate::app::report::SchemaVersion,
        hooks_dir: dir.display().to_string(),
        hook: hook.display().to_string(),
        installed: in_file || in_config,
        method: if in_config {
            Some("config")
        } else if in_file {
            Some("file")
        } else {
            None
        },
        other_hook: text.is_some() && !in_file,
        wt_found,
        wt,
        on_path,
        runs: runs.filter(|_| in_file || in_config),
        chained: exists(&chained).then(|| chained.display().to_string()),
        hooks_path: git::hooks_path_config(cwd),
    })
}

/// A file in the working tree that `wt hook install` wrote (the hooks folder is inside it).
#[derive(Debug, Clone, Serialize)]
pub struct WorktreeChange {
    /// Relative to the working tree's root.
    pub path: String,
    /// git tracks it (install changed a tracked file).
    pub tracked: bool,
    pub what: String,
}

/// What `wt hook install` did.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub hook: String,
    /// `installed`, `updated` or `unchanged`.
    pub action: String,
    /// `file` (a hook file in the hooks folder) or `config` (`hook.wt.*` in the repository's
    /// git config, running a script under the git dir: git 2.54 and later, used when the
    /// hooks folder is inside the working tree, so no file there changes).
    pub method: &'static str,
    /// The earlier hook wt's hook runs first, if there is one (moved there by this install
    /// or an earlier one).
    pub chained: Option<String>,
    /// This install moved an earlier hook to `chained`.
    pub moved: bool,
    /// Whether install created the hooks folder.
    pub created_dir: bool,
    /// Files in the working tree this install wrote (a `core.hooksPath` folder inside it).
    pub worktree_changes: Vec<WorktreeChange>,
    /// What to do about them: how to commit them, how to undo the install.
    pub advice: Option<String>,
}

/// Install wt's pre-commit hook, with `wt_exe` as the wt it falls back to when there is none
/// on PATH. Idempotent; never overwrites another hook. Where the hooks folder is inside the
/// working tree (a `core.hooksPath` like `.githooks/`, often tracked) and git runs hooks
/// defined in config (2.54+), the hook goes into git config and no file there changes;
/// otherwise into the folder, and the report says what changed there and how to commit or
/// undo it.
pub fn install(cwd: &Path, wt_exe: Option<&Path>) -> Result<InstallReport> {
    let dir = hooks_dir(cwd)?;
    let top = git::toplevel(cwd).map(|t| fs::canonicalize(&t).unwrap_or(t));
    let in_worktree = top.as_ref().is_some_and(|t| lexical_within(&dir, t));
    let version = git::git_version(cwd);
    if in_worktree && version.is_some_and(|v| v >= CONFIG_HOOKS_SINCE) {
        return install_in_config(cwd, wt_exe, &dir);
    }
    let created_dir = !dir.exists();
    fs::create_dir_all(&dir)?;
    let hook = dir.join(HOOK_NAME);
    let chained = dir.join(CHAINED_NAME);
    let existing = read_hook(&hook)?;
    let hook_was_tracked = in_worktree && existing.is_some() && git::is_tracked(cwd, &hook);
    let mut moved = None;
    let action = match existing.as_deref() {
        Some(text) if is_ours(text) => {
            let script = render(wt_exe, text.lines().any(|l| l == CREATED_DIR));
            if script == text && is_executable(&hook) {
                "unchanged"
            } else {
                write_executable(&hook, &script)?;
                "updated"
            }
        }
        Some(_) => {
            if exists(&chained) {
                return Err(Error::refused(format!(
                    "{} is not wt's hook, and {} is already taken",
                    hook.display(),
                    chained.display()
                ))
                .with_hint("move one of them away (wt chains the existing hook by renaming it to pre-commit.wt-chained), then retry"));
            }
            fs::rename(&hook, &chained)?;
            moved = Some(chained.display().to_string());
            write_executable(&hook, &render(wt_exe, created_dir))?;
            "installed"
        }
        None => {
            write_executable(&hook, &render(wt_exe, created_dir))?;
            "installed"
        }
    };
    let mut report = InstallReport {
        hook: hook.display().to_string(),
        action: action.into(),
        method: "file",
        moved: moved.is_some(),
        chained: moved.or_else(|| exists(&chained).then(|| chained.display().to_string())),
        created_dir,
        worktree_changes: Vec::new(),
        advice: None,
    };
    if let (true, Some(top), false) = (in_worktree, &top, action == "unchanged") {
        let rel = |p: &Path| relative_to(p, top);
        let mut changes = vec![WorktreeChange {
            path: rel(&hook),
            tracked: hook_was_tracked,
            what: if report.moved {
                "now wt's hook; the hook that was here runs first, from pre-commit.wt-chained"
                    .into()
            } else if existing.is_some() {
                "wt's hook, updated".into()
            } else {
                "wt's hook (new)".into()
            },
        }];
        if report.moved {
            changes.push(WorktreeChange {
                path: rel(&chained),
                tracked: false,
                what: "the hook that was in pre-commit (new name)".into(),
            });
        }
        report.advice = Some(worktree_advice(&changes, version));
        report.worktree_changes = changes;
    }
    Ok(report)
}

/// Is `path` (absolute) inside `root` (canonical), by its components, following symlinks
/// in what exists of `path`?
fn lexical_within(path: &Path, root: &Path) -> bool {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(n), Some(p)) => {
                rest.push(n.to_os_string());
                existing = p.to_path_buf();
            }
            _ => break,
        }
    }
    let mut full = fs::canonicalize(&existing).unwrap_or(existing);
    for n in rest.iter().rev() {
        full.push(n);
    }
    full.starts_with(root)
}

fn relative_to(path: &Path, root: &Path) -> String {
    let canon = {
        let parent = path
            .parent()
            .map(|p| fs::canonicalize(p).unwrap_or(p.to_path_buf()));
        match (parent, path.file_name()) {
            (Some(p), Some(n)) => p.join(n),
            _ => path.to_path_buf(),
        }
    };
    canon
        .strip_prefix(root)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.display().to_string())
}

/// What to tell a user whose working tree install just wrote to.
fn worktree_advice(changes: &[WorktreeChange], version: Option<(u32, u32)>) -> String {
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    let tracked: Vec<&str> = changes
        .iter()
        .filter(|c| c.tracked)
        .map(|c| c.path.as_str())
        .collect();
    let untracked: Vec<&str> = paths
        .iter()
        .filter(|p| !tracked.contains(p))
        .copied()
        .collect();
    let mut parts = Vec::new();
    if !tracked.is_empty() {
        parts.push(format!("changed the tracked file {}", tracked.join(", ")));
    }
    if !untracked.is_empty() {
        parts.push(format!("added the untracked file {}", untracked.join(", ")));
    }
    let what = format!("in the working tree, wt {}", parts.join(" and "));
    let git = match version {
        Some((a, b)) => format!("git {a}.{b}"),
        None => "your git".into(),
    };
    format!(
        "{what}. To share the hook with everyone who uses this hooks folder, commit: `git add {0} && git commit -m \"wt pre-commit hook\"`; to keep them to yourself, leave them uncommitted; to undo, `wt hook uninstall` puts the folder back as it was. With git 2.54 or later (this is {git}) wt adds its hook to git config instead and changes no file here.",
        paths.join(" ")
    )
}

/// Install wt's hook as `hook.wt.*` in the repository's git config, running a script kept
/// under the git dir: no file in the hooks folder changes.
fn install_in_config(cwd: &Path, wt_exe: Option<&Path>, dir: &Path) -> Result<InstallReport> {
    // A file hook of an earlier install goes (the folder back as it was): one hook, not two.
    let hook = dir.join(HOOK_NAME);
    if read_hook(&hook)?.as_deref().is_some_and(is_ours) {
        uninstall_file(dir)?;
    }
    let script = config_script(cwd)?;
    let text = render(wt_exe, false);
    let command = shell_quote(&script.to_string_lossy());
    let same_script =
        read_hook(&script)?.as_deref() == Some(text.as_str()) && is_executable(&script);
    let before = config_command(cwd);
    let action = if same_script && before.as_deref() == Some(command.as_str()) {
        "unchanged"
    } else {
        if let Some(parent) = script.parent() {
            fs::create_dir_all(parent)?;
        }
        if !same_script {
            write_executable(&script, &text)?;
        }
        git::config_set_local(cwd, &format!("hook.{CONFIG_NAME}.event"), HOOK_NAME)?;
        git::config_set_local(cwd, &format!("hook.{CONFIG_NAME}.command"), &command)?;
        if before.is_some() {
            "updated"
        } else {
            "installed"
        }
    };
    Ok(InstallReport {
        hook: script.display().to_string(),
        action: action.into(),
        method: "config",
        chained: None,
        moved: false,
        created_dir: false,
        worktree_changes: Vec::new(),
        advice: None,
    })
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Write `text` to `path` with mode 0755 by renaming a finished temporary file over it.
fn write_executable(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::internal(format!("no folder for {}", path.display())))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pre-commit.wt-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))?;
    }
    tmp.persist(path).map_err(|e| Error::from(e.error))?;
    Ok(())
}

/// What `wt hook uninstall` did.
#[derive(Debug, Clone, Serialize)]
pub struct UninstallReport {
    pub schema_version: crate::app::report::SchemaVersion,
    pub hook: String,
    pub removed: bool,
    /// The earlier hook put back in place, if there was one.
    pub restored: Option<String>,
    pub removed_dir: bool,
    /// wt's hook was removed from git config (`hook.wt.*`).
    pub removed_from_config: bool,
}

/// Remove exactly what [`install`] added (the hook file, or the git config entries and
/// their script).
pub fn uninstall(cwd: &Path) -> Result<UninstallReport> {
    let dir = hooks_dir(cwd)?;
    let mut report = uninstall_file(&dir)?;
    if config_command(cwd).is_some() {
        git::config_unset_local(cwd, &format!("hook.{CONFIG_NAME}.command"))?;
        git::config_unset_local(cwd, &format!("hook.{CONFIG_NAME}.event"))?;
        let script = config_script(cwd)?;
        let _ = fs::remove_file(&script);
        if let Some(parent) = script.parent() {
            let _ = fs::remove_dir(parent);
        }
        report.removed_from_config = true;
        report.removed = true;
    }
    Ok(report)
}

/// Remove wt's hook file from `dir` and put back the hook it chained.
fn uninstall_file(dir: &Path) -> Result<UninstallReport> {
    let hook = dir.join(HOOK_NAME);
    let chained = dir.join(CHAINED_NAME);
    let mut report = UninstallReport {
        schema_version: crate::app::report::SchemaVersion,
        hook: hook.display().to_string(),
        removed: false,
        restored: None,
        removed_dir: false,
        removed_from_config: false,
    };
    let Some(text) = read_hook(&hook)? else {
        return Ok(report);
    };
    if !is_ours(&text) {
        return Ok(report);
    }
    fs::remove_file(&hook)?;
    report.removed = true;
    if exists(&chained) {
        fs::rename(&chained, &hook)?;
        report.restored = Some(hook.display().to_string());
    } else if text.lines().any(|l| l == CREATED_DIR) && fs::remove_dir(dir).is_ok() {
        report.removed_dir = true;
    }
    Ok(report)
}

/// What the pre-commit hook found.
#[derive(Debug, Clone, Serialize)]
pub struct PreCommit {
    pub ok: bool,
    pub interrupted: bool,
    /// The staged ticket tree was validated (the commit changes .work/).
    pub tickets_checked: bool,
    pub problems: Vec<Problem>,
    /// The CI run (or reused result) when the commit changes code.
    pub ci: Option<CiRun>,
    /// Why nothing was checked, when nothing was.
    pub note: Option<String>,
    /// Why the commit is refused before any check ran (it would undo an interrupted wt
    /// write), with the fix.
    pub refused: Option<String>,
    /// What the hook repaired or found left behind by killed processes (unstaged edits an
    /// earlier hook set aside, an interrupted wt write).
    pub warnings: Vec<String>,
}

impl PreCommit {
    fn pass(note: Option<String>) -> PreCommit {
        PreCommit {
            ok: true,
            interrupted: false,
            tickets_checked: false,
            problems: Vec::new(),
            ci: None,
            note,
            refused: None,
            warnings: Vec::new(),
        }
    }
}

/// Before anything is checked: put back unstaged edits a killed hook left set aside, and
/// deal with wt writes that were interrupted. Where git commits from this checkout's own
/// index (a plain `git commit`), an interrupted write is finished now (git reads the index
/// again after the hook). Otherwise (`git commit -a` or with paths, where git commits from
/// a temporary index) the commit is refused when it would undo what that write committed:
/// the index git built from the stale files says the new tickets are deleted. Returns the
/// refusal, if any.
fn before_checks(
    ws: &Workspace,
    root: &Path,
    warnings: &mut Vec<String>,
) -> Result<Option<String>> {
    let store = &ws.store;
    warnings.extend(restore_left_patches(root, store.git_dir()));
    // A branch ref lock a killed wt left would make git fail once the checks pass.
    if store.common_dir().join(recovery::REF_MARKER).exists() {
        let _lock = ws.lock()?;
        warnings.extend(recovery::clear_own_ref_lock(store)?);
    }
    if recovery::pending_journals(store).is_empty() {
        return Ok(None);
    }
    let own_index = match git::hook_index_file(root) {
        None => true,
        Some(f) => same_file(&f, &store.git_dir().join("index")),
    };
    if own_index && !store.git_dir().join("index.lock").exists() {
        let _lock = ws.lock()?;
        warnings.extend(recovery::recover(store)?);
    }
    let pending = recovery::pending_paths(store, &ws.branch);
    if pending.is_empty() || store.head_branch()?.as_deref() != Some(ws.branch.as_str()) {
        return Ok(None);
    }
    let staged = git::staged_tree(root)?;
    let tip = ws.tip()?;
    let mut undone = Vec::new();
    for p in &pending {
        let committed = match tip {
            Some(t) => store.blob_at(t, p)?,
            None => None,
        };
        if store.blob_in(staged, p)? != committed {
            undone.push(p.clone());
        }
    }
    if undone.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "this commit would undo what wt committed to {} (a wt process was killed before it refreshed this checkout, so its files and index are stale); run `wt doctor --fix`, which brings them up to the state branch and leaves your other changes alone, then commit again",
        undone.join(", ")
    )))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The folder where the hook sets unstaged edits aside, in the git dir of the worktree
/// (`.git/wt/unstaged` in the main worktree).
pub fn unstaged_dir(git_dir: &Path) -> PathBuf {
    git_dir.join("wt").join("unstaged")
}

/// Patch files of unstaged edits under `git_dir` that no running hook holds: a hook was
/// killed (SIGKILL) after setting them aside, so the working tree lacks them.
pub fn left_patches(git_dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = fs::read_dir(unstaged_dir(git_dir)) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "diff"))
        .filter(|p| matches!(PatchLock::take(p), Ok(Some(_))))
        .collect();
    out.sort();
    out
}

/// An advisory lock on a patch file: held by the hook while the edits are set aside, and by
/// whoever restores a patch a killed hook left. The OS drops it with its process.
struct PatchLock {
    _file: fs::File,
}

impl PatchLock {
    /// The lock on `path`; None when another process holds it.
    fn take(path: &Path) -> Result<Option<PatchLock>> {
        let file = fs::OpenOptions::new().read(true).open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(PatchLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e.into()),
        }
    }
}

/// Put back into the working tree `root` (git dir `git_dir`) the unstaged edits that killed
/// hooks left set aside; say what was restored, and for a patch that no longer applies,
/// exactly how to apply it by hand (it is kept).
pub fn restore_left_patches(root: &Path, git_dir: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let dir = unstaged_dir(git_dir);
    // Temporaries of a hook killed while saving the patch: it had not touched a file yet.
    if let Ok(rd) = fs::read_dir(&dir) {
        for p in rd.filter_map(|e| e.ok()).map(|e| e.path()) {
            if p.extension().is_some_and(|x| x == "tmp")
                && matches!(PatchLock::take(&p), Ok(Some(_)))
            {
                let _ = fs::remove_file(&p);
            }
        }
    }
    for patch in left_patches(git_dir) {
        let Ok(Some(_lock)) = PatchLock::take(&patch) else {
            continue;
        };
        if !patch.exists() {
            continue;
        }
        if git::patch_is_applied(root, &patch) {
            let _ = fs::remove_file(&patch);
            notes.push(format!(
                "removed {}: an interrupted pre-commit hook had set your unstaged edits aside there, and they are back in place",
                patch.display()
            ));
        } else if git::apply_patch(root, &patch) {
            let _ = fs::remove_file(&patch);
            notes.push(format!(
                "restored your unstaged edits, which an interrupted pre-commit hook had set aside in {}",
                patch.display()
            ));
        } else {
            notes.push(format!(
                "your unstaged edits, set aside by an interrupted pre-commit hook, are in {0} and no longer apply cleanly to {1}: see them with `git apply --stat {0}`, apply what applies with `git -C {1} apply --reject {0}` (the rest goes to *.rej files), then delete {0}",
                patch.display(),
                root.display()
            ));
        }
    }
    notes
}

/// Check what is staged in the repository at `cwd` (see the module docs).
pub fn run_pre_commit(cwd: &Path, reporter: &Reporter) -> Result<PreCommit> {
    let ws = match Workspace::open(cwd) {
        Ok(ws) => ws,
        Err(e) if e.kind == ErrorKind::Setup => {
            return Ok(PreCommit::pass(Some(format!(
                "nothing to check ({}); `wt hook uninstall` removes this hook",
                e.message
            ))))
        }
        Err(e) => return Err(e),
    };
    let root = ws
        .workdir()
        .ok_or_else(|| Error::setup("the pre-commit hook needs a working tree"))?
        .to_path_buf();
    let store = &ws.store;
    let mut result = PreCommit::pass(None);
    if let Some(refusal) = before_checks(&ws, &root, &mut result.warnings)? {
        result.ok = false;
        result.refused = Some(refusal);
        return Ok(result);
    }
    let staged = git::staged_tree(&root)?;
    let head = match store.head_commit() {
        Some(c) => Some(store.commit_tree(c)?),
        None => None,
    };
    let work_changed = tree::work_subtree(store, staged)?
        != head
            .map(|h| tree::work_subtree(store, h))
            .transpose()?
            .flatten();
    let mut staged_snap = None;
    if work_changed {
        let snap = workspace::load_snapshot_of_tree(&ws.store, staged, None)?;
        result.tickets_checked = true;
        result.problems = crate::app::check::check(&ws, &snap)?;
        if !result.problems.is_empty() {
            result.ok = false;
            return Ok(result);
        }
        staged_snap = Some(snap);
    }
    let code = tree::code_tree(store, staged)?;
    let code_changed = Some(code) != head.map(|h| tree::code_tree(store, h)).transpose()?;
    if !code_changed {
        if !work_changed {
            result.note = Some("nothing staged changes code or tickets".into());
        }
        return Ok(result);
    }
    // The commands: committing on the state branch, the config as this commit leaves it
    // (a fix to `ci:` may come with the code it fixes); elsewhere the state branch's.
    let on_state_branch = ws.store.head_branch()?.as_deref() == Some(ws.branch.as_str());
    let config = match staged_snap {
        Some(snap) if on_state_branch => snap.config,
        _ => ws.snapshot()?.config,
    };
    let checks = ci::checks_from(&config)?;
    let dir = record::dir(ws.store.common_dir());
    let run = match ci::known_verdict(&dir, code, &checks, "index", false) {
        Some(known) => known,
        None => run_staged(&ws, &root, staged, code, &checks, &dir, reporter)?,
    };
    result.ok = run.green();
    result.interrupted = run.interrupted;
    result.ci = Some(run);
    Ok(result)
}

/// Run the checks on exactly what is staged: unstaged edits set aside meanwhile.
fn run_staged(
    ws: &Workspace,
    root: &Path,
    staged: Oid,
    code: Oid,
    checks: &[ci::Check],
    dir: &Path,
    reporter: &Reporter,
) -> Result<CiRun> {
    runner::watch_signals();
    let mut aside = Unstaged::set_aside(root, staged, &unstaged_dir(ws.store.git_dir()))?;
    let outcome = runner::run(
        root,
        checks,
        &RunOptions::default(),
        reporter,
        &record::logs_dir(dir, code),
    );
    // Tracked files the checks rewrote (formatters): what they checked is then not what is
    // being committed.
    let modified = match &outcome {
        Ok(o) if !o.interrupted => git::unstaged_paths(root)?,
        _ => Vec::new(),
    };
    aside.restore()?;
    ci::finish_run(dir, code, "index", &outcome?, modified)
}

/// Unstaged edits, set aside in a patch file while the checks run. The hook holds a lock on
/// the file meanwhile, so a hook killed outright (SIGKILL) leaves a patch nobody holds: the
/// next hook run or wt command puts it back ([`restore_left_patches`]) and `wt doctor`
/// reports it.
struct Unstaged {
    root: PathBuf,
    patch: Option<PathBuf>,
    _lock: Option<fs::File>,
    done: bool,
}

impl Unstaged {
    /// Save the difference between the index (whose tree is `staged`) and the working tree
    /// in `dir`, then make the working tree match the index.
    fn set_aside(root: &Path, staged: Oid, dir: &Path) -> Result<Unstaged> {
        let mut me = Unstaged {
            root: root.to_path_buf(),
            patch: None,
            _lock: None,
            done: false,
        };
        let Some(diff) = git::unstaged_patch(root, staged)? else {
            return Ok(me);
        };
        fs::create_dir_all(dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let patch = dir.join(format!("patch-{stamp}-{}.diff", std::process::id()));
        // Locked before it gets its name (the lock stays with the file through the rename),
        // so no other process ever sees it unlocked while this hook lives.
        let tmp = patch.with_extension("diff.tmp");
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        file.lock()?;
        file.write_all(&diff)?;
        file.sync_all()?;
        fs::rename(&tmp, &patch)?;
        me._lock = Some(file);
        me.patch = Some(patch);
        git::checkout_index(root)?;
        Ok(me)
    }

    fn apply(&self, patch: &Path) -> bool {
        git::apply_patch(&self.root, patch)
    }

    /// Put the unstaged edits back. If the checks changed the same files, their changes are
    /// discarded first (the patch wins).
    fn restore(&mut self) -> Result<()> {
        self.done = true;
        let Some(patch) = self.patch.clone() else {
            return Ok(());
        };
        if !self.apply(&patch) {
            let _ = git::checkout_index(&self.root);
            if !self.apply(&patch) {
                return Err(Error::internal(format!(
                    "could not restore your unstaged changes; they are saved in {}",
                    patch.display()
                ))
                .with_hint(format!("apply them with: git apply {}", patch.display())));
            }
        }
        let _ = fs::remove_file(&patch);
        Ok(())
    }
}

impl Drop for Unstaged {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.restore() {
                eprintln!("error: {}", crate::model::text::escape_text(&e.message));
            }
        }
    }
}

/// `wt hook install`: what install did.
#[derive(Debug, Clone, Serialize)]
pub struct HookInstallReport {
    pub schema_version: crate::app::report::SchemaVersion,
    #[serde(flatten)]
    pub install: InstallReport,
}

/// `wt hook run pre-commit`: what the hook's checks found.
#[derive(Debug, Clone, Serialize)]
pub struct PreCommitReport {
    pub schema_version: crate::app::report::SchemaVersion,
    #[serde(flatten)]
    pub pre_commit: PreCommit,
}
