//! `wt check`: validate the whole ticket tree. Each problem is `path:line: message`.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;
use rustc_hash::FxHashMap;

use crate::error::Result;
use crate::model::config::{self, CONFIG_PATH};
use crate::model::frontmatter;
use crate::model::ticket::{Problem, Status, Ticket, KNOWN_FIELDS};
use crate::workspace::{Snapshot, Workspace};

fn problem(path: &str, line: usize, message: String, hint: Option<&str>) -> Problem {
    Problem {
        path: path.to_string(),
        line,
        column: None,
        message,
        hint: hint.map(str::to_string),
    }
}

/// All problems in the tree at `snap`, sorted by path and line.
pub fn check(ws: &Workspace, snap: &Snapshot) -> Result<Vec<Problem>> {
    Ok(check_all(ws, snap)?.0)
}

/// The problems in the tree at `snap` and the warnings (what wt skips or cannot read, which
/// does not stop a commit), each sorted by path and line.
pub fn check_all(ws: &Workspace, snap: &Snapshot) -> Result<(Vec<Problem>, Vec<Problem>)> {
    let mut out = snap.problems.clone();
    let mut warnings = skipped_files(snap);
    // Unknown fields come with the snapshot (found when each blob was parsed, then cached).
    for t in snap
        .tickets
        .iter()
        .filter(|_| !snap.unknown_fields.is_empty())
    {
        for (key, line) in snap.unknown_fields.get(&t.path).into_iter().flatten() {
            out.push(problem(
                &t.path,
                *line,
                format!("unknown field `{key}`"),
                Some(&format!("known fields: {}", KNOWN_FIELDS.join(", "))),
            ));
        }
    }
    // Field line numbers, read only for tickets that turn out to have a problem.
    let lines: RefCell<HashMap<String, HashMap<String, usize>>> = RefCell::new(HashMap::new());
    let read_error: RefCell<Option<crate::error::Error>> = RefCell::new(None);
    let line_of = |t: &Ticket, key: &str| -> usize {
        let mut lines = lines.borrow_mut();
        let m = lines.entry(t.path.clone()).or_insert_with(|| {
            let text = ws.read_text(snap, &t.path).unwrap_or_else(|e| {
                read_error.borrow_mut().get_or_insert(e);
                String::new()
            });
            frontmatter::fields(&text)
                .unwrap_or_default()
                .into_iter()
                .map(|f| (f.key, f.line))
                .collect()
        });
        m.get(key).or_else(|| m.get("id")).copied().unwrap_or(1)
    };
    // Duplicate IDs, exactly or but for case: each names no ticket until fixed.
    let g = snap.graph()?;
    for group in g.duplicates() {
        for &i in group {
            let t = &snap.tickets[i];
            let others: Vec<String> = group
                .iter()
                .filter(|&&o| o != i)
                .map(|&o| {
                    let ot = &snap.tickets[o];
                    if ot.id == t.id {
                        ot.path.clone()
                    } else {
                        format!("{} as {}", ot.path, ot.id)
                    }
                })
                .collect();
            out.push(problem(
                &t.path,
                line_of(t, "id"),
                format!("duplicate id {} (also in {})", t.id, others.join(", ")),
                Some("ids must differ in more than case: give all but one of them a new id; until then wt refuses every one of them"),
            ));
        }
    }
    let real_root = ws.workdir().and_then(|r| r.canonicalize().ok());
    // What is wrong with each path named in `files:` or `artifacts:`, judged once per path
    // (thousands of tickets name the same few paths; each judgment asks the file system).
    let mut path_whys: FxHashMap<&str, Option<String>> = FxHashMap::default();
    for t in &snap.tickets {
        // The ticket file's folder and name.
        let (dir, name) = match memchr::memrchr(b'/', t.path.as_bytes()) {
            Some(k) => (&t.path[..k], &t.path[k + 1..]),
            None => ("", t.path.as_str()),
        };
        let stem = name.strip_suffix(".md").unwrap_or(name);
        // The stem is the ID, or the ID, `-` and a slug.
        let named = stem
            .strip_prefix(t.id.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'));
        if !named {
            out.push(problem(
                &t.path,
                line_of(t, "id"),
                format!("file name does not start with its id {}", t.id),
                Some("file names are <ID>-<slug>.md"),
            ));
        }
        let lettered =
            t.id.strip_prefix(t.kind.prefix())
                .is_some_and(|rest| rest.starts_with('-'));
        if !lettered {
            out.push(problem(
                &t.path,
                line_of(t, "id"),
                format!(
                    "id {} does not match kind {} (expected prefix {}-)",
                    t.id,
                    t.kind,
                    t.kind.prefix()
                ),
                Some("the id's letter names the kind (P- phase-spec, J- job, T- task): fix `kind:`, or give the ticket a new id; until then it is blocked"),
            ));
        }
        match (&t.parent, t.kind.parent_kind()) {
            (Some(p), _) if p == &t.id => out.push(problem(
                &t.path,
                line_of(t, "parent"),
                "parent is the ticket itself".into(),
                Some(
                    "set `parent:` to the ticket above it (or remove it); until then it is blocked",
                ),
            )),
            // The first ticket with that ID.
            (Some(p), want) => match g.get(p) {
                None => out.push(problem(
                    &t.path,
                    line_of(t, "parent"),
                    format!("parent {p} does not exist"),
                    Some("fix the id or remove the parent"),
                )),
                Some(pt) => {
                    if Some(pt.kind) != want {
                        let expected = want.map(|k| k.as_str()).unwrap_or("no parent");
                        out.push(problem(
                            &t.path,
                            line_of(t, "parent"),
                            format!(
                                "parent {p} is a {}, but a {}'s parent must be: {expected}",
                                pt.kind, t.kind
                            ),
                            Some("a task's parent is a job, a job's a phase-spec, and a phase-spec has none; fix `parent:` (until then the ticket is blocked)"),
                        ));
                    }
                    // Its children's folder: the parent's path without `.md`.
                    let folder = pt.path.strip_suffix(".md").unwrap_or(&pt.path);
                    if dir != folder {
                        out.push(problem(
                            &t.path,
                            line_of(t, "parent"),
                            format!("file is not in its parent's folder {folder}/"),
                            Some("move the file (git mv) so .work/ mirrors the plan"),
                        ));
                    }
                }
            },
            (None, _) => {
                if dir != config::WORK_DIR {
                    out.push(problem(
                        &t.path,
                        line_of(t, "id"),
                        "ticket without a parent is not at the top of .work/".into(),
                        Some("set `parent:` or move the file to .work/"),
                    ));
                }
            }
        }
        for d in &t.depends_on {
            if d == &t.id {
                out.push(problem(
                    &t.path,
                    line_of(t, "depends_on"),
                    "depends on itself".into(),
                    Some(&format!("remove it: `wt dep rm {0} {0}`", t.id)),
                ));
            } else if g.index_of(d).is_none() {
                out.push(problem(
                    &t.path,
                    line_of(t, "depends_on"),
                    format!("depends on unknown ticket {d}"),
                    Some("a dangling dependency blocks this ticket forever; fix or `wt dep rm` it"),
                ));
            }
        }
        match (t.status, &t.claimed_by) {
            (Status::InProgress, None) => out.push(problem(
                &t.path,
                line_of(t, "status"),
                "status is in_progress but nobody has claimed it".into(),
                Some("set status: open, or claim it"),
            )),
            (Status::Open, Some(by)) => out.push(problem(
                &t.path,
                line_of(t, "claimed_by"),
                format!("claimed by {by} but status is open"),
                Some("set status: in_progress, or clear claimed_by"),
            )),
            _ => {}
        }
        // Paths the ticket names: repository-relative, and inside the work tree.
        for (key, paths) in [("files", &t.files), ("artifacts", &t.artifacts)] {
            for p in paths.iter() {
                let why = path_whys.entry(p.as_str()).or_insert_with(|| {
                    super::paths::path_problem(p).or_else(|| {
                        real_root
                            .as_deref()
                            .and_then(|root| super::paths::outside_of_real_root(root, p))
                    })
                });
                if let Some(why) = why {
                    out.push(problem(
                        &t.path,
                        line_of(t, key),
                        format!("{key}: `{p}` {why}"),
                        Some("paths are relative to the repository root (src/lib.rs, src/**/*.rs); wt never reads this one"),
                    ));
                }
            }
        }
        // Names printed beside the ticket: one line of printable text.
        let names = [
            ("claimed_by", t.claimed_by.as_deref()),
            ("implemented_by", t.implemented_by.as_deref()),
            ("approved_by", t.approved_by.as_deref()),
            ("claim_stolen_from", t.claim_stolen_from.as_deref()),
        ];
        let labels = t.labels.iter().map(|l| ("labels", Some(l.as_str())));
        for (key, value) in names.into_iter().chain(labels) {
            if let Some(c) = value.and_then(crate::model::text::first_unsafe) {
                out.push(problem(
                    &t.path,
                    line_of(t, key),
                    format!(
                        "{key} contains the control character {}",
                        crate::model::text::code_point(c)
                    ),
                    Some("names and labels are one line of printable text: remove the character"),
                ));
            }
        }
        // Times wt cannot read: they never count (a claim never goes stale, an age is unknown).
        for (key, value) in [
            ("created", &t.created),
            ("updated", &t.updated),
            ("claimed_at", &t.claimed_at),
            ("approved_at", &t.approved_at),
        ] {
            if let Some(v) = value {
                if !crate::model::clock::is_rfc3339(v) {
                    warnings.push(problem(
                        &t.path,
                        line_of(t, key),
                        format!("{key} `{v}` is not an RFC 3339 time; wt ignores it"),
                        Some("write it like 2026-01-02T03:04:05Z"),
                    ));
                }
            }
        }
        if t.claim_expires.is_some() && t.lease_expiry().is_none() {
            out.push(problem(
                &t.path,
                line_of(t, "claim_expires"),
                "claim_expires is not an RFC 3339 time; the claim never counts as stale".into(),
                Some("write it like 2026-01-02T03:04:05Z, or renew it with `wt heartbeat`"),
            ));
        }
    }
    // A done container above open work (a tree edited by hand): wt itself reopens the
    // container when it puts open work under it.
    for (i, c) in crate::app::containers::done_above_open(&g) {
        let (t, open) = (&g.tickets[i], &g.tickets[c]);
        let more = g.open_descendants_of(i).len() - 1;
        out.push(problem(
            &t.path,
            line_of(t, "status"),
            format!(
                "done, but {} under it is {}{}",
                open.id,
                open.status,
                match more {
                    0 => String::new(),
                    1 => " (and 1 more ticket)".to_string(),
                    n => format!(" (and {n} more tickets)"),
                }
            ),
            Some(&format!(
                "`wt reopen {}` (it closes itself again when the work under it is done), or finish the work under it",
                t.id
            )),
        ));
    }
    for cycle in g.cycles() {
        if let Some(t) = cycle.first().and_then(|id| g.get(id)) {
            out.push(problem(
                &t.path,
                line_of(t, "depends_on"),
                format!("dependency cycle: {}", cycle.join(" -> ")),
                Some(crate::schedule::graph::CYCLE_HINT),
            ));
        }
    }
    if let Some(oid) = snap.blobs.get(CONFIG_PATH) {
        let text = String::from_utf8_lossy(&ws.store.read_blob(*oid)?).into_owned();
        let re = Regex::new(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:").expect("valid regex");
        for (n, l) in text.lines().enumerate() {
            if let Some(c) = re.captures(l) {
                if !config::KNOWN_KEYS.contains(&&c[1]) {
                    out.push(problem(
                        CONFIG_PATH,
                        n + 1,
                        format!("unknown config key `{}`", &c[1]),
                        Some(&format!("known keys: {}", config::KNOWN_KEYS.join(", "))),
                    ));
                }
            }
        }
        // Agent profiles `wt run` could not start, at the line that names them.
        for name in snap.config.agents.keys() {
            if let Err(msg) = crate::model::agent::resolve(name, &snap.config.agents) {
                let line = text
                    .lines()
                    .position(|l| {
                        let t = l.trim_start();
                        l.starts_with(' ') && (t.starts_with(&format!("{name}:")))
                    })
                    .map_or(1, |n| n + 1);
                out.push(problem(
                    CONFIG_PATH,
                    line,
                    msg,
                    Some("agent profiles: docs/agents.md"),
                ));
            }
        }
        // Bad `ci:` entries, at the line that names them.
        for (name, command) in &snap.config.ci {
            if let Some((msg, hint)) = crate::app::ci::entry_problem(name, command) {
                let keys = [
                    format!("{name}:"),
                    format!("\"{name}\":"),
                    format!("'{name}':"),
                ];
                let line = text
                    .lines()
                    .position(|l| keys.iter().any(|k| l.trim_start().starts_with(k.as_str())))
                    .map_or(1, |n| n + 1);
                out.push(problem(CONFIG_PATH, line, msg, Some(hint)));
            }
        }
    }
    if let Some(e) = read_error.into_inner() {
        return Err(e);
    }
    for list in [&mut out, &mut warnings] {
        list.sort_by(|a, b| {
            a.path
                .cmp(&b.path)
                .then(a.line.cmp(&b.line))
                .then(a.message.cmp(&b.message))
        });
        list.dedup();
    }
    Ok((out, warnings))
}

/// Files under `.work/` that look like tickets but are not read as tickets, and folders
/// named like ticket files: wt skips them, `wt check` says so. (Links, submodules and names
/// that are not UTF-8 are problems of the snapshot.)
fn skipped_files(snap: &Snapshot) -> Vec<Problem> {
    use crate::model::ticket::{is_ticket_path, looks_like_id_prefix};
    let prefix = format!("{}/", config::WORK_DIR);
    let templates = format!("{}/", config::TEMPLATES_DIR);
    let mut out = Vec::new();
    let mut folders: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for path in snap.blobs.keys() {
        let Some(rest) = path.strip_prefix(&prefix) else {
            continue;
        };
        // Each folder on the way (`.work/<part>`, `.work/<part>/<part>`, ...), then the name.
        let mut start = 0;
        for k in memchr::memchr_iter(b'/', rest.as_bytes()) {
            let part = &rest[start..k];
            if looks_like_id_prefix(part) && part.ends_with(".md") {
                folders.insert(&path[..prefix.len() + k]);
            }
            start = k + 1;
        }
        let name = &rest[start..];
        if !looks_like_id_prefix(name) {
            continue;
        }
        // `is_ticket_path`, knowing the name is named like a ticket.
        let ticket = !rest.starts_with("templates/") && rest.ends_with(".md");
        debug_assert_eq!(ticket, is_ticket_path(path), "{path}");
        if ticket {
            continue;
        }
        let (message, hint) = if path.starts_with(&templates) {
            (
                "is named like a ticket but lies under templates/, which wt does not read for tickets",
                "move it out of .work/templates/ (`git mv`), or rename it if it is a template",
            )
        } else {
            (
                "is named like a ticket but does not end in .md; wt does not read it",
                "rename it to <ID>-<slug>.md (`git mv`) if it is a ticket, or move it out of .work/",
            )
        };
        out.push(problem(path, 1, message.into(), Some(hint)));
    }
    for dir in folders {
        out.push(problem(
            dir,
            1,
            "is a folder named like a ticket file; wt reads no ticket from it".into(),
            Some(
                "rename it (a ticket's children live in a folder named like its file without .md)",
            ),
        ));
    }
    out
}

/// `wt check`: the problems in the ticket tree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    pub schema_version: crate::app::report::SchemaVersion,
    /// No problem was found (warnings do not count).
    pub ok: bool,
    /// How many tickets were read.
    pub tickets: usize,
    /// One per problem, with file and line.
    pub problems: Vec<Problem>,
    /// What wt skips or ignores without it being an error: files named like tickets that are
    /// not read as tickets, times it cannot read. Same shape as `problems`.
    pub warnings: Vec<Problem>,
}

/// Validate the whole ticket tree at the state branch's tip.
pub fn check_tip(ws: &Workspace) -> Result<CheckReport> {
    let snap = ws.snapshot()?;
    let (problems, warnings) = check_all(ws, &snap)?;
    let report = CheckReport {
        schema_version: crate::app::report::SchemaVersion,
        ok: problems.is_empty(),
        tickets: snap.tickets.len(),
        problems,
        warnings,
    };
    crate::workspace::finished_with(snap);
    Ok(report)
}
