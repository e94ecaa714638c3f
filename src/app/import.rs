//! `wt import <FILE.json>`: create many tickets in one commit from a JSON array.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::new::{check_parent, prepare, template_text, NewSpec};
use super::report::SchemaVersion;
use crate::error::{Error, Result};
use crate::model::id;
pub use crate::model::item::{parse_items, Item};
use crate::model::ticket::{Kind, Ticket};
use crate::schedule::graph::Graph;
use crate::store::Edit;
use crate::workspace::{Message, Outcome, Reads, Workspace, Written};

/// Import `items`; returns key → new ID.
pub fn import(
    ws: &Workspace,
    items: &[Item],
    source: &str,
    agent: Option<&str>,
) -> Result<Written<BTreeMap<String, String>>> {
    import_with(ws, items, &|| {
        Message::new(
            "import",
            format!(
                "{} from {source}",
                crate::model::plural(items.len(), "ticket")
            ),
        )
        .agent(agent)
    })
}

/// Import `items` in one commit whose message `message` makes (the new IDs are added as
/// trailers); returns key → new ID.
pub fn import_with(
    ws: &Workspace,
    items: &[Item],
    message: &dyn Fn() -> Message,
) -> Result<Written<BTreeMap<String, String>>> {
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
        // IDs for every item, unique against the tree and each other.
        let mut taken: HashSet<String> = snap.tickets.iter().map(|t| t.id.clone()).collect();
        let mut ids = Vec::with_capacity(items.len());
        for it in items {
            let id = id::generate(it.kind, &|c| taken.contains(c));
            taken.insert(id.clone());
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
        // Each item's place among its siblings: after the ones already there, in item order.
        let mut next: HashMap<Option<String>, u32> = HashMap::new();
        let mut orders = Vec::with_capacity(items.len());
        for p in &parents {
            let key = p.as_ref().map(|(id, _)| id.clone());
            let o = next.entry(key.clone()).or_insert_with(|| {
                super::new::next_order(&snap.tickets, key.as_deref())
            });
            orders.push(*o);
            *o = o.saturating_add(1);
        }
        let mut templates: HashMap<Kind, String> = HashMap::new();
        let mut prepared: Vec<Option<Ticket>> = vec![None; items.len()];
        let mut edits = Vec::with_capacity(items.len());
        for &i in &order {
            let it = &items[i];
            let (parent_id, parent_path, parent_ticket) = match &parents[i] {
                None => (None, None, None),
                Some((pid, Some(j))) => {
                    let pt = prepared[*j].clone();
                    (Some(pid.clone()), pt.as_ref().map(|t| t.path.clone()), pt)
                }
                Some((pid, None)) => {
                    let pt = snap.get(pid).cloned();
                    (Some(pid.clone()), pt.as_ref().map(|t| t.path.clone()), pt)
                }
            };
            check_parent(it.kind, parent_ticket.as_ref()).map_err(|e| {
                Error::invalid(format!("item key `{}`: {}", it.key, e.message))
            })?;
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
                parent: parent_id,
                depends_on: deps[i].clone(),
                priority: it.priority,
                files: it.files.clone(),
                artifacts: it.artifacts.clone(),
                labels: it.labels.clone(),
                status: it.status,
                body: it.body.clone(),
                description: it.description.clone(),
                order: Some(orders[i]),
            };
            let p = prepare(&template, it.kind, &ids[i], &spec, parent_path.as_deref())
                .map_err(|e| Error::invalid(format!("item key `{}`: {}", it.key, e.message)))?;
            let mut p = super::new::gate_new(p, &snap.config)?;
            if !it.extra.is_empty() {
                let fields: Vec<(&str, crate::model::frontmatter::Value)> =
                    it.extra.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                p.text = super::set_fields(&p.text, &fields)?;
                p.ticket = crate::model::ticket::parse(&p.ticket.path, &p.text).map_err(|e| {
                    Error::invalid(format!("item key `{}`: {e}", it.key))
                })?;
            }
            edits.push(Edit::Write {
                path: p.ticket.path.clone(),
                content: p.text.into_bytes(),
            });
            prepared[i] = Some(p.ticket);
        }
        let mut all = snap.tickets.clone();
        all.extend(prepared.iter().flatten().cloned());
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
        let map: BTreeMap<String, String> = items
            .iter()
            .zip(&ids)
            .map(|(it, id)| (it.key.clone(), id.clone()))
            .collect();
        let mut message = message();
        for id in &ids {
            message = message.ticket(id);
        }
        Ok(Outcome::Commit {
            edits,
            message,
            value: map,
        })
    })
}

/// `wt import`: the IDs of the tickets created.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub schema_version: SchemaVersion,
    /// Each item's key → the new ticket's ID, by key.
    pub ids: BTreeMap<String, String>,
    /// The commit on the state branch.
    pub commit: Option<String>,
}

impl ImportReport {
    pub fn new(w: &Written<BTreeMap<String, String>>) -> ImportReport {
        ImportReport {
            schema_version: SchemaVersion,
            ids: w.value.clone(),
            commit: w.commit.map(|x| x.to_string()),
        }
    }
}
