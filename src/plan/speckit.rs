//! GitHub spec-kit's `tasks.md` (what `/speckit.tasks` writes), read by `wt plan import`.
//!
//! The format: `## Phase N: …` headings in order, each with checklist items
//! `- [ ] T012 [P] [US1] Create User model in src/models/user.py`: a task ID, `[P]` when
//! the task may run in parallel (different files, no dependency on unfinished work), a story
//! label `[USn]`, and a description naming the files it touches; `[X]` marks a done task.
//! Sub-headings (`### Tests for User Story 1`) only group the items of a phase; other `##`
//! sections (Format, Dependencies & Execution Order, Notes, …) are text.
//!
//! What wt makes of it, following the rules `/speckit.implement` runs by:
//!
//! - each phase is a **phase-spec**, depending on the phase before it (phase by phase);
//! - each checklist item of a phase is a **job** under it, titled `T012 Create User model …`,
//!   with the story labels as `labels`, the paths in its text as `files` (so that wt never
//!   hands out two jobs on one file at once), and done when checked;
//! - within a phase a task without `[P]` waits on the tasks before it back to the previous
//!   task without `[P]` (run in order); a `[P]` task waits only on that previous task without
//!   `[P]` (a run of `[P]` tasks can go together); "depends on T012, T013" in a description
//!   adds those;
//! - every ticket's `source` is `speckit:<feature>:<task ID>` (a phase:
//!   `speckit:<feature>:phase-<N>`), `<feature>` the folder holding `tasks.md`
//!   (`001-photo-albums`), so that importing the file again changes nothing and an edited one
//!   updates what changed;
//! - the text that is not a task (the preamble, other sections, a phase's own lines) stays in
//!   the phase-specs' bodies; checklist items outside any phase are reported, not dropped.

use std::collections::HashMap;

use regex::Regex;

use super::Plan;
use crate::model::item::Item;
use crate::model::markdown::line_starts;
use crate::model::ticket::{Kind, Status};

/// `- [ ] T001 …` (any list marker, any box).
fn task_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[-*+] \[([ xX])\] (T\d{3,})\b(.*)$").expect("valid regex"))
}

/// Any checklist item at the start of a line.
fn item_re() -> &'static Regex {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^[-*+] \[([ xX])\] (.*)$").expect("valid regex"))
}

/// Whether `text` looks like a spec-kit `tasks.md`: a checklist item with a task ID
/// (`- [ ] T001 …`) at the start of a line, outside code blocks.
pub fn detect(text: &str) -> bool {
    let mut fence: Option<&str> = None;
    for l in text.lines() {
        let t = l.trim_end_matches('\r');
        if let Some(f) = fence {
            if t.trim_start().starts_with(f) {
                fence = None;
            }
            continue;
        }
        let s = t.trim_start();
        if s.starts_with("```") {
            fence = Some("```");
            continue;
        }
        if s.starts_with("~~~") {
            fence = Some("~~~");
            continue;
        }
        if task_re().is_match(t) {
            return true;
        }
    }
    false
}

/// A checklist line not turned into a ticket: outside every phase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// 1-based line.
    pub line: usize,
    pub text: String,
}

/// A task line read.
struct Task {
    line: usize,
    /// The task ID (`T012`), or none for a checklist item without one.
    id: Option<String>,
    done: bool,
    parallel: bool,
    labels: Vec<String>,
    /// The title: `T012 Create User model in src/models/user.py`.
    title: String,
    /// The item's text (its first line and the lines that continue it), verbatim.
    text: String,
    files: Vec<String>,
    /// Task IDs named by "depends on T…".
    after: Vec<String>,
}

struct Phase {
    line: usize,
    title: String,
    /// `phase-<N>` from "Phase N", else `phase@<index>`.
    key: String,
    /// Its text and the text around it that belongs to no phase.
    text: String,
    tasks: Vec<Task>,
}

/// Paths in a task's description: `src/models/user.py`, `tests/contract/`, `Cargo.toml`.
fn paths_in(text: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?:^|[\s`(])((?:[A-Za-z0-9_.-]+/)+[A-Za-z0-9_.-]*|\.?[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(?:py|rs|ts|tsx|js|jsx|mjs|json|toml|ya?ml|md|go|java|kt|rb|sh|css|scss|html|sql|txt|lock|cfg|ini|c|h|cpp|hpp|cs|swift|php|vue|svelte))(?:$|[\s`),.;:])")
            .expect("valid regex")
    });
    let mut out: Vec<String> = Vec::new();
    for c in re.captures_iter(text) {
        let p = c[1].trim_end_matches('.').to_string();
        let ok = !p.is_empty()
            && !p.starts_with("./")
            && !p.contains("..")
            && !p.contains("//")
            && p.split('/').all(|s| s != "." && s != "..")
            && (p.contains('/') || p.contains('.'));
        if ok && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn parse_task(line: usize, first: &str, text: String) -> Task {
    let (done, rest) = match item_re().captures(first) {
        Some(c) => (
            &c[1] != " ",
            c.get(2).map_or("", |m| m.as_str()).to_string(),
        ),
        None => (false, first.to_string()),
    };
    let mut id = None;
    let mut rest = rest.trim().to_string();
    if let Some(c) = task_re().captures(first) {
        id = Some(c[2].to_string());
        rest = c[3].trim().to_string();
    }
    let mut parallel = false;
    let mut labels = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let Some(end) = r.find(']') else { break };
        let tag = r[..end].trim();
        if tag.eq_ignore_ascii_case("p") {
            parallel = true;
        } else if !tag.is_empty() && tag.len() <= 32 && !tag.contains(char::is_whitespace) {
            labels.push(tag.to_string());
        } else {
            break;
        }
        rest = r[end + 1..].trim_start().to_string();
    }
    let title = match &id {
        Some(i) if rest.is_empty() => i.clone(),
        Some(i) => format!("{i} {rest}"),
        None => rest.clone(),
    };
    static DEP: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let dep = DEP.get_or_init(|| {
        Regex::new(r"(?i)depends on ((?:T\d{3,}(?:\s*(?:,|and)\s*)?)+)").expect("valid regex")
    });
    let mut after = Vec::new();
    for c in dep.captures_iter(&rest) {
        for t in c[1].split([',', ' ']).filter(|x| x.starts_with('T')) {
            let t = t.trim().to_string();
            if !after.contains(&t) {
                after.push(t);
            }
        }
    }
    Task {
        line,
        id,
        done,
        parallel,
        labels,
        files: paths_in(&rest),
        title,
        text,
        after,
    }
}

/// The heading text of a `##` line, if it is one.
fn h2(line: &str) -> Option<&str> {
    let t = line.trim_end_matches(['\r', '\n']);
    let rest = t.strip_prefix("## ")?;
    Some(rest.trim().trim_end_matches('#').trim())
}

/// Read a spec-kit `tasks.md` (see the module docs). `source` names the file in the plan's
/// nodes; `feature` is what the tickets' `source` is namespaced by. Returns the plan (for the
/// report), its import items (keys `n<index>` of the nodes), and the checklist lines outside
/// every phase.
pub fn parse(text: &str, source: &str, feature: &str) -> (Plan, Vec<Item>, Vec<Skipped>) {
    let starts = line_starts(text);
    let nlines = if starts.last() == Some(&text.len()) {
        starts.len() - 1
    } else {
        starts.len()
    };
    let line_text = |l: usize| -> &str {
        let a = starts[l - 1];
        let b = starts.get(l).copied().unwrap_or(text.len());
        &text[a..b]
    };
    // Sections: the preamble, then each `##` heading to the next (outside code blocks).
    let mut sections: Vec<(usize, usize, Option<String>)> = Vec::new(); // first, last, heading
    let mut cur = (1usize, None::<String>);
    let mut fence: Option<&str> = None;
    for l in 1..=nlines {
        let lt = line_text(l);
        let s = lt.trim_start();
        if let Some(f) = fence {
            if s.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if s.starts_with("```") {
            fence = Some("```");
            continue;
        }
        if s.starts_with("~~~") {
            fence = Some("~~~");
            continue;
        }
        if let Some(h) = h2(lt) {
            if l > cur.0 || cur.1.is_some() {
                sections.push((cur.0, l - 1, cur.1.take()));
            }
            cur = (l, Some(h.to_string()));
        }
    }
    if nlines >= cur.0 {
        sections.push((cur.0, nlines, cur.1));
    }
    let phase_re = Regex::new(r"(?i)^phase\s+(\d+)\b").expect("valid regex");
    let mut phases: Vec<Phase> = Vec::new();
    let mut skipped = Vec::new();
    // Text before the first phase waits for it.
    let mut pending = String::new();
    for (first, last, heading) in sections {
        // The checklist items of the section, each with its continuation lines.
        let mut tasks = Vec::new();
        let mut own = String::new();
        let mut l = first;
        let mut fence: Option<&str> = None;
        while l <= last {
            let lt = line_text(l);
            let s = lt.trim_start();
            if let Some(f) = fence {
                if s.starts_with(f) {
                    fence = None;
                }
                own.push_str(lt);
                l += 1;
                continue;
            }
            if s.starts_with("```") || s.starts_with("~~~") {
                fence = Some(if s.starts_with("```") { "```" } else { "~~~" });
                own.push_str(lt);
                l += 1;
                continue;
            }
            let first_line = lt.trim_end_matches(['\r', '\n']);
            if item_re().is_match(first_line) {
                let mut item = lt.to_string();
                let mut k = l + 1;
                while k <= last {
                    let n = line_text(k);
                    let blank = n.trim().is_empty();
                    let indented = n.starts_with("  ") || n.starts_with('\t');
                    if !indented || blank {
                        break;
                    }
                    item.push_str(n);
                    k += 1;
                }
                tasks.push(parse_task(l, first_line, item));
                l = k;
                continue;
            }
            own.push_str(lt);
            l += 1;
        }
        let is_phase = heading.as_deref().is_some_and(|h| phase_re.is_match(h))
            || tasks.iter().any(|t| t.id.is_some());
        match heading {
            Some(h) if is_phase => {
                let key = match phase_re.captures(&h) {
                    Some(c) => format!("phase-{}", &c[1]),
                    None => format!("phase@{}", phases.len()),
                };
                let mut text = std::mem::take(&mut pending);
                text.push_str(&own);
                phases.push(Phase {
                    line: first,
                    title: h,
                    key,
                    text,
                    tasks,
                });
            }
            _ => {
                for t in tasks {
                    skipped.push(Skipped {
                        line: t.line,
                        text: t.text.lines().next().unwrap_or("").to_string(),
                    });
                    own.push_str(&t.text);
                }
                match phases.last_mut() {
                    Some(p) => p.text.push_str(&own),
                    None => pending.push_str(&own),
                }
            }
        }
    }
    if let (Some(p), false) = (phases.first_mut(), pending.is_empty()) {
        p.text.insert_str(0, &pending);
    }
    // Nodes and items.
    let mut plan = Plan::default();
    let mut items: Vec<Item> = Vec::new();
    let mut node_of_task: HashMap<String, usize> = HashMap::new();
    let mut phase_keys: HashMap<String, usize> = HashMap::new();
    for p in &phases {
        let n = plan.nodes.len();
        let mut key = p.key.clone();
        let c = phase_keys.entry(key.clone()).or_insert(0);
        *c += 1;
        if *c > 1 {
            key = format!("{key}#{c}");
        }
        let prev_phase = items
            .iter()
            .rposition(|it: &Item| it.kind == Kind::PhaseSpec)
            .map(|j| items[j].key.clone());
        let body = super::body_with_marker(&p.text, None);
        let mut node = super::node(
            Kind::PhaseSpec,
            p.title.clone(),
            source,
            p.line,
            p.text.clone(),
        );
        node.order = plan
            .nodes
            .iter()
            .filter(|x| x.kind == Kind::PhaseSpec)
            .count() as u32;
        node.body = Some(body.clone());
        if let Some(pp) = &prev_phase {
            node.depends_on.push((pp.clone(), p.line));
        }
        plan.nodes.push(node);
        items.push(Item {
            key: format!("n{n}"),
            kind: Kind::PhaseSpec,
            title: p.title.clone(),
            status: None,
            depends_on: prev_phase.into_iter().collect(),
            body: Some(body),
            source: Some(format!("speckit:{feature}:{key}")),
            ..Item::default()
        });
        let phase_item = format!("n{n}");
        // In-phase order: a task without [P] waits on everything since the previous one
        // without [P] (and on it); a [P] task on the previous one without [P].
        let mut last_seq: Option<String> = None;
        let mut since: Vec<String> = Vec::new();
        let mut titles: HashMap<String, usize> = HashMap::new();
        for (k, t) in p.tasks.iter().enumerate() {
            let j = plan.nodes.len();
            let me = format!("n{j}");
            let deps: Vec<String> = if t.parallel {
                last_seq.iter().cloned().collect()
            } else {
                let mut d: Vec<String> = last_seq.iter().cloned().collect();
                d.extend(since.iter().cloned());
                d
            };
            if t.parallel {
                since.push(me.clone());
            } else {
                last_seq = Some(me.clone());
                since.clear();
            }
            let src = match &t.id {
                Some(id) => format!("speckit:{feature}:{id}"),
                None => {
                    let c = titles.entry(t.title.clone()).or_insert(0);
                    *c += 1;
                    let suffix = if *c > 1 {
                        format!("#{c}")
                    } else {
                        String::new()
                    };
                    format!("speckit:{feature}:{key}/{}{suffix}", t.title)
                }
            };
            if let Some(id) = &t.id {
                node_of_task.entry(id.clone()).or_insert(j);
            }
            let mut node = super::node(Kind::Job, t.title.clone(), source, t.line, t.text.clone());
            node.parent = Some(n);
            node.order = k as u32;
            node.files = t.files.clone();
            node.done = t.done;
            let body = super::body_with_marker(&t.text, None);
            node.body = Some(body.clone());
            for d in &deps {
                node.depends_on.push((d.clone(), t.line));
            }
            plan.nodes.push(node);
            items.push(Item {
                key: me,
                kind: Kind::Job,
                title: t.title.clone(),
                status: t.done.then_some(Status::Done),
                parent: Some(phase_item.clone()),
                depends_on: deps,
                files: (!t.files.is_empty()).then(|| t.files.clone()),
                labels: (!t.labels.is_empty()).then(|| t.labels.clone()),
                body: Some(body),
                source: Some(src),
                ..Item::default()
            });
        }
    }
    // "depends on T012": by task ID, anywhere in the file.
    let mut k = 0;
    for p in &phases {
        k += 1; // the phase's node
        for t in &p.tasks {
            for a in &t.after {
                if let Some(&j) = node_of_task.get(a) {
                    let key = format!("n{j}");
                    if j != k && !items[k].depends_on.contains(&key) {
                        items[k].depends_on.push(key.clone());
                        plan.nodes[k].depends_on.push((key, t.line));
                    }
                }
            }
            k += 1;
        }
    }
    // The nodes name what they wait on as a reader of the file would: a task by its ID, a
    // phase by its title.
    let name_of = |key: &str| -> String {
        let Some(it) = key
            .strip_prefix('n')
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| items.get(i))
        else {
            return key.to_string();
        };
        match it.title.split(' ').next() {
            Some(w) if it.kind == Kind::Job && task_id(w) => w.to_string(),
            _ => it.title.clone(),
        }
    };
    for (node, it) in plan.nodes.iter_mut().zip(&items) {
        for (name, _) in node.depends_on.iter_mut() {
            *name = name_of(name);
        }
        debug_assert_eq!(node.depends_on.len(), it.depends_on.len());
    }
    (plan, items, skipped)
}

/// `T012`.
fn task_id(w: &str) -> bool {
    w.len() >= 4 && w.starts_with('T') && w[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASKS: &str = "# Tasks: Albums\n\n## Format: `[ID] [P?] [Story] Description`\n\n- **[P]**: parallel\n\n## Phase 1: Setup\n\n- [X] T001 Create project structure\n- [ ] T002 [P] Configure linting in .eslintrc.json\n- [ ] T003 [P] Add CI in .github/workflows/ci.yml\n- [ ] T004 Wire it up in src/main.py\n\n## Phase 2: User Story 1 (Priority: P1)\n\n### Tests\n\n- [ ] T005 [P] [US1] Contract test in tests/contract/test_albums.py\n- [ ] T006 [US1] Implement service in src/services/albums.py (depends on T002)\n\n## Notes\n\n- [ ] not a task\n";

    #[test]
    fn phases_jobs_and_spec_kits_order_rules() {
        assert!(detect(TASKS));
        assert!(!detect("## Phase\n\n- [ ] Write it\n"));
        let (plan, items, skipped) = parse(TASKS, "tasks.md", "001-albums");
        let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![
                "Phase 1: Setup",
                "T001 Create project structure",
                "T002 Configure linting in .eslintrc.json",
                "T003 Add CI in .github/workflows/ci.yml",
                "T004 Wire it up in src/main.py",
                "Phase 2: User Story 1 (Priority: P1)",
                "T005 Contract test in tests/contract/test_albums.py",
                "T006 Implement service in src/services/albums.py (depends on T002)",
            ]
        );
        assert_eq!(plan.nodes.len(), items.len());
        let deps = |i: usize| items[i].depends_on.clone();
        assert_eq!(deps(1), Vec::<String>::new());
        assert_eq!(deps(2), vec!["n1"]);
        assert_eq!(deps(3), vec!["n1"]);
        assert_eq!(deps(4), vec!["n1", "n2", "n3"]);
        assert_eq!(deps(5), vec!["n0"], "phase 2 after phase 1");
        assert_eq!(deps(6), Vec::<String>::new());
        assert_eq!(
            deps(7),
            vec!["n6", "n2"],
            "after T005, and an explicit `depends on`"
        );
        // The plan's nodes name them as the file does.
        let names: Vec<&str> = plan.nodes[4]
            .depends_on
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, vec!["T001", "T002", "T003"]);
        assert_eq!(plan.nodes[5].depends_on[0].0, "Phase 1: Setup");
        assert_eq!(items[1].status, Some(Status::Done));
        assert_eq!(items[2].files, Some(vec![".eslintrc.json".to_string()]));
        assert_eq!(
            items[3].files,
            Some(vec![".github/workflows/ci.yml".to_string()])
        );
        assert_eq!(items[4].files, Some(vec!["src/main.py".to_string()]));
        assert_eq!(items[6].labels, Some(vec!["US1".to_string()]));
        assert_eq!(items[6].source.as_deref(), Some("speckit:001-albums:T005"));
        assert_eq!(
            items[5].source.as_deref(),
            Some("speckit:001-albums:phase-2")
        );
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].line, 23);
        // Nothing lost: the preamble and the Format and Notes sections are phase text.
        let text: String = items
            .iter()
            .filter(|i| i.kind == Kind::PhaseSpec)
            .map(|i| i.body.clone().unwrap())
            .collect();
        assert!(
            text.contains("# Tasks: Albums")
                && text.contains("## Notes")
                && text.contains("- [ ] not a task")
        );
    }
}
