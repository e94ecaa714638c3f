//! Test support: hermetic temporary git repositories and the real `wt` binary.
//!
//! Every command runs with `GIT_CONFIG_GLOBAL=/dev/null`, `GIT_CONFIG_NOSYSTEM=1`, a fixed
//! author/committer identity and date, and `WT_NOW` pinned, so runs are reproducible.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;
use tempfile::TempDir;

pub const NOW: &str = "2026-01-02T03:04:05Z";
pub const GIT_DATE: &str = "@1767323045 +0000";

/// Apply the hermetic environment to a command.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", GIT_DATE)
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.com")
        .env("GIT_COMMITTER_DATE", GIT_DATE)
        .env("WT_NOW", NOW)
        .env("LC_ALL", "C");
}

/// Set a file's modification time `secs` into the past (with `touch -d`).
pub fn age_file(path: &Path, secs: u64) {
    let st = Command::new("touch")
        .arg("-d")
        .arg(format!("{secs} seconds ago"))
        .arg(path)
        .status()
        .expect("touch");
    assert!(st.success());
}

/// Path of the built `wt` binary.
pub fn wt_bin() -> PathBuf {
    cargo_bin("wt")
}

/// A temporary git repository on branch `main` with one commit, set up for wt or not.
pub struct Repo {
    pub tmp: TempDir,
    pub root: PathBuf,
}

/// The result of running a command, with helpers.
pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    /// Assert success and return stdout.
    #[track_caller]
    pub fn ok(&self) -> String {
        assert_eq!(
            self.code(),
            0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }
    /// Assert this exit code.
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout()).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            )
        })
    }
}

impl Repo {
    /// `git init -b main` plus one commit of README.md; wt not initialised.
    pub fn bare_git() -> Repo {
        let tmp = tempfile::Builder::new()
            .prefix("wt-test-")
            .tempdir()
            .expect("tempdir");
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(&root).expect("mkdir");
        let r = Repo { tmp, root };
        r.git(&["init", "-q", "-b", "main"]).ok();
        r.write("README.md", "# test\n");
        r.git(&["add", "README.md"]).ok();
        r.git(&["commit", "-q", "-m", "initial"]).ok();
        r
    }

    /// A repository with `wt init --no-hook` done, without the pre-commit hook (tests of
    /// other areas commit freely with git; `tests/it/ci_gate.rs` installs the hook where it
    /// is tested). Set up in process (`wt::app::init`), as setup: the binary's `wt init` is
    /// tested in `verbs` and `onboarding`.
    pub fn new() -> Repo {
        let r = Repo::bare_git();
        let _clock = wt::model::clock::pin(time(NOW));
        let opts = wt::app::init::InitOptions::default();
        if let Err(e) = wt::app::init::init(&r.root, &opts) {
            panic!("wt init: {}", failure(&e).1);
        }
        r
    }

    /// A repository with `wt init` done and `review: false` in its config, so that `wt done`
    /// finishes a job at once (for tests of the core verbs, not of the audit loop).
    pub fn without_review() -> Repo {
        let r = Repo::new();
        let cfg = r.read(".work/config.yaml");
        assert!(cfg.contains("\nreview: true\n"), "{cfg}");
        r.write(
            ".work/config.yaml",
            &cfg.replacen("\nreview: true\n", "\nreview: false\n", 1),
        );
        r.git(&["commit", "-q", "-am", "config: review false"]).ok();
        r
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().to_path_buf()
    }

    /// Run `wt` in the repository root.
    pub fn wt(&self, args: &[&str]) -> Run {
        self.wt_in(&self.root, args)
    }

    /// Run `wt` in `dir` (a subdirectory or another worktree).
    pub fn wt_in(&self, dir: &Path, args: &[&str]) -> Run {
        self.wt_env(dir, args, &[])
    }

    /// Run `wt` in `dir` with extra environment variables.
    pub fn wt_env(&self, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(wt_bin());
        hermetic(&mut cmd, &self.home());
        cmd.current_dir(dir).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run {
            out: cmd.output().expect("run wt"),
        }
    }

    /// Run `wt --json ...` and parse stdout, asserting success.
    #[track_caller]
    pub fn wt_json(&self, args: &[&str]) -> Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        let r = self.wt(&a);
        r.ok();
        r.json()
    }

    /// Run `git` in the repository root.
    pub fn git(&self, args: &[&str]) -> Run {
        self.git_in(&self.root, args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new("git");
        hermetic(&mut cmd, &self.home());
        cmd.current_dir(dir).args(args);
        Run {
            out: cmd.output().expect("run git"),
        }
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, content).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).expect("read")
    }

    /// Create a ticket and return its ID.
    #[track_caller]
    pub fn new_ticket(&self, args: &[&str]) -> String {
        let mut a = vec!["new"];
        a.extend_from_slice(args);
        self.wt(&a).ok().trim().to_string()
    }

    /// Import a JSON plan (as a string) and return key -> ID.
    #[track_caller]
    pub fn import(&self, json: &str) -> serde_json::Map<String, Value> {
        // Numbered per repository, so the tickets' `source` (which names the file) is the
        // same on every run; each file is a new input.
        let n = std::fs::read_dir(self.tmp.path())
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("import-"))
                    .count()
            })
            .unwrap_or(0);
        let p = self.tmp.path().join(format!("import-{n}.json"));
        std::fs::write(&p, json).expect("write plan");
        let v = self.wt_json(&["import", p.to_str().expect("utf8 path")]);
        assert_eq!(v["schema_version"], 1, "{v}");
        v["ids"].as_object().cloned().expect("import map")
    }

    /// `git log --format=%s` of a branch, newest first.
    pub fn subjects(&self, branch: &str) -> Vec<String> {
        self.git(&["log", "--format=%s", branch])
            .ok()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Path of the file of ticket `id` (from `wt show --json`).
    pub fn ticket_path(&self, id: &str) -> String {
        self.wt_json(&["show", id])["path"]
            .as_str()
            .expect("path")
            .to_string()
    }
}

/// The `tickets` array of a document that lists tickets (`wt list`, `wt ready`,
/// `wt blocked`), after checking that it is a versioned report.
#[track_caller]
pub fn tickets(doc: &Value) -> &Vec<Value> {
    assert_eq!(doc["schema_version"], 1, "not a versioned report: {doc}");
    doc["tickets"].as_array().expect("a tickets array")
}

/// IDs of the tickets a document lists (see [`tickets`]), in order.
#[track_caller]
pub fn ids(doc: &Value) -> Vec<String> {
    tickets(doc)
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect()
}

// ------------------------------------------------------------------------ in process
//
// Tests whose point is wt's logic call `wt::app` in this process instead of spawning the
// binary. Nothing is read from or written to the environment: the clock is pinned on the
// test's own thread (`wt::model::clock::pin`, what `WT_NOW` is for the binary) and the agent
// is passed explicitly, so tests running in parallel cannot see each other's settings.

/// An RFC 3339 time.
pub fn time(at: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(at)
        .expect("an RFC 3339 time")
        .with_timezone(&chrono::Utc)
}

/// The document `wt --json` prints for `report`.
pub fn doc<T: serde::Serialize>(report: &T) -> Value {
    serde_json::to_value(report).expect("a report serializes")
}

/// What the binary says about `e`: its exit code, and its stderr (`error: …`, `hint: …`;
/// unescaped).
pub fn failure(e: &wt::Error) -> (i32, String) {
    let mut text = format!("error: {}\n", e.message);
    if let Some(h) = &e.hint {
        text.push_str(&format!("hint: {h}\n"));
    }
    (wt::cli::exit_code(e.kind), text)
}

impl Repo {
    /// `f` on this repository's workspace through `wt::app`, in this process, with the clock
    /// pinned to `now` on this thread.
    pub fn app_at<T>(
        &self,
        now: &str,
        f: impl FnOnce(&wt::workspace::Workspace) -> wt::Result<T>,
    ) -> wt::Result<T> {
        self.app_in(&self.root, now, f)
    }

    /// [`Repo::app_at`] as if started in `dir` (a subdirectory or another worktree).
    pub fn app_in<T>(
        &self,
        dir: &Path,
        now: &str,
        f: impl FnOnce(&wt::workspace::Workspace) -> wt::Result<T>,
    ) -> wt::Result<T> {
        let _clock = wt::model::clock::pin(time(now));
        let ws = wt::workspace::Workspace::open(dir)?;
        f(&ws)
    }

    /// [`Repo::app_at`] at [`NOW`].
    pub fn app<T>(
        &self,
        f: impl FnOnce(&wt::workspace::Workspace) -> wt::Result<T>,
    ) -> wt::Result<T> {
        self.app_at(NOW, f)
    }

    /// [`Repo::app`], asserting success.
    #[track_caller]
    pub fn app_ok<T>(&self, f: impl FnOnce(&wt::workspace::Workspace) -> wt::Result<T>) -> T {
        match self.app(f) {
            Ok(v) => v,
            Err(e) => panic!(
                "expected success, got exit {}:\n{}",
                failure(&e).0,
                failure(&e).1
            ),
        }
    }

    /// [`Repo::app`], asserting it fails as the binary would exit with `code`; returns what
    /// the binary would print on stderr.
    #[track_caller]
    pub fn app_err<T>(
        &self,
        code: i32,
        f: impl FnOnce(&wt::workspace::Workspace) -> wt::Result<T>,
    ) -> String {
        match self.app(f) {
            Ok(_) => panic!("expected exit {code}, got success"),
            Err(e) => {
                let (got, text) = failure(&e);
                assert_eq!(got, code, "expected exit {code}:\n{text}");
                text
            }
        }
    }

    /// `wt new ARGS` (as [`Repo::new_ticket`] takes them) in process, at `now`; the new ID.
    #[track_caller]
    pub fn new_in_at(&self, now: &str, args: &[&str]) -> String {
        let (spec, agent) = new_spec(args);
        self.app_at(now, |ws| wt::app::new::run(ws, &spec, agent.as_deref()))
            .unwrap_or_else(|e| panic!("wt new {args:?}: {}", failure(&e).1))
            .value
            .ticket
            .id
    }

    /// `wt new ARGS` in process, at [`NOW`]; the new ID.
    #[track_caller]
    pub fn new_in(&self, args: &[&str]) -> String {
        self.new_in_at(NOW, args)
    }

    /// `wt new ARGS` in process, asserting it fails with exit `code`; the stderr it would print.
    #[track_caller]
    pub fn new_in_err(&self, code: i32, args: &[&str]) -> String {
        let (spec, agent) = new_spec(args);
        self.app_err(code, |ws| wt::app::new::run(ws, &spec, agent.as_deref()))
    }

    /// `wt --json show ID`, in process.
    #[track_caller]
    pub fn show_doc(&self, id: &str) -> Value {
        doc(&self.app_ok(|ws| wt::app::read::show(ws, id)).report)
    }

    /// [`Repo::ticket_path`], in process.
    #[track_caller]
    pub fn ticket_path_in(&self, id: &str) -> String {
        self.show_doc(id)["path"]
            .as_str()
            .expect("path")
            .to_string()
    }

    /// `wt --json ready [--kind K]`, in process (`kind`: None for the config's default,
    /// `Some(None)` for any).
    #[track_caller]
    pub fn ready_doc(&self, kind: Option<Option<wt::model::ticket::Kind>>) -> Value {
        let opts = wt::app::ready::ReadyOptions {
            kind,
            ..Default::default()
        };
        doc(&self.app_ok(|ws| wt::app::ready::ready(ws, &opts)).report)
    }

    /// `wt claim ID --agent AGENT` as the binary runs it, in process.
    pub fn claim_in(&self, id: &str, agent: &str) -> wt::Result<Value> {
        self.app(|ws| {
            wt::app::configured::claim(
                ws,
                wt::app::claim::Wanted::Id(id),
                agent,
                &Default::default(),
                false,
            )
        })
        .map(|r| doc(&r.report))
    }

    /// `wt claim --next [--kind K] --agent AGENT` as the binary runs it, in process.
    pub fn claim_next_in(
        &self,
        kind: Option<Option<wt::model::ticket::Kind>>,
        agent: &str,
    ) -> wt::Result<Value> {
        self.app(|ws| {
            wt::app::configured::claim(
                ws,
                wt::app::claim::Wanted::Next(kind),
                agent,
                &Default::default(),
                false,
            )
        })
        .map(|r| doc(&r.report))
    }

    /// `wt release ID --agent AGENT` as the binary runs it, in process.
    pub fn release_in(&self, id: &str, agent: &str) -> wt::Result<Value> {
        self.app(|ws| wt::app::configured::release(ws, id, agent, None, false))
            .map(|r| doc(&r.report))
    }

    /// `wt --json blocked [--kind K]`, in process.
    #[track_caller]
    pub fn blocked_doc(&self, kind: Option<wt::model::ticket::Kind>) -> Value {
        doc(&self.app_ok(|ws| wt::app::read::blocked(ws, kind)).report)
    }

    /// [`Repo::import`] in process: key -> ID.
    #[track_caller]
    pub fn import_in(&self, json: &str) -> std::collections::BTreeMap<String, String> {
        // Each call is a new input, like a new file to `wt import` (see [`Repo::import`]).
        let n = std::fs::read_dir(self.tmp.path())
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with("import-"))
                    .count()
            })
            .unwrap_or(0);
        let name = format!("import-{n}.json");
        std::fs::write(self.tmp.path().join(&name), json).expect("write plan");
        self.app_ok(|ws| {
            let items = wt::app::import::parse_items(json, &name)?;
            wt::app::import::import(ws, &items, &name, &name, None)
        })
        .value
        .ids
    }

    /// `wt done ID --agent AGENT` as the binary runs it, in process.
    pub fn done_in(&self, id: &str, agent: &str) -> wt::Result<Value> {
        self.app(|ws| wt::app::done::done_as_configured(ws, id, agent, &Default::default()))
            .map(|r| doc(&r.report))
    }
}

/// The arguments of `wt new` as a spec and the `--agent`, for [`Repo::new_in_at`]: KIND TITLE,
/// then `--parent`, `--dep`, `-p/--priority`, `--file`, `--artifact`, `--label`,
/// `-d/--description`, `--agent`. Anything else fails the test.
fn new_spec(args: &[&str]) -> (wt::app::new::NewSpec, Option<String>) {
    let [kind, title, rest @ ..] = args else {
        panic!("wt new KIND TITLE [...]: {args:?}");
    };
    let mut spec = wt::app::new::NewSpec {
        kind: Some(kind.parse().unwrap_or_else(|e| panic!("kind {kind}: {e}"))),
        title: title.to_string(),
        ..Default::default()
    };
    let mut agent = None;
    let push = |list: &mut Option<Vec<String>>, v: &str| {
        list.get_or_insert_with(Vec::new).push(v.to_string())
    };
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let v = *it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match *flag {
            "--parent" => spec.parent = Some(v.to_string()),
            "--dep" => spec.depends_on.push(v.to_string()),
            "-p" | "--priority" => spec.priority = Some(v.parse().expect("a priority")),
            "--file" => push(&mut spec.files, v),
            "--artifact" => push(&mut spec.artifacts, v),
            "--label" => push(&mut spec.labels, v),
            "-d" | "--description" => spec.description = Some(v.to_string()),
            "--agent" => agent = Some(v.to_string()),
            other => panic!("new_spec does not know {other}"),
        }
    }
    (spec, agent)
}
