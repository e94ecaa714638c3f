//! `wt import --from <beads|backlog|taskmaster|tk> PATH`: another tracker's items as tickets,
//! in one commit; again later, only what changed.
//!
//! The tracker's files are found under PATH and read by its reader
//! ([`crate::model::import_from`]). Each ticket keeps the item's identity in `source:`
//! (`beads:bd-a3f8`) and its ID in `aliases:` (so `wt show bd-a3f8` finds it). An import
//! of a source imported before matches items to tickets by `source`: a ticket whose item
//! did not change (same `source_hash`) is left as it is, one whose item changed is
//! rewritten from it (frontmatter and body; its file moves when its parent changed), new
//! items become new tickets. Nothing is deleted: tickets whose item is gone are reported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::SchemaVersion;
use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::config::WORK_DIR;
use crate::model::frontmatter::{self, Value};
use crate::model::id;
use crate::model::import_from::{assign_kinds, Converted, Note, NoteKind, SourceFile, Tool};
use crate::model::item::Item;
use crate::model::lease;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::schedule::graph::Graph;
use crate::store::Edit;
use crate::workspace::{Message, Outcome, Reads, Snapshot, Workspace, Written};

/// What to import.
#[derive(Debug, Clone)]
pub struct Options {
    pub tool: Tool,
    /// Where the tracker's files are (absolute, or relative to the current directory).
    pub path: PathBuf,
    /// PATH as the user wrote it, for messages.
    pub display: String,
    /// Show what would change; commit nothing.
    pub dry_run: bool,
    pub agent: Option<String>,
}

/// A ticket the import made or changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedTicket {
    /// The item's ID in the source.
    pub source_id: String,
    /// The ticket's ID.
    pub id: String,
    pub kind: Kind,
    pub status: Status,
    pub title: String,
}

/// `wt import --from`: what the import did (or, with `--dry-run`, would do).
#[derive(Debug, Clone, Serialize)]
pub struct ForeignImportReport {
    pub schema_version: SchemaVersion,
    /// The tracker: `beads`, `backlog`, `taskmaster` or `tk`.
    pub from: Tool,
    /// The files read, relative to PATH.
    pub files: Vec<String>,
    /// Nothing was committed.
    pub dry_run: bool,
    /// Items read from the source (deleted ones not counted).
    pub items: usize,
    /// Tickets made for items not imported before.
    pub created: Vec<ImportedTicket>,
    /// Tickets rewritten because their item changed in the source.
    pub updated: Vec<ImportedTicket>,
    /// Items whose ticket was left as it is (the item did not change).
    pub unchanged: usize,
    /// Tickets (imported or not) whose file moved because their parent's did.
    pub moved: Vec<String>,
    /// Everything that did not carry over as it was, by the item's original ID.
    pub notes: Vec<Note>,
    /// How many notes of each kind.
    pub note_counts: BTreeMap<NoteKind, usize>,
    /// Source fields no ticket field holds, kept in each ticket body's Source section:
    /// field → how many items had it.
    pub kept_in_body: BTreeMap<String, usize>,
    /// The commit on the state branch; null with `--dry-run` or when nothing changed.
    pub commit: Option<String>,
}

/// Find and read the tracker's files under `path`: paths relative to `path` (with `/`).
pub fn read_source(tool: Tool, path: &Path, display: &str) -> Result<Vec<SourceFile>> {
    let missing = |what: &str| {
        Error::not_found(format!("{display}: no {what} here")).with_hint(format!(
            "give the folder that holds {what}, or the file itself (see docs/importing.md)"
        ))
    };
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::not_found(format!("cannot read {display}: {e}")))?;
    let mut found: Vec<PathBuf> = Vec::new();
    match tool {
        Tool::Beads => {
            if meta.is_file() {
                found.push(path.to_path_buf());
            } else {
                let c = [".beads/issues.jsonl", "issues.jsonl"]
                    .iter()
                    .map(|c| path.join(c))
                    .find(|p| p.is_file())
                    .ok_or_else(|| missing(".beads/issues.jsonl"))?;
                found.push(c);
            }
        }
        Tool::Taskmaster => {
            if meta.is_file() {
                found.push(path.to_path_buf());
            } else {
                let c = [
                    ".taskmaster/tasks/tasks.json",
                    "tasks/tasks.json",
                    "tasks.json",
                ]
                .iter()
                .map(|c| path.join(c))
                .find(|p| p.is_file())
                .ok_or_else(|| missing(".taskmaster/tasks/tasks.json"))?;
                found.push(c);
            }
        }
        Tool::Tk => {
            let dir = if path.join(".tickets").is_dir() {
                path.join(".tickets")
            } else if meta.is_dir() {
                path.to_path_buf()
            } else {
                return Err(missing(".tickets/"));
            };
            for e in std::fs::read_dir(&dir)?.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "md") && p.is_file() {
                    found.push(p);
                }
            }
            if found.is_empty() {
                return Err(missing(".tickets/*.md"));
            }
        }
        Tool::Backlog => {
            let root = if path.join("backlog").is_dir() {
                path.join("backlog")
            } else if meta.is_dir() {
                path.to_path_buf()
            } else {
                return Err(missing("backlog/"));
            };
            if root.join("config.yml").is_file() {
                found.push(root.join("config.yml"));
            }
            let before = found.len();
            for area in ["tasks", "completed", "drafts", "archive"] {
                walk_md(&root.join(area), 0, &mut found);
            }
            if found.len() == before {
                return Err(missing("backlog/tasks/"));
            }
        }
    }
    found.sort();
    let mut files = Vec::with_capacity(found.len());
    for p in found {
        let bytes = std::fs::read(&p)
            .map_err(|e| Error::not_found(format!("cannot read {}: {e}", p.display())))?;
        let rel = p
            .strip_prefix(path)
            .unwrap_or(&p)
            .to_string_lossy()
            .replace('\\', "/");
        let rel = if rel.is_empty() {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        } else {
            rel
        };
        files.push(SourceFile {
            path: rel,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        });
    }
    Ok(files)
}

/// The `.md` files under `dir`, a few levels deep.
fn walk_md(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 4 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk_md(&p, depth + 1, out);
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
}

/// Read the source and import it (or, with `dry_run`, say what an import would do).
pub fn import(ws: &Workspace, opts: &Options) -> Result<Written<ForeignImportReport>> {
    let files = read_source(opts.tool, &opts.path, &opts.display)?;
    let conv = opts.tool.read(&files);
    let names: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    if opts.dry_run {
        let snap = ws.snapshot()?;
        let planned = plan(ws, &snap, opts, &conv, &names)?;
        crate::workspace::finished_with(snap);
        return Ok(Written {
            commit: None,
            value: planned.report,
            warnings: Vec::new(),
            retries: 0,
        });
    }
    let mut w = ws.write(Reads::All, |snap| {
        let planned = plan(ws, snap, opts, &conv, &names)?;
        if planned.edits.is_empty() {
            return Ok(Outcome::NoOp(planned.report));
        }
        Ok(Outcome::Commit {
            edits: planned.edits,
            message: planned.message,
            value: planned.report,
        })
    })?;
    w.value.commit = w.commit.map(|c| c.to_string());
    Ok(w)
}

struct Planned {
    edits: Vec<Edit>,
    message: Message,
    report: ForeignImportReport,
}

/// What an import changes at `snap`.
fn plan(
    ws: &Workspace,
    snap: &Snapshot,
    opts: &Options,
    conv: &Converted,
    files: &[String],
) -> Result<Planned> {
    let tool = opts.tool;
    let prefix = format!("{tool}:");
    // Tickets of this source, by source.
    let mut existing: HashMap<&str, usize> = HashMap::new();
    for (i, t) in snap.tickets.iter().enumerate() {
        if let Some(s) = t.source.as_deref().filter(|s| s.starts_with(&prefix)) {
            existing.entry(s).or_insert(i);
        }
    }
    let mut items: Vec<Item> = conv.items.clone();
    let mut notes: Vec<Note> = conv.notes.clone();
    notes.extend(assign_kinds(&mut items, &|it| {
        existing.get(it.key.as_str()).map(|&i| snap.tickets[i].kind)
    }));
    // An ID for every item: the ticket's, or a new one.
    let mut taken: HashSet<String> = snap.tickets.iter().map(|t| t.id.clone()).collect();
    let mut id_of: HashMap<&str, String> = HashMap::new();
    for it in &items {
        let id = match existing.get(it.key.as_str()) {
            Some(&i) => snap.tickets[i].id.clone(),
            None => {
                let id = id::generate(it.kind, &|c| taken.contains(c));
                taken.insert(id.clone());
                id
            }
        };
        id_of.insert(it.key.as_str(), id);
    }
    let key_id = |k: &str| id_of.get(k).cloned().unwrap_or_else(|| k.to_string());
    // The final parent of every ticket: imported ones from their item, others unchanged.
    let mut parent_of: HashMap<String, Option<String>> = snap
        .tickets
        .iter()
        .map(|t| (t.id.clone(), t.parent.clone()))
        .collect();
    for it in &items {
        parent_of.insert(key_id(&it.key), it.parent.as_deref().map(key_id));
    }
    let item_of: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (key_id(&it.key), i))
        .collect();
    let ticket_of: HashMap<&str, usize> = snap
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    // Parents first.
    let mut depth: HashMap<String, usize> = HashMap::new();
    let all_ids: Vec<String> = parent_of.keys().cloned().collect();
    for start in &all_ids {
        let mut chain = vec![start.clone()];
        let mut base = 0;
        loop {
            let cur = chain.last().cloned().unwrap_or_default();
            let Some(Some(p)) = parent_of.get(&cur) else {
                break;
            };
            if let Some(&d) = depth.get(p) {
                base = d + 1;
                break;
            }
            if chain.contains(p) || !parent_of.contains_key(p) {
                break;
            }
            chain.push(p.clone());
        }
        for (k, id) in chain.iter().rev().enumerate() {
            depth.entry(id.clone()).or_insert(base + k);
        }
    }
    let mut order = all_ids;
    let depth_of = |id: &String| depth.get(id).copied().unwrap_or(0);
    order.sort_by(|a, b| depth_of(a).cmp(&depth_of(b)).then(a.cmp(b)));

    let now = clock::timestamp();
    let expires = lease::expiry(clock::now(), snap.config.claims.lease_minutes);
    let mut templates: HashMap<Kind, String> = HashMap::new();
    let mut path_of: HashMap<String, String> = HashMap::new();
    let mut edits: Vec<Edit> = Vec::new();
    let mut finals: HashMap<String, Ticket> = HashMap::new();
    let mut created = Vec::new();
    let mut updated = Vec::new();
    let mut moved = Vec::new();
    let mut unchanged = 0usize;
    for tid in &order {
        let parent_dir = match parent_of.get(tid).cloned().flatten() {
            Some(p) => path_of
                .get(&p)
                .map(|x| x.strip_suffix(".md").unwrap_or(x).to_string())
                .or_else(|| {
                    ticket_of
                        .get(p.as_str())
                        .map(|&i| snap.tickets[i].child_dir())
                }),
            None => Some(WORK_DIR.to_string()),
        };
        let old = ticket_of.get(tid.as_str()).map(|&i| &snap.tickets[i]);
        let item = item_of.get(tid).map(|&i| &items[i]);
        match (old, item) {
            // A new ticket.
            (None, Some(it)) => {
                let parent = parent_of.get(tid).cloned().flatten();
                let parent_path = parent_dir.as_deref().map(|d| format!("{d}.md"));
                let parent_path = parent_path.filter(|_| parent.is_some());
                let mut fields = import_fields(it, &key_id);
                if it.status == Some(Status::InProgress) {
                    fields.extend(claim_fields(it, &now, expires.as_deref()));
                }
                let t = super::import::prepare_item(
                    ws,
                    snap,
                    &mut templates,
                    it,
                    tid,
                    parent,
                    deps(it, &key_id),
                    None,
                    parent_path.as_deref(),
                    &fields,
                    &|e| item_error(it, e),
                )?;
                let (t, text) = (t.ticket, t.text);
                path_of.insert(tid.clone(), t.path.clone());
                edits.push(Edit::Write {
                    path: t.path.clone(),
                    content: text.into_bytes(),
                });
                created.push((
                    item_of.get(tid).copied().unwrap_or(usize::MAX),
                    imported(it, &t),
                ));
                finals.insert(tid.clone(), t);
            }
            (Some(t), item) => {
                let name = t.path.rsplit('/').next().unwrap_or(&t.path);
                let path = match &parent_dir {
                    Some(d) => format!("{d}/{name}"),
                    None => t.path.clone(),
                };
                path_of.insert(tid.clone(), path.clone());
                let changed = item.filter(|it| t.source_hash.as_deref() != Some(&it.digest()));
                if item.is_some() && changed.is_none() {
                    unchanged += 1;
                }
                if changed.is_none() && path == t.path {
                    continue;
                }
                let mut text = ws.read_text(snap, &t.path)?;
                if let Some(it) = changed {
                    text = rewrite(&text, t, it, &key_id, &now, expires.as_deref())?;
                }
                let nt = crate::model::ticket::parse(&path, &text)
                    .map_err(|e| Error::invalid(format!("{}: {e}", t.path)))?;
                if path != t.path {
                    edits.push(Edit::Delete {
                        path: t.path.clone(),
                    });
                    moved.push(t.id.clone());
                }
                edits.push(Edit::Write {
                    path: path.clone(),
                    content: text.into_bytes(),
                });
                if let Some(it) = changed {
                    updated.push((
                        item_of.get(tid).copied().unwrap_or(usize::MAX),
                        imported(it, &nt),
                    ));
                }
                finals.insert(tid.clone(), nt);
            }
            (None, None) => {}
        }
    }
    // Tickets of this source whose item is gone.
    let keys: HashSet<&str> = items.iter().map(|it| it.key.as_str()).collect();
    let mut gone: Vec<&Ticket> = existing
        .iter()
        .filter(|(s, _)| !keys.contains(*s))
        .map(|(_, &i)| &snap.tickets[i])
        .collect();
    gone.sort_by(|a, b| a.id.cmp(&b.id));
    for t in gone {
        notes.push(Note {
            key: original(t),
            kind: NoteKind::NotInSource,
            message: format!("{} is no longer in the source: ticket left as it is", t.id),
        });
    }
    // Cycles through imported tickets: kept (as in the source, nothing on them is ready).
    if !items.is_empty() {
        let all: Vec<Ticket> = snap
            .tickets
            .iter()
            .map(|t| finals.get(&t.id).cloned().unwrap_or_else(|| t.clone()))
            .chain(
                created
                    .iter()
                    .filter_map(|(_, c)| finals.get(&c.id).cloned()),
            )
            .collect();
        let g = Graph::new(&all);
        let by_id: HashMap<&str, &Ticket> = all.iter().map(|t| (t.id.as_str(), t)).collect();
        for c in g.cycles() {
            let ours = c.iter().any(|id| {
                by_id
                    .get(id.as_str())
                    .is_some_and(|t| t.source.as_deref().is_some_and(|s| s.starts_with(&prefix)))
            });
            if !ours {
                continue;
            }
            let mut named: Vec<String> = c
                .iter()
                .map(|id| by_id.get(id.as_str()).map_or(id.clone(), |t| original(t)))
                .collect();
            // Start at the smallest original ID, so the same cycle reads the same each time.
            named.pop();
            if let Some(m) = (0..named.len()).min_by(|&a, &b| named[a].cmp(&named[b])) {
                named.rotate_left(m);
            }
            if let Some(f) = named.first().cloned() {
                named.push(f);
            }
            notes.push(Note {
                key: named.first().cloned().unwrap_or_default(),
                kind: NoteKind::Cycle,
                message: format!(
                    "dependency cycle {}: kept, so none of it is ready (as in the source); `wt dep rm` one edge",
                    named.join(" -> ")
                ),
            });
        }
    }
    notes.sort_by_key(|n| n.kind);
    // In source order.
    created.sort_by_key(|(i, _)| *i);
    updated.sort_by_key(|(i, _)| *i);
    let created: Vec<ImportedTicket> = created.into_iter().map(|(_, t)| t).collect();
    let updated: Vec<ImportedTicket> = updated.into_iter().map(|(_, t)| t).collect();
    let mut note_counts: BTreeMap<NoteKind, usize> = BTreeMap::new();
    for n in &notes {
        *note_counts.entry(n.kind).or_insert(0) += 1;
    }
    let subject = format!(
        "{} {}: {} new, {} updated, {} unchanged",
        tool,
        crate::model::import_from::text::line(&opts.display),
        created.len(),
        updated.len(),
        unchanged
    );
    let mut message = Message::new("import", subject).agent(opts.agent.as_deref());
    for t in created.iter().chain(updated.iter()) {
        message = message.ticket(&t.id);
    }
    Ok(Planned {
        edits,
        message,
        report: ForeignImportReport {
            schema_version: SchemaVersion,
            from: tool,
            files: files.to_vec(),
            dry_run: opts.dry_run,
            items: items.len(),
            created,
            updated,
            unchanged,
            moved,
            notes,
            note_counts,
            kept_in_body: conv.kept_in_body.clone(),
            commit: None,
        },
    })
}

/// The ID a ticket had in its source (its first alias), else its own.
fn original(t: &Ticket) -> String {
    t.aliases.first().cloned().unwrap_or_else(|| t.id.clone())
}

fn item_error(it: &Item, e: Error) -> Error {
    let name = it.aliases.first().unwrap_or(&it.key);
    Error::new(e.kind, format!("item {name}: {}", e.message))
}

fn imported(it: &Item, t: &Ticket) -> ImportedTicket {
    ImportedTicket {
        source_id: it
            .aliases
            .first()
            .cloned()
            .unwrap_or_else(|| it.key.clone()),
        id: t.id.clone(),
        kind: t.kind,
        status: t.status,
        title: t.title.clone(),
    }
}

/// The item's dependencies as ticket IDs, then the ones the source lacks as written.
fn deps(it: &Item, key_id: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in it
        .depends_on
        .iter()
        .map(|k| key_id(k))
        .chain(it.dangling.iter().cloned())
    {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// The fields an import sets besides the ones `wt new` writes.
fn import_fields(it: &Item, key_id: &dyn Fn(&str) -> String) -> Vec<(&'static str, Value)> {
    let links: Vec<String> = it
        .links
        .iter()
        .map(|(ty, k)| format!("{ty}:{}", key_id(k)))
        .collect();
    let mut f = vec![
        ("aliases", Value::List(it.aliases.clone())),
        ("links", Value::List(links)),
        ("source", super::opt(it.source.as_deref())),
        ("source_hash", Value::Str(it.digest())),
    ];
    if let Some(c) = &it.created {
        f.push(("created", Value::Str(c.clone())));
    }
    if let Some(u) = &it.updated {
        f.push(("updated", Value::Str(u.clone())));
    }
    f
}

/// A claim for an item in progress in the source, by whoever holds it there.
fn claim_fields(it: &Item, now: &str, expires: Option<&str>) -> Vec<(&'static str, Value)> {
    vec![
        (
            "claimed_by",
            Value::Str(it.claimant.clone().unwrap_or_else(|| "imported".into())),
        ),
        ("claimed_at", Value::Str(now.to_string())),
        ("claim_expires", super::opt(expires)),
        ("claim_token", Value::Str(lease::new_token())),
    ]
}

/// A ticket's file rewritten from its changed item: the fields the import sets, the claim
/// (kept when the same holder still has it), and the body.
fn rewrite(
    text: &str,
    t: &Ticket,
    it: &Item,
    key_id: &dyn Fn(&str) -> String,
    now: &str,
    expires: Option<&str>,
) -> Result<String> {
    let status = it.status.unwrap_or(Status::Open);
    let mut fields: Vec<(&str, Value)> = vec![
        ("title", Value::Str(it.title.clone())),
        ("status", Value::Str(status.as_str().into())),
        (
            "parent",
            super::opt(it.parent.as_deref().map(key_id).as_deref()),
        ),
        ("depends_on", Value::List(deps(it, key_id))),
        ("files", Value::List(it.files.clone().unwrap_or_default())),
        ("labels", Value::List(it.labels.clone().unwrap_or_default())),
    ];
    if let Some(p) = it.priority {
        fields.push(("priority", Value::Int(i64::from(p))));
    }
    fields.extend(import_fields(it, key_id));
    if status == Status::InProgress {
        if t.claimed_by.is_none() || t.claimed_by != it.claimant {
            fields.extend(claim_fields(it, now, expires));
        }
    } else if t.claimed_by.is_some() {
        for k in lease::CLAIM_FIELDS {
            fields.push((k, Value::Null));
        }
    }
    let text = super::set_fields(text, &fields)?;
    let split = frontmatter::split(&text)
        .map_err(|e| Error::invalid(format!("{}: {e}", t.path)).with_hint("run `wt check`"))?;
    let mut out = text[..split.body_offset].to_string();
    out.push_str(it.body.as_deref().unwrap_or(""));
    Ok(out)
}
