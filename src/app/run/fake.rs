//! A scripted agent built into wt (`wt fake-agent`, hidden): what `wt demo --run`, the tests
//! and the benchmark run instead of a real agent CLI, so that the executor can be seen and
//! measured without an API key.
//!
//! It reads its prompt (`WT_PROMPT_FILE`) like a real agent and obeys directives in the
//! ticket's text, written as HTML comments so that people reading the ticket skip them:
//! - `<!-- fake-agent: needs N -->`: withhold the completion signal for the first N
//!   iterations (it commits part of the work each time);
//! - `<!-- fake-agent: red-first -->`: the first time, also commit the file `BROKEN` (a CI
//!   check like `test ! -f BROKEN` goes red); once the prompt shows that the CI checks were
//!   red ("CI is red"), delete it;
//! - `<!-- fake-agent: never -->`: never signal completion.
//!
//! Otherwise it writes the ticket's first plain `files:` path (else `work/<ID>.txt`),
//! commits it on the worktree's branch, ticks every criterion, logs progress and prints the
//! completion signal on its last line.

use std::path::Path;
use std::time::Duration;

use crate::app::tick::{self, Which};
use crate::error::{Error, Result};
use crate::store::scratch::ScratchRepo;
use crate::workspace::Workspace;

const NAME: &str = "fake agent";
const EMAIL: &str = "fake-agent@example.com";

/// Options of `wt fake-agent`.
#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// How long to "think" before working.
    pub sleep: Duration,
    /// Audit instead of implement (see [`fake_auditor`]).
    pub audit: bool,
}

/// The amendment the fake auditor writes: the next implementer iteration's prompt shows it.
pub const FAKE_AMENDMENT: &str =
    "Fake audit: the change needs a second look (amendment by the fake auditor).";

/// The fake auditor: it reads the audit prompt and, by the ticket's directives,
/// - `<!-- fake-auditor: fail-first -->`: fails the first audit with [`FAKE_AMENDMENT`] and
///   passes once the prompt shows that amendment;
/// - `<!-- fake-auditor: silent -->`: gives no verdict;
/// - otherwise passes.
pub fn fake_auditor(prompt: &str) -> String {
    let has = |d: &str| {
        prompt.lines().any(|l| {
            let l = l.trim();
            l.strip_prefix("<!--")
                .and_then(|x| x.strip_suffix("-->"))
                .and_then(|x| x.trim().strip_prefix("fake-auditor:"))
                .is_some_and(|x| x.trim() == d)
        })
    };
    if has("silent") {
        return "I looked at it.\n".to_string();
    }
    if has("fail-first") && !prompt.contains("Fake audit:") {
        return format!("Checked the criteria.\n<fail>\n{FAKE_AMENDMENT}\n</fail>\n");
    }
    "Every criterion holds.\n<pass/>\n".to_string()
}

/// What the fake agent printed (its final message).
pub fn fake_agent(cwd: &Path, opts: &FakeOptions) -> Result<String> {
    let var = |k: &str| {
        std::env::var(k).map_err(|_| Error::setup(format!("{k} is not set: run me under `wt run`")))
    };
    let id = var("WT_TICKET")?;
    let iteration: u32 = var("WT_ITERATION")?.parse().unwrap_or(1);
    let prompt = std::fs::read_to_string(var("WT_PROMPT_FILE")?)?;
    if opts.audit {
        std::thread::sleep(opts.sleep);
        return Ok(fake_auditor(&prompt));
    }
    let agent = var("WT_AGENT")?;
    let token = std::env::var(crate::model::lease::TOKEN_ENV).ok();
    std::thread::sleep(opts.sleep);

    let directive = |name: &str| -> Option<String> {
        prompt.lines().find_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix("<!--")?.strip_suffix("-->")?.trim();
            let rest = inner.strip_prefix("fake-agent:")?.trim();
            let rest = rest.strip_prefix(name)?;
            Some(rest.trim().to_string())
        })
    };
    let repo = ScratchRepo::open(cwd)?;
    let ws = Workspace::open(cwd)?;
    let snap = ws.snapshot()?;
    let t = snap.resolve(&id)?.clone();
    let path = t
        .files
        .iter()
        .find(|f| {
            !f.contains(['*', '?', '['])
                && !f.ends_with('/')
                && crate::model::ticket::path_problem(f).is_none()
        })
        .cloned()
        .unwrap_or_else(|| format!("work/{id}.txt"));
    let mut out = String::new();
    if directive("never").is_some() {
        write(&repo, cwd, &path, &format!("{id}: attempt {iteration}\n"))?;
        out.push_str("I could not finish this; trying again next time.\n");
        return Ok(out);
    }
    if let Some(n) = directive("needs") {
        let needs: u32 = n.parse().unwrap_or(1);
        if iteration <= needs {
            write(&repo, cwd, &path, &format!("{id}: part {iteration}\n"))?;
            out.push_str(&format!(
                "Committed part {iteration}; more work remains for the next iteration.\n"
            ));
            return Ok(out);
        }
    }
    write(
        &repo,
        cwd,
        &path,
        &format!("{id}: done in iteration {iteration}\n"),
    )?;
    if directive("red-first").is_some() {
        if prompt.contains("CI is red") {
            if cwd.join("BROKEN").exists() {
                repo.commit_removal(
                    "BROKEN",
                    "fix: remove BROKEN (the CI check said so)",
                    NAME,
                    EMAIL,
                )?;
            }
            out.push_str("Read the CI failure from the last iteration and fixed it.\n");
        } else {
            write(&repo, cwd, "BROKEN", "oops\n")?;
        }
    }
    let text = ws.read_text(&snap, &t.path)?;
    if !crate::model::criteria::unticked(&text).is_empty() {
        tick::tick(&ws, &id, &agent, &Which::All, false, token.as_deref())?;
    }
    crate::app::progress::progress(
        &ws,
        &id,
        &agent,
        &format!("fake agent: wrote {path}"),
        std::slice::from_ref(&path),
    )?;
    let signal = ws.config()?.run.complete_signal;
    out.push_str(&format!("Wrote {path}, ticked the criteria.\n{signal}\n"));
    Ok(out)
}

fn write(repo: &ScratchRepo, cwd: &Path, path: &str, content: &str) -> Result<()> {
    let p = cwd.join(path);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(&p, content)?;
    repo.commit_path(path, &format!("work: {path}"), NAME, EMAIL)
}

/// Make the repository `wt demo --run` works in, at `root`: one code commit, wt set up with
/// a CI check (`test ! -f BROKEN`), review off, the fake agent as the run's agent (this very
/// binary, `exe`), and `plan` imported.
pub fn demo_repo(root: &Path, exe: &Path, plan: &str, sleep_ms: u64) -> Result<()> {
    let repo = crate::app::demo::DemoRepo::create(root)?;
    repo.commit_file("README.md", "# demo app\n", "Initial commit")?;
    crate::app::init::init(root, &Default::default())?;
    let cfg = std::fs::read_to_string(root.join(".work/config.yaml"))?;
    let exe = serde_json::to_string(&exe.display().to_string())
        .map_err(|e| Error::internal(e.to_string()))?;
    let mut out = String::new();
    for line in cfg.lines() {
        let line = match line {
            "review: true" => "review: false",
            l if l.starts_with("ci:") => "ci:\n  no-stray-files: test ! -f BROKEN",
            l => l,
        };
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&format!(
        "\n# wt run's agents: here wt's built-in fake agent (no API key needed).\n\
         agents:\n  fake:\n    cmd: [{exe}, fake-agent, --sleep-ms, \"{sleep_ms}\"]\n    prompt: file\n\
         run:\n  agent: fake\n  max_parallel: 3\n  max_iterations: 4\n"
    ));
    repo.commit_file(
        ".work/config.yaml",
        &out,
        "demo settings: a CI check, the fake agent",
    )?;
    std::fs::write(root.join("plan.md"), plan)?;
    let ws = Workspace::open(root)?;
    crate::app::plan::import(&ws, &root.join("plan.md"), "plan.md", Some("planner"))?;
    let _ = std::fs::remove_file(root.join("plan.md"));
    Ok(())
}
