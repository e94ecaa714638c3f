//! `wt context <ID>`: the minimal markdown an agent needs for one ticket, within a budget.
//!
//! Parts, in order: a header (kind, status, attempt, parent, files), the ticket itself
//! (description, acceptance criteria, amendments; its progress log comes later), what its
//! ancestors say (their text without their own amendments and progress), the outcome of each
//! dependency it waits on (title, status, last progress entry), the latest progress entries,
//! and the files it touches (their contents with `with_files`).
//!
//! Size is an **estimate**: UTF-8 bytes / 4, rounded up. That is a rule of thumb for English
//! prose with common tokenizers, not a tokenizer: code, non-English text and unusual
//! formatting often take more tokens per byte, so leave headroom in the budget.
//!
//! Over budget, parts are trimmed least important first: file contents (last file first),
//! then the oldest progress entries, then the dependencies' progress lines, then ancestor
//! text (farthest ancestor first, cut at a line and pointed to with `wt show`). The header,
//! the ticket itself (with every amendment) and the file list are never trimmed; if they
//! alone exceed the budget the bundle says so.

use serde::Serialize;

use crate::error::Result;
use crate::model::journal;
use crate::model::markdown;
use crate::model::ticket::{Kind, Status, Ticket};
use crate::plan::MARKER;
use crate::schedule::graph::Graph;
use crate::workspace::{Snapshot, Workspace};

/// Estimated tokens of `text`: UTF-8 bytes / 4, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(4)
}

#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// Budget in estimated tokens (default: config `context.max_tokens_per_task`).
    pub budget: Option<usize>,
    /// Include the contents of the ticket's files from the working tree.
    pub with_files: bool,
}

/// The context bundle of one ticket.
#[derive(Debug, Clone, Serialize)]
pub struct Bundle {
    /// The ticket.
    pub id: String,
    /// The bundle (markdown).
    pub text: String,
    /// Estimated tokens of `text` (UTF-8 bytes / 4).
    pub tokens: usize,
    /// The budget it was trimmed to.
    pub budget: usize,
    /// The ticket alone is over the budget.
    pub over_budget: bool,
    /// What was left out or cut, in the order it was trimmed.
    pub trimmed: Vec<String>,
}

struct Ancestor {
    id: String,
    kind: String,
    title: String,
    text: String,
    /// Cut to this many bytes (None = whole).
    cut: Option<usize>,
}

struct Dep {
    line: String,
    last_progress: Option<String>,
}

struct FileContent {
    path: String,
    content: String,
    cut: Option<usize>,
}

struct Parts {
    id: String,
    header: String,
    ticket: String,
    ancestors: Vec<Ancestor>,
    deps: Vec<Dep>,
    deps_progress: bool,
    progress: Vec<String>,
    progress_total: usize,
    progress_kept: usize,
    files: Vec<String>,
    contents: Vec<FileContent>,
}

/// Remove the `## Progress` section (and `## Amendments` when asked) and wt's plan marker
/// line from a body.
fn strip(body: &str, amendments_too: bool) -> String {
    let mut s = body.to_string();
    let mut names = vec![journal::PROGRESS];
    if amendments_too {
        names.push(journal::AMENDMENTS);
    }
    for name in names {
        if let Some(sec) = markdown::wt_section(&s, name) {
            s.replace_range(sec.start..sec.end, "");
        }
    }
    let mut out: Vec<&str> = Vec::new();
    let mut skip_blank = false;
    for l in s.split_inclusive('\n') {
        if l.trim_start().starts_with(MARKER) {
            // Drop the marker, and the blank line after it when one comes before it.
            skip_blank = out.last().is_some_and(|p| p.trim().is_empty());
            continue;
        }
        if skip_blank && l.trim().is_empty() {
            skip_blank = false;
            continue;
        }
        skip_blank = false;
        out.push(l);
    }
    out.concat().trim().to_string()
}

/// Cut `text` at a line boundary to at most `max` bytes.
fn cut_text(text: &str, max: usize) -> (String, usize) {
    let mut out = String::new();
    let mut dropped = 0;
    for l in text.split_inclusive('\n') {
        if dropped == 0 && out.len() + l.len() <= max {
            out.push_str(l);
        } else {
            dropped += 1;
        }
    }
    (out, dropped)
}

fn fence(content: &str) -> String {
    let longest = content
        .lines()
        .map(|l| l.chars().take_while(|&c| c == '`').count())
        .max()
        .unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

impl Parts {
    fn render(&self) -> String {
        let mut s = self.header.clone();
        s.push_str("\n## The ticket\n\n");
        s.push_str(&self.ticket);
        s.push('\n');
        for a in &self.ancestors {
            s.push_str(&format!(
                "\n## From its {} {} \"{}\"\n\n",
                a.kind, a.id, a.title
            ));
            match a.cut {
                None => {
                    s.push_str(&a.text);
                    s.push('\n');
                }
                Some(n) => {
                    let (kept, dropped) = cut_text(&a.text, n);
                    s.push_str(&kept);
                    if !kept.is_empty() && !kept.ends_with('\n') {
                        s.push('\n');
                    }
                    if dropped > 0 {
                        s.push_str(&format!(
                            "\n[… {dropped} more line(s) trimmed: `wt show {}`]\n",
                            a.id
                        ));
                    }
                }
            }
        }
        if !self.deps.is_empty() {
            s.push_str("\n## What it waits on\n\n");
            for d in &self.deps {
                s.push_str(&d.line);
                s.push('\n');
                if self.deps_progress {
                    if let Some(p) = &d.last_progress {
                        s.push_str("  Last progress:\n");
                        for l in p.lines() {
                            s.push_str("    ");
                            s.push_str(l.trim_start());
                            s.push('\n');
                        }
                    }
                }
            }
        }
        if self.progress_total > 0 && self.progress_kept == 0 {
            s.push_str(&format!(
                "\n## Progress\n\n[{} entr{} trimmed: `wt show {}`]\n",
                self.progress_total,
                if self.progress_total == 1 { "y" } else { "ies" },
                self.id
            ));
        } else if self.progress_total > 0 {
            let kept = &self.progress[self.progress.len() - self.progress_kept..];
            s.push_str(&format!(
                "\n## Progress (latest {} of {})\n\n",
                kept.len(),
                self.progress_total
            ));
            for e in kept {
                s.push_str(e);
                s.push('\n');
            }
        }
        if !self.files.is_empty() {
            s.push_str("\n## Files\n\n");
            for f in &self.files {
                s.push_str(&format!("- {f}\n"));
            }
            for c in &self.contents {
                let (text, dropped) = match c.cut {
                    None => (c.content.clone(), 0),
                    Some(n) => cut_text(&c.content, n),
                };
                let f = fence(&text);
                s.push_str(&format!("\n### {}\n\n{f}\n{text}", c.path));
                if !text.is_empty() && !text.ends_with('\n') {
                    s.push('\n');
                }
                s.push_str(&format!("{f}\n"));
                if dropped > 0 {
                    s.push_str(&format!(
                        "[… {dropped} more line(s) of {} trimmed]\n",
                        c.path
                    ));
                }
            }
        }
        s
    }
}

/// A file of the working tree to include: its real path inside the work tree, or why it is
/// not read.
type ToRead = (String, std::result::Result<std::path::PathBuf, String>);

/// Expand the ticket's `files` to existing files of the working tree: literal paths as they
/// are, globs against the paths tracked in the index. A path that is not repository-relative
/// or that leads outside the work tree (through a symbolic link) is never read: it comes back
/// with the reason.
fn expand_files(ws: &Workspace, files: &[String]) -> Result<Vec<ToRead>> {
    let Some(root) = ws.workdir() else {
        return Ok(Vec::new());
    };
    let mut tracked: Option<Vec<String>> = None;
    let mut out: Vec<ToRead> = Vec::new();
    let listed = |out: &[ToRead], f: &str| out.iter().any(|(p, _)| p == f);
    for f in files {
        if let Some(why) =
            super::paths::path_problem(f).or_else(|| super::paths::outside_problem(root, f))
        {
            if !listed(&out, f) {
                out.push((f.clone(), Err(why)));
            }
            continue;
        }
        let is_glob = f.contains(['*', '?', '[', '{']);
        if !is_glob {
            match super::paths::file_inside(root, f) {
                Ok(Some(real)) => {
                    if !listed(&out, f) {
                        out.push((f.clone(), Ok(real)));
                    }
                    continue;
                }
                Ok(None) => {}
                Err(why) => {
                    if !listed(&out, f) {
                        out.push((f.clone(), Err(why)));
                    }
                    continue;
                }
            }
        }
        let all = match &tracked {
            Some(t) => t,
            None => tracked.insert(ws.store.tracked_paths()?),
        };
        let dir = format!("{}/", f.trim_start_matches("./").trim_end_matches('/'));
        let glob = if is_glob {
            globset::GlobBuilder::new(f.trim_start_matches("./"))
                .literal_separator(true)
                .build()
                .ok()
                .map(|g| g.compile_matcher())
        } else {
            None
        };
        for t in all.iter() {
            // A glob matches; a literal that is not a file names a directory.
            let m = match &glob {
                Some(g) => g.is_match(t),
                None => !is_glob && t.starts_with(&dir),
            };
            if m && !listed(&out, t) {
                match super::paths::file_inside(root, t) {
                    Ok(Some(real)) => out.push((t.clone(), Ok(real))),
                    Ok(None) => {}
                    Err(why) => out.push((t.clone(), Err(why))),
                }
            }
        }
    }
    Ok(out)
}

/// Build the bundle for ticket `t`.
pub fn bundle(
    ws: &Workspace,
    snap: &Snapshot,
    t: &Ticket,
    opts: &ContextOptions,
) -> Result<Bundle> {
    let budget = opts
        .budget
        .unwrap_or(snap.config.context.max_tokens_per_task);
    let history = snap.config.context.progress_history;
    let g = Graph::new(&snap.tickets);
    let body_of = |x: &Ticket| -> Result<String> { crate::app::plan::body(ws, snap, x) };
    let body = body_of(t)?;

    // Ancestors, nearest first.
    let mut chain: Vec<&Ticket> = Vec::new();
    let mut cur = t.parent.as_deref().and_then(|p| g.get(p));
    while let Some(a) = cur {
        if chain.iter().any(|c| c.id == a.id) || a.id == t.id {
            break;
        }
        chain.push(a);
        cur = a.parent.as_deref().and_then(|p| g.get(p));
    }

    let mut header = format!("# {} {}\n\n", t.id, t.title);
    let attempt = t.attempts + 1;
    let max = snap.config.max_attempts;
    let mut meta = vec![t.kind.to_string(), format!("status {}", t.status)];
    meta.push(if max > 0 {
        format!("attempt {attempt} of {max}")
    } else {
        format!("attempt {attempt}")
    });
    if let Some(p) = chain.first() {
        meta.push(format!("{} {} \"{}\"", p.kind, p.id, p.title));
    }
    if let Some(by) = &t.claimed_by {
        meta.push(format!("claimed by {by}"));
    }
    header.push_str(&meta.join(" · "));
    header.push('\n');
    let amend = journal::amendments(&body).is_some();
    if amend {
        header.push_str(&format!(
            "\n> Attempt {attempt}: an earlier attempt failed its audit. Read the Amendments in the ticket below and do the job again with them in hand.\n"
        ));
    }

    // The job's tasks: their checkboxes in its plan text follow their status, and a list.
    let mut tasks: Vec<&Ticket> = snap
        .tickets
        .iter()
        .filter(|c| c.parent.as_deref() == Some(t.id.as_str()) && c.kind == Kind::Task)
        .collect();
    crate::plan::sort_siblings(&mut tasks);
    let mut synced = body.clone();
    if let Some(f) = crate::plan::fragment(&body) {
        let mut with_bodies = Vec::new();
        for c in &tasks {
            with_bodies.push((*c, body_of(c)?));
        }
        synced = format!(
            "{}{}",
            crate::plan::sync_task_items(&f.text, &with_bodies),
            &body[f.text.len()..]
        );
    }
    let mut ticket_text = journal::shift_headings(&strip(&synced, false), 3);
    if !tasks.is_empty() {
        let done = tasks.iter().filter(|c| c.status == Status::Done).count();
        ticket_text.push_str(&format!(
            "\n\nIts tasks ({done} of {} done):\n",
            tasks.len()
        ));
        for c in &tasks {
            ticket_text.push_str(&format!("- {} {} ({})\n", c.id, c.title, c.status));
        }
        ticket_text.truncate(ticket_text.trim_end().len());
    }

    let mut ancestors = Vec::new();
    for a in &chain {
        let text = journal::shift_headings(&strip(&body_of(a)?, true), 3);
        if text.trim().is_empty() {
            continue;
        }
        ancestors.push(Ancestor {
            id: a.id.clone(),
            kind: a.kind.to_string(),
            title: a.title.clone(),
            text,
            cut: None,
        });
    }

    // Dependencies of the ticket and of its ancestors.
    let mut dep_ids: Vec<&str> = Vec::new();
    for x in std::iter::once(t).chain(chain.iter().copied()) {
        for d in &x.depends_on {
            if !dep_ids.contains(&d.as_str()) {
                dep_ids.push(d);
            }
        }
    }
    let mut deps = Vec::new();
    for d in dep_ids {
        match g.index_of(d) {
            None => deps.push(Dep {
                line: format!("- {d}: unknown ticket (this blocks it)"),
                last_progress: None,
            }),
            Some(j) => {
                let dt = &snap.tickets[j];
                let mut line = format!("- {} \"{}\" ({}): {}", dt.id, dt.title, dt.kind, dt.status);
                let open = g.open_descendants(j);
                if open > 0 {
                    line.push_str(&format!(
                        ", {} under it not done",
                        crate::model::plural(open, "ticket")
                    ));
                }
                let last = journal::progress_entries(&body_of(dt)?).pop();
                deps.push(Dep {
                    line,
                    last_progress: last,
                });
            }
        }
    }

    let progress = journal::progress_entries(&body);
    let progress_total = progress.len();
    let mut contents = Vec::new();
    if opts.with_files {
        for (f, real) in expand_files(ws, &t.files)? {
            let read = real.map(|p| std::fs::read(p).map_err(|e| e.to_string()));
            let content = match read {
                Ok(Ok(b)) => match String::from_utf8(b) {
                    Ok(s) => s,
                    Err(e) => format!(
                        "(binary file, {}, not included)\n",
                        crate::model::plural(e.as_bytes().len(), "byte")
                    ),
                },
                Ok(Err(e)) => format!("(cannot read: {e})\n"),
                Err(why) => format!("(not read: the path {why})\n"),
            };
            contents.push(FileContent {
                path: f,
                content,
                cut: None,
            });
        }
    }
    let mut parts = Parts {
        id: t.id.clone(),
        header,
        ticket: ticket_text,
        ancestors,
        deps,
        deps_progress: true,
        progress_kept: progress_total.min(history),
        progress,
        progress_total,
        files: t.files.clone(),
        contents,
    };
    let mut trimmed = Vec::new();
    if progress_total > history {
        trimmed.push(format!(
            "{} older progress entr{} (context.progress_history is {history})",
            progress_total - history,
            if progress_total - history == 1 {
                "y"
            } else {
                "ies"
            }
        ));
    }

    // Trim, least important first, until the bundle and its report line fit.
    let size = |p: &Parts, trimmed: &[String]| -> usize {
        estimate_tokens(&p.render())
            + estimate_tokens(&report(&t.id, budget, budget, trimmed, false))
            + 1
    };
    // Bytes to cut so that `size` fits, with room for the trim notes.
    let excess_bytes = |p: &Parts, trimmed: &[String]| -> usize {
        size(p, trimmed).saturating_sub(budget) * 4 + 160
    };
    // 1. File contents, last file first: cut the end off, or drop the file.
    for k in (0..parts.contents.len()).rev() {
        if size(&parts, &trimmed) <= budget {
            break;
        }
        let note = format!("the end of {}", parts.contents[k].path);
        trimmed.push(note);
        while size(&parts, &trimmed) > budget {
            let len = parts.contents[k]
                .cut
                .unwrap_or(parts.contents[k].content.len());
            let cut = excess_bytes(&parts, &trimmed);
            if cut >= len {
                let path = parts.contents.remove(k).path;
                if let Some(last) = trimmed.last_mut() {
                    *last = format!("the contents of {path}");
                }
                break;
            }
            parts.contents[k].cut = Some(len - cut);
        }
    }
    // 2. The oldest progress entries.
    let before = parts.progress_kept;
    while size(&parts, &trimmed) > budget && parts.progress_kept > 0 {
        parts.progress_kept -= 1;
    }
    if parts.progress_kept < before {
        let n = before - parts.progress_kept;
        let what = if n == 1 { "entry" } else { "entries" };
        trimmed.push(if progress_total > history {
            format!("{n} more older progress {what}")
        } else {
            format!("the {n} oldest progress {what}")
        });
    }
    // 3. The dependencies' progress lines.
    if size(&parts, &trimmed) > budget && parts.deps.iter().any(|d| d.last_progress.is_some()) {
        parts.deps_progress = false;
        trimmed.push("the dependencies' last progress entries".into());
    }
    // 4. Ancestor text, farthest ancestor first.
    for k in (0..parts.ancestors.len()).rev() {
        if size(&parts, &trimmed) <= budget {
            break;
        }
        trimmed.push(format!(
            "part of the text of {} {}",
            parts.ancestors[k].kind, parts.ancestors[k].id
        ));
        while size(&parts, &trimmed) > budget {
            let len = parts.ancestors[k]
                .cut
                .unwrap_or(parts.ancestors[k].text.len());
            if len == 0 {
                break;
            }
            parts.ancestors[k].cut = Some(len.saturating_sub(excess_bytes(&parts, &trimmed)));
        }
    }
    let body_text = parts.render();
    let over_budget = size(&parts, &trimmed) > budget;
    // The report counts itself: settle the number (it only shrinks, so this converges).
    let mut tokens = budget;
    for _ in 0..4 {
        let r = report(&t.id, tokens, budget, &trimmed, over_budget);
        tokens = estimate_tokens(&format!("{r}\n{body_text}"));
    }
    let text = format!(
        "{}\n{body_text}",
        report(&t.id, tokens, budget, &trimmed, over_budget)
    );
    let tokens = estimate_tokens(&text);
    Ok(Bundle {
        id: t.id.clone(),
        over_budget: tokens > budget,
        text,
        tokens,
        budget,
        trimmed,
    })
}

/// The first line of a bundle: its estimated size and what was trimmed.
fn report(id: &str, tokens: usize, budget: usize, trimmed: &[String], over: bool) -> String {
    format!(
        "<!-- wt context {id}: ~{tokens} of {budget} tokens (estimate: UTF-8 bytes / 4, not a tokenizer); trimmed: {}{} -->\n",
        if trimmed.is_empty() {
            "nothing".to_string()
        } else {
            trimmed.join("; ")
        },
        if over {
            "; STILL OVER BUDGET: the ticket itself (never trimmed) is larger"
        } else {
            ""
        }
    )
}

/// `wt context`: the bundle for one ticket.
#[derive(Debug, Clone, Serialize)]
pub struct ContextReport {
    pub schema_version: crate::app::report::SchemaVersion,
    #[serde(flatten)]
    pub bundle: Bundle,
    /// The file the bundle was written to (`--out`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<String>,
}

/// The bundle for ticket `query` (an ID or unique prefix) at the state branch's tip; with
/// `out`, also written to that file.
pub fn context(
    ws: &Workspace,
    query: &str,
    opts: &ContextOptions,
    out: Option<&std::path::Path>,
) -> Result<crate::app::report::Reported<ContextReport>> {
    let snap = ws.snapshot()?;
    let t = snap.resolve(query)?;
    let bundle = bundle(ws, &snap, t, opts)?;
    if let Some(p) = out {
        std::fs::write(p, &bundle.text)?;
    }
    let report = ContextReport {
        schema_version: crate::app::report::SchemaVersion,
        bundle,
        out: out.map(|p| p.display().to_string()),
    };
    Ok(crate::app::report::Reported::new(report).skipping(&snap.problems))
}
