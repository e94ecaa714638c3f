//! `wt new`: create one ticket (with its dependencies) in one commit.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::clock;
use crate::model::frontmatter::Value;
use crate::model::id;
use crate::model::templates;
use crate::model::ticket::{Kind, Status, Ticket, MAX_PRIORITY};
use crate::schedule::graph::Graph;
use crate::store::Edit;
use crate::workspace::{quoted, Message, Outcome, Reads, Snapshot, Workspace, Written};

/// What to create.
#[derive(Debug, Clone, Default)]
pub struct NewSpec {
    pub kind: Option<Kind>,
    pub title: String,
    pub parent: Option<String>,
    /// Empty: the template's (usually none).
    pub depends_on: Vec<String>,
    /// None: the template's (else 2). Likewise for the lists and the status below: a value
    /// given here wins over the template's.
    pub priority: Option<u8>,
    pub files: Option<Vec<String>>,
    pub artifacts: Option<Vec<String>>,
    pub labels: Option<Vec<String>>,
    pub status: Option<Status>,
    pub body: Option<String>,
    pub description: Option<String>,
    /// Position among its siblings (plan order); set by `wt new` and `wt import`.
    pub order: Option<u32>,
}

/// The `order` a new ticket under `parent` (None: a top-level one) gets: after every
/// sibling it already has.
pub fn next_order(tickets: &[Ticket], parent: Option<&str>) -> u32 {
    tickets
        .iter()
        .filter(|t| t.parent.as_deref() == parent)
        .filter_map(|t| t.order)
        .map(|o| o.saturating_add(1))
        .max()
        .unwrap_or(0)
}

/// A ticket ready to be written: its parsed form and its file text.
pub struct Prepared {
    pub ticket: Ticket,
    pub text: String,
}

/// The template text for `kind` at the snapshot (the team's copy, else the built-in one).
pub fn template_text(ws: &Workspace, snap: &Snapshot, kind: Kind) -> Result<String> {
    let p = templates::path(kind);
    if snap.blobs.contains_key(&p) {
        ws.read_text(snap, &p)
    } else {
        Ok(templates::builtin(kind).to_string())
    }
}

/// Build a ticket file from a template. `id`, `parent` and `depends_on` are final IDs;
/// `parent_path` is the parent's file path (the new file goes in its folder).
pub fn prepare(
    template: &str,
    kind: Kind,
    id: &str,
    spec: &NewSpec,
    parent_path: Option<&str>,
) -> Result<Prepared> {
    let title = spec.title.trim();
    if title.is_empty() {
        return Err(Error::invalid("a ticket needs a title"));
    }
    check_text_fields(spec)?;
    // Every field the template sets is the default; what the spec gives wins.
    let defaults = templates::defaults(template, kind)?;
    // What the template gives is held to the same rules as what is given.
    check_text_fields(&NewSpec {
        title: title.to_string(),
        labels: Some(defaults.labels.clone()),
        files: Some(defaults.files.clone()),
        artifacts: Some(defaults.artifacts.clone()),
        ..NewSpec::default()
    })?;
    let priority = spec.priority.unwrap_or(defaults.priority);
    if priority > MAX_PRIORITY {
        return Err(Error::invalid(format!(
            "priority {priority} is out of range (0 most urgent … {MAX_PRIORITY})"
        )));
    }
    let now = clock::timestamp();
    let status = spec.status.unwrap_or(defaults.status);
    let depends_on = if spec.depends_on.is_empty() {
        &defaults.depends_on
    } else {
        &spec.depends_on
    };
    let dir = match parent_path {
        Some(p) => p.strip_suffix(".md").unwrap_or(p).to_string(),
        None => crate::model::config::WORK_DIR.to_string(),
    };
    let slug = id::slug(title);
    let path = if slug.is_empty() {
        format!("{dir}/{id}.md")
    } else {
        format!("{dir}/{id}-{slug}.md")
    };
    let fields: Vec<(&str, Value)> = vec![
        ("id", Value::Str(id.to_string())),
        ("kind", Value::Str(kind.as_str().to_string())),
        ("title", Value::Str(title.to_string())),
        ("status", Value::Str(status.as_str().to_string())),
        ("priority", Value::Int(priority as i64)),
        ("parent", super::opt(spec.parent.as_deref())),
        ("depends_on", super::list(depends_on)),
        ("created", Value::Str(now.clone())),
        ("updated", Value::Str(now.clone())),
        (
            "files",
            super::list(spec.files.as_ref().unwrap_or(&defaults.files)),
        ),
        (
            "artifacts",
            super::list(spec.artifacts.as_ref().unwrap_or(&defaults.artifacts)),
        ),
        (
            "labels",
            super::list(spec.labels.as_ref().unwrap_or(&defaults.labels)),
        ),
    ];
    let mut vars = HashMap::new();
    vars.insert("title", title.to_string());
    vars.insert("id", id.to_string());
    vars.insert("kind", kind.as_str().to_string());
    // The description goes under `## Description`: its own headings are pushed down to level 3
    // or deeper, so that none of them can stand in for a section of wt's (`## Acceptance
    // Criteria`, `## Amendments`, `## Progress`; see docs/tickets.md).
    let description = spec.description.as_deref().unwrap_or_default();
    vars.insert(
        "description",
        crate::model::journal::demote_headings(description, 3),
    );
    let mut fields = fields;
    if let Some(o) = spec.order {
        fields.push(("order", Value::Int(i64::from(o))));
    }
    let text = templates::render(template, &fields, &vars, spec.body.as_deref())?;
    let ticket = crate::model::ticket::parse(&path, &text).map_err(|p| {
        Error::invalid(format!(
            "the {kind} template produced an invalid ticket: {p}"
        ))
        .with_hint(format!("fix {}", templates::path(kind)))
    })?;
    Ok(Prepared { ticket, text })
}

/// Refuse what would make the new ticket unsafe to print or to follow: a title or label with
/// a control character, a `files`/`artifacts` path that is not repository-relative. (Where
/// the paths lead in the working tree is checked by [`check_paths`].)
pub fn check_text_fields(spec: &NewSpec) -> Result<()> {
    use crate::model::text::{code_point, first_unsafe, one_line};
    let fields = std::iter::once(("title", spec.title.as_str()))
        .chain(spec.labels.iter().flatten().map(|l| ("label", l.as_str())));
    for (what, value) in fields {
        if let Some(c) = first_unsafe(value) {
            return Err(Error::invalid(format!(
                "the {what} `{}` contains the control character {}",
                one_line(value),
                code_point(c)
            ))
            .with_hint(format!(
                "a {what} is one line of printable text: remove the character"
            )));
        }
    }
    super::paths::check_field(None, "files", spec.files.as_deref().unwrap_or_default())?;
    super::paths::check_field(
        None,
        "artifacts",
        spec.artifacts.as_deref().unwrap_or_default(),
    )
}

/// Refuse `files`/`artifacts` of `spec` that lead outside the working tree of `ws` (through
/// a symbolic link) or into `.git`.
pub fn check_paths(ws: &Workspace, spec: &NewSpec) -> Result<()> {
    super::paths::check_field(
        ws.workdir(),
        "files",
        spec.files.as_deref().unwrap_or_default(),
    )?;
    super::paths::check_field(
        ws.workdir(),
        "artifacts",
        spec.artifacts.as_deref().unwrap_or_default(),
    )
}

/// Check that `parent` may hold a ticket of `kind`.
pub fn check_parent(kind: Kind, parent: Option<&Ticket>) -> Result<()> {
    match (kind.parent_kind(), parent) {
        (None, Some(p)) => Err(Error::invalid(format!(
            "a {kind} has no parent, but {} was given",
            p.id
        ))),
        (Some(want), Some(p)) if p.kind != want => Err(Error::invalid(format!(
            "a {kind}'s parent must be a {want}; {} is a {}",
            p.id, p.kind
        ))),
        _ => Ok(()),
    }
}

/// `wt new`: returns the new ticket, and the done containers above it that reopened (see
/// [`super::containers::reopen_above`]).
pub fn run(
    ws: &Workspace,
    spec: &NewSpec,
    agent: Option<&str>,
) -> Result<Written<super::containers::Opened>> {
    let kind = spec
        .kind
        .ok_or_else(|| Error::invalid("which kind? phase-spec, job or task"))?;
    check_text_fields(spec)?;
    check_paths(ws, spec)?;
    ws.write(Reads::All, |snap| {
        let parent = match &spec.parent {
            Some(p) => Some(snap.resolve(p)?),
            None => None,
        };
        check_parent(kind, parent)?;
        let mut deps = Vec::new();
        for d in &spec.depends_on {
            let t = snap.resolve(d).map_err(|e| {
                Error::new(e.kind, format!("dependency {d}: {}", e.message))
                    .with_hint("a dependency must be an existing ticket; create it first")
            })?;
            if !deps.contains(&t.id) {
                deps.push(t.id.clone());
            }
        }
        let id = id::generate(kind, &|c| snap.has_id(c));
        let mut s = spec.clone();
        s.parent = parent.map(|p| p.id.clone());
        s.depends_on = deps;
        s.order = Some(next_order(&snap.tickets, s.parent.as_deref()));
        let template = template_text(ws, snap, kind)?;
        let prepared = prepare(&template, kind, &id, &s, parent.map(|p| p.path.as_str()))?;
        let prepared = gate_new(prepared, &snap.config)?;
        // A new ticket cannot close a cycle (nothing depends on it yet), but check anyway.
        let mut all = snap.tickets.clone();
        all.push(prepared.ticket.clone());
        if let Some(c) = Graph::new(&all)
            .cycles()
            .into_iter()
            .find(|c| c.contains(&id))
        {
            return Err(Error::invalid(format!(
                "the new ticket would wait on itself: {}",
                c.join(" -> ")
            ))
            .with_hint(crate::schedule::graph::CYCLE_HINT));
        }
        let reopening = match parent {
            Some(p) if prepared.ticket.status != Status::Done => {
                super::containers::reopen_above(ws, snap, &p.id, &id, agent, &clock::timestamp())?
            }
            _ => super::containers::Reopening::default(),
        };
        let message = Message::new(
            "new",
            format!("{} {} {}", kind, id, quoted(&prepared.ticket.title)),
        )
        .ticket(&id)
        .agent(agent);
        let message = reopening.annotate(message);
        let mut edits = vec![Edit::Write {
            path: prepared.ticket.path.clone(),
            content: prepared.text.into_bytes(),
        }];
        edits.extend(reopening.edits);
        Ok(Outcome::Commit {
            edits,
            message,
            value: super::containers::Opened {
                ticket: prepared.ticket,
                reopened: reopening.reopened,
            },
        })
    })
}

/// Give a ticket being created `gate: approval` when the config's `gates.approval` lists
/// its kind (the template may also carry the field itself).
pub fn gate_new(mut p: Prepared, config: &crate::model::config::Config) -> Result<Prepared> {
    if p.ticket.gate.is_none() && config.gates.approval.contains(&p.ticket.kind) {
        p.text = super::set_fields(
            &p.text,
            &[(
                "gate",
                Value::Str(crate::model::ticket::GATE_APPROVAL.into()),
            )],
        )?;
        p.ticket.gate = Some(crate::model::ticket::GATE_APPROVAL.into());
    }
    Ok(p)
}
