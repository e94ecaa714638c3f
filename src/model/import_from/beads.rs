//! beads (`bd`): `.beads/issues.jsonl`, one issue per line as a JSON object.
//!
//! Fields read: `id`, `title`, `description`, `design`, `acceptance_criteria`, `notes`,
//! `status`, `priority`, `issue_type`, `assignee`, `created_at`, `updated_at`, `labels`,
//! `dependencies` (`{issue_id, depends_on_id, type}`), `comments` (`{author, text,
//! created_at}`). Issues whose status is `tombstone` are deletions: not imported. Every other
//! field (`closed_at`, `close_reason`, `external_ref`, `estimated_minutes`, ...) is kept in
//! the body's Source section.
//!
//! Dependency types: `blocks` becomes a dependency, `parent-child` the parent (the issue is
//! the child, `depends_on_id` the parent); every other type (`related`,
//! `discovered-from`, ...) a link of that type.

use serde_json::{Map, Value};

use super::{clamp_priority, map_status, text, Foreign, Naming, Note, NoteKind, Read, SourceFile};
use crate::model::ticket::Status;

/// beads IDs match exactly.
pub struct Names;

impl Naming for Names {
    fn canonical(&self, id: &str) -> String {
        id.trim().to_string()
    }
}

/// beads statuses: open, in_progress, closed; blocked and deferred (not ready, and they
/// block what depends on them) are escalated with a label.
const STATUSES: &[(&[&str], Status, Option<&str>)] = &[
    (&["open"], Status::Open, None),
    (&["in_progress"], Status::InProgress, None),
    (&["closed"], Status::Done, None),
    (&["blocked"], Status::Escalated, Some("status:blocked")),
    (&["deferred"], Status::Escalated, Some("status:deferred")),
];

fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Read every `.jsonl` file given (normally `.beads/issues.jsonl`).
pub fn read(files: &[SourceFile]) -> Read {
    let mut r = Read::default();
    for f in files {
        for (n, l) in f.text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let place = format!("{}:{}", f.path, n + 1);
            match serde_json::from_str::<Map<String, Value>>(l) {
                Ok(obj) => {
                    if let Some(item) = issue(obj, &f.path, &place, &mut r.notes) {
                        r.items.push(item);
                    }
                }
                Err(e) => r.notes.push(Note {
                    key: place.clone(),
                    kind: NoteKind::Unreadable,
                    message: format!("not a JSON object ({e}): skipped"),
                }),
            }
        }
    }
    r
}

fn issue(
    mut obj: Map<String, Value>,
    origin: &str,
    place: &str,
    notes: &mut Vec<Note>,
) -> Option<Foreign> {
    let Some(id) = string(obj.get("id")).map(|s| text::line(&s)) else {
        notes.push(Note {
            key: place.to_string(),
            kind: NoteKind::Unreadable,
            message: "an issue without an id: skipped".into(),
        });
        return None;
    };
    let mut f = Foreign {
        id: id.clone(),
        origin: origin.to_string(),
        place: place.to_string(),
        ..Foreign::default()
    };
    let status = string(obj.get("status")).unwrap_or_else(|| "open".into());
    if status.trim().eq_ignore_ascii_case("tombstone") {
        notes.push(Note {
            key: id.clone(),
            kind: NoteKind::Deleted,
            message: format!("{place}: deleted in beads (tombstone): not imported"),
        });
        return None;
    }
    let (st, label) = map_status(&status, STATUSES, &id, notes);
    f.status = st;
    f.status_label = label;
    obj.remove("id");
    obj.remove("status");
    f.title = string(obj.remove("title").as_ref()).unwrap_or_default();
    f.description = string(obj.remove("description").as_ref()).unwrap_or_default();
    let design = string(obj.remove("design").as_ref()).unwrap_or_default();
    let criteria = string(obj.remove("acceptance_criteria").as_ref()).unwrap_or_default();
    let notes_text = string(obj.remove("notes").as_ref()).unwrap_or_default();
    f.section(crate::model::ticket::CRITERIA_HEADING, &criteria);
    f.section("Design", &design);
    f.section("Notes", &notes_text);
    match obj.remove("priority") {
        Some(Value::Number(p)) => match p.as_i64() {
            Some(p) => f.priority = Some(clamp_priority(p, &id, notes)),
            None => f.keep("priority", Value::Number(p)),
        },
        Some(other) => f.keep("priority", other),
        None => {}
    }
    if let Some(t) = string(obj.remove("issue_type").as_ref()) {
        f.labels.push(format!("type:{}", text::label(&t)));
    }
    let assignee = string(obj.remove("assignee").as_ref());
    if st == Status::InProgress {
        f.claimant = Some(assignee.clone().unwrap_or_else(|| "beads".into()));
    }
    if let Some(a) = assignee.filter(|_| st != Status::InProgress) {
        f.keep("assignee", Value::String(a));
    }
    for (field, slot) in [("created_at", 0), ("updated_at", 1)] {
        if let Some(v) = obj.remove(field) {
            match string(Some(&v)).and_then(|s| text::time(&s)) {
                Some(t) if slot == 0 => f.created = Some(t),
                Some(t) => f.updated = Some(t),
                None => f.keep(field, v),
            }
        }
    }
    match obj.remove("labels") {
        Some(Value::Array(ls)) => {
            for l in ls {
                match l {
                    Value::String(s) => f.labels.push(s),
                    other => f.keep("labels", other),
                }
            }
        }
        Some(other) => f.keep("labels", other),
        None => {}
    }
    match obj.remove("dependencies") {
        Some(Value::Array(ds)) => {
            for d in ds {
                dependency(&mut f, d);
            }
        }
        Some(other) => f.keep("dependencies", other),
        None => {}
    }
    match obj.remove("comments") {
        Some(Value::Array(cs)) if !cs.is_empty() => {
            let mut s = String::new();
            for c in &cs {
                let author = string(c.get("author")).unwrap_or_else(|| "?".into());
                let when = string(c.get("created_at")).unwrap_or_default();
                let body = string(c.get("text")).unwrap_or_default();
                s.push_str(&format!(
                    "- {} ({}):",
                    text::line(&author),
                    text::line(&when)
                ));
                for (k, l) in text::block(&body).lines().enumerate() {
                    s.push_str(if k == 0 { " " } else { "\n  " });
                    s.push_str(l);
                }
                s.push('\n');
            }
            f.section("Comments", &s);
        }
        Some(Value::Array(_)) | None => {}
        Some(other) => f.keep("comments", other),
    }
    for (k, v) in obj {
        f.keep(&k, v);
    }
    Some(f)
}

/// One entry of `dependencies`: this issue (`issue_id`) waits on, or hangs under, or is
/// related to `depends_on_id`.
fn dependency(f: &mut Foreign, d: Value) {
    let target = string(d.get("depends_on_id")).map(|s| text::line(&s));
    let ty = string(d.get("type")).unwrap_or_else(|| "blocks".into());
    let from = string(d.get("issue_id")).map(|s| text::line(&s));
    let (Some(target), true) = (target, from.as_deref().is_none_or(|x| x == f.id)) else {
        f.keep("dependencies", d);
        return;
    };
    match ty.as_str() {
        "blocks" => {
            if !f.depends_on.contains(&target) {
                f.depends_on.push(target);
            }
        }
        "parent-child" if f.parent.is_none() => f.parent = Some(target),
        _ => f.links.push((text::label(&ty), target)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issue_line_maps_every_field() {
        let line = r#"{"id":"bd-a1","title":"T","description":"D","design":"Des","acceptance_criteria":"- [ ] ok","notes":"N","status":"in_progress","priority":1,"issue_type":"bug","assignee":"alice","created_at":"2025-01-02T03:04:05.5+01:00","updated_at":"2025-01-03T00:00:00Z","closed_at":null,"close_reason":"","external_ref":"gh-9","labels":["x"],"dependencies":[{"issue_id":"bd-a1","depends_on_id":"bd-b2","type":"blocks"},{"issue_id":"bd-a1","depends_on_id":"bd-ep","type":"parent-child"},{"issue_id":"bd-a1","depends_on_id":"bd-c3","type":"discovered-from"}],"comments":[{"id":1,"author":"bob","text":"hi\nthere","created_at":"2025-01-02T00:00:00Z"}]}"#;
        let r = read(&[SourceFile {
            path: ".beads/issues.jsonl".into(),
            text: format!("{line}\nnot json\n{{\"id\":\"bd-x\",\"status\":\"tombstone\"}}\n"),
        }]);
        assert_eq!(r.items.len(), 1);
        let f = &r.items[0];
        assert_eq!(f.status, Status::InProgress);
        assert_eq!(f.claimant.as_deref(), Some("alice"));
        assert_eq!(f.priority, Some(1));
        assert_eq!(f.labels, ["type:bug", "x"]);
        assert_eq!(f.depends_on, ["bd-b2"]);
        assert_eq!(f.parent.as_deref(), Some("bd-ep"));
        assert_eq!(
            f.links,
            [("discovered-from".to_string(), "bd-c3".to_string())]
        );
        assert_eq!(f.created.as_deref(), Some("2025-01-02T02:04:05Z"));
        let headings: Vec<&str> = f.sections.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            headings,
            ["Acceptance Criteria", "Design", "Notes", "Comments"]
        );
        assert!(f.sections[3]
            .1
            .contains("- bob (2025-01-02T00:00:00Z): hi\n  there"));
        let kept: Vec<&str> = f.extra.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kept, ["external_ref"]);
        let kinds: Vec<NoteKind> = r.notes.iter().map(|n| n.kind).collect();
        assert_eq!(kinds, [NoteKind::Unreadable, NoteKind::Deleted]);
    }
}
