//! Backlog.md: the `backlog/` folder — `tasks/`, `completed/`, `drafts/`, `archive/` — of
//! `task-<n> - <Title>.md` files, and `config.yml` for the statuses and the ID prefix.
//!
//! Frontmatter: `id`, `title`, `status`, `assignee`, `reporter`, `created_date`,
//! `updated_date`, `labels`, `milestone`, `dependencies`, `parent_task_id`, `priority`
//! (high, medium, low), `ordinal`, `modified_files`, `references`, `documentation`, ...
//! Backlog.md writes it as YAML but not always strict YAML (an unquoted `assignee: @user`):
//! like Backlog.md, `@` values of `assignee` and `reporter` are quoted first, and frontmatter
//! that still is not YAML is read line by line (and noted).
//!
//! The body's sections are delimited by markers (`<!-- SECTION:DESCRIPTION:BEGIN -->`,
//! `<!-- AC:BEGIN -->`, `<!-- DOD:BEGIN -->`, `<!-- COMMENTS:BEGIN -->` ...), which are
//! dropped; acceptance criteria and Definition of Done are numbered checklists
//! (`- [x] #1 text`), which lose their numbers (the order stays). IDs match the way
//! Backlog.md matches them: prefix in any case, leading zeros ignored (`TASK-012` is
//! `task-12`); a reference with a prefix no task has (an old prefix) is read as the task
//! with the same number, if exactly one.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::text::{self, Raw};
use super::{word_priority, Foreign, Naming, Note, NoteKind, Read, SourceFile};
use crate::model::ticket::Status;

/// How this backlog names its tasks.
pub struct Names {
    /// The task prefix of `config.yml` (`task` when it says none), lowercase.
    prefix: String,
    /// Canonical IDs of the tasks (not drafts) by their number (`12.1`).
    by_number: HashMap<String, Vec<String>>,
}

/// `prefix`, `12.1` for `TASK-012.01`; None when the ID is not `<letters>-<numbers>`.
fn split_id(id: &str) -> Option<(Option<String>, String)> {
    let id = id.trim();
    let (prefix, body) = match id.rsplit_once('-') {
        Some((p, b)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_alphabetic()) => {
            (Some(p.to_ascii_lowercase()), b)
        }
        Some(_) => return None,
        None => (None, id),
    };
    let parts: Option<Vec<String>> = body
        .split('.')
        .map(|seg| {
            (!seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()))
                .then(|| seg.trim_start_matches('0').to_string())
                .map(|s| if s.is_empty() { "0".to_string() } else { s })
        })
        .collect();
    Some((prefix, parts?.join(".")))
}

impl Naming for Names {
    fn canonical(&self, id: &str) -> String {
        match split_id(id) {
            Some((p, n)) => format!("{}-{n}", p.unwrap_or_else(|| self.prefix.clone())),
            None => id.trim().to_lowercase(),
        }
    }
    fn loose(&self, reference: &str) -> Option<String> {
        let (_, n) = split_id(reference)?;
        match self.by_number.get(&n).map(Vec::as_slice) {
            Some([one]) => Some(one.clone()),
            _ => None,
        }
    }
}

/// Which folder of the backlog a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Tasks,
    Completed,
    Drafts,
    Archive,
}

fn area(path: &str) -> Option<Area> {
    path.split('/')
        .find_map(|c| match c {
            "tasks" => Some(Area::Tasks),
            "completed" => Some(Area::Completed),
            "drafts" => Some(Area::Drafts),
            "archive" => Some(Area::Archive),
            _ => None,
        })
        .map(|a| {
            // `archive/tasks/...` is archived, not active.
            if path.split('/').any(|c| c == "archive") {
                Area::Archive
            } else {
                a
            }
        })
}

/// The statuses of `config.yml` (the last one is the finished one) and the task prefix.
fn config(files: &[SourceFile]) -> (Vec<String>, String) {
    let mut statuses = vec!["To Do".to_string(), "In Progress".into(), "Done".into()];
    let mut prefix = "task".to_string();
    let Some(cfg) = files
        .iter()
        .find(|f| f.path.rsplit('/').next() == Some("config.yml"))
    else {
        return (statuses, prefix);
    };
    let parsed: Option<Value> = serde_saphyr::from_str(&cfg.text).ok();
    let from_yaml = parsed
        .as_ref()
        .and_then(|v| v.get("statuses"))
        .and_then(|s| {
            s.as_array().map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
        });
    let fields = text::lenient_fields(&cfg.text);
    let lenient = fields
        .iter()
        .find(|(k, _)| k == "statuses")
        .map(|(_, v)| v.list());
    if let Some(s) = from_yaml.or(lenient).filter(|s| !s.is_empty()) {
        statuses = s;
    }
    let p = parsed
        .as_ref()
        .and_then(|v| v.get("prefixes"))
        .and_then(|p| p.get("task"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            fields
                .iter()
                .find(|(k, _)| k == "task")
                .map(|(_, v)| v.text())
        });
    if let Some(p) = p.filter(|p| !p.trim().is_empty()) {
        prefix = p.trim().to_ascii_lowercase();
    }
    (statuses, prefix)
}

/// Backlog.md's status names mapped onto wt: the first configured status is open, the last
/// done; one that says "progress" is in progress, "review" review, "block" escalated;
/// any other status a task may be started from is open with a `status:` label.
fn status(
    raw: &str,
    statuses: &[String],
    id: &str,
    notes: &mut Vec<Note>,
) -> (Status, Option<String>) {
    let lower = raw.trim().to_lowercase();
    let label = Some(format!("status:{}", text::label(raw)));
    let configured = statuses
        .iter()
        .position(|s| s.trim().to_lowercase() == lower);
    if configured.is_some_and(|i| i + 1 == statuses.len()) || lower == "done" {
        return (Status::Done, None);
    }
    if configured == Some(0) || lower == "to do" || lower.is_empty() {
        return (Status::Open, None);
    }
    if configured.is_none() {
        notes.push(Note {
            key: id.to_string(),
            kind: NoteKind::UnknownStatus,
            message: format!(
                "status `{}` is not in config.yml: read as an unfinished status",
                text::line(raw)
            ),
        });
    }
    if lower.contains("progress") || lower == "doing" || lower == "wip" {
        (Status::InProgress, None)
    } else if lower.contains("review") {
        (Status::Review, label)
    } else if lower.contains("block") {
        (Status::Escalated, label)
    } else {
        (Status::Open, label)
    }
}

/// Read a backlog: the `.md` files under `tasks/`, `completed/`, `drafts/` and `archive/`,
/// and `config.yml`. Files elsewhere (docs, decisions, milestones) are not tasks.
pub fn read(files: &[SourceFile]) -> (Read, Names) {
    let (statuses, prefix) = config(files);
    let mut r = Read::default();
    let mut by_number: HashMap<String, Vec<String>> = HashMap::new();
    let mut names = Names {
        prefix: prefix.clone(),
        by_number: HashMap::new(),
    };
    // As Backlog.md reads them: active tasks first, then completed ones (the first of two
    // tasks with one ID is the one references mean), then drafts and the archive.
    let mut tasks: Vec<(Area, &SourceFile)> = files
        .iter()
        .filter(|f| f.path.ends_with(".md"))
        .filter_map(|f| area(&f.path).map(|a| (a, f)))
        .collect();
    tasks.sort_by(|a, b| (a.0 as u8, &a.1.path).cmp(&(b.0 as u8, &b.1.path)));
    for (area, file) in tasks {
        if let Some(f) = task(file, area, &statuses, &mut r.notes) {
            if area != Area::Drafts {
                if let Some((_, n)) = split_id(&f.id) {
                    let c = names.canonical(&f.id);
                    let v = by_number.entry(n).or_default();
                    if !v.contains(&c) {
                        v.push(c);
                    }
                }
            }
            r.items.push(f);
        }
    }
    names.by_number = by_number;
    (r, names)
}

/// Backlog.md quotes `@` values of these fields before reading the YAML; so does this.
fn quote_handles(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 16);
    for l in yaml.lines() {
        let l = l.trim_end_matches('\r');
        let fixed = ["assignee:", "reporter:"].iter().find_map(|k| {
            let v = l.strip_prefix(k)?.trim();
            if let Some(inner) = v.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                let items: Vec<String> = inner
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        if x.starts_with('@') {
                            serde_json::to_string(x).unwrap_or_default()
                        } else {
                            x.to_string()
                        }
                    })
                    .collect();
                return Some(format!("{k} [{}]", items.join(", ")));
            }
            (!v.is_empty() && !v.starts_with(['[', '\'', '"', '-']))
                .then(|| format!("{k} {}", serde_json::to_string(v).unwrap_or_default()))
        });
        out.push_str(fixed.as_deref().unwrap_or(l));
        out.push('\n');
    }
    out
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(as_text).collect(),
        Value::Null => Vec::new(),
        other => as_text(other).into_iter().collect(),
    }
}

/// The frontmatter as JSON values: strict YAML (after quoting handles), else line by line.
fn frontmatter(yaml: &str, origin: &str, notes: &mut Vec<Note>) -> Map<String, Value> {
    if yaml.trim().is_empty() {
        return Map::new();
    }
    if let Ok(Value::Object(m)) = serde_saphyr::from_str::<Value>(&quote_handles(yaml)) {
        return m;
    }
    notes.push(Note {
        key: origin.to_string(),
        kind: NoteKind::LenientFrontmatter,
        message: "frontmatter is not YAML: read line by line".into(),
    });
    text::lenient_fields(yaml)
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Raw::Text(s) => Value::String(s),
                Raw::List(l) => Value::Array(l.into_iter().map(Value::String).collect()),
            };
            (k, v)
        })
        .collect()
}

fn task(
    file: &SourceFile,
    area: Area,
    statuses: &[String],
    notes: &mut Vec<Note>,
) -> Option<Foreign> {
    let Some((yaml, body)) = text::split_frontmatter(&file.text) else {
        notes.push(Note {
            key: file.path.clone(),
            kind: NoteKind::Unreadable,
            message: "no frontmatter: skipped".into(),
        });
        return None;
    };
    let mut fm = frontmatter(yaml, &file.path, notes);
    let name = file.path.rsplit('/').next().unwrap_or(&file.path);
    let stem = name.trim_end_matches(".md");
    let (file_id, file_title) = match stem.split_once(" - ") {
        Some((i, t)) => (i.trim().to_string(), t.trim().to_string()),
        None => (stem.to_string(), String::new()),
    };
    let id = fm
        .remove("id")
        .as_ref()
        .and_then(as_text)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(file_id);
    let id = text::line(&id);
    let mut f = Foreign {
        id: id.clone(),
        origin: file.path.clone(),
        ..Foreign::default()
    };
    // `TASK-012` is also found as `task-12`.
    if let Some((Some(p), n)) = split_id(&id) {
        let plain = format!("{p}-{n}");
        if !plain.eq_ignore_ascii_case(&id) {
            f.aliases.push(plain);
        }
    }
    f.title = fm
        .remove("title")
        .as_ref()
        .and_then(as_text)
        .unwrap_or(file_title);
    let raw_status = fm
        .remove("status")
        .as_ref()
        .and_then(as_text)
        .unwrap_or_default();
    let (st, label) = match area {
        Area::Drafts => (Status::Escalated, Some("status:draft".to_string())),
        Area::Archive => (Status::Escalated, Some("status:archived".to_string())),
        Area::Tasks | Area::Completed => status(&raw_status, statuses, &id, notes),
    };
    f.status = st;
    f.status_label = label;
    if matches!(area, Area::Drafts | Area::Archive) && !raw_status.is_empty() {
        f.keep("status", Value::String(raw_status));
    }
    let assignees = fm
        .remove("assignee")
        .map(|v| as_list(&v))
        .unwrap_or_default();
    if st == Status::InProgress {
        f.claimant = Some(
            assignees
                .first()
                .map(|a| a.trim_start_matches('@').to_string())
                .unwrap_or_else(|| "backlog".into()),
        );
        if assignees.len() > 1 {
            f.keep(
                "assignee",
                Value::Array(assignees.into_iter().map(Value::String).collect()),
            );
        }
    } else if !assignees.is_empty() {
        f.keep(
            "assignee",
            Value::Array(assignees.into_iter().map(Value::String).collect()),
        );
    }
    for (k, v) in fm {
        match k.as_str() {
            "created_date" | "updated_date" => match as_text(&v).and_then(|s| text::time(&s)) {
                Some(t) if k == "created_date" => f.created = Some(t),
                Some(t) => f.updated = Some(t),
                None => f.keep(&k, v),
            },
            "labels" => f.labels.extend(as_list(&v)),
            "milestone" => match as_text(&v) {
                Some(m) if !m.trim().is_empty() => {
                    f.labels.push(format!("milestone:{}", text::label(&m)))
                }
                _ => f.keep(&k, v),
            },
            "dependencies" => f
                .depends_on
                .extend(as_list(&v).iter().map(|d| text::line(d))),
            "parent_task_id" | "parent" => match as_text(&v) {
                Some(p) if !p.trim().is_empty() => f.parent = Some(text::line(&p)),
                _ => {}
            },
            "modified_files" => f.files.extend(as_list(&v)),
            "priority" => match as_text(&v).and_then(|p| word_priority(&p)) {
                Some(p) => f.priority = Some(p),
                None => f.keep(&k, v),
            },
            // Backlog.md derives a parent's subtasks from their parent_task_id.
            "subtasks" => {}
            _ => f.keep(&k, v),
        }
    }
    body_sections(&mut f, body);
    Some(f)
}

/// Is this line one of Backlog.md's section markers (`<!-- SECTION:PLAN:BEGIN -->`,
/// `<!-- AC:END -->`, ...)?
fn is_marker(l: &str) -> bool {
    let t = l.trim();
    let Some(inner) = t.strip_prefix("<!--").and_then(|x| x.strip_suffix("-->")) else {
        return false;
    };
    let inner = inner.trim();
    (inner.ends_with(":BEGIN") || inner.ends_with(":END"))
        && inner
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == ':' || c == '_')
}

/// `- [x] #3 text` → `- [x] text`.
fn unnumber(l: &str) -> String {
    let t = l.trim_start();
    for head in ["- [ ] #", "- [x] #", "- [X] #"] {
        if let Some(rest) = t.strip_prefix(head) {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && rest[digits..].starts_with(' ') {
                return format!("{}{}", &head[..6], &rest[digits + 1..]);
            }
        }
    }
    l.to_string()
}

/// The comments of a `## Comments` section: one list item each.
fn comments(s: &str) -> String {
    let mut out = String::new();
    for block in s.split("<!-- COMMENT:BEGIN -->").skip(1) {
        let block = block.split("<!-- COMMENT:END -->").next().unwrap_or("");
        let block = block.trim_matches('\n');
        let (meta, body) = block.split_once("\n\n").unwrap_or(("", block));
        let field = |k: &str| {
            meta.lines()
                .find_map(|l| {
                    l.strip_prefix(k)
                        .map(|v| text::line(v.trim_start_matches(':')))
                })
                .unwrap_or_default()
        };
        let (author, created) = (field("author"), field("created"));
        out.push_str(&format!(
            "- {} ({}):",
            if author.is_empty() { "?" } else { &author },
            created
        ));
        for (k, l) in text::block(body).lines().enumerate() {
            out.push_str(if k == 0 { " " } else { "\n  " });
            out.push_str(l);
        }
        out.push('\n');
    }
    if out.is_empty() {
        s.to_string()
    } else {
        out
    }
}

fn body_sections(f: &mut Foreign, body: &str) {
    let (pre, sections) = text::sections(body);
    let clean = |s: &str| -> String {
        s.lines()
            .filter(|l| !is_marker(l))
            .map(unnumber)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut desc = clean(&pre);
    for (h, s) in sections {
        if h.eq_ignore_ascii_case("description") {
            if !desc.trim().is_empty() {
                desc.push_str("\n\n");
            }
            desc.push_str(&clean(&s));
        } else if h.eq_ignore_ascii_case("comments") {
            f.section("Comments", &comments(&s));
        } else {
            f.section(&h, &clean(&s));
        }
    }
    f.description = desc;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_as_backlog_md_matches_them() {
        let n = Names {
            prefix: "task".into(),
            by_number: HashMap::from([("5".to_string(), vec!["back-5".to_string()])]),
        };
        assert_eq!(n.canonical("TASK-012"), "task-12");
        assert_eq!(n.canonical("task-12.01"), "task-12.1");
        assert_eq!(n.canonical("12"), "task-12");
        assert_eq!(n.loose("task-05").as_deref(), Some("back-5"));
        assert_eq!(n.loose("task-6"), None);
    }

    #[test]
    fn a_task_file_maps_every_field() {
        let text = "---\nid: BACK-012\ntitle: Do it\nstatus: In Progress\nassignee: @alice\nreporter: @bob\ncreated_date: '2025-07-27'\nupdated_date: 2025-08-23 21:13\nlabels:\n  - core\nmilestone: v1 beta\ndependencies: [task-3]\nparent_task_id: BACK-1\npriority: high\nordinal: 1000\nmodified_files: [src/a.rs]\n---\n\n## Description\n\n<!-- SECTION:DESCRIPTION:BEGIN -->\nWords.\n<!-- SECTION:DESCRIPTION:END -->\n\n## Acceptance Criteria\n<!-- AC:BEGIN -->\n- [x] #1 First\n- [ ] #2 Second\n<!-- AC:END -->\n\n## Definition of Done\n<!-- DOD:BEGIN -->\n- [ ] #1 Tests pass\n<!-- DOD:END -->\n\n## Implementation Notes\n\n<!-- SECTION:NOTES:BEGIN -->\nNoted.\n<!-- SECTION:NOTES:END -->\n\n## Comments\n<!-- COMMENTS:BEGIN -->\n<!-- COMMENT:BEGIN -->\nindex: 1\nauthor: carol\ncreated: 2025-08-01\n\nLooks good.\n<!-- COMMENT:END -->\n<!-- COMMENTS:END -->\n";
        let mut notes = Vec::new();
        let statuses = vec!["To Do".to_string(), "In Progress".into(), "Done".into()];
        let f = task(
            &SourceFile {
                path: "backlog/tasks/back-012 - Do-it.md".into(),
                text: text.into(),
            },
            Area::Tasks,
            &statuses,
            &mut notes,
        )
        .expect("task");
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(f.id, "BACK-012");
        assert_eq!(f.aliases, ["back-12"]);
        assert_eq!(f.status, Status::InProgress);
        assert_eq!(f.claimant.as_deref(), Some("alice"));
        assert_eq!(f.created.as_deref(), Some("2025-07-27T00:00:00Z"));
        assert_eq!(f.updated.as_deref(), Some("2025-08-23T21:13:00Z"));
        assert_eq!(f.labels, ["core", "milestone:v1-beta"]);
        assert_eq!(f.depends_on, ["task-3"]);
        assert_eq!(f.parent.as_deref(), Some("BACK-1"));
        assert_eq!(f.priority, Some(1));
        assert_eq!(f.files, ["src/a.rs"]);
        assert_eq!(f.description.trim(), "Words.");
        let s: Vec<(&str, &str)> = f
            .sections
            .iter()
            .map(|(h, t)| (h.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            s,
            [
                ("Acceptance Criteria", "- [x] First\n- [ ] Second"),
                ("Definition of Done", "- [ ] Tests pass"),
                ("Implementation Notes", "Noted."),
                ("Comments", "- carol (2025-08-01): Looks good."),
            ]
        );
        let kept: Vec<&str> = f.extra.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kept, ["ordinal", "reporter"]);
    }

    #[test]
    fn frontmatter_that_is_not_yaml_is_read_line_by_line() {
        let mut notes = Vec::new();
        let m = frontmatter(
            "id: task-1\ntitle: a: b: c\nlabels: [x\n",
            "f.md",
            &mut notes,
        );
        assert_eq!(m.get("title").and_then(Value::as_str), Some("a: b: c"));
        assert_eq!(notes[0].kind, NoteKind::LenientFrontmatter);
    }
}
