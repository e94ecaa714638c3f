//! Other trackers' files as import items (`wt import --from`): beads, Backlog.md, Task
//! Master and ticket (`tk`).
//!
//! Pure text to items: the caller reads the files. Each tracker's reader (one file each)
//! turns its files into [`Foreign`] items as the tracker sees them; [`convert`] then maps
//! those onto tickets the same way for every tracker — keys, references, duplicate IDs,
//! parents, the body — and [`assign_kinds`] fits the hierarchy onto phase-spec → job → task.
//! Everything that does not carry over as it was becomes a [`Note`] naming the original ID.

pub mod backlog;
pub mod beads;
pub mod taskmaster;
pub mod text;
pub mod tk;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::model::item::Item;
use crate::model::ticket::{Kind, Status};

/// The trackers wt imports from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tool {
    /// beads (`bd`): `.beads/issues.jsonl`.
    Beads,
    /// Backlog.md: the `backlog/` folder.
    Backlog,
    /// Task Master: `.taskmaster/tasks/tasks.json`.
    Taskmaster,
    /// ticket (`tk`): `.tickets/*.md`.
    Tk,
}

impl Tool {
    pub const ALL: [Tool; 4] = [Tool::Beads, Tool::Backlog, Tool::Taskmaster, Tool::Tk];

    /// The name `--from` takes and `source:` fields start with.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Beads => "beads",
            Tool::Backlog => "backlog",
            Tool::Taskmaster => "taskmaster",
            Tool::Tk => "tk",
        }
    }

    /// The tracker's own name.
    pub fn display_name(self) -> &'static str {
        match self {
            Tool::Beads => "beads",
            Tool::Backlog => "Backlog.md",
            Tool::Taskmaster => "Task Master",
            Tool::Tk => "ticket (tk)",
        }
    }

    /// Read the tracker's files into items (see each reader for the layout it expects).
    pub fn read(self, files: &[SourceFile]) -> Converted {
        match self {
            Tool::Beads => {
                let r = beads::read(files);
                convert(self, r, &beads::Names)
            }
            Tool::Backlog => {
                let (r, names) = backlog::read(files);
                convert(self, r, &names)
            }
            Tool::Taskmaster => {
                let r = taskmaster::read(files);
                convert(self, r, &taskmaster::Names)
            }
            Tool::Tk => {
                let r = tk::read(files);
                convert(self, r, &tk::Names)
            }
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Tool {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "beads" | "bd" => Ok(Tool::Beads),
            "backlog" | "backlog.md" | "backlogmd" => Ok(Tool::Backlog),
            "taskmaster" | "task-master" | "tm" => Ok(Tool::Taskmaster),
            "tk" | "ticket" => Ok(Tool::Tk),
            _ => Err(format!(
                "unknown tracker `{s}` (expected beads, backlog, taskmaster or tk)"
            )),
        }
    }
}

/// A file of the source: its path under the source root (with `/`) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

/// Something of the source that did not carry over as it was, by the item's original ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The item's ID in the source (or the file, for a file that could not be read).
    pub key: String,
    pub kind: NoteKind,
    pub message: String,
}

/// What a [`Note`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// A file or line that could not be read: nothing of it was imported.
    Unreadable,
    /// Frontmatter that is not strict YAML, read line by line instead.
    LenientFrontmatter,
    /// A second item with an ID already seen: imported as `<id>#2`.
    DuplicateId,
    /// An item the source marks deleted (a beads tombstone): not imported.
    Deleted,
    /// A dependency on an item the source does not have: kept as written, and it blocks.
    UnknownDependency,
    /// A reference with an old ID prefix, read as the item with the same number.
    OldPrefix,
    /// A parent the source does not have: dropped (kept as a `parent:` link).
    UnknownParent,
    /// A parent dropped: a second parent, or parents that form a loop (kept as a link).
    ParentDropped,
    /// Deeper than phase-spec → job → task: put under the nearest job (original parent kept
    /// as a `parent:` link).
    Flattened,
    /// Dependencies that form a cycle: kept (the tickets on it never become ready, as in
    /// the source); `wt check` lists it.
    Cycle,
    /// A status neither wt nor the mapping table knows: escalated, with a `status:` label.
    UnknownStatus,
    /// An item without a title: named after its ID.
    NoTitle,
    /// A value outside wt's range (a priority), clamped.
    OutOfRange,
    /// A ticket imported from this source earlier that the source no longer has: left as is.
    NotInSource,
    /// A ticket whose kind cannot change (its ID carries it) that no longer fits under its
    /// new parent: left without a parent (kept as a `parent:` link).
    KindKept,
}

impl NoteKind {
    /// The name `--json` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Unreadable => "unreadable",
            NoteKind::LenientFrontmatter => "lenient_frontmatter",
            NoteKind::DuplicateId => "duplicate_id",
            NoteKind::Deleted => "deleted",
            NoteKind::UnknownDependency => "unknown_dependency",
            NoteKind::OldPrefix => "old_prefix",
            NoteKind::UnknownParent => "unknown_parent",
            NoteKind::ParentDropped => "parent_dropped",
            NoteKind::Flattened => "flattened",
            NoteKind::Cycle => "cycle",
            NoteKind::UnknownStatus => "unknown_status",
            NoteKind::NoTitle => "no_title",
            NoteKind::OutOfRange => "out_of_range",
            NoteKind::NotInSource => "not_in_source",
            NoteKind::KindKept => "kind_kept",
        }
    }
}

/// An item as its tracker has it, before it is mapped onto a ticket.
#[derive(Debug, Clone, Default)]
pub struct Foreign {
    /// The ID as the source writes it.
    pub id: String,
    /// More names that should find the ticket, besides the ID.
    pub aliases: Vec<String>,
    pub title: String,
    pub status: Status,
    /// A label that says what the source called the status, where wt's status is not the
    /// same thing (`status:blocked`).
    pub status_label: Option<String>,
    /// Who holds the item, for one in progress.
    pub claimant: Option<String>,
    pub priority: Option<u8>,
    /// References as the source writes them.
    pub parent: Option<String>,
    pub depends_on: Vec<String>,
    /// Relations that do not block: (type, reference).
    pub links: Vec<(String, String)>,
    pub labels: Vec<String>,
    pub files: Vec<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    /// The Description section.
    pub description: String,
    /// More body sections in order, `(heading, text)`; `Acceptance Criteria` among them.
    pub sections: Vec<(String, String)>,
    /// Fields wt has no slot for, by source name: kept in the body's Source section.
    pub extra: Vec<(String, serde_json::Value)>,
    /// The file it was read from (`backlog/tasks/task-1 - A.md`), named in the body.
    pub origin: String,
    /// Where in the file, for messages (`.beads/issues.jsonl:12`); not in the body, so an
    /// item that only moved within the file is unchanged.
    pub place: String,
}

impl Foreign {
    /// Keep a field wt has no slot for (empty values are not kept).
    pub fn keep(&mut self, name: &str, value: serde_json::Value) {
        let empty = match &value {
            serde_json::Value::Null => true,
            serde_json::Value::String(s) => s.trim().is_empty(),
            serde_json::Value::Array(a) => a.is_empty(),
            serde_json::Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if !empty {
            self.extra.push((name.to_string(), value));
        }
    }

    /// Add a body section unless its text is empty.
    pub fn section(&mut self, heading: &str, body: &str) {
        let body = text::block(body);
        if !body.trim().is_empty() {
            self.sections.push((heading.to_string(), body));
        }
    }
}

/// What a reader found.
#[derive(Debug, Default)]
pub struct Read {
    pub items: Vec<Foreign>,
    pub notes: Vec<Note>,
}

/// How a tracker matches references to IDs.
pub trait Naming {
    /// The form two IDs have in common when they name the same item (case, zeros, ...).
    fn canonical(&self, id: &str) -> String;
    /// For a reference that matches no ID: the canonical ID it may still mean (an old
    /// prefix), if exactly one.
    fn loose(&self, _reference: &str) -> Option<String> {
        None
    }
}

/// The source as import items, and what did not carry over.
#[derive(Debug, Default)]
pub struct Converted {
    /// Keys are the `source` values (`beads:bd-a3f8`); parents and dependencies name keys.
    pub items: Vec<Item>,
    pub notes: Vec<Note>,
    /// Source fields with no ticket field, kept in the body's Source section: field → how
    /// many items had one.
    pub kept_in_body: BTreeMap<String, usize>,
}

/// Map a reader's items onto import items: the key of each (`<tool>:<canonical id>`, and
/// `#2`, `#3` for later items with an ID already seen), references resolved to keys
/// (unknown dependencies kept as written: they block), parent loops broken, the body made.
pub fn convert(tool: Tool, read: Read, naming: &dyn Naming) -> Converted {
    let Read {
        items: foreign,
        mut notes,
    } = read;
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut copies: HashMap<String, usize> = HashMap::new();
    let mut keys = Vec::with_capacity(foreign.len());
    let mut dup_alias: Vec<Option<String>> = Vec::with_capacity(foreign.len());
    for (i, f) in foreign.iter().enumerate() {
        let c = naming.canonical(&f.id);
        let n = copies.entry(c.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            first.insert(c.clone(), i);
            keys.push(format!("{tool}:{c}"));
            dup_alias.push(None);
        } else {
            let other = first.get(&c).map_or("", |&j| foreign[j].place.as_str());
            notes.push(Note {
                key: f.id.clone(),
                kind: NoteKind::DuplicateId,
                message: format!(
                    "{} has the ID of {other}: imported as {}#{n}; references to {} go to the first",
                    f.place, f.id, f.id
                ),
            });
            keys.push(format!("{tool}:{c}#{n}"));
            dup_alias.push(Some(format!("{}#{n}", f.id)));
        }
    }
    let mut loose_noted: HashSet<(usize, String)> = HashSet::new();
    let mut resolve = |i: usize, r: &str, notes: &mut Vec<Note>| -> Option<usize> {
        if let Some(&j) = first.get(&naming.canonical(r)) {
            return Some(j);
        }
        let c = naming.loose(r)?;
        let j = *first.get(&c)?;
        if loose_noted.insert((i, r.to_string())) {
            notes.push(Note {
                key: foreign[i].id.clone(),
                kind: NoteKind::OldPrefix,
                message: format!("reference {r} read as {}", foreign[j].id),
            });
        }
        Some(j)
    };
    // Parents and dependencies as indexes.
    let n = foreign.len();
    let mut parent: Vec<Option<usize>> = vec![None; n];
    let mut links: Vec<Vec<(String, String)>> = vec![Vec::new(); n];
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut dangling: Vec<Vec<String>> = vec![Vec::new(); n];
    for (i, f) in foreign.iter().enumerate() {
        if let Some(p) = &f.parent {
            match resolve(i, p, &mut notes) {
                Some(j) if j != i => parent[i] = Some(j),
                Some(_) => {
                    notes.push(Note {
                        key: f.id.clone(),
                        kind: NoteKind::ParentDropped,
                        message: format!("{} names itself as its parent", f.id),
                    });
                }
                None => {
                    notes.push(Note {
                        key: f.id.clone(),
                        kind: NoteKind::UnknownParent,
                        message: format!(
                            "parent {p} is not in the source: no parent (kept as link parent:{p})"
                        ),
                    });
                    links[i].push(("parent".into(), p.clone()));
                }
            }
        }
        for d in &f.depends_on {
            match resolve(i, d, &mut notes) {
                Some(j) => {
                    if !deps[i].contains(&j) {
                        deps[i].push(j);
                    }
                }
                None => {
                    if !dangling[i].contains(d) {
                        notes.push(Note {
                            key: f.id.clone(),
                            kind: NoteKind::UnknownDependency,
                            message: format!(
                                "depends on {d}, which is not in the source: kept, so it blocks"
                            ),
                        });
                        dangling[i].push(d.clone());
                    }
                }
            }
        }
        for (ty, r) in &f.links {
            let target = match resolve(i, r, &mut notes) {
                Some(j) => keys[j].clone(),
                None => r.clone(),
            };
            links[i].push((ty.clone(), target));
        }
    }
    // Parent loops: drop the parent where the walk comes back.
    for start in 0..n {
        let mut seen = HashSet::new();
        let mut cur = start;
        seen.insert(cur);
        while let Some(p) = parent[cur] {
            if !seen.insert(p) {
                let f = &foreign[cur];
                notes.push(Note {
                    key: f.id.clone(),
                    kind: NoteKind::ParentDropped,
                    message: format!(
                        "parents form a loop through {}: parent {} dropped (kept as a link)",
                        f.id, foreign[p].id
                    ),
                });
                links[cur].push(("parent".into(), keys[p].clone()));
                parent[cur] = None;
                break;
            }
            cur = p;
        }
    }
    let mut kept_in_body: BTreeMap<String, usize> = BTreeMap::new();
    let mut items = Vec::with_capacity(n);
    for (i, mut f) in foreign.into_iter().enumerate() {
        if f.title.trim().is_empty() {
            notes.push(Note {
                key: f.id.clone(),
                kind: NoteKind::NoTitle,
                message: format!("{} has no title: named after its ID", f.place),
            });
            f.title = format!("{} (no title)", f.id);
        }
        for (k, _) in &f.extra {
            *kept_in_body.entry(k.clone()).or_insert(0) += 1;
        }
        let mut labels: Vec<String> = Vec::new();
        for l in f.labels.iter().chain(f.status_label.iter()) {
            let l = text::line(l);
            if !l.is_empty() && !labels.contains(&l) {
                labels.push(l);
            }
        }
        let mut aliases: Vec<String> = Vec::new();
        match &dup_alias[i] {
            Some(a) => aliases.push(a.clone()),
            None => {
                for a in std::iter::once(&f.id).chain(f.aliases.iter()) {
                    let a = text::line(a);
                    if !a.is_empty() && !aliases.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                        aliases.push(a);
                    }
                }
            }
        }
        let body = body(tool, &f);
        items.push(Item {
            key: keys[i].clone(),
            kind: Kind::Job,
            title: text::line(&f.title),
            status: Some(f.status),
            priority: f.priority,
            parent: parent[i].map(|p| keys[p].clone()),
            depends_on: deps[i].iter().map(|&j| keys[j].clone()).collect(),
            files: Some(f.files.iter().map(|x| text::line(x)).collect()),
            labels: Some(labels),
            body: Some(body),
            source: Some(keys[i].clone()),
            aliases,
            links: std::mem::take(&mut links[i]),
            dangling: std::mem::take(&mut dangling[i]),
            created: f.created.clone(),
            updated: f.updated.clone(),
            claimant: f.claimant.as_deref().map(text::line),
            ..Item::default()
        });
    }
    Converted {
        items,
        notes,
        kept_in_body,
    }
}

/// The ticket body of an imported item: title, Description, the item's sections, wt's own
/// Amendments and Progress, and a Source section naming where it came from, with the fields
/// wt has no slot for.
pub fn body(tool: Tool, f: &Foreign) -> String {
    let mut b = format!("# {}\n\n## Description\n\n", text::line(&f.title));
    let desc = text::block(&f.description);
    if !desc.is_empty() {
        b.push_str(&desc);
        b.push_str("\n\n");
    }
    let has_criteria = f
        .sections
        .iter()
        .any(|(h, _)| h.eq_ignore_ascii_case(crate::model::ticket::CRITERIA_HEADING));
    if !has_criteria {
        b.push_str("## Acceptance Criteria\n\n");
    }
    for (h, s) in &f.sections {
        b.push_str(&format!("## {}\n\n", text::line(h)));
        let s = text::block(s);
        if !s.is_empty() {
            b.push_str(&s);
            b.push_str("\n\n");
        }
    }
    b.push_str("## Amendments\n\n## Progress\n\n## Source\n\n");
    b.push_str(&format!(
        "Imported from {} `{}` ({}).\n",
        tool.display_name(),
        text::line(&f.id),
        text::line(&f.origin)
    ));
    if !f.extra.is_empty() {
        let mut obj = serde_json::Map::new();
        for (k, v) in &f.extra {
            obj.insert(k.clone(), v.clone());
        }
        let json =
            serde_json::to_string_pretty(&serde_json::Value::Object(obj)).unwrap_or_default();
        b.push_str("\n```json\n");
        b.push_str(&text::block(&json));
        b.push_str("\n```\n");
    }
    b
}

/// Fit the items' hierarchy onto phase-spec → job → task: a top item is a phase-spec when
/// something is two levels under it, else a job; under a phase-spec a job, under a job a
/// task; an item under a task goes under that task's job. `fixed` gives the kind of an item
/// imported before (its ID carries it, so it stays); one that no longer fits under its
/// parent is left without one. Sets each item's kind and parent; returns what moved.
pub fn assign_kinds(items: &mut [Item], fixed: &dyn Fn(&Item) -> Option<Kind>) -> Vec<Note> {
    let n = items.len();
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.key.clone(), i))
        .collect();
    let parent: Vec<Option<usize>> = items
        .iter()
        .map(|it| it.parent.as_ref().and_then(|p| index.get(p).copied()))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(i);
        }
    }
    // Height: 0 for a leaf. Children before parents (iterative post-order).
    let mut height = vec![0usize; n];
    let mut done = vec![false; n];
    for root in 0..n {
        if done[root] {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        while let Some((i, next)) = stack.pop() {
            if let Some(&c) = children[i].get(next) {
                stack.push((i, next + 1));
                if !done[c] {
                    stack.push((c, 0));
                }
            } else {
                height[i] = children[i]
                    .iter()
                    .map(|&c| height[c] + 1)
                    .max()
                    .unwrap_or(0);
                done[i] = true;
            }
        }
    }
    // Parents before children.
    let mut order: Vec<usize> = (0..n).filter(|&i| parent[i].is_none()).collect();
    let mut at = 0;
    while at < order.len() {
        let i = order[at];
        order.extend(children[i].iter().copied());
        at += 1;
    }
    let mut kind: Vec<Kind> = vec![Kind::Job; n];
    let mut placed: Vec<Option<usize>> = vec![None; n];
    let mut notes = Vec::new();
    let original_id = |it: &Item| {
        it.aliases
            .first()
            .cloned()
            .unwrap_or_else(|| it.key.clone())
    };
    for &i in &order {
        let fixed_kind = fixed(&items[i]);
        // The nearest ancestor that can hold something: not a task.
        let mut holder = parent[i];
        while let Some(h) = holder {
            if kind[h] == Kind::Task {
                holder = placed[h];
            } else {
                break;
            }
        }
        let k = match holder {
            None => fixed_kind.unwrap_or(if height[i] >= 2 {
                Kind::PhaseSpec
            } else {
                Kind::Job
            }),
            Some(h) => fixed_kind.unwrap_or(if kind[h] == Kind::PhaseSpec {
                Kind::Job
            } else {
                Kind::Task
            }),
        };
        kind[i] = k;
        placed[i] = holder.filter(|&h| k.parent_kind() == Some(kind[h]));
        if let (Some(h), None) = (holder, placed[i]) {
            notes.push(Note {
                key: original_id(&items[i]),
                kind: NoteKind::KindKept,
                message: format!(
                    "stays a {k} (imported before as one) and cannot go under {} {}: no parent",
                    kind[h],
                    original_id(&items[h])
                ),
            });
        } else if placed[i] != parent[i] {
            if let (Some(p), Some(h)) = (parent[i], placed[i]) {
                notes.push(Note {
                    key: original_id(&items[i]),
                    kind: NoteKind::Flattened,
                    message: format!(
                        "more than three levels deep: put under {} instead of {}",
                        original_id(&items[h]),
                        original_id(&items[p])
                    ),
                });
            }
        }
    }
    let keys: Vec<String> = items.iter().map(|it| it.key.clone()).collect();
    for (i, it) in items.iter_mut().enumerate() {
        it.kind = kind[i];
        if placed[i] != parent[i] {
            if let Some(p) = parent[i] {
                it.links.push(("parent".into(), keys[p].clone()));
            }
        }
        it.parent = placed[i].map(|p| keys[p].clone());
    }
    notes
}

/// The status of an item whose tracker writes it as `raw`, from a table of `(names, wt
/// status, label)`: names match case-insensitively, with `-`, `_` and spaces alike. A status
/// the table lacks is escalated with a `status:` label, and noted.
pub fn map_status(
    raw: &str,
    table: &[(&[&str], Status, Option<&str>)],
    id: &str,
    notes: &mut Vec<Note>,
) -> (Status, Option<String>) {
    let norm = |s: &str| {
        s.trim()
            .to_lowercase()
            .replace(['-', '_'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let want = norm(raw);
    for (names, status, label) in table {
        if names.iter().any(|n| norm(n) == want) {
            return (*status, label.map(str::to_string));
        }
    }
    notes.push(Note {
        key: id.to_string(),
        kind: NoteKind::UnknownStatus,
        message: format!(
            "status `{}` has no wt equivalent: escalated",
            text::line(raw)
        ),
    });
    (
        Status::Escalated,
        Some(format!("status:{}", text::label(raw))),
    )
}

/// A priority from a number, clamped to 0..=4 (noted when out of range).
pub fn clamp_priority(p: i64, id: &str, notes: &mut Vec<Note>) -> u8 {
    let max = i64::from(crate::model::ticket::MAX_PRIORITY);
    if !(0..=max).contains(&p) {
        notes.push(Note {
            key: id.to_string(),
            kind: NoteKind::OutOfRange,
            message: format!("priority {p} is outside 0..={max}: clamped"),
        });
    }
    p.clamp(0, max) as u8
}

/// A priority from a word (`critical`, `high`, `medium`, `low`).
pub fn word_priority(p: &str) -> Option<u8> {
    match p.trim().to_ascii_lowercase().as_str() {
        "critical" | "urgent" | "highest" => Some(0),
        "high" => Some(1),
        "medium" | "normal" => Some(2),
        "low" => Some(3),
        "lowest" => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Exact;
    impl Naming for Exact {
        fn canonical(&self, id: &str) -> String {
            id.to_string()
        }
    }

    fn item(id: &str, parent: Option<&str>, deps: &[&str]) -> Foreign {
        Foreign {
            id: id.into(),
            title: format!("title {id}"),
            parent: parent.map(str::to_string),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            origin: "test".into(),
            place: "test".into(),
            ..Foreign::default()
        }
    }

    fn convert_all(items: Vec<Foreign>) -> Converted {
        convert(
            Tool::Tk,
            Read {
                items,
                notes: Vec::new(),
            },
            &Exact,
        )
    }

    #[test]
    fn duplicates_get_their_own_key_and_references_go_to_the_first() {
        let c = convert_all(vec![
            item("a", None, &[]),
            item("a", None, &[]),
            item("b", None, &["a"]),
        ]);
        let keys: Vec<&str> = c.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["tk:a", "tk:a#2", "tk:b"]);
        assert_eq!(c.items[1].aliases, ["a#2"]);
        assert_eq!(c.items[2].depends_on, ["tk:a"]);
        assert_eq!(c.notes[0].kind, NoteKind::DuplicateId);
    }

    #[test]
    fn unknown_dependencies_stay_and_unknown_parents_become_links() {
        let c = convert_all(vec![item("a", Some("gone"), &["missing"])]);
        assert_eq!(c.items[0].dangling, ["missing"]);
        assert_eq!(c.items[0].parent, None);
        assert_eq!(
            c.items[0].links,
            [("parent".to_string(), "gone".to_string())]
        );
        let kinds: Vec<NoteKind> = c.notes.iter().map(|n| n.kind).collect();
        assert_eq!(
            kinds,
            [NoteKind::UnknownParent, NoteKind::UnknownDependency]
        );
    }

    #[test]
    fn a_parent_loop_is_broken_once() {
        let c = convert_all(vec![item("a", Some("b"), &[]), item("b", Some("a"), &[])]);
        let parents: Vec<Option<&str>> = c.items.iter().map(|i| i.parent.as_deref()).collect();
        assert_eq!(
            parents.iter().filter(|p| p.is_none()).count(),
            1,
            "{parents:?}"
        );
        assert_eq!(c.notes.len(), 1);
    }

    #[test]
    fn hierarchy_fits_phase_job_task_and_deeper_levels_flatten() {
        let mut c = convert_all(vec![
            item("root", None, &[]),
            item("mid", Some("root"), &[]),
            item("leaf", Some("mid"), &[]),
            item("deep", Some("leaf"), &[]),
            item("alone", None, &[]),
            item("kid", Some("alone"), &[]),
        ]);
        let notes = assign_kinds(&mut c.items, &|_| None);
        let kinds: Vec<Kind> = c.items.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::PhaseSpec,
                Kind::Job,
                Kind::Task,
                Kind::Task,
                Kind::Job,
                Kind::Task
            ]
        );
        assert_eq!(c.items[3].parent.as_deref(), Some("tk:mid"));
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].kind, NoteKind::Flattened);
        // A kind fixed by an earlier import that no longer fits: no parent.
        let mut c = convert_all(vec![item("p", None, &[]), item("q", Some("p"), &[])]);
        let notes = assign_kinds(&mut c.items, &|it| {
            (it.key == "tk:q").then_some(Kind::PhaseSpec)
        });
        assert_eq!(c.items[1].parent, None);
        assert_eq!(notes[0].kind, NoteKind::KindKept);
    }

    #[test]
    fn note_kind_names_are_the_json_names() {
        for k in [
            NoteKind::Unreadable,
            NoteKind::OldPrefix,
            NoteKind::KindKept,
            NoteKind::NotInSource,
        ] {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::from(k.as_str()))
            );
        }
    }

    #[test]
    fn unknown_statuses_are_escalated_with_a_label() {
        let mut notes = Vec::new();
        let table: &[(&[&str], Status, Option<&str>)] = &[
            (&["open"], Status::Open, None),
            (&["in progress"], Status::InProgress, None),
        ];
        assert_eq!(
            map_status("In_Progress", table, "x", &mut notes).0,
            Status::InProgress
        );
        let (s, l) = map_status("On Hold", table, "x", &mut notes);
        assert_eq!(
            (s, l.as_deref()),
            (Status::Escalated, Some("status:on-hold"))
        );
        assert_eq!(notes.len(), 1);
    }
}
