//! `wt plan import (wt plan export)` gives back the tree: a property test over random trees
//! made every way wt makes tickets (`wt new`, `wt import`, `wt plan import` of random
//! markdown), then worked on (progress, done, failed audits with amendments, approvals, edges
//! added, fields of a team's own added by hand, implementers recorded), compared ticket by
//! ticket in plan order: every field a plan carries (wt's, and the team's own verbatim) and
//! every body, byte for byte.
//!
//! The same plan imported a second time changes nothing.
//!
//! Runs through the library (`wt::app`) on real repositories, so that a case takes
//! milliseconds; `PROPTEST_CASES` raises the count for a longer search.

use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::Config;

use wt::app::new::NewSpec;
use wt::model::item::Item;
use wt::model::ticket::Kind;
use wt::workspace::Workspace;

use crate::common::Repo;

/// One step of building and working the tree.
#[derive(Debug, Clone)]
enum Op {
    New(NewOp),
    Import(Vec<NewOp>),
    Plan(PlanDoc),
    Progress(u8, u8),
    Done(u8),
    Fail(u8, u8),
    Approve(u8),
    Dep(u8, u8),
    /// A field of the team's own set by hand on one ticket (committed with git).
    Custom(u8, u8),
    /// An implementer recorded on one ticket by the import that made it.
    Implemented(u8),
}

#[derive(Debug, Clone)]
struct NewOp {
    kind: u8,
    parent: u8,
    priority: Option<u8>,
    files: u8,
    labels: u8,
    artifacts: bool,
    deps: Vec<u8>,
    description: u8,
}

/// A job of a random plan: its seed and its tasks' seeds.
type Job = (u8, Vec<u8>);

#[derive(Debug, Clone)]
struct PlanDoc {
    preamble: bool,
    phases: Vec<(u8, Vec<Job>)>,
    final_newline: bool,
    crlf: bool,
}

const WORDS: [&str; 8] = [
    "storage", "login", "cache", "parser", "export", "queue", "docs", "api",
];

fn new_op() -> impl Strategy<Value = NewOp> {
    (
        0u8..3,
        any::<u8>(),
        prop::option::of(0u8..5),
        0u8..3,
        0u8..3,
        any::<bool>(),
        vec(any::<u8>(), 0..3),
        0u8..4,
    )
        .prop_map(
            |(kind, parent, priority, files, labels, artifacts, deps, description)| NewOp {
                kind,
                parent,
                priority,
                files,
                labels,
                artifacts,
                deps,
                description,
            },
        )
}

fn plan_doc() -> impl Strategy<Value = PlanDoc> {
    (
        any::<bool>(),
        vec(
            (
                any::<u8>(),
                vec((any::<u8>(), vec(any::<u8>(), 0..3)), 0..3),
            ),
            1..3,
        ),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(preamble, phases, final_newline, crlf)| PlanDoc {
            preamble,
            phases,
            final_newline,
            crlf,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => new_op().prop_map(Op::New),
        1 => vec(new_op(), 1..4).prop_map(Op::Import),
        2 => plan_doc().prop_map(Op::Plan),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Progress(a, b)),
        2 => any::<u8>().prop_map(Op::Done),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Fail(a, b)),
        1 => any::<u8>().prop_map(Op::Approve),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Dep(a, b)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Custom(a, b)),
        1 => any::<u8>().prop_map(Op::Implemented),
    ]
}

/// A markdown plan with blank lines before headings, field lines, paragraphs, sub-headings,
/// criteria, task items (checked, with continuation lines), code blocks.
fn plan_text(d: &PlanDoc, n: &mut u32) -> String {
    let mut s = String::new();
    let mut word = |x: u8| -> String {
        *n += 1;
        format!("{} {}", WORDS[x as usize % WORDS.len()], n)
    };
    if d.preamble {
        s.push_str("# Plan\n\nWhat this is about.\n\n");
    }
    let mut prev_job: Option<String> = None;
    for (p, jobs) in &d.phases {
        let title = word(*p);
        s.push_str(&format!("## Phase {title}\n"));
        if p.is_multiple_of(3) {
            s.push_str("Priority: P1\n");
        }
        if p % 5 == 1 {
            s.push_str("Gate: approval\n");
        }
        s.push_str(&"\n".repeat(1 + (*p as usize % 2)));
        if p.is_multiple_of(2) {
            s.push_str("Some text about the phase.\n\n#### Notes\n\n- a note\n\n\n");
        }
        for (j, tasks) in jobs {
            let jt = word(*j);
            s.push_str(&format!("### Job {jt}\n"));
            if j.is_multiple_of(2) {
                s.push_str(&format!("Files: src/{jt}.rs\n"));
            }
            if let Some(pj) = prev_job.as_ref().filter(|_| j.is_multiple_of(3)) {
                s.push_str(&format!("Depends on: Job {pj}\n"));
            }
            s.push('\n');
            if j % 4 == 1 {
                s.push_str("```\n### not a job\n```\n\n");
            }
            for t in tasks {
                let tt = word(*t);
                let mark = if t.is_multiple_of(3) { "x" } else { " " };
                s.push_str(&format!("- [{mark}] Task {tt}\n"));
                if t % 4 == 1 {
                    s.push_str("  with a second line\n");
                }
            }
            if j % 5 == 2 {
                s.push_str("\n#### Acceptance Criteria\n\n- [ ] it works\n");
            }
            s.push_str(&"\n".repeat(*j as usize % 3));
            prev_job = Some(jt);
        }
    }
    if !d.final_newline {
        while s.ends_with('\n') {
            s.pop();
        }
    }
    if d.crlf {
        s = s.replace('\n', "\r\n");
    }
    s
}

/// The tickets in plan order.
fn ordered(ws: &Workspace) -> Vec<wt::model::ticket::Ticket> {
    let snap = ws.snapshot().unwrap();
    wt::schedule::order::plan_order(&snap.tickets)
        .into_iter()
        .map(|i| snap.tickets[i].clone())
        .collect()
}

fn spec(o: &NewOp, existing: &[wt::model::ticket::Ticket], n: &mut u32) -> NewSpec {
    let kind = Kind::ALL[o.kind as usize % 3];
    let parents: Vec<&wt::model::ticket::Ticket> = existing
        .iter()
        .filter(|t| Some(t.kind) == kind.parent_kind())
        .collect();
    let parent = if parents.is_empty() || o.parent.is_multiple_of(4) {
        None
    } else {
        Some(parents[o.parent as usize % parents.len()].id.clone())
    };
    *n += 1;
    let list = |k: u8, what: &str| -> Option<Vec<String>> {
        (k > 0).then(|| (0..k).map(|i| format!("{what}/{n}-{i}")).collect())
    };
    let mut deps = Vec::new();
    for d in &o.deps {
        if !existing.is_empty() {
            deps.push(existing[*d as usize % existing.len()].id.clone());
        }
    }
    NewSpec {
        kind: Some(kind),
        title: format!("{} {n}", WORDS[o.parent as usize % WORDS.len()]),
        parent,
        depends_on: deps,
        priority: o.priority,
        files: list(o.files, "src"),
        artifacts: o.artifacts.then(|| vec![format!("out/{n}.txt")]),
        labels: list(o.labels, "team"),
        description: match o.description {
            0 => None,
            1 => Some("One line.".into()),
            2 => Some("First.\n\n## A heading in the description\n\nSecond.".into()),
            _ => Some("Trailing spaces  \n- [ ] a checkbox\n".into()),
        },
        ..NewSpec::default()
    }
}

fn apply(ws: &Workspace, dir: &Path, op: &Op, n: &mut u32) {
    let existing = ordered(ws);
    let pick = |x: u8| {
        existing
            .get(x as usize % existing.len().max(1))
            .map(|t| t.id.clone())
    };
    // Steps a tree does not allow (a cycle, done with open work, …) are refused; that is fine.
    match op {
        Op::New(o) => {
            let _ = wt::app::new::run(ws, &spec(o, &existing, n), Some("dev"));
        }
        Op::Import(os) => {
            let mut items: Vec<Item> = Vec::new();
            for (k, o) in os.iter().enumerate() {
                let s = spec(o, &existing, n);
                items.push(Item {
                    key: format!("k{k}"),
                    kind: s.kind.unwrap(),
                    title: s.title,
                    status: None,
                    priority: s.priority,
                    parent: s.parent,
                    depends_on: s.depends_on,
                    files: s.files,
                    artifacts: s.artifacts,
                    labels: s.labels,
                    body: None,
                    description: s.description,
                    extra: Vec::new(),
                    raw_fields: Vec::new(),
                    source: None,
                    aliases: Vec::new(),
                    links: Vec::new(),
                    dangling: Vec::new(),
                    created: None,
                    updated: None,
                    claimant: None,
                });
            }
            let _ = wt::app::import::import(
                ws,
                &items,
                "items.json",
                &format!("items-{n}.json"),
                Some("dev"),
            );
        }
        Op::Plan(d) => {
            let p = dir.join(format!("plan-{n}.md"));
            std::fs::write(&p, plan_text(d, n)).unwrap();
            wt::app::plan::import(ws, &p, &format!("plan-{n}.md"), Some("planner")).unwrap();
        }
        Op::Progress(t, m) => {
            if let Some(id) = pick(*t) {
                let msg = [
                    "did a thing",
                    "## not a heading\nsecond line",
                    "`code` and -->",
                ][*m as usize % 3];
                let _ = wt::app::progress::progress(ws, &id, "dev", msg, &[]);
            }
        }
        Op::Done(t) => {
            if let Some(id) = pick(*t) {
                let _ = wt::app::claim::claim(ws, &id, "dev", true);
                let opts = wt::app::done::DoneOptions {
                    force_reason: Some("test".into()),
                    ..Default::default()
                };
                let _ = wt::app::done::done(ws, &id, "dev", &opts);
            }
        }
        Op::Fail(t, m) => {
            if let Some(id) = pick(*t) {
                let _ = wt::app::claim::claim(ws, &id, "auditor", true);
                let text = ["redo it", "### Missing\n\n- the tests"][*m as usize % 2];
                let _ = wt::app::review::fail(ws, &id, "auditor", text, Some("test"));
            }
        }
        Op::Approve(t) => {
            if let Some(id) = pick(*t) {
                let _ = wt::app::review::approve(ws, &[id], "boss");
            }
        }
        Op::Dep(a, b) => {
            if let (Some(a), Some(b)) = (pick(*a), pick(*b)) {
                let _ = wt::app::dep::add(ws, &a, &b, Some("dev"));
            }
        }
        Op::Custom(t, k) => {
            if let Some(t) = pick(*t).and_then(|id| existing.iter().find(|x| x.id == id)) {
                let (key, field) = CUSTOM[*k as usize % CUSTOM.len()];
                let repo = dir.join("repo");
                let text = git(&repo, &["show", &format!("HEAD:{}", t.path)]);
                if wt::model::frontmatter::fields(&text)
                    .unwrap()
                    .iter()
                    .all(|f| f.key != key)
                {
                    // Before the closing `---`.
                    let close = text[4..].find("\n---").unwrap() + 5;
                    let eol = if text.starts_with("---\r\n") {
                        "\r\n"
                    } else {
                        "\n"
                    };
                    let field = field.replace('\n', eol);
                    let text = format!("{}{field}{}", &text[..close], &text[close..]);
                    std::fs::write(repo.join(&t.path), text).unwrap();
                    git(&repo, &["add", "--", &t.path]);
                    git(
                        &repo,
                        &["commit", "-q", "-m", "a field of our own", "--", &t.path],
                    );
                }
            }
        }
        Op::Implemented(k) => {
            let o = NewOp {
                kind: 1,
                parent: *k,
                priority: None,
                files: 0,
                labels: 0,
                artifacts: false,
                deps: vec![],
                description: 0,
            };
            let s = spec(&o, &existing, n);
            let item = Item {
                key: "impl".into(),
                kind: s.kind.unwrap(),
                title: s.title,
                parent: s.parent,
                extra: vec![(
                    "implemented_by".into(),
                    wt::model::frontmatter::Value::Str(format!("agent-{k}")),
                )],
                ..Item::default()
            };
            let _ =
                wt::app::import::import(ws, &[item], "impl.json", &format!("impl-{n}.json"), None);
        }
    }
}

/// Fields of a team's own, as a person would add them (one line, quoted, a block list).
const CUSTOM: [(&str, &str); 4] = [
    ("estimate", "estimate: 3\n"),
    ("team", "team: \"platform: core\"\n"),
    ("reviewers", "reviewers:\n  - ann\n  - bob\n"),
    ("risk", "risk: high # said the lead\n"),
];

/// Run git in `repo` (hermetic), returning stdout.
fn git(repo: &Path, args: &[&str]) -> String {
    let mut c = std::process::Command::new("git");
    crate::common::hermetic(&mut c, repo);
    let o = c.current_dir(repo).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Everything a plan carries about each ticket, in plan order, with parents and dependencies
/// as positions in that order.
fn view(ws: &Workspace) -> Vec<String> {
    let snap = ws.snapshot().unwrap();
    assert!(snap.problems.is_empty(), "{:?}", snap.problems);
    let ts = ordered(ws);
    let pos = |id: &str| -> String {
        ts.iter()
            .position(|t| t.id == id)
            .map_or(format!("?{id}"), |p| p.to_string())
    };
    ts.iter()
        .map(|t| {
            let body = wt::app::plan::body(ws, &snap, t).unwrap();
            // Fields of the team's own, verbatim.
            let text = ws.read_text(&snap, &t.path).unwrap();
            let mut custom: Vec<(String, String)> = wt::model::frontmatter::raw_fields(&text)
                .unwrap()
                .into_iter()
                .filter(|(k, _)| !wt::model::ticket::KNOWN_FIELDS.contains(&k.as_str()))
                .collect();
            custom.sort();
            // A plan's own `source` is given anew by the import of the exported plan.
            let source = t.source.as_deref().filter(|s| !s.starts_with("plan:"));
            format!(
                "{} {:?} status={} p={} parent={:?} deps={:?} files={:?} artifacts={:?} labels={:?} gate={:?} attempts={} approved={:?}/{:?} implemented_by={:?} custom={custom:?} source={source:?} aliases={:?} links={:?}\n{body}",
                t.kind,
                t.title,
                wt::plan::export::carried_status(t.status),
                t.priority,
                t.parent.as_deref().map(pos),
                t.depends_on.iter().map(|d| pos(d)).collect::<Vec<_>>(),
                t.files,
                t.artifacts,
                t.labels,
                t.gate,
                t.attempts,
                t.approved_by,
                t.approved_at,
                t.implemented_by,
                t.aliases,
                t.links,
            )
        })
        .collect()
}

/// A copy of `template` (a repository with `wt init` done) in a new temporary folder: much
/// faster than making one with four processes.
fn copy_of(template: &Repo) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let (src, dst) = (e.path(), to.join(e.file_name()));
            if e.file_type().unwrap().is_dir() {
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let tmp = tempfile::Builder::new().prefix("wt-rt-").tempdir().unwrap();
    copy(&template.root, &tmp.path().join("repo"));
    tmp
}

/// Build the tree of `ops`, export, import into a fresh copy, compare; returns the view.
fn round_trip(template: &Repo, ops: &[Op]) -> Result<Vec<String>, TestCaseError> {
    let a = copy_of(template);
    let ws = Workspace::open(&a.path().join("repo")).unwrap();
    let mut n = 0;
    for op in ops {
        apply(&ws, a.path(), op, &mut n);
    }
    let before = view(&ws);
    let plan = wt::app::plan::export_plan(&ws)
        .map_err(|e| TestCaseError::fail(e.message))?
        .plan;
    let b = copy_of(template);
    let wsb = Workspace::open(&b.path().join("repo")).unwrap();
    let p = b.path().join("exported.md");
    std::fs::write(&p, &plan).unwrap();
    if !before.is_empty() {
        wt::app::plan::import(&wsb, &p, "exported.md", None)
            .map_err(|e| TestCaseError::fail(format!("{}\n--- plan:\n{plan}", e.message)))?;
        // The same plan again changes nothing.
        let again = wt::app::plan::import(&wsb, &p, "exported.md", None)
            .map_err(|e| TestCaseError::fail(format!("again: {}\n--- plan:\n{plan}", e.message)))?;
        prop_assert!(
            again.commit.is_none(),
            "a second import committed: {:?}\nplan:\n{}",
            again.value.1.updated,
            plan
        );
    }
    let after = view(&wsb);
    prop_assert_eq!(before.len(), after.len(), "ticket count; plan:\n{}", plan);
    for (x, y) in before.iter().zip(&after) {
        prop_assert_eq!(x, y, "plan:\n{}", plan);
    }
    Ok(before)
}

/// Cases run by default: each makes two repositories (copies) and up to ten commits, about
/// 0.3 s in a debug build on a busy machine. `PROPTEST_CASES=500` searches longer.
const CASES: u32 = 5;

#[test]
fn plan_import_of_plan_export_gives_back_every_ticket_field_and_body() {
    let template = Repo::new();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CASES);
    // A fixed seed in the suite (CI is reproducible); fresh inputs when PROPTEST_CASES asks
    // for a longer search.
    let rng_seed = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => proptest::test_runner::RngSeed::Random,
        None => proptest::test_runner::RngSeed::Fixed(20261202),
    };
    let mut runner = proptest::test_runner::TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed,
        ..Config::default()
    });
    let result = runner.run(&vec(op(), 1..10), |ops| {
        round_trip(&template, &ops).map(|_| ())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The cases the issue named, one by one: tickets without a parent, `wt new` tickets with
/// priority, artifacts, gates and criteria, blank lines before headings.
#[test]
fn the_data_plan_export_used_to_lose_comes_back() {
    let ops = vec![
        Op::New(NewOp {
            kind: 2,
            parent: 0,
            priority: Some(0),
            files: 1,
            labels: 1,
            artifacts: true,
            deps: vec![],
            description: 3,
        }),
        Op::New(NewOp {
            kind: 1,
            parent: 0,
            priority: Some(4),
            files: 0,
            labels: 2,
            artifacts: true,
            deps: vec![0],
            description: 2,
        }),
        Op::Plan(PlanDoc {
            preamble: true,
            phases: vec![(1, vec![(2, vec![0, 1]), (3, vec![])]), (4, vec![])],
            final_newline: false,
            crlf: false,
        }),
        Op::Progress(0, 1),
        Op::Approve(3),
        Op::Custom(0, 0),
        Op::Custom(0, 1),
        Op::Custom(2, 2),
        Op::Custom(5, 3),
        Op::Implemented(1),
    ];
    let view = round_trip(&Repo::new(), &ops).unwrap().join("\n");
    // The case really has them.
    for want in [
        "implemented_by=Some(\"agent-1\")",
        "estimate: 3",
        "team: \\\"platform: core\\\"",
        "reviewers:\\n  - ann\\n  - bob\\n",
        "risk: high # said the lead",
        "source=Some(\"json:impl-",
    ] {
        assert!(view.contains(want), "{want} missing from:\n{view}");
    }
}

/// Cases the search found, kept: a task added with `wt new` to a job whose plan text ends
/// in its criteria without a final newline; a task whose text had a blank line after it,
/// followed by another task.
#[test]
fn tasks_added_after_a_jobs_criteria_and_blank_lines_after_items_come_back() {
    let new_task = |parent: u8| {
        Op::New(NewOp {
            kind: 2,
            parent,
            priority: None,
            files: 0,
            labels: 0,
            artifacts: false,
            deps: vec![],
            description: 0,
        })
    };
    let ops = vec![
        Op::Plan(PlanDoc {
            preamble: false,
            phases: vec![(0, vec![(232, vec![])])],
            final_newline: false,
            crlf: false,
        }),
        new_task(5),
    ];
    round_trip(&Repo::new(), &ops).unwrap();
    let ops = vec![
        Op::Plan(PlanDoc {
            preamble: false,
            phases: vec![
                (0, vec![(0, vec![0]), (0, vec![])]),
                (0, vec![(147, vec![0, 0])]),
            ],
            final_newline: false,
            crlf: false,
        }),
        new_task(126),
    ];
    round_trip(&Repo::new(), &ops).unwrap();
}
