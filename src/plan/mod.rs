//! Markdown plans in and out: the parser behind `wt plan import` and the writer behind
//! `wt plan export`.
//!
//! # One markdown file
//!
//! - Everything before the first `##` heading is the plan's preamble.
//! - A level-2 heading (`## Phase 1: Storage`) starts a **phase-spec**; a level-3 heading
//!   (`### Schema`) starts a **job** of the phase above it. Each runs to the next level-2 or
//!   level-3 heading. Deeper headings (`####`…) are text of the node they are in.
//! - In a job, each top-level checklist item (`- [ ] …`) is a **task**; its title is the
//!   item's first line, and the item (with its indented lines) is the task's text. A checked
//!   item (`- [x]`) is imported as a done task. Checklist items under a heading named
//!   `Acceptance Criteria` are criteria of the job, not tasks.
//! - Lines at the start of a paragraph-line of a phase or job set fields:
//!   `Depends on: Phase 1, Schema` (titles of phase-specs or jobs, the part of a title
//!   before its `:`, or existing ticket IDs), `Files: src/db/**, src/db.rs`,
//!   `Artifacts: …`, `Priority: 1` (or `P1`), `Gate: approval`. `**Depends on:**` works too.
//!
//! # A folder
//!
//! `plans/<feature>/phase-specs/*.md` are the phase-specs (in file-name order) and
//! `plans/<feature>/phase-implementation/<phase>/<job>.md` the jobs of a phase: `<phase>` is
//! the phase-spec's file name without `.md`, without a `-spec` suffix, or without the
//! `<feature>-` prefix as well (`auth-storage-spec.md` ↔ `storage/`). A node's title is its
//! first heading (else the file name); tasks and field lines as above; a node can also be
//! named by its file or folder name in `Depends on:`.
//!
//! # No data lost
//!
//! Every line of the input is stored verbatim in a ticket body: a phase-spec holds its own
//! text (the first one also the preamble), a job holds its text including its task items,
//! a task holds its item. The stored text ends at a `<!-- wt:plan-end -->` line, after which
//! wt appends amendments and progress. `wt plan export` puts the text back together (task
//! items from the task tickets, their checkboxes following the tasks' status), so import then
//! export gives back the input byte for byte.

pub mod export;
pub mod speckit;
pub mod tail;

use std::collections::HashMap;
use std::path::Path;

use comrak::nodes::NodeValue;
use comrak::{parse_document, Arena, Options};
use regex::Regex;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::frontmatter::{self, Value};
use crate::model::item::Item;
use crate::model::journal::{demote_headings, line_starts};
use crate::model::markdown;
use crate::model::ticket::{Kind, Status, Ticket, GATE_APPROVAL};

/// Start of the line that ends the plan text in a ticket body.
pub const MARKER: &str = crate::model::markdown::PLAN_END;

/// One phase-spec, job or task read from a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub kind: Kind,
    pub title: String,
    /// Where the node starts: file and 1-based line.
    pub source: String,
    pub line: usize,
    /// Folder layout: the file, relative to the plan folder.
    pub file: Option<String>,
    pub parent: Option<usize>,
    /// Position among its siblings.
    pub order: u32,
    /// The node's text, verbatim.
    #[serde(skip)]
    pub text: String,
    /// `Depends on:` names with the line they are on.
    pub depends_on: Vec<(String, usize)>,
    pub files: Vec<String>,
    pub artifacts: Vec<String>,
    pub priority: Option<u8>,
    pub gate: bool,
    /// A checked task item.
    pub done: bool,
    /// Other names `Depends on:` may use for it (file and folder names).
    #[serde(skip)]
    pub names: Vec<String>,
    /// A heading that only groups tickets without a parent (written by `wt plan export`): no
    /// ticket is made of it, and the nodes under it get no parent.
    pub not_a_ticket: bool,
    /// What the node's wt tail says (written by `wt plan export`).
    #[serde(skip)]
    pub meta: tail::Meta,
    /// The ticket body, when the tail gives it (else the text and the end marker).
    #[serde(skip)]
    pub body: Option<String>,
}

/// A parsed plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub nodes: Vec<Node>,
    /// Files in a plan folder that are not part of the layout (not imported).
    pub ignored: Vec<String>,
}

impl Plan {
    pub fn count(&self, kind: Kind) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.kind == kind && !n.not_a_ticket)
            .count()
    }
}

fn options() -> Options<'static> {
    let mut o = Options::default();
    o.extension.tasklist = true;
    o.extension.table = true;
    o.extension.strikethrough = true;
    o
}

/// A text with its line starts, for slicing by 1-based lines.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            starts: line_starts(text),
        }
    }
    /// Number of lines (a final line without a line ending counts; an empty tail does not).
    fn count(&self) -> usize {
        let n = self.starts.len();
        if self.starts.last() == Some(&self.text.len()) {
            n - 1
        } else {
            n
        }
    }
    fn start(&self, line: usize) -> usize {
        line.checked_sub(1)
            .and_then(|i| self.starts.get(i))
            .copied()
            .unwrap_or(self.text.len())
    }
    /// Lines `first..=last` with their line endings.
    fn slice(&self, first: usize, last: usize) -> &'a str {
        &self.text[self.start(first)..self.start(last + 1)]
    }
    /// Line content without its ending.
    fn content(&self, line: usize) -> &'a str {
        self.slice(line, line).trim_end_matches(['\n', '\r'])
    }
}

/// A task item found in a job's text (lines relative to that text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRange {
    pub first: usize,
    pub last: usize,
    pub title: String,
    pub checked: bool,
}

fn is_criteria(heading: &str) -> bool {
    heading
        .trim()
        .eq_ignore_ascii_case(crate::model::ticket::CRITERIA_HEADING)
}

/// The task items of a job's text: top-level checklist items that are not under an
/// `Acceptance Criteria` heading.
pub fn task_ranges(text: &str) -> Vec<TaskRange> {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let lines = Lines::new(text);
    let mut criteria_level: Option<u8> = None;
    let mut out = Vec::new();
    for node in root.children() {
        let ast = node.data();
        match &ast.value {
            NodeValue::Heading(h) => {
                if criteria_level.is_some_and(|l| h.level <= l) {
                    criteria_level = None;
                }
                if is_criteria(&node.collect_text()) {
                    criteria_level = Some(h.level);
                }
            }
            NodeValue::List(_) if criteria_level.is_none() => {
                for item in node.children() {
                    let d = item.data();
                    let NodeValue::TaskItem(ti) = &d.value else {
                        continue;
                    };
                    let first = d.sourcepos.start.line;
                    let mut last = d.sourcepos.end.line.max(first);
                    // Blank lines after an item belong to the job's text, not the task's:
                    // where an item ends must not depend on what follows it.
                    while last > first && lines.content(last).trim().is_empty() {
                        last -= 1;
                    }
                    let content = lines.content(first);
                    let title = content
                        .get(ti.symbol_sourcepos.end.column..)
                        .and_then(|s| s.strip_prefix(']'))
                        .or_else(|| content.find(']').and_then(|i| content.get(i + 1..)))
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    out.push(TaskRange {
                        first,
                        last,
                        title,
                        checked: ti.symbol.is_some(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Fields set by `Depends on:`-style lines.
#[derive(Debug, Default)]
struct Attrs {
    depends_on: Vec<(String, usize)>,
    files: Vec<String>,
    artifacts: Vec<String>,
    priority: Option<u8>,
    gate: Option<bool>,
}

fn attr_re() -> &'static Regex {
    use std::sync::OnceLock;
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^\s{0,3}(?:\*\*|__)?(depends[ _-]on|files|artifacts|priority|gate)(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.*?)\s*$",
        )
        .expect("valid attribute regex")
    })
}

fn split_values(v: &str) -> Vec<String> {
    v.split([',', ';'])
        .map(|s| s.trim().trim_matches(['`', '"', '\'']).trim().to_string())
        .filter(|s| !s.is_empty())
        .filter(|s| {
            !matches!(
                s.to_ascii_lowercase().as_str(),
                "none" | "nothing" | "-" | "n/a"
            )
        })
        .collect()
}

/// Read the field lines of a node's text (root-level paragraphs only, so code blocks and
/// list items never count). `first_line` is the text's first line in `source`.
fn attributes(text: &str, source: &str, first_line: usize) -> Result<Attrs> {
    let arena = Arena::new();
    let root = parse_document(&arena, text, &options());
    let lines = Lines::new(text);
    let mut a = Attrs::default();
    for node in root.children() {
        let d = node.data();
        if !matches!(d.value, NodeValue::Paragraph) {
            continue;
        }
        for l in d.sourcepos.start.line..=d.sourcepos.end.line.max(d.sourcepos.start.line) {
            let Some(c) = attr_re().captures(lines.content(l)) else {
                continue;
            };
            let at = first_line + l - 1;
            let value = c[2].trim();
            let bad = |what: &str, hint: &str| {
                Error::invalid(format!("{source}:{at}: {what}")).with_hint(hint.to_string())
            };
            match c[1].to_ascii_lowercase().as_str() {
                "files" => a.files.extend(split_values(value)),
                "artifacts" => a.artifacts.extend(split_values(value)),
                "priority" => {
                    let v = value.trim_start_matches(['P', 'p']);
                    let p: u8 = v.parse().map_err(|_| {
                        bad(
                            &format!("`Priority: {value}` is not a priority"),
                            "priority is 0 (most urgent) to 4, or P0 to P4",
                        )
                    })?;
                    if p > crate::model::ticket::MAX_PRIORITY {
                        return Err(bad(
                            &format!("priority {p} is out of range"),
                            "priority is 0 (most urgent) to 4",
                        ));
                    }
                    a.priority = Some(p);
                }
                "gate" => a.gate = Some(match value.to_ascii_lowercase().as_str() {
                    "approval" | "human" | "human approval" | "yes" | "required" => true,
                    "none" | "no" | "" => false,
                    _ => return Err(bad(
                        &format!("unknown gate `{value}`"),
                        "write `Gate: approval` (a human runs `wt approve`) or leave the line out",
                    )),
                }),
                _ => {
                    for name in split_values(value) {
                        a.depends_on.push((name, at));
                    }
                }
            }
        }
    }
    Ok(a)
}

/// Refuse text that would confuse wt's own sections or the end marker.
fn check_text(text: &str, source: &str, first_line: usize) -> Result<()> {
    for (_, h, line) in markdown::headings(text) {
        for reserved in [
            crate::model::journal::AMENDMENTS,
            crate::model::journal::PROGRESS,
        ] {
            if h.trim().eq_ignore_ascii_case(reserved) {
                return Err(Error::invalid(format!(
                    "{source}:{}: a heading named `{h}` would receive wt's own {} entries",
                    first_line + line - 1,
                    reserved.to_lowercase()
                ))
                .with_hint("rename the heading (e.g. `Progress so far`)"));
            }
        }
    }
    let lines = Lines::new(text);
    for l in 1..=lines.count() {
        if lines.content(l).trim_start().starts_with(MARKER) {
            return Err(Error::invalid(format!(
                "{source}:{}: the line `{MARKER} -->` is reserved for wt",
                first_line + l - 1
            )));
        }
    }
    Ok(())
}

fn node(kind: Kind, title: String, source: &str, line: usize, text: String) -> Node {
    Node {
        kind,
        title,
        source: source.to_string(),
        line,
        file: None,
        parent: None,
        order: 0,
        text,
        depends_on: Vec::new(),
        files: Vec::new(),
        artifacts: Vec::new(),
        priority: None,
        gate: false,
        done: false,
        names: Vec::new(),
        not_a_ticket: false,
        meta: tail::Meta::default(),
        body: None,
    }
}

/// A node's text split from its wt tail: the node's own text (with the tail's `pad` and `pre`
/// undone and, for a task, its checkbox put back), and the tail.
struct Split {
    text: String,
    meta: tail::Meta,
    fence: Option<String>,
}

fn split_tail(
    text: &str,
    indent: usize,
    from_line: usize,
    source: &str,
    first_line: usize,
) -> Result<Split> {
    let Some(t) = tail::find(text, indent, from_line, source, first_line)? else {
        return Ok(Split {
            text: text.to_string(),
            meta: tail::Meta::default(),
            fence: None,
        });
    };
    let mut own = text[..t.start].to_string();
    if t.meta.pad {
        if own.ends_with("\r\n") {
            own.truncate(own.len() - 2);
        } else if own.ends_with(['\n', '\r']) {
            own.truncate(own.len() - 1);
        }
    }
    Ok(Split {
        text: own,
        meta: t.meta,
        fence: t.fence,
    })
}

/// Set the checkbox character of a task item's first line.
pub fn set_checkbox(item: &str, symbol: char) -> String {
    match checkbox_re().captures(item) {
        Some(c) => format!(
            "{}{symbol}{}",
            &c[1],
            &item[c.get(3).map_or(item.len(), |m| m.start())..]
        ),
        None => item.to_string(),
    }
}

/// Apply what the tail says about the body: `pre` before the text, then the body mode.
fn finish_node(n: &mut Node, mut s: Split) {
    if let Some(pre) = s.meta.pre.take() {
        n.text = format!("{pre}{}", n.text);
    }
    n.body = match (s.meta.body, s.fence.take()) {
        (Some(tail::BodyMode::After), Some(f)) => Some(format!("{}{f}", n.text)),
        (Some(tail::BodyMode::Whole), Some(f)) => Some(f),
        _ => None,
    };
    n.not_a_ticket = s.meta.parentless;
    if let Some(t) = s.meta.title.clone() {
        n.title = t;
    }
    n.meta = s.meta;
}

fn apply_attrs(n: &mut Node, a: Attrs) {
    n.depends_on = a.depends_on;
    n.files = a.files;
    n.artifacts = a.artifacts;
    n.priority = a.priority;
    n.gate = a.gate.unwrap_or(false);
}

fn untitled(title: &str, what: &str, line: usize) -> String {
    let t = title.trim();
    if t.is_empty() {
        format!("untitled {what} (line {line})")
    } else {
        t.to_string()
    }
}

/// Add the task nodes of job `job` (whose text starts at `first_line` of `source`); each
/// item's wt tail is taken off, and the job's text gets the items back as they were.
fn add_tasks(plan: &mut Plan, job: usize, source: &str, first_line: usize) -> Result<()> {
    let text = plan.nodes[job].text.clone();
    let lines = Lines::new(&text);
    let ranges = task_ranges(&text);
    let mut restored = String::with_capacity(text.len());
    let mut next = 1;
    for (k, r) in ranges.into_iter().enumerate() {
        let at = first_line + r.first - 1;
        let item = lines.slice(r.first, r.last);
        let indent = tail::item_indent(lines.content(r.first));
        let mut s = split_tail(item, indent, 2, source, at)?;
        if let Some(c) = s.meta.checkbox.take() {
            s.text = set_checkbox(&s.text, c);
        }
        restored.push_str(lines.slice(next, r.first - 1));
        restored.push_str(&s.text);
        next = r.last + 1;
        let mut t = node(
            Kind::Task,
            untitled(&r.title, "task", at),
            source,
            at,
            s.text.clone(),
        );
        t.parent = Some(job);
        t.order = k as u32;
        t.done = r.checked;
        finish_node(&mut t, s);
        plan.nodes.push(t);
    }
    restored.push_str(&text[lines.start(next).min(text.len())..]);
    plan.nodes[job].text = restored;
    Ok(())
}

/// Parse a plan written as one markdown file.
pub fn parse_markdown(text: &str, source: &str) -> Result<Plan> {
    // YAML frontmatter at the top belongs to the preamble; headings are looked for after it.
    let (body_at, body_line) = match frontmatter::split(text) {
        Ok(s) => (s.body_offset, s.body_first_line),
        Err(_) => (0, 1),
    };
    let lines = Lines::new(text);
    let total = lines.count();
    let heads: Vec<(u8, String, usize)> = markdown::headings(&text[body_at..])
        .into_iter()
        .filter(|(l, _, _)| *l == 2 || *l == 3)
        .map(|(l, t, line)| (l, t, line + body_line - 1))
        .collect();
    match heads.first() {
        None => return Err(Error::invalid(format!(
            "{source}: no phase-spec heading: a plan needs `## <phase>` headings"
        ))
        .with_hint(
            "`## Phase` starts a phase-spec, `### Job` a job of it, `- [ ] task` a task of the job",
        )),
        Some((3, t, line)) => {
            return Err(Error::invalid(format!(
                "{source}:{line}: job heading `### {t}` comes before any phase-spec heading"
            ))
            .with_hint("put a `## <phase>` heading above it"))
        }
        Some(_) => {}
    }
    let mut plan = Plan::default();
    let mut phase: Option<usize> = None;
    let (mut phase_order, mut job_order) = (0u32, 0u32);
    for (k, (level, title, line)) in heads.iter().enumerate() {
        let end = heads.get(k + 1).map_or(total, |h| h.2 - 1);
        // The first phase-spec holds the preamble too.
        let from = if k == 0 { 1 } else { *line };
        let section = lines.slice(from, end);
        // A wt tail (from `wt plan export`) is not part of the node's text.
        let split = split_tail(section, 0, *line - from + 2, source, from)?;
        let own = &split.text[lines.start(*line) - lines.start(from)..];
        if *level == 2 {
            check_text(own, source, *line)?;
            if k == 0 {
                check_text(&split.text, source, 1)?;
            }
        }
        let attrs = attributes(own, source, *line)?;
        if *level == 2 {
            let mut n = node(
                Kind::PhaseSpec,
                untitled(title, "phase-spec", *line),
                source,
                *line,
                split.text.clone(),
            );
            apply_attrs(&mut n, attrs);
            n.order = phase_order;
            phase_order += 1;
            job_order = 0;
            finish_node(&mut n, split);
            plan.nodes.push(n);
            phase = Some(plan.nodes.len() - 1);
        } else {
            let mut n = node(
                Kind::Job,
                untitled(title, "job", *line),
                source,
                *line,
                split.text.clone(),
            );
            apply_attrs(&mut n, attrs);
            n.parent = phase;
            n.order = job_order;
            job_order += 1;
            plan.nodes.push(n);
            let j = plan.nodes.len() - 1;
            add_tasks(&mut plan, j, source, *line)?;
            // Checked once the tasks' tails are off (a tail's text is wt's, not the plan's).
            check_text(&plan.nodes[j].text, source, *line)?;
            finish_node(&mut plan.nodes[j], split);
        }
    }
    Ok(plan)
}

fn read_utf8(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::not_found(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", path.display())))
}

fn md_files(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::not_found(format!("cannot read {}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .collect();
    v.sort();
    Ok(v)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn first_heading(text: &str) -> Option<String> {
    let body = match frontmatter::split(text) {
        Ok(s) => s.body,
        Err(_) => text,
    };
    markdown::headings(body)
        .into_iter()
        .map(|(_, t, _)| t)
        .find(|t| !t.trim().is_empty())
}

/// Parse the folder layout `phase-specs/*.md` + `phase-implementation/<phase>/<job>.md`;
/// `display` is how messages name `dir`.
pub fn parse_folder(dir: &Path, display: &str) -> Result<Plan> {
    let specs = dir.join("phase-specs");
    if !specs.is_dir() {
        return Err(Error::not_found(format!(
            "{display} has no phase-specs/ folder"
        ))
        .with_hint("pass the feature's folder: plans/<feature> holding phase-specs/ and phase-implementation/"));
    }
    let display = display.trim_end_matches('/');
    let shown = |p: &Path| -> String {
        format!(
            "{display}/{}",
            p.strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/")
        )
    };
    let feature = dir
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let rel = |p: &Path| -> String {
        p.strip_prefix(dir)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    };
    let mut plan = Plan::default();
    let mut used: Vec<std::path::PathBuf> = Vec::new();
    // Names a phase folder may use for each phase-spec file.
    let mut phase_names: Vec<(usize, Vec<String>)> = Vec::new();
    for (k, path) in md_files(&specs)?.into_iter().enumerate() {
        let text = read_utf8(&path)?;
        let source = shown(&path);
        check_text(&text, &source, 1)?;
        let attrs = attributes(&text, &source, 1)?;
        let s = stem(&path);
        let no_spec = s.strip_suffix("-spec").unwrap_or(&s).to_string();
        let no_feature = no_spec
            .strip_prefix(&format!("{feature}-"))
            .unwrap_or(&no_spec)
            .to_string();
        let mut n = node(
            Kind::PhaseSpec,
            first_heading(&text).unwrap_or_else(|| s.clone()),
            &source,
            1,
            text,
        );
        apply_attrs(&mut n, attrs);
        n.order = k as u32;
        n.file = Some(rel(&path));
        n.names = vec![s.clone(), no_spec.clone(), no_feature.clone()];
        plan.nodes.push(n);
        phase_names.push((plan.nodes.len() - 1, vec![s, no_spec, no_feature]));
        used.push(path);
    }
    if plan.nodes.is_empty() {
        return Err(Error::invalid(format!(
            "{} holds no .md files",
            specs.display()
        )));
    }
    let imp = dir.join("phase-implementation");
    if imp.is_dir() {
        let mut phase_dirs: Vec<std::path::PathBuf> = std::fs::read_dir(&imp)
            .map_err(|e| Error::not_found(format!("cannot read {}: {e}", imp.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        phase_dirs.sort();
        for pd in phase_dirs {
            let name = pd
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(&(phase, _)) = phase_names.iter().find(|(_, ns)| ns.contains(&name)) else {
                let known: Vec<String> = phase_names.iter().map(|(_, ns)| ns[2].clone()).collect();
                return Err(Error::invalid(format!(
                    "{}: no phase-spec matches the folder `{name}`",
                    pd.display()
                ))
                .with_hint(format!(
                    "name the folder after a phase-spec file (without .md, `-spec` or `{feature}-`): {}",
                    known.join(", ")
                )));
            };
            plan.nodes[phase].names.push(name.clone());
            for (k, path) in md_files(&pd)?.into_iter().enumerate() {
                let text = read_utf8(&path)?;
                let source = shown(&path);
                check_text(&text, &source, 1)?;
                let attrs = attributes(&text, &source, 1)?;
                let s = stem(&path);
                let mut n = node(
                    Kind::Job,
                    first_heading(&text).unwrap_or_else(|| s.clone()),
                    &source,
                    1,
                    text,
                );
                apply_attrs(&mut n, attrs);
                n.parent = Some(phase);
                n.order = k as u32;
                n.file = Some(rel(&path));
                n.names = vec![s];
                plan.nodes.push(n);
                let j = plan.nodes.len() - 1;
                add_tasks(&mut plan, j, &source, 1)?;
                used.push(path);
            }
        }
    }
    // Everything else in the folder is reported, not imported.
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if !used.contains(&p) {
                plan.ignored.push(rel(&p));
            }
        }
    }
    plan.ignored.sort();
    Ok(plan)
}

/// Parse a plan file or folder; `display` is how messages name it.
pub fn parse_path(path: &Path, display: &str) -> Result<Plan> {
    if path.is_dir() {
        parse_folder(path, display)
    } else {
        parse_markdown(&read_utf8(path)?, display)
    }
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '"' | '\''))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches('.')
        .to_lowercase()
}

/// What a `Depends on:` name points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Node(usize),
    /// An existing ticket.
    Id(String),
}

/// The names `Depends on:` may use, built once per plan.
pub struct Names {
    exact: HashMap<String, Vec<usize>>,
    loose: HashMap<String, Vec<usize>>,
    /// Exported IDs (a wt tail's `id`) → node.
    ids: HashMap<String, usize>,
}

impl Names {
    pub fn new(plan: &Plan) -> Names {
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut loose: HashMap<String, Vec<usize>> = HashMap::new();
        let mut ids = HashMap::new();
        for (i, n) in plan.nodes.iter().enumerate() {
            if let Some(id) = &n.meta.id {
                ids.insert(id.clone(), i);
            }
            if n.kind == Kind::Task || n.not_a_ticket {
                continue;
            }
            exact.entry(normalize(&n.title)).or_default().push(i);
            if let Some((short, _)) = n.title.split_once(':') {
                loose.entry(normalize(short)).or_default().push(i);
            }
            for name in &n.names {
                loose.entry(normalize(name)).or_default().push(i);
            }
        }
        for v in loose.values_mut() {
            v.sort();
            v.dedup();
        }
        Names { exact, loose, ids }
    }
}

/// Resolve every `Depends on:` name: a phase-spec or job of the plan (by title, by the part
/// of its title before `:`, or by file/folder name), else an existing ticket ID via
/// `existing`. Unknown and ambiguous names are errors naming the line. A node whose wt tail
/// lists `deps` depends on exactly those (other nodes by exported ID, else existing tickets).
pub fn resolve(plan: &Plan, existing: &dyn Fn(&str) -> Option<String>) -> Result<Vec<Vec<Target>>> {
    let names = Names::new(plan);
    (0..plan.nodes.len())
        .map(|i| resolve_node(plan, &names, i, existing))
        .collect()
}

/// The dependencies of node `i` (see [`resolve`]).
pub fn resolve_node(
    plan: &Plan,
    names: &Names,
    i: usize,
    existing: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Target>> {
    let n = &plan.nodes[i];
    if n.not_a_ticket {
        return Ok(Vec::new());
    }
    if let Some(deps) = &n.meta.deps {
        let mut targets = Vec::new();
        for d in deps {
            let t = match names.ids.get(d) {
                Some(&j) if !plan.nodes[j].not_a_ticket => Target::Node(j),
                _ => match existing(d) {
                    Some(id) => Target::Id(id),
                    None => {
                        return Err(Error::invalid(format!(
                            "{}:{}: `{}` depends on `{d}`, which is neither a node of the plan nor a ticket",
                            n.source, n.line, n.title
                        ))
                        .with_hint("the wt:node line names dependencies by the IDs they were exported with"))
                    }
                },
            };
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        return Ok(targets);
    }
    let mut targets: Vec<Target> = Vec::new();
    for (name, line) in &n.depends_on {
        let key = normalize(name);
        let hits = names
            .exact
            .get(&key)
            .filter(|v| !v.is_empty())
            .or_else(|| names.loose.get(&key).filter(|v| !v.is_empty()));
        let t = match hits.map(Vec::as_slice) {
            Some([one]) => Target::Node(*one),
            Some(many) => {
                let lines: Vec<String> = many
                    .iter()
                    .map(|&i| format!("{} (line {})", plan.nodes[i].title, plan.nodes[i].line))
                    .collect();
                return Err(Error::invalid(format!(
                    "{}:{line}: `Depends on: {name}` is ambiguous: {}",
                    n.source,
                    lines.join(", ")
                ))
                .with_hint("use the full title"));
            }
            None => match existing(name) {
                Some(id) => Target::Id(id),
                None => {
                    let mut known: Vec<&str> = plan
                        .nodes
                        .iter()
                        .filter(|x| x.kind != Kind::Task && !x.not_a_ticket)
                        .map(|x| x.title.as_str())
                        .take(12)
                        .collect();
                    known.dedup();
                    return Err(Error::invalid(format!(
                        "{}:{line}: `Depends on: {name}`: no phase-spec or job of the plan is called that, and no ticket has that ID",
                        n.source
                    ))
                    .with_hint(format!("known titles: {}", known.join("; "))));
                }
            },
        };
        if let Target::Node(j) = t {
            let mut cur = n.parent;
            let mut is_ancestor = false;
            while let Some(p) = cur {
                if p == j {
                    is_ancestor = true;
                    break;
                }
                cur = plan.nodes[p].parent;
            }
            if is_ancestor {
                return Err(Error::invalid(format!(
                    "{}:{line}: `{}` depends on `{}`, which contains it",
                    n.source, n.title, plan.nodes[j].title
                ))
                .with_hint("a phase-spec is finished after its jobs, so this could never start"));
            }
        }
        if !targets.contains(&t) {
            targets.push(t);
        }
    }
    Ok(targets)
}

fn eol_of(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// A ticket body holding `text` verbatim, then the end marker.
pub fn body_with_marker(text: &str, file: Option<&str>) -> String {
    let eol = eol_of(text);
    let mut body = text.to_string();
    let mut marker = MARKER.to_string();
    if !text.is_empty() && !text.ends_with(['\n', '\r']) {
        body.push_str(eol);
        marker.push_str(" no-eol");
    }
    if let Some(f) = file {
        marker.push_str(&format!(" file={f}"));
    }
    marker.push_str(" -->");
    body.push_str(&marker);
    body.push_str(eol);
    body
}

/// Each node's path in the plan, what a re-import finds its ticket by (`source:
/// plan:<name>:<path>`): the titles from its phase-spec down, joined by ` / `
/// (`Phase 1: Storage / Schema / Write the migration`); the k-th node with a path already
/// taken (k ≥ 2) gets `#k` after it.
pub fn node_paths(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(plan.nodes.len());
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (i, n) in plan.nodes.iter().enumerate() {
        let title = n.title.trim();
        let base = match n.parent {
            Some(p) if p < i => format!("{} / {title}", out[p]),
            _ => title.to_string(),
        };
        let c = counts.entry(base.clone()).or_insert(0);
        *c += 1;
        out.push(if *c == 1 { base } else { format!("{base}#{c}") });
    }
    out
}

/// Checklist items no ticket is made of: those in a phase-spec's own text (tasks are the
/// items of a job), other than its acceptance criteria. Each as (the phase-spec's title, the
/// item's first line): `wt plan import` names them rather than keep them as text silently.
pub fn stray_items(plan: &Plan) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for n in plan
        .nodes
        .iter()
        .filter(|n| n.kind == Kind::PhaseSpec && !n.not_a_ticket)
    {
        let criteria: Vec<usize> =
            markdown::task_items_under_all(&n.text, crate::model::ticket::CRITERIA_HEADING)
                .into_iter()
                .map(|t| t.line)
                .collect();
        for t in markdown::task_items(&n.text, None) {
            if !criteria.contains(&t.line) {
                let mark = if t.checked { "x" } else { " " };
                out.push((n.title.clone(), format!("- [{mark}] {}", t.text)));
            }
        }
    }
    out
}

/// The import items for a plan (keys `n0`, `n1`, … in plan order).
pub fn items(plan: &Plan, targets: &[Vec<Target>]) -> Vec<Item> {
    plan.nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| !n.not_a_ticket)
        .map(|(i, n)| {
            // `order` comes from the import: the position among the plan's siblings, after any
            // the parent already has.
            let m = &n.meta;
            let mut extra = Vec::new();
            match m.gate {
                Some(true) => extra.push(("gate".to_string(), Value::Str(GATE_APPROVAL.into()))),
                Some(false) => extra.push(("gate".to_string(), Value::Null)),
                None if n.gate => {
                    extra.push(("gate".to_string(), Value::Str(GATE_APPROVAL.into())))
                }
                None => {}
            }
            if let Some(a) = m.attempts {
                extra.push(("attempts".to_string(), Value::Int(i64::from(a))));
            }
            for (k, v) in [
                ("approved_by", &m.approved_by),
                ("approved_at", &m.approved_at),
                ("implemented_by", &m.implemented_by),
            ] {
                if let Some(v) = v {
                    extra.push((k.to_string(), Value::Str(v.clone())));
                }
            }
            for (k, v) in [("aliases", &m.aliases), ("links", &m.links)] {
                if let Some(v) = v {
                    extra.push((k.to_string(), Value::List(v.clone())));
                }
            }
            let list = |meta: &Option<Vec<String>>, from_text: &Vec<String>| {
                meta.clone()
                    .or_else(|| (!from_text.is_empty()).then(|| from_text.clone()))
            };
            Item {
                key: format!("n{i}"),
                kind: n.kind,
                title: n.title.clone(),
                status: m.status.or(n.done.then_some(Status::Done)),
                priority: m.priority.or(n.priority),
                parent: n
                    .parent
                    .filter(|&p| !plan.nodes[p].not_a_ticket)
                    .map(|p| format!("n{p}")),
                depends_on: targets[i]
                    .iter()
                    .map(|t| match t {
                        Target::Node(j) => format!("n{j}"),
                        Target::Id(id) => id.clone(),
                    })
                    .collect(),
                files: list(&m.files, &n.files),
                artifacts: list(&m.artifacts, &n.artifacts),
                labels: m.labels.clone(),
                body: Some(
                    n.body
                        .clone()
                        .unwrap_or_else(|| body_with_marker(&n.text, n.file.as_deref())),
                ),
                description: None,
                extra,
                raw_fields: m
                    .fields
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                source: m.source.clone(),
                ..Item::default()
            }
        })
        .collect()
}

/// The plan text stored in a ticket body, if it was imported from a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    pub text: String,
    /// Folder layout: the file it came from.
    pub file: Option<String>,
}

pub fn fragment(body: &str) -> Option<Fragment> {
    let lines = Lines::new(body);
    for l in 1..=lines.count() {
        let c = lines.content(l).trim();
        let Some(rest) = c.strip_prefix(MARKER) else {
            continue;
        };
        let Some(rest) = rest.strip_suffix("-->") else {
            continue;
        };
        let mut text = body[..lines.start(l)].to_string();
        let mut file = None;
        for tok in rest.split_whitespace() {
            if tok == "no-eol" {
                if text.ends_with("\r\n") {
                    text.truncate(text.len() - 2);
                } else if text.ends_with(['\n', '\r']) {
                    text.truncate(text.len() - 1);
                }
            } else if let Some(f) = tok.strip_prefix("file=") {
                file = Some(f.to_string());
            }
        }
        return Some(Fragment { text, file });
    }
    None
}

fn checkbox_re() -> &'static Regex {
    use std::sync::OnceLock;
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(\s*(?:[-*+]|\d+[.)])\s+\[)([^\]])(\])").expect("valid checkbox regex")
    })
}

/// A task's item text, its checkbox following the task's status.
fn task_text(t: &Ticket, body: &str) -> String {
    let done = t.status == Status::Done;
    match fragment(body) {
        Some(f) => {
            let Some(c) = checkbox_re().captures(&f.text) else {
                return f.text;
            };
            let sym = &c[2];
            let checked = sym != " ";
            if checked == done {
                return f.text;
            }
            let new = if done { "x" } else { " " };
            format!(
                "{}{new}{}",
                &c[1],
                &f.text[c.get(3).map_or(0, |m| m.start())..]
            )
        }
        None => format!("- [{}] {}\n", if done { "x" } else { " " }, t.title),
    }
}

/// A phase-spec's or job's plan text for a one-file plan.
fn node_text(t: &Ticket, body: &str, heading: &str) -> String {
    match fragment(body) {
        Some(f) if f.file.is_none() => f.text,
        Some(f) => {
            // From the folder layout: give it the heading the one-file convention needs —
            // its own first heading when that is its title, else a new one.
            let text = demote_headings(&f.text, 4);
            let first = markdown::headings(&text).into_iter().next();
            let mut s = match first {
                Some((_, h, line)) if h.trim() == t.title.trim() => {
                    let lines = Lines::new(&text);
                    let eol = eol_of(&text);
                    format!(
                        "{}{heading} {}{eol}{}",
                        lines.slice(1, line - 1),
                        t.title,
                        &text[lines.start(line + 1).min(text.len())..]
                    )
                }
                _ => format!("{heading} {}\n\n{text}", t.title),
            };
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s.push('\n');
            s
        }
        None => format!("{heading} {}\n\n", t.title),
    }
}

/// A job's plan text with each task item's checkbox following its task ticket's status
/// (`tasks`: the job's task tickets with their bodies).
pub fn sync_task_items(job_text: &str, tasks: &[(&Ticket, String)]) -> String {
    let items: Vec<(&Ticket, String)> = tasks.iter().map(|(t, b)| (*t, task_text(t, b))).collect();
    with_tasks(job_text, &items)
}

/// Put the tasks' item texts into a job's text in place of its task items.
fn with_tasks(job_text: &str, tasks: &[(&Ticket, String)]) -> String {
    // A task's text ends at its last non-blank line (the blank lines after it are the job's).
    let tasks: Vec<(&Ticket, String)> = tasks
        .iter()
        .map(|(t, s)| {
            let l = Lines::new(s);
            let mut last = l.count();
            while last > 1 && l.content(last).trim().is_empty() {
                last -= 1;
            }
            (*t, l.slice(1, last).to_string())
        })
        .collect();
    let tasks = tasks.as_slice();
    let ranges = task_ranges(job_text);
    let mut slots: Vec<Option<&str>> = vec![None; ranges.len()];
    let mut extra: Vec<&str> = Vec::new();
    for (t, text) in tasks {
        match t.order.map(|o| o as usize) {
            Some(o) if o < slots.len() && slots[o].is_none() => slots[o] = Some(text),
            _ => extra.push(text),
        }
    }
    let lines = Lines::new(job_text);
    let eol = eol_of(job_text);
    let mut out = String::with_capacity(job_text.len());
    let mut next = 1;
    for (k, r) in ranges.iter().enumerate() {
        out.push_str(lines.slice(next, r.first - 1));
        if let Some(s) = slots[k] {
            out.push_str(s);
        }
        next = r.last + 1;
        if k + 1 == ranges.len() {
            for e in &extra {
                if !out.ends_with(['\n', '\r']) {
                    out.push_str(eol);
                }
                out.push_str(e);
            }
            extra.clear();
        }
    }
    out.push_str(&job_text[lines.start(next).min(job_text.len())..]);
    for e in extra {
        if !out.is_empty() && !out.ends_with(['\n', '\r']) {
            out.push_str(eol);
        }
        out.push_str(e);
    }
    out
}

/// Siblings in plan order (see `crate::schedule::order`).
pub fn sort_siblings(v: &mut [&Ticket]) {
    v.sort_by(|a, b| a.sibling_key().cmp(&b.sibling_key()));
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "# Plan\n\nIntro.\n\n## Phase 1: Storage\nGate: approval\n\nTables.\n\n### Schema\nFiles: src/db/**, `src/db.rs`\nPriority: P1\n\nMake it.\n\n- [ ] Users table\n  with an id\n- [x] Email index\n\n#### Acceptance Criteria\n\n- [ ] not a task\n\n### Config\n**Depends on:** Schema\n\n```\n### not a job\n- [ ] not a task\n```\n\n## Phase 2: API\nDepends on: Phase 1\n\n### Login\n- [ ] Endpoint";

    #[test]
    fn markdown_plan_becomes_phases_jobs_and_tasks() {
        let p = parse_markdown(PLAN, "plan.md").unwrap();
        let kinds: Vec<(Kind, &str)> = p.nodes.iter().map(|n| (n.kind, n.title.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (Kind::PhaseSpec, "Phase 1: Storage"),
                (Kind::Job, "Schema"),
                (Kind::Task, "Users table"),
                (Kind::Task, "Email index"),
                (Kind::Job, "Config"),
                (Kind::PhaseSpec, "Phase 2: API"),
                (Kind::Job, "Login"),
                (Kind::Task, "Endpoint"),
            ]
        );
        assert!(p.nodes[0].gate);
        assert!(p.nodes[0]
            .text
            .starts_with("# Plan\n\nIntro.\n\n## Phase 1"));
        assert_eq!(p.nodes[1].files, vec!["src/db/**", "src/db.rs"]);
        assert_eq!(p.nodes[1].priority, Some(1));
        assert_eq!(p.nodes[2].text, "- [ ] Users table\n  with an id\n");
        assert!(p.nodes[3].done);
        assert_eq!(p.nodes[4].depends_on, vec![("Schema".to_string(), 25)]);
        let t = resolve(&p, &|_| None).unwrap();
        assert_eq!(t[4], vec![Target::Node(1)]);
        assert_eq!(
            t[5],
            vec![Target::Node(0)],
            "`Phase 1` names `Phase 1: Storage`"
        );
        let joined: String = p
            .nodes
            .iter()
            .filter(|n| n.kind != Kind::Task)
            .map(|n| n.text.as_str())
            .collect();
        assert_eq!(joined, PLAN, "phase and job texts partition the file");
    }

    #[test]
    fn bad_plans_name_the_line() {
        let e = parse_markdown("### Job first\n", "p.md").unwrap_err();
        assert!(e.message.contains("p.md:1:"), "{}", e.message);
        let e = parse_markdown("## P\n\n### J\nDepends on: Nope\n", "p.md").unwrap();
        let e = resolve(&e, &|_| None).unwrap_err();
        assert!(e.message.contains("p.md:4:"), "{}", e.message);
        let e = parse_markdown("## P\n\n#### Progress\n", "p.md").unwrap_err();
        assert!(e.message.contains("p.md:3:"), "{}", e.message);
        let e = parse_markdown("## P\nPriority: 9\n", "p.md").unwrap_err();
        assert!(e.message.contains("p.md:2:"), "{}", e.message);
    }

    #[test]
    fn fragment_round_trips_through_the_marker() {
        for text in ["a\nb\n", "a\nb", "a\r\nb\r\n", ""] {
            for file in [None, Some("phase-specs/x.md")] {
                let body = body_with_marker(text, file);
                let mut with_more = body.clone();
                with_more.push_str("\n## Progress\n\n- x\n");
                let f = fragment(&with_more).unwrap();
                assert_eq!(f.text, text);
                assert_eq!(f.file.as_deref(), file);
            }
        }
    }

    #[test]
    fn tasks_are_put_back_in_order_with_their_checkbox() {
        let job = "### J\n\n- [ ] a\n- [ ] b\n\ntail\n";
        let mk = |order: u32, status: Status| Ticket {
            order: Some(order),
            status,
            ..Default::default()
        };
        let (a, b) = (mk(0, Status::Done), mk(1, Status::Open));
        let ta = task_text(&a, &body_with_marker("- [ ] a\n", None));
        let tb = task_text(&b, &body_with_marker("- [ ] b\n", None));
        assert_eq!(ta, "- [x] a\n");
        let out = with_tasks(job, &[(&b, tb), (&a, ta)]);
        assert_eq!(out, "### J\n\n- [x] a\n- [ ] b\n\ntail\n");
    }
}
