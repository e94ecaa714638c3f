//! `wt plan export`: the ticket tree as one markdown plan that `wt plan import` turns back
//! into the same tree — every ticket, every field a plan carries, every body, byte for byte.
//!
//! Each ticket is written as the plan text it came from where there is one (so a plan imported
//! and exported again is given back as it was), else as a heading (a task: a checklist item)
//! with its field lines. What that text does not say — a field changed since, the progress and
//! amendments wt appended, a body that never came from a plan — goes into the node's wt tail
//! ([`super::tail`]): a `<!-- wt:node {...} -->` line and, where a body is needed, a fenced
//! ```` ```wt-body ```` block. Tickets without a parent go under headings that are not tickets
//! (`parentless` in their tail).
//!
//! The export reads its own output back with the real parser twice: once without the fields
//! to learn what the text alone says (so only the difference is written), and once at the end
//! to check that importing it gives every ticket back; it fails rather than write a plan that
//! would not.

use super::tail::{self, BodyMode, Meta};
use super::{fragment, parse_markdown, resolve_node, task_ranges, Lines, Names, Plan, Target};
use crate::error::{Error, Result};
use crate::model::markdown;
use crate::model::ticket::{Kind, Status, Ticket};

/// What a ticket made from a plan node gets where the node says nothing: the template's
/// fields, and a gate from config `gates.approval`.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub priority: u8,
    pub status: Status,
    pub files: Vec<String>,
    pub artifacts: Vec<String>,
    pub labels: Vec<String>,
    pub gate: bool,
}

/// The status a plan carries: the state of live work (a claim, an audit under way) is not
/// part of a plan, so `in_progress` and `review` come back `open`.
pub fn carried_status(s: Status) -> Status {
    match s {
        Status::InProgress | Status::Review => Status::Open,
        s => s,
    }
}

/// One node of the exported plan.
struct Unit<'a> {
    /// None: a heading that groups tickets without a parent.
    ticket: Option<&'a Ticket>,
    kind: Kind,
    body: String,
    /// The node's readable text, its wt tail excluded (a job: without its tasks).
    text: String,
    /// A task: the indent of its item's continuation lines.
    indent: usize,
    /// A job: for each of its tasks (unit indices, in text order), the task-item slot of the
    /// job's text it takes, or None (appended after the items).
    tasks: Vec<(usize, Option<usize>)>,
    meta: Meta,
    fence: Option<String>,
}

/// A title on one line (the tail carries the exact one).
fn one_line(title: &str) -> String {
    title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A heading and field lines for a ticket that did not come from a plan.
fn synthesized(t: &Ticket, heading: &str, title_of: &dyn Fn(&str) -> Option<String>) -> String {
    let mut s = format!("{heading} {}\n\n", one_line(&t.title));
    let mut lines = Vec::new();
    if !t.depends_on.is_empty() {
        let names: Vec<String> = t
            .depends_on
            .iter()
            .map(|d| {
                title_of(d)
                    .map(|x| one_line(&x))
                    .unwrap_or_else(|| d.clone())
            })
            .collect();
        lines.push(format!("Depends on: {}", names.join(", ")));
    }
    if !t.files.is_empty() {
        lines.push(format!("Files: {}", t.files.join(", ")));
    }
    if !t.artifacts.is_empty() {
        lines.push(format!("Artifacts: {}", t.artifacts.join(", ")));
    }
    lines.push(format!("Priority: {}", t.priority));
    if t.gate.is_some() {
        lines.push("Gate: approval".into());
    }
    s.push_str(&lines.join("\n"));
    s.push_str("\n\n");
    s
}

/// Whether `text` is one section a plan parser reads as a single node of `level` (2 or 3):
/// it starts with that heading and holds no other level-2 or level-3 heading. Phase-specs
/// may have text before the heading (a preamble).
fn one_section(text: &str, level: u8) -> bool {
    let hs: Vec<(u8, String, usize)> = section_headings(text)
        .into_iter()
        .filter(|h| h.0 == 2 || h.0 == 3)
        .collect();
    matches!(hs.as_slice(), [(l, _, line)] if *l == level && (level == 2 || *line == 1))
}

/// The headings of a node's text as the plan parser finds them: after YAML frontmatter at
/// the top (which belongs to the preamble), with lines counted from the text's start.
fn section_headings(text: &str) -> Vec<(u8, String, usize)> {
    let (at, first) = match crate::model::frontmatter::split(text) {
        Ok(s) => (s.body_offset, s.body_first_line),
        Err(_) => (0, 1),
    };
    markdown::headings(&text[at..])
        .into_iter()
        .map(|(l, t, line)| (l, t, line + first - 1))
        .collect()
}

/// The character in a task item's checkbox.
fn checkbox_of(item: &str) -> Option<char> {
    super::checkbox_re()
        .captures(item)
        .and_then(|c| c[2].chars().next())
}

/// A job's text with its task items replaced: slot `k` by `slots[k]` (None: the item is left
/// out), then `extra` after the last item (or at the end).
fn with_task_texts(job_text: &str, slots: &[Option<String>], extra: &[String]) -> String {
    let ranges = task_ranges(job_text);
    let lines = Lines::new(job_text);
    let mut out = String::with_capacity(job_text.len());
    let mut next = 1;
    let mut extra_done = extra.is_empty();
    for (k, r) in ranges.iter().enumerate() {
        out.push_str(lines.slice(next, r.first - 1));
        if let Some(Some(s)) = slots.get(k) {
            out.push_str(s);
        }
        next = r.last + 1;
        if k + 1 == ranges.len() {
            for e in extra {
                if !out.is_empty() && !out.ends_with(['\n', '\r']) {
                    out.push('\n');
                }
                out.push_str(e);
            }
            extra_done = true;
        }
    }
    out.push_str(&job_text[lines.start(next).min(job_text.len())..]);
    if !extra_done {
        for e in extra {
            if !out.is_empty() && !out.ends_with(['\n', '\r']) {
                out.push('\n');
            }
            out.push_str(e);
        }
    }
    out
}

/// Write the plan: `with_fields` false leaves out every tail field that depends on reading
/// the plan back (the first pass).
fn render(units: &mut [Unit<'_>], with_fields: bool) -> String {
    // Pieces in document order: each unit's text with its tail; a job's tasks inside it.
    let tail_of = |u: &Unit<'_>| -> String {
        let mut m = u.meta.clone();
        if !with_fields {
            m = Meta {
                pre: m.pre,
                checkbox: m.checkbox,
                parentless: m.parentless,
                pad: m.pad,
                ..Meta::default()
            };
        }
        if m.is_empty() {
            return String::new();
        }
        let fence = if with_fields {
            u.fence.as_deref()
        } else {
            None
        };
        tail::render(&m, fence, u.indent, super::eol_of(&u.text))
    };
    let n = units.len();
    let mut out = String::new();
    let mut i = 0;
    while i < n {
        let last_unit = |j: usize| j + 1 == n;
        match units[i].kind {
            Kind::PhaseSpec => {
                let mut text = units[i].text.clone();
                let t = tail_of(&units[i]);
                let pad = !text.ends_with(['\n', '\r']) && (!t.is_empty() || !last_unit(i));
                if pad {
                    text.push_str(super::eol_of(&units[i].text));
                }
                units[i].meta.pad = pad;
                let t = if pad { tail_of(&units[i]) } else { t };
                out.push_str(&text);
                out.push_str(&t);
                i += 1;
            }
            Kind::Job => {
                let tasks = units[i].tasks.clone();
                let last_of_job = tasks.last().map_or(i, |(u, _)| *u);
                let job_tail_empty = tail_of(&units[i]).is_empty();
                let mut slots: Vec<Option<String>> = vec![None; task_ranges(&units[i].text).len()];
                let mut extra = Vec::new();
                for (k, &(u, slot)) in tasks.iter().enumerate() {
                    let mut text = units[u].text.clone();
                    let t = tail_of(&units[u]);
                    let followed = !t.is_empty()
                        || k + 1 < tasks.len()
                        || !job_tail_empty
                        || !last_unit(last_of_job);
                    let pad = !text.ends_with(['\n', '\r']) && followed;
                    if pad {
                        text.push_str(super::eol_of(&units[u].text));
                    }
                    units[u].meta.pad = pad;
                    let t = if pad { tail_of(&units[u]) } else { t };
                    text.push_str(&t);
                    match slot {
                        Some(s) if s < slots.len() => slots[s] = Some(text),
                        _ => extra.push(text),
                    }
                }
                let mut text = with_task_texts(&units[i].text, &slots, &extra);
                let t = tail_of(&units[i]);
                let pad =
                    !text.ends_with(['\n', '\r']) && (!t.is_empty() || !last_unit(last_of_job));
                if pad {
                    text.push_str(super::eol_of(&units[i].text));
                }
                units[i].meta.pad = pad;
                let t = if pad { tail_of(&units[i]) } else { t };
                out.push_str(&text);
                out.push_str(&t);
                i = last_of_job + 1;
            }
            Kind::Task => i += 1,
        }
    }
    out
}

/// A grouping heading for tickets without a parent.
fn group<'a>(kind: Kind, text: &str) -> Unit<'a> {
    Unit {
        ticket: None,
        kind,
        body: String::new(),
        text: text.to_string(),
        indent: 0,
        tasks: Vec::new(),
        meta: Meta {
            parentless: true,
            ..Meta::default()
        },
        fence: None,
    }
}

/// Add job `j` (None: the grouping heading for tasks without a job) and its tasks.
fn add_job<'a>(
    units: &mut Vec<Unit<'a>>,
    j: Option<&'a Ticket>,
    tasks: Vec<&'a Ticket>,
    body_of: &dyn Fn(&Ticket) -> Result<String>,
    title_of: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    let job_index = units.len();
    match j {
        Some(j) => {
            let body = body_of(j)?;
            let text = match fragment(&body) {
                Some(f) if f.file.is_none() && one_section(&f.text, 3) => f.text,
                Some(_) => {
                    let t = super::node_text(j, &body, "###");
                    if one_section(&t, 3) {
                        t
                    } else {
                        synthesized(j, "###", title_of)
                    }
                }
                None => synthesized(j, "###", title_of),
            };
            units.push(Unit {
                ticket: Some(j),
                kind: Kind::Job,
                body,
                text,
                indent: 0,
                tasks: Vec::new(),
                meta: Meta::default(),
                fence: None,
            });
        }
        None => units.push(group(Kind::Job, "### Tasks without a job\n\n")),
    }
    // Tasks in sibling order; a task takes its item's slot in the job's text while the
    // slots go up, the rest follow the items.
    let n_slots = task_ranges(&units[job_index].text).len();
    let mut last: Option<usize> = None;
    let mut appending = false;
    let mut placed = Vec::new();
    for t in tasks {
        let body = body_of(t)?;
        let mut meta = Meta::default();
        let text = match fragment(&body) {
            Some(f) if single_item(&f.text) => {
                // Blank lines after the item are the job's (an older wt kept them in the
                // task's text too; the body's tail then carries them).
                let shown = trim_blank_tail(&super::task_text(t, &body));
                if let (Some(was), Some(now)) = (checkbox_of(&f.text), checkbox_of(&shown)) {
                    if was != now {
                        meta.checkbox = Some(was);
                    }
                }
                shown
            }
            _ => format!(
                "- [{}] {}\n",
                if t.status == Status::Done { "x" } else { " " },
                one_line(&t.title)
            ),
        };
        let slot = match t.order.map(|o| o as usize) {
            Some(o) if !appending && o < n_slots && last.is_none_or(|l| o > l) => {
                last = Some(o);
                Some(o)
            }
            _ => {
                appending = true;
                None
            }
        };
        let indent = tail::item_indent(text.lines().next().unwrap_or(""));
        placed.push((units.len(), slot));
        units.push(Unit {
            ticket: Some(t),
            kind: Kind::Task,
            body,
            text,
            indent,
            tasks: Vec::new(),
            meta,
            fence: None,
        });
    }
    // The tasks must read back as the job's tasks: appended after a job text that ends in
    // its criteria (or in a code block), they would not. Then the job is written as a heading
    // (its text goes into its tail) with the tasks after it.
    let shown = |u: usize| units[u].text.clone();
    let mut slots: Vec<Option<String>> = vec![None; n_slots];
    let mut extra = Vec::new();
    for &(u, slot) in &placed {
        match slot {
            Some(k) => slots[k] = Some(shown(u)),
            None => extra.push(shown(u)),
        }
    }
    let candidate = with_task_texts(&units[job_index].text, &slots, &extra);
    if task_ranges(&candidate).len() != placed.len() {
        if let Some(j) = j {
            units[job_index].text = synthesized(j, "###", title_of);
        }
        for p in &mut placed {
            p.1 = None;
        }
    }
    units[job_index].tasks = placed;
    Ok(())
}

/// A ticket's frontmatter fields wt does not know: (key, the field's verbatim text).
pub type CustomFields<'a> = dyn Fn(&Ticket) -> Result<Vec<(String, String)>> + 'a;

/// Write the ticket tree as one markdown plan. `body_of` gives a ticket's body, `custom_of`
/// its frontmatter fields wt does not know (key, verbatim text), `defaults`
/// what a plan node of a kind gets where it says nothing.
pub fn export(
    tickets: &[Ticket],
    body_of: &dyn Fn(&Ticket) -> Result<String>,
    custom_of: &CustomFields<'_>,
    defaults: &dyn Fn(Kind) -> Defaults,
) -> Result<String> {
    let by_id: std::collections::HashMap<&str, &Ticket> =
        tickets.iter().map(|t| (t.id.as_str(), t)).collect();
    // A parent counts only when it exists and is of the kind a parent must be.
    let parent_of = |t: &Ticket| -> Option<&Ticket> {
        let p = by_id.get(t.parent.as_deref()?)?;
        (Some(p.kind) == t.kind.parent_kind()).then_some(*p)
    };
    let children = |p: Option<&str>, kind: Kind| -> Vec<&Ticket> {
        let mut v: Vec<&Ticket> = tickets
            .iter()
            .filter(|t| t.kind == kind && parent_of(t).map(|x| x.id.as_str()) == p)
            .collect();
        super::sort_siblings(&mut v);
        v
    };
    let title_of = |id: &str| by_id.get(id).map(|t| t.title.clone());
    let mut units: Vec<Unit<'_>> = Vec::new();
    let phases = children(None, Kind::PhaseSpec);
    for p in &phases {
        let body = body_of(p)?;
        let mut meta = Meta::default();
        let mut text = match fragment(&body) {
            Some(f) if f.file.is_none() && one_section(&f.text, 2) => f.text,
            Some(_) => {
                let t = super::node_text(p, &body, "##");
                if one_section(&t, 2) {
                    t
                } else {
                    synthesized(p, "##", &title_of)
                }
            }
            None => synthesized(p, "##", &title_of),
        };
        // Only the first node of a plan may have text before its heading.
        if !units.is_empty() {
            if let Some((_, _, line)) = section_headings(&text).into_iter().find(|h| h.0 == 2) {
                let at = Lines::new(&text).start(line);
                if at > 0 {
                    meta.pre = Some(text[..at].to_string());
                    text = text[at..].to_string();
                }
            }
        }
        units.push(Unit {
            ticket: Some(p),
            kind: Kind::PhaseSpec,
            body,
            text,
            indent: 0,
            tasks: Vec::new(),
            meta,
            fence: None,
        });
        for j in children(Some(&p.id), Kind::Job) {
            add_job(
                &mut units,
                Some(j),
                children(Some(&j.id), Kind::Task),
                body_of,
                &title_of,
            )?;
        }
    }
    let orphan_jobs = children(None, Kind::Job);
    let orphan_tasks = children(None, Kind::Task);
    if !orphan_jobs.is_empty() || !orphan_tasks.is_empty() {
        units.push(group(Kind::PhaseSpec, "## Without a phase-spec\n\n"));
        for j in orphan_jobs {
            add_job(
                &mut units,
                Some(j),
                children(Some(&j.id), Kind::Task),
                body_of,
                &title_of,
            )?;
        }
        if !orphan_tasks.is_empty() {
            add_job(&mut units, None, orphan_tasks, body_of, &title_of)?;
        }
    }
    if units.is_empty() {
        return Ok(String::new());
    }
    // First pass: what the text alone says.
    let first = render(&mut units, false);
    if std::env::var_os("WT_DEBUG_EXPORT").is_some() {
        eprintln!("{first}");
    }
    let mut plan = read_back(&first, &units)?;
    let mut needs_id = vec![false; units.len()];
    let index: std::collections::HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .filter_map(|(i, u)| u.ticket.map(|t| (t.id.as_str(), i)))
        .collect();
    for (u, n) in units.iter_mut().zip(&plan.nodes) {
        let Some(t) = u.ticket else {
            continue;
        };
        let d = defaults(t.kind);
        u.fence = None;
        let m = &mut u.meta;
        if n.title != t.title {
            m.title = Some(t.title.clone());
        }
        let status = carried_status(t.status);
        if status != if n.done { Status::Done } else { d.status } {
            m.status = Some(status);
        }
        if n.priority.unwrap_or(d.priority) != t.priority {
            m.priority = Some(t.priority);
        }
        let or = |from_text: &Vec<String>, dflt: &Vec<String>| {
            if from_text.is_empty() {
                dflt.clone()
            } else {
                from_text.clone()
            }
        };
        if or(&n.files, &d.files) != t.files {
            m.files = Some(t.files.clone());
        }
        if or(&n.artifacts, &d.artifacts) != t.artifacts {
            m.artifacts = Some(t.artifacts.clone());
        }
        if d.labels != t.labels {
            m.labels = Some(t.labels.clone());
        }
        if (n.gate || d.gate) != t.gate.is_some() {
            m.gate = Some(t.gate.is_some());
        }
        if t.attempts > 0 {
            m.attempts = Some(t.attempts);
        }
        m.approved_by = t.approved_by.clone();
        m.approved_at = t.approved_at.clone();
        m.implemented_by = t.implemented_by.clone();
        m.source = t.source.clone().filter(|s| !s.starts_with("plan:"));
        m.aliases = (!t.aliases.is_empty()).then(|| t.aliases.clone());
        m.links = (!t.links.is_empty()).then(|| t.links.clone());
        let custom = custom_of(t)?;
        m.fields = (!custom.is_empty()).then(|| custom.into_iter().collect());
    }
    // Dependencies as the import will read them: names against the titles it will have.
    for (n, u) in plan.nodes.iter_mut().zip(&units) {
        if let Some(t) = u.ticket {
            n.title = t.title.clone();
        }
    }
    let names = Names::new(&plan);
    for i in 0..units.len() {
        let Some(t) = units[i].ticket else {
            continue;
        };
        let read = resolve_node(&plan, &names, i, &|_| None).ok().map(|ts| {
            ts.into_iter()
                .map(|x| match x {
                    Target::Node(j) => units[j].ticket.map(|t| t.id.clone()).unwrap_or_default(),
                    Target::Id(id) => id,
                })
                .collect::<Vec<String>>()
        });
        if read.as_ref() != Some(&t.depends_on) {
            units[i].meta.deps = Some(t.depends_on.clone());
            for d in &t.depends_on {
                if let Some(&j) = index.get(d.as_str()) {
                    needs_id[j] = true;
                }
            }
        }
        // The body: the text as the import reads it, then the end marker — or what differs.
        let own = &plan.nodes[i].text;
        let plain = super::body_with_marker(own, None);
        let u = &mut units[i];
        if u.body != plain {
            if u.body.starts_with(own.as_str()) {
                u.meta.body = Some(BodyMode::After);
                u.fence = Some(u.body[own.len()..].to_string());
            } else {
                u.meta.body = Some(BodyMode::Whole);
                u.fence = Some(u.body.clone());
            }
        }
    }
    for (i, need) in needs_id.into_iter().enumerate() {
        if need {
            units[i].meta.id = units[i].ticket.map(|t| t.id.clone());
        }
    }
    let out = render(&mut units, true);
    check(&out, &units)?;
    Ok(out)
}

/// `text` without the blank lines at its end (its last line keeps its line ending).
fn trim_blank_tail(text: &str) -> String {
    let lines = Lines::new(text);
    let mut last = lines.count();
    while last > 1 && lines.content(last).trim().is_empty() {
        last -= 1;
    }
    lines.slice(1, last).to_string()
}

/// Whether `text` is exactly one task item.
fn single_item(text: &str) -> bool {
    let rs = task_ranges(text);
    let lines = Lines::new(text);
    matches!(rs.as_slice(), [r] if r.first == 1
        && (r.last + 1..=lines.count()).all(|l| lines.content(l).trim().is_empty()))
}

/// Parse the exported text; its nodes must be the units, in order.
fn read_back(text: &str, units: &[Unit<'_>]) -> Result<Plan> {
    let bug = |what: String| {
        Error::new(
            crate::error::ErrorKind::Internal,
            format!("wt plan export wrote a plan it cannot read back: {what}"),
        )
        .with_hint("this is a bug in wt; please report it with the ticket files involved")
    };
    let plan = parse_markdown(text, "the exported plan").map_err(|e| bug(e.message))?;
    if plan.nodes.len() != units.len()
        || plan.nodes.iter().zip(units).any(|(n, u)| n.kind != u.kind)
    {
        return Err(bug(format!(
            "{} nodes for {} tickets and headings",
            plan.nodes.len(),
            units.len()
        )));
    }
    Ok(plan)
}

/// Read the final text back: every ticket's title and body must come back as they are.
fn check(text: &str, units: &[Unit<'_>]) -> Result<()> {
    let plan = read_back(text, units)?;
    for (n, u) in plan.nodes.iter().zip(units) {
        let Some(t) = u.ticket else {
            if !n.not_a_ticket {
                return Err(Error::new(
                    crate::error::ErrorKind::Internal,
                    "wt plan export: a grouping heading would become a ticket",
                ));
            }
            continue;
        };
        let body = n
            .body
            .clone()
            .unwrap_or_else(|| super::body_with_marker(&n.text, None));
        if body != u.body || n.title != t.title {
            return Err(Error::new(
                crate::error::ErrorKind::Internal,
                format!(
                    "wt plan export: {} would not come back as it is (title {:?}, body {} bytes for {})",
                    t.id,
                    n.title,
                    body.len(),
                    u.body.len()
                ),
            )
            .with_hint("this is a bug in wt; please report it with the ticket's file"));
        }
    }
    Ok(())
}
