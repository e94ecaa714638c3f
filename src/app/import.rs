//! `wt import <FILE.json>`: create many tickets in one commit from a JSON array; again, only
//! what changed.
//!
//! Each ticket records its item in `source:` (`json:<file name>:<key>`; `wt plan import`
//! uses `plan:…`, see [`crate::plan::items`]) and the item's digest in `source_hash:`. The
//! same input again finds its tickets by `source` and changes nothing (no commit); a changed
//! item rewrites its ticket, a new one adds a ticket, all in one commit.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::new::{check_parent, prepare, template_text, NewSpec, Prepared};
use super::report::SchemaVersion;
use crate::error::{Error, Result};
use crate::model::frontmatter::{self, Value};
use crate::model::id;
pub use crate::model::item::{parse_items, Item};
use crate::model::journal;
use crate::model::markdown;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::schedule::graph::Graph;
use crate::store::Edit;
use crate::workspace::{Message, Outcome, Reads, Snapshot, Workspace, Written};

/// What an import made of its items.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// Each item's key → its ticket's ID (made now, or found by `source`).
    pub ids: BTreeMap<String, String>,
    /// Keys of the items that became new tickets, in item order.
    pub created: Vec<String>,
    /// Keys of the items whose ticket was rewritten because the item changed.
    pub updated: Vec<String>,
    /// Items whose ticket was left as it is (imported before, unchanged).
    pub unchanged: usize,
    /// Done containers (existing tickets) that reopened because a new ticket is open under
    /// them (see [`super::containers::reopen_above`]).
    pub reopened: Vec<super::containers::Reopened>,
}

/// The `source` of an item of `wt import FILE.json`: `json:<name>:<key>`, where `<name>` is
/// the file's name without its folder (`stdin` for `-`), or what `--source` says.
pub fn json_source(name: &str, key: &str) -> String {
    format!("json:{name}:{key}")
}

/// The name a JSON input is known by in `source`: the file's name without its folder.
pub fn source_name(file: &str) -> String {
    if file == "-" {
        return "stdin".to_string();
    }
    let file = file.trim_end_matches(['/', '\\']);
    let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
    if name.is_empty() {
        file.to_string()
    } else {
        name.to_string()
    }
}

/// Import `items` read from `source` (a file name, for the message) whose `source` namespace
/// is `name` (see [`json_source`]).
pub fn import(
    ws: &Workspace,
    items: &[Item],
    source: &str,
    name: &str,
    agent: Option<&str>,
) -> Result<Written<Imported>> {
    let items: Vec<Item> = items
        .iter()
        .cloned()
        .map(|mut it| {
            it.source = Some(json_source(name, &it.key));
            it
        })
        .collect();
    import_with(ws, &items, &|c: &Counts| {
        Message::new("import", c.subject(source)).agent(agent)
    })
}

/// How many tickets an import makes, rewrites and leaves alone: for its commit message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Counts {
    /// "3 tickets from FILE", or "1 new, 2 updated, 5 unchanged from FILE" when some of the
    /// items were imported before.
    pub fn subject(&self, source: &str) -> String {
        if self.updated == 0 && self.unchanged == 0 {
            format!(
                "{} from {source}",
                crate::model::plural(self.created, "ticket")
            )
        } else {
            format!(
                "{} new, {} updated, {} unchanged from {source}",
                self.created, self.updated, self.unchanged
            )
        }
    }
}

/// A ticket built from an item: [`prepare`] with the item's fields, the config's gate, the
/// item's `extra` fields and `fields`, parsed. Shared by `wt import`, `wt plan import` and
/// `wt import --from`; `templates` caches the template of each kind, `keyed` names the item
/// in an error.
#[allow(clippy::too_many_arguments)]
pub fn prepare_item(
    ws: &Workspace,
    snap: &Snapshot,
    templates: &mut HashMap<Kind, String>,
    it: &Item,
    id: &str,
    parent: Option<String>,
    depends_on: Vec<String>,
    order: Option<u32>,
    parent_path: Option<&str>,
    fields: &[(&str, Value)],
    keyed: &dyn Fn(Error) -> Error,
) -> Result<Prepared> {
    let template = match templates.get(&it.kind) {
        Some(t) => t.clone(),
        None => {
            let t = template_text(ws, snap, it.kind)?;
            templates.insert(it.kind, t.clone());
            t
        }
    };
    let spec = NewSpec {
        kind: Some(it.kind),
        title: it.title.clone(),
        parent,
        depends_on,
        priority: it.priority,
        files: it.files.clone(),
        artifacts: it.artifacts.clone(),
        labels: it.labels.clone(),
        status: it.status,
        body: it.body.clone(),
        description: it.description.clone(),
        order,
    };
    let p = prepare(&template, it.kind, id, &spec, parent_path).map_err(keyed)?;
    let mut p = super::new::gate_new(p, &snap.config)?;
    let mut all: Vec<(&str, Value)> = it
        .extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    all.extend(fields.iter().cloned());
    if !all.is_empty() {
        p.text = super::set_fields(&p.text, &all)?;
    }
    for (k, raw) in &it.raw_fields {
        // Only fields wt does not know: wt's own come through the checked paths above.
        if crate::model::ticket::KNOWN_FIELDS.contains(&k.as_str()) {
            return Err(keyed(Error::invalid(format!(
                "`{k}` is a wt field, not a field of the team's own"
            ))));
        }
        p.text = frontmatter::set_raw_field(&p.text, k, raw).ok_or_else(|| {
            keyed(Error::invalid(format!(
                "the field `{k}` is not one `key: value` field"
            )))
        })?;
    }
    if !all.is_empty() || !it.raw_fields.is_empty() {
        p.ticket = crate::model::ticket::parse(&p.ticket.path, &p.text)
            .map_err(|e| keyed(Error::invalid(e.to_string())))?;
    }
    Ok(p)
}

/// The fields that record where an item came from: `source` (its key in the input) and
/// `source_hash` (its digest, so that an unchanged item is left alone next time).
fn source_fields(it: &Item) -> Vec<(&'static str, Value)> {
    match &it.source {
        Some(s) => vec![
            ("source", Value::Str(s.clone())),
            ("source_hash", Value::Str(it.digest())),
        ],
        None => Vec::new(),
    }
}

/// An existing ticket rewritten from its changed item: the fields the item decides taken
/// from `fresh` (the ticket as the item would make it now), the status only when the item
/// gives one, the body `fresh`'s with the old ticket's journal (amendments, progress) kept.
fn rewrite(old_text: &str, old: &Ticket, fresh: &Prepared, it: &Item, now: &str) -> Result<String> {
    let f = &fresh.ticket;
    let mut fields: Vec<(&str, Value)> = vec![
        ("title", Value::Str(f.title.clone())),
        ("priority", Value::Int(i64::from(f.priority))),
        ("parent", super::opt(f.parent.as_deref())),
        ("depends_on", super::list(&f.depends_on)),
        ("files", super::list(&f.files)),
        ("artifacts", super::list(&f.artifacts)),
        ("labels", super::list(&f.labels)),
        ("updated", Value::Str(now.to_string())),
    ];
    if f.gate != old.gate {
        fields.push(("gate", super::opt(f.gate.as_deref())));
    }
    if let Some(s) = it.status {
        fields.push(("status", Value::Str(s.as_str().to_string())));
        if !matches!(s, Status::InProgress) && old.claimed_by.is_some() {
            for k in crate::model::lease::CLAIM_FIELDS {
                fields.push((k, Value::Null));
            }
        }
    }
    fields.extend(it.extra.iter().map(|(k, v)| (k.as_str(), v.clone())));
    fields.extend(source_fields(it));
    let mut text = super::set_fields(old_text, &fields)?;
    for (k, raw) in &it.raw_fields {
        if let Some(t) = frontmatter::set_raw_field(&text, k, raw) {
            text = t;
        }
    }
    let split = frontmatter::split(&text)
        .map_err(|e| Error::invalid(format!("{}: {e}", old.path)).with_hint("run `wt check`"))?;
    let old_body = split.body.to_string();
    let fresh_split =
        frontmatter::split(&fresh.text).map_err(|e| Error::invalid(format!("{}: {e}", f.path)))?;
    let mut body = fresh_split.body.to_string();
    for heading in [journal::AMENDMENTS, journal::PROGRESS] {
        if let Some(c) = markdown::wt_section_content(&old_body, heading) {
            let c = c.trim_matches(['\n', '\r']);
            if !c.trim().is_empty()
                && markdown::wt_section_content(&body, heading).is_none_or(|x| x.trim().is_empty())
            {
                body = markdown::append_to_wt_section(&body, heading, c);
            }
        }
    }
    Ok(format!("{}{}", &text[..split.body_offset], body))
}

/// Import `items` in one commit whose message `message` makes (the IDs of the tickets made
/// and rewritten are added as trailers); returns key → ID and what changed.
///
/// An item with a `source` that a ticket already has is that ticket: left alone when its
/// `source_hash` is the item's digest (nothing changed), rewritten from the item otherwise
/// (see [`rewrite`]; its file moves only when its parent changed and nothing is under it).
/// When no item makes or changes a ticket, nothing is committed.
pub fn import_with(
    ws: &Workspace,
    items: &[Item],
    message: &dyn Fn(&Counts) -> Message,
) -> Result<Written<Imported>> {
    if items.is_empty() {
        return Err(Error::invalid("nothing to import: the array is empty"));
    }
    let mut seen = HashSet::new();
    for (n, it) in items.iter().enumerate() {
        if it.key.trim().is_empty() {
            return Err(Error::invalid(format!("item {n}: empty key")));
        }
        if !seen.insert(it.key.as_str()) {
            return Err(Error::invalid(format!(
                "item {n}: duplicate key `{}`",
                it.key
            )));
        }
    }
    for it in items {
        let spec = NewSpec {
            title: it.title.clone(),
            files: it.files.clone(),
            artifacts: it.artifacts.clone(),
            labels: it.labels.clone(),
            ..Default::default()
        };
        let keyed = |mut e: Error| {
            e.message = format!("item key `{}`: {}", it.key, e.message);
            e
        };
        super::new::check_text_fields(&spec).map_err(keyed)?;
        super::new::check_paths(ws, &spec).map_err(keyed)?;
    }
    let by_key: HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.key.as_str(), i))
        .collect();
    ws.write(Reads::All, |snap| {
        // The tickets imported from these items before, by source.
        let wanted: HashSet<&str> = items.iter().filter_map(|it| it.source.as_deref()).collect();
        let mut by_source: HashMap<&str, &Ticket> = HashMap::new();
        if !wanted.is_empty() {
            for t in &snap.tickets {
                if let Some(s) = t.source.as_deref().filter(|s| wanted.contains(s)) {
                    by_source.entry(s).or_insert(t);
                }
            }
        }
        let matched: Vec<Option<&Ticket>> = items
            .iter()
            .map(|it| it.source.as_deref().and_then(|s| by_source.get(s).copied()))
            .collect();
        // IDs for every item: its ticket's, else a new one unique against the tree.
        let mut taken: HashSet<String> = snap.tickets.iter().map(|t| t.id.clone()).collect();
        let mut ids = Vec::with_capacity(items.len());
        for (it, m) in items.iter().zip(&matched) {
            let id = match m {
                Some(t) => {
                    if t.kind != it.kind {
                        return Err(Error::invalid(format!(
                            "item key `{}`: it was imported as the {} {}, and is a {} now",
                            it.key, t.kind, t.id, it.kind
                        ))
                        .with_hint("a ticket keeps its kind: give the item another key to make a new ticket"));
                    }
                    t.id.clone()
                }
                None => {
                    let id = id::generate(it.kind, &|c| taken.contains(c));
                    taken.insert(id.clone());
                    id
                }
            };
            ids.push(id);
        }
        // A reference is a key in this batch, else an existing ticket ID (or unique prefix).
        let resolve = |n: usize, what: &str, r: &str| -> Result<(String, Option<usize>)> {
            if let Some(&j) = by_key.get(r) {
                return Ok((ids[j].clone(), Some(j)));
            }
            snap.resolve(r)
                .map(|t| (t.id.clone(), None))
                .map_err(|e| {
                    Error::new(
                        e.kind,
                        format!("item {n} (key `{}`): {what} `{r}` is neither a key in the file nor a ticket: {}", items[n].key, e.message),
                    )
                })
        };
        let mut parents: Vec<Option<(String, Option<usize>)>> = Vec::with_capacity(items.len());
        let mut deps: Vec<Vec<String>> = Vec::with_capacity(items.len());
        for (n, it) in items.iter().enumerate() {
            parents.push(match &it.parent {
                Some(p) => Some(resolve(n, "parent", p)?),
                None => None,
            });
            let mut ds = Vec::new();
            for d in &it.depends_on {
                let (id, _) = resolve(n, "dependency", d)?;
                if !ds.contains(&id) {
                    ds.push(id);
                }
            }
            deps.push(ds);
        }
        // Parents first, so each child's folder is known: sort by depth in the batch.
        let mut depth: Vec<Option<usize>> = vec![None; items.len()];
        for start in 0..items.len() {
            let mut chain = vec![start];
            let mut base = 0;
            while let Some(j) = parents[*chain.last().unwrap_or(&start)]
                .as_ref()
                .and_then(|(_, j)| *j)
            {
                if let Some(d) = depth[j] {
                    base = d + 1;
                    break;
                }
                if chain.contains(&j) {
                    return Err(Error::invalid(format!(
                        "item key `{}`: parents form a loop",
                        items[j].key
                    )));
                }
                chain.push(j);
            }
            for (k, &i) in chain.iter().rev().enumerate() {
                depth[i].get_or_insert(base + k);
            }
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| depth[i].unwrap_or(0));
        // A new ticket's place among its siblings: after the ones already there, in item order.
        let mut next: HashMap<Option<String>, u32> = HashMap::new();
        let mut orders = Vec::with_capacity(items.len());
        for (p, m) in parents.iter().zip(&matched) {
            if let Some(t) = m {
                orders.push(t.order.unwrap_or(0));
                continue;
            }
            let key = p.as_ref().map(|(id, _)| id.clone());
            let o = next.entry(key.clone()).or_insert_with(|| {
                super::new::next_order(&snap.tickets, key.as_deref())
            });
            orders.push(*o);
            *o = o.saturating_add(1);
        }
        let now = crate::model::clock::timestamp();
        let mut templates: HashMap<Kind, String> = HashMap::new();
        let mut finals: Vec<Option<Ticket>> = vec![None; items.len()];
        let mut edits = Vec::with_capacity(items.len());
        let mut created = Vec::new();
        let mut updated = Vec::new();
        let mut unchanged = 0usize;
        for &i in &order {
            let it = &items[i];
            let keyed = |mut e: Error| {
                e.message = format!("item key `{}`: {}", it.key, e.message);
                e
            };
            if let Some(old) = matched[i] {
                if old.source_hash.as_deref() == Some(it.digest().as_str()) {
                    unchanged += 1;
                    finals[i] = Some(old.clone());
                    continue;
                }
            }
            let (parent_id, parent_path, parent_ticket) = match &parents[i] {
                None => (None, None, None),
                Some((pid, Some(j))) => {
                    let pt = finals[*j].clone();
                    (Some(pid.clone()), pt.as_ref().map(|t| t.path.clone()), pt)
                }
                Some((pid, None)) => {
                    let pt = snap.get(pid).cloned();
                    (Some(pid.clone()), pt.as_ref().map(|t| t.path.clone()), pt)
                }
            };
            check_parent(it.kind, parent_ticket.as_ref()).map_err(keyed)?;
            let p = prepare_item(
                ws,
                snap,
                &mut templates,
                it,
                &ids[i],
                parent_id.clone(),
                deps[i].clone(),
                Some(orders[i]),
                parent_path.as_deref(),
                &source_fields(it),
                &keyed,
            )?;
            match matched[i] {
                None => {
                    edits.push(Edit::Write {
                        path: p.ticket.path.clone(),
                        content: p.text.into_bytes(),
                    });
                    created.push(i);
                    finals[i] = Some(p.ticket);
                }
                Some(old) => {
                    let path = if old.parent == parent_id {
                        old.path.clone()
                    } else {
                        if snap.tickets.iter().any(|t| t.parent.as_deref() == Some(old.id.as_str())) {
                            return Err(keyed(Error::invalid(format!(
                                "its parent changed, and {} has tickets under it: an import does not move a tree",
                                old.id
                            )))
                            .with_hint("move it by hand (`git mv` on the state branch, then set `parent:`), or give the item another key"));
                        }
                        let dir = p.ticket.path.rsplit_once('/').map_or(crate::model::config::WORK_DIR, |(d, _)| d);
                        let name = old.path.rsplit('/').next().unwrap_or(&old.path);
                        format!("{dir}/{name}")
                    };
                    let text = rewrite(&ws.read_text(snap, &old.path)?, old, &p, it, &now)?;
                    let t = crate::model::ticket::parse(&path, &text)
                        .map_err(|e| keyed(Error::invalid(e.to_string())))?;
                    if path != old.path {
                        edits.push(Edit::Delete { path: old.path.clone() });
                    }
                    edits.push(Edit::Write {
                        path,
                        content: text.into_bytes(),
                    });
                    updated.push(i);
                    finals[i] = Some(t);
                }
            }
        }
        let map: BTreeMap<String, String> = items
            .iter()
            .zip(&ids)
            .map(|(it, id)| (it.key.clone(), id.clone()))
            .collect();
        created.sort_unstable();
        updated.sort_unstable();
        // New open tickets under done containers of the tree reopen them.
        let mut reopening = super::containers::Reopening::default();
        for &i in &created {
            let (Some((pid, None)), Some(t)) = (&parents[i], &finals[i]) else {
                continue;
            };
            if t.status == Status::Done {
                continue;
            }
            let r = super::containers::reopen_above(ws, snap, pid, &ids[i], None, &now)?;
            for (e, c) in r.edits.into_iter().zip(r.reopened) {
                let dup = reopening.reopened.iter().any(|x| x.ticket.id == c.ticket.id)
                    || finals.iter().flatten().any(|f| f.id == c.ticket.id);
                if !dup {
                    reopening.edits.push(e);
                    reopening.reopened.push(c);
                }
            }
        }
        edits.append(&mut reopening.edits);
        let value = Imported {
            ids: map,
            created: created.iter().map(|&i| items[i].key.clone()).collect(),
            updated: updated.iter().map(|&i| items[i].key.clone()).collect(),
            unchanged,
            reopened: reopening.reopened.clone(),
        };
        if edits.is_empty() {
            return Ok(Outcome::NoOp(value));
        }
        let changed: HashMap<&str, &Ticket> = finals
            .iter()
            .flatten()
            .map(|t| (t.id.as_str(), t))
            .collect();
        let mut all: Vec<Ticket> = snap
            .tickets
            .iter()
            .map(|t| changed.get(t.id.as_str()).map_or_else(|| t.clone(), |&c| c.clone()))
            .collect();
        all.extend(created.iter().filter_map(|&i| finals[i].clone()));
        if let Some(c) = Graph::new(&all).cycles().into_iter().next() {
            // Name the items by their keys: their new IDs exist nowhere yet.
            let key_of: HashMap<&str, &str> = ids
                .iter()
                .zip(items)
                .map(|(id, it)| (id.as_str(), it.key.as_str()))
                .collect();
            let named: Vec<String> = c
                .iter()
                .map(|id| match key_of.get(id.as_str()) {
                    Some(k) => format!("`{k}`"),
                    None => id.clone(),
                })
                .collect();
            return Err(Error::invalid(format!(
                "the import makes a dependency cycle: {} (items by key, existing tickets by ID)",
                named.join(" -> ")
            ))
            .with_hint(crate::schedule::graph::CYCLE_HINT));
        }
        let mut message = message(&Counts {
            created: created.len(),
            updated: updated.len(),
            unchanged,
        });
        for &i in created.iter().chain(&updated) {
            message = message.ticket(&ids[i]);
        }
        let message = reopening.annotate(message);
        Ok(Outcome::Commit {
            edits,
            message,
            value,
        })
    })
}

/// `wt import`: the IDs of the tickets made (or found again) and what changed.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub schema_version: SchemaVersion,
    /// Each item's key → its ticket's ID, by key.
    pub ids: BTreeMap<String, String>,
    /// Keys of the items that became new tickets.
    pub created: Vec<String>,
    /// Keys of the items imported before whose ticket was rewritten (the item changed).
    pub updated: Vec<String>,
    /// Items imported before and unchanged: their tickets were left as they are.
    pub unchanged: usize,
    /// Done containers of the tree that reopened in the same commit because a new ticket is
    /// open under them, as in `wt new` (`status` `open`).
    pub reopened: Vec<super::containers::ClosedView>,
    /// The commit on the state branch; null when nothing changed.
    pub commit: Option<String>,
}

impl ImportReport {
    pub fn new(w: &Written<Imported>) -> ImportReport {
        ImportReport {
            schema_version: SchemaVersion,
            ids: w.value.ids.clone(),
            created: w.value.created.clone(),
            updated: w.value.updated.clone(),
            unchanged: w.value.unchanged,
            reopened: w
                .value
                .reopened
                .iter()
                .map(super::containers::ClosedView::reopened)
                .collect(),
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}
