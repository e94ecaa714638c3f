//! `wt check`: validate the whole ticket tree. Each problem is `path:line: message`.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

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
    let mut out = snap.problems.clone();
    // Unknown fields come with the snapshot (found when each blob was parsed, then cached).
    for t in &snap.tickets {
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
    // Duplicate IDs.
    let mut by_id: HashMap<&str, Vec<&Ticket>> = HashMap::new();
    for t in &snap.tickets {
        by_id.entry(t.id.as_str()).or_default().push(t);
    }
    for (id, ts) in &by_id {
        if ts.len() > 1 {
            for t in ts {
                let others: Vec<&str> = ts
                    .iter()
                    .filter(|o| o.path != t.path)
                    .map(|o| o.path.as_str())
                    .collect();
                out.push(problem(
                    &t.path,
                    line_of(t, "id"),
                    format!("duplicate id {id} (also in {})", others.join(", ")),
                    Some("give one of them a new id"),
                ));
            }
        }
    }
    for t in &snap.tickets {
        let name = t.path.rsplit('/').next().unwrap_or(&t.path);
        let stem = name.strip_suffix(".md").unwrap_or(name);
        if stem != t.id && !stem.starts_with(&format!("{}-", t.id)) {
            out.push(problem(
                &t.path,
                line_of(t, "id"),
                format!("file name does not start with its id {}", t.id),
                Some("file names are <ID>-<slug>.md"),
            ));
        }
        if !t.id.starts_with(&format!("{}-", t.kind.prefix())) {
            out.push(problem(
                &t.path,
                line_of(t, "id"),
                format!(
                    "id {} does not match kind {} (expected prefix {}-)",
                    t.id,
                    t.kind,
                    t.kind.prefix()
                ),
                None,
            ));
        }
        match (&t.parent, t.kind.parent_kind()) {
            (Some(p), want) => match by_id.get(p.as_str()).and_then(|v| v.first()) {
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
                            None,
                        ));
                    }
                    let folder = pt.child_dir();
                    let dir = t.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
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
                let dir = t.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
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
                    None,
                ));
            } else if !by_id.contains_key(d.as_str()) {
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
        if t.claim_expires.is_some() && t.lease_expiry().is_none() {
            out.push(problem(
                &t.path,
                line_of(t, "claim_expires"),
                "claim_expires is not an RFC 3339 time; the claim never counts as stale".into(),
                Some("write it like 2026-01-02T03:04:05Z, or renew it with `wt heartbeat`"),
            ));
        }
    }
    let g = snap.graph()?;
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
    out.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.line.cmp(&b.line))
            .then(a.message.cmp(&b.message))
    });
    out.dedup();
    Ok(out)
}

/// `wt check`: the problems in the ticket tree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CheckReport {
    pub schema_version: crate::app::report::SchemaVersion,
    /// No problem was found.
    pub ok: bool,
    /// How many tickets were read.
    pub tickets: usize,
    /// One per problem, with file and line.
    pub problems: Vec<Problem>,
}

/// Validate the whole ticket tree at the state branch's tip.
pub fn check_tip(ws: &Workspace) -> Result<CheckReport> {
    let snap = ws.snapshot()?;
    let problems = check(ws, &snap)?;
    let report = CheckReport {
        schema_version: crate::app::report::SchemaVersion,
        ok: problems.is_empty(),
        tickets: snap.tickets.len(),
        problems,
    };
    crate::workspace::finished_with(snap);
    Ok(report)
}
