//! The pre-commit hook: installing it without clobbering anyone's hook, and what it runs.
//!
//! Installation asks git where hooks live ([`crate::store::hooks::hooks_dir`], which honours
//! `core.hooksPath` and linked worktrees). A pre-commit hook that is already there and not
//! wt's is renamed to `pre-commit.wt-chained` and run first by wt's hook; uninstall removes
//! wt's hook and renames the old one back, so the folder is as it was. The installed script is
//! `hooks/pre-commit` from wt's repository with the absolute path of the installing wt filled
//! in (it falls back to `wt` on PATH when that file is gone).
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
/// The line install fills in with the path of wt.
const WT_LINE: &str = "wt=''";

/// The hooks folder git uses for the repository at `cwd`.
pub fn hooks_dir(cwd: &Path) -> Result<PathBuf> {
    git::hooks_dir(cwd)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The hook script for `wt_exe`.
pub fn render(wt_exe: Option<&Path>, created_dir: bool) -> String {
    let path = wt_exe
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !p.contains(['\n', '\r']))
        .unwrap_or_default();
    let mut out = String::with_capacity(SOURCE.len() + path.len());
    for line in SOURCE.lines() {
        if line == WT_LINE {
            out.push_str(&format!("wt={}", shell_quote(&path)));
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

/// The wt path a hook script names, if any.
fn embedded_wt(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("wt='"))
        .and_then(|rest| rest.strip_suffix('\''))
        .map(|s| s.replace(r"'\''", "'"))
        .filter(|s| !s.is_empty())
}

/// What `wt hook status` reports.
#[derive(Debug, Clone, Serialize)]
pub struct HookStatus {
    pub schema_version: crate::app::report::SchemaVersion,
    pub hooks_dir: String,
    /// Path of the pre-commit hook.
    pub hook: String,
    /// wt's hook is installed.
    pub installed: bool,
    /// A pre-commit hook that is not wt's is there.
    pub other_hook: bool,
    /// The wt path the installed hook calls (None: `wt` on PATH).
    pub wt: Option<String>,
    /// Whether that path exists.
    pub wt_found: bool,
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
    let installed = text.as_deref().is_some_and(is_ours);
    let wt = text.as_deref().filter(|t| is_ours(t)).and_then(embedded_wt);
    let hooks_path = git::hooks_path_config(cwd);
    Ok(HookStatus {
        schema_version: crate::app::report::SchemaVersion,
        hooks_dir: dir.display().to_string(),
        hook: hook.display().to_string(),
        installed,
        other_hook: text.is_some() && !installed,
        wt_found: wt.as_deref().is_some_and(|p| Path::new(p).is_file()),
        wt,
        chained: exists(&chained).then(|| chained.display().to_string()),
        hooks_path,
    })
}

/// What `wt hook install` did.
#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub hook: String,
    /// `installed`, `updated` or `unchanged`.
    pub action: String,
    /// The earlier hook wt's hook runs first, if there is one (moved there by this install
    /// or an earlier one).
    pub chained: Option<String>,
    /// This install moved an earlier hook to `chained`.
    pub moved: bool,
    /// Whether install created the hooks folder.
    pub created_dir: bool,
}

/// Install wt's pre-commit hook calling `wt_exe`. Idempotent; never overwrites another hook.
pub fn install(cwd: &Path, wt_exe: Option<&Path>) -> Result<InstallReport> {
    let dir = hooks_dir(cwd)?;
    let created_dir = !dir.exists();
    fs::create_dir_all(&dir)?;
    let hook = dir.join(HOOK_NAME);
    let chained = dir.join(CHAINED_NAME);
    let existing = read_hook(&hook)?;
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
    Ok(InstallReport {
        hook: hook.display().to_string(),
        action: action.into(),
        moved: moved.is_some(),
        chained: moved.or_else(|| exists(&chained).then(|| chained.display().to_string())),
        created_dir,
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
}

/// Remove exactly what [`install`] added.
pub fn uninstall(cwd: &Path) -> Result<UninstallReport> {
    let dir = hooks_dir(cwd)?;
    let hook = dir.join(HOOK_NAME);
    let chained = dir.join(CHAINED_NAME);
    let mut report = UninstallReport {
        schema_version: crate::app::report::SchemaVersion,
        hook: hook.display().to_string(),
        removed: false,
        restored: None,
        removed_dir: false,
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
    } else if text.lines().any(|l| l == CREATED_DIR) && fs::remove_dir(&dir).is_ok() {
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
        }
    }
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
    let staged = git::staged_tree(&root)?;
    let head = match store.head_commit() {
        Some(c) => Some(store.commit_tree(c)?),
        None => None,
    };
    let mut result = PreCommit::pass(None);
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
    let mut aside = Unstaged::set_aside(root, staged, &ws.store.common_dir().join("wt"))?;
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

/// Unstaged edits, set aside in a patch file while the checks run.
struct Unstaged {
    root: PathBuf,
    patch: Option<PathBuf>,
    done: bool,
}

impl Unstaged {
    /// Save the difference between the index (whose tree is `staged`) and the working tree,
    /// then make the working tree match the index.
    fn set_aside(root: &Path, staged: Oid, dir: &Path) -> Result<Unstaged> {
        let mut me = Unstaged {
            root: root.to_path_buf(),
            patch: None,
            done: false,
        };
        let Some(diff) = git::unstaged_patch(root, staged)? else {
            return Ok(me);
        };
        let dir = dir.join("unstaged");
        fs::create_dir_all(&dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let patch = dir.join(format!("patch-{stamp}-{}.diff", std::process::id()));
        crate::store::write_atomic(&patch, &diff)?;
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
                eprintln!("error: {}", e.message);
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
