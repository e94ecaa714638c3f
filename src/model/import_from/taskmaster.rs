//! Task Master: `.taskmaster/tasks/tasks.json`.
//!
//! Tagged (`{"<tag>": {"tasks": [...], "metadata": {...}}, ...}`) or the legacy untagged form
//! (`{"tasks": [...]}`, read as the tag `master`). A task: `id`, `title`, `description`,
//! `details`, `testStrategy`, `status`, `priority`, `dependencies`, `subtasks` (one level,
//! the same fields; a subtask's ID is its number within its task), and optional
//! `createdAt`, `updatedAt`, `assignee`, `tags`, `acceptanceCriteria`, `metadata`, ...
//!
//! Each item's ID is `tm:<tag>:<id>` (`tm:master:12`, `tm:master:12.3` for subtask 3 of task
//! 12): `wt show tm:master:12.3` finds the ticket, and its `source` is
//! `taskmaster:master:12.3`. Dependencies of a task name tasks of its tag by
//! number, or subtasks as `"12.3"`; a subtask's numeric dependency names a sibling subtask
//! (as Task Master reads it).

use serde_json::{Map, Value};

use super::{map_status, text, word_priority, Foreign, Naming, Note, NoteKind, Read, SourceFile};
use crate::model::ticket::{Status, CRITERIA_HEADING};

/// IDs are `tm:<tag>:<id>`; references are made whole (`<tag>:<id>`) while reading and
/// match the ID without its `tm:`.
pub struct Names;

impl Naming for Names {
    fn canonical(&self, id: &str) -> String {
        let id = id.trim();
        id.strip_prefix("tm:").unwrap_or(id).to_string()
    }
}

/// Task Master's statuses. `cancelled` and `deferred` do not count as finished for what
/// depends on them (only done and completed do), so they are escalated, not done.
const STATUSES: &[(&[&str], Status, Option<&str>)] = &[
    (&["pending"], Status::Open, None),
    (&["in-progress"], Status::InProgress, None),
    (&["done", "completed"], Status::Done, None),
    (&["review"], Status::Review, None),
    (&["blocked"], Status::Escalated, Some("status:blocked")),
    (&["deferred"], Status::Escalated, Some("status:deferred")),
    (
        &["cancelled", "canceled"],
        Status::Escalated,
        Some("status:cancelled"),
    ),
];

fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(text::line(s)),
        _ => None,
    }
}

/// Read `tasks.json` (one file).
pub fn read(files: &[SourceFile]) -> Read {
    let mut r = Read::default();
    for file in files {
        let doc: Value = match serde_json::from_str(&file.text) {
            Ok(v) => v,
            Err(e) => {
                r.notes.push(Note {
                    key: file.path.clone(),
                    kind: NoteKind::Unreadable,
                    message: format!("not JSON ({e}): nothing imported from it"),
                });
                continue;
            }
        };
        let Value::Object(top) = doc else {
            r.notes.push(Note {
                key: file.path.clone(),
                kind: NoteKind::Unreadable,
                message: "not a JSON object: nothing imported".into(),
            });
            continue;
        };
        if let Some(Value::Array(tasks)) = top.get("tasks") {
            tag(&mut r, &file.path, "master", tasks);
            continue;
        }
        for (name, t) in &top {
            match t.get("tasks") {
                Some(Value::Array(tasks)) => tag(&mut r, &file.path, name, tasks),
                _ => r.notes.push(Note {
                    key: name.clone(),
                    kind: NoteKind::Unreadable,
                    message: format!("{}: not a tag with tasks: skipped", file.path),
                }),
            }
        }
    }
    r
}

fn tag(r: &mut Read, path: &str, tag: &str, tasks: &[Value]) {
    let tag = text::line(tag);
    for (n, t) in tasks.iter().enumerate() {
        let Value::Object(obj) = t else {
            r.notes.push(Note {
                key: format!("{tag}[{n}]"),
                kind: NoteKind::Unreadable,
                message: format!("{path}: not an object: skipped"),
            });
            continue;
        };
        let Some(id) = obj.get("id").and_then(id_text) else {
            r.notes.push(Note {
                key: format!("{tag}[{n}]"),
                kind: NoteKind::Unreadable,
                message: format!("{path}: a task without an id: skipped"),
            });
            continue;
        };
        let mut obj = obj.clone();
        let subtasks = obj.remove("subtasks");
        let origin = format!("{path}: tag {tag}");
        let place = format!("{path}: tag {tag}, tasks[{n}] (id {id})");
        let deps = |d: &str| format!("tm:{tag}:{d}");
        let f = item(&tag, &id, None, obj, (&origin, &place), &deps, &mut r.notes);
        r.items.push(f);
        match subtasks {
            Some(Value::Array(subs)) => {
                for (k, s) in subs.iter().enumerate() {
                    let Value::Object(sobj) = s else {
                        continue;
                    };
                    let Some(sid) = sobj.get("id").and_then(id_text) else {
                        r.notes.push(Note {
                            key: format!("{tag}:{id}[{k}]"),
                            kind: NoteKind::Unreadable,
                            message: format!("{place}: a subtask without an id: skipped"),
                        });
                        continue;
                    };
                    // `12.3` or just `3`.
                    let sid = sid.rsplit('.').next().unwrap_or(&sid).to_string();
                    let mut sobj = sobj.clone();
                    sobj.remove("parentId");
                    sobj.remove("subtasks");
                    let splace =
                        format!("{path}: tag {tag}, tasks[{n}].subtasks[{k}] (id {id}.{sid})");
                    let sdeps = |d: &str| {
                        if d.contains('.') {
                            format!("tm:{tag}:{d}")
                        } else {
                            format!("tm:{tag}:{id}.{d}")
                        }
                    };
                    let full = format!("{id}.{sid}");
                    let f = item(
                        &tag,
                        &full,
                        Some(&id),
                        sobj,
                        (&origin, &splace),
                        &sdeps,
                        &mut r.notes,
                    );
                    r.items.push(f);
                }
            }
            Some(Value::Null) | None => {}
            Some(other) => {
                if let Some(last) = r.items.last_mut() {
                    last.keep("subtasks", other);
                }
            }
        }
    }
}

fn item(
    tag: &str,
    id: &str,
    parent: Option<&str>,
    mut obj: Map<String, Value>,
    (origin, place): (&str, &str),
    dep: &dyn Fn(&str) -> String,
    notes: &mut Vec<Note>,
) -> Foreign {
    obj.remove("id");
    let key = format!("tm:{tag}:{id}");
    let mut f = Foreign {
        id: key.clone(),
        parent: parent.map(|p| format!("tm:{tag}:{p}")),
        origin: origin.to_string(),
        place: place.to_string(),
        ..Foreign::default()
    };
    let status = obj
        .remove("status")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "pending".into());
    let (st, label) = map_status(&status, STATUSES, &key, notes);
    f.status = st;
    f.status_label = label;
    f.labels.push(format!("tag:{}", text::label(tag)));
    let s = |v: Option<Value>| {
        v.and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    f.title = s(obj.remove("title"));
    f.description = s(obj.remove("description"));
    if let Some(Value::Array(ac)) = obj.get("acceptanceCriteria") {
        if ac.iter().all(Value::is_string) {
            let list: String = ac
                .iter()
                .filter_map(Value::as_str)
                .map(|c| format!("- [ ] {}\n", text::line(c)))
                .collect();
            f.section(CRITERIA_HEADING, &list);
            obj.remove("acceptanceCriteria");
        }
    }
    let details = s(obj.remove("details"));
    f.section("Details", &details);
    let strategy = s(obj.remove("testStrategy"));
    f.section("Test Strategy", &strategy);
    match obj.remove("priority") {
        Some(Value::String(p)) => match word_priority(&p) {
            Some(p) => f.priority = Some(p),
            None => f.keep("priority", Value::String(p)),
        },
        Some(other) => f.keep("priority", other),
        None => {}
    }
    match obj.remove("dependencies") {
        Some(Value::Array(ds)) => {
            for d in ds {
                match id_text(&d) {
                    Some(d) => f.depends_on.push(dep(&d)),
                    None => f.keep("dependencies", d),
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => f.keep("dependencies", other),
    }
    let assignee = obj
        .remove("assignee")
        .and_then(|v| v.as_str().map(str::to_string));
    if st == Status::InProgress {
        f.claimant = Some(assignee.unwrap_or_else(|| "taskmaster".into()));
    } else if let Some(a) = assignee {
        f.keep("assignee", Value::String(a));
    }
    for (field, created) in [("createdAt", true), ("updatedAt", false)] {
        if let Some(v) = obj.remove(field) {
            match v.as_str().and_then(text::time) {
                Some(t) if created => f.created = Some(t),
                Some(t) => f.updated = Some(t),
                None => f.keep(field, v),
            }
        }
    }
    if let Some(Value::Array(tags)) = obj.get("tags") {
        if tags.iter().all(Value::is_string) {
            f.labels
                .extend(tags.iter().filter_map(Value::as_str).map(str::to_string));
            obj.remove("tags");
        }
    }
    for (k, v) in obj {
        f.keep(&k, v);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_and_legacy_files_and_subtask_dependencies() {
        let tagged = r#"{"master":{"tasks":[{"id":1,"title":"A","description":"d","details":"x","testStrategy":"t","status":"done","priority":"high","dependencies":[],"subtasks":[{"id":1,"title":"A1","status":"pending","dependencies":[]},{"id":2,"title":"A2","status":"in-progress","dependencies":[1, "2.1"]}]},{"id":2,"title":"B","status":"cancelled","dependencies":[1,"1.2", 9]}],"metadata":{"created":"x"}},"feature":{"tasks":[{"id":1,"title":"F","status":"weird"}]}}"#;
        let r = read(&[SourceFile {
            path: "tasks.json".into(),
            text: tagged.into(),
        }]);
        let ids: Vec<&str> = r.items.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "tm:feature:1",
                "tm:master:1",
                "tm:master:1.1",
                "tm:master:1.2",
                "tm:master:2"
            ]
        );
        let a2 = &r.items[3];
        assert_eq!(a2.parent.as_deref(), Some("tm:master:1"));
        assert_eq!(a2.depends_on, ["tm:master:1.1", "tm:master:2.1"]);
        assert_eq!(a2.status, Status::InProgress);
        assert_eq!(a2.claimant.as_deref(), Some("taskmaster"));
        assert_eq!(Names.canonical(&a2.id), "master:1.2");
        let b = &r.items[4];
        assert_eq!(
            b.depends_on,
            ["tm:master:1", "tm:master:1.2", "tm:master:9"]
        );
        assert_eq!(b.status, Status::Escalated);
        assert_eq!(b.status_label.as_deref(), Some("status:cancelled"));
        assert_eq!(r.items[1].priority, Some(1));
        let headings: Vec<&str> = r.items[1]
            .sections
            .iter()
            .map(|(h, _)| h.as_str())
            .collect();
        assert_eq!(headings, ["Details", "Test Strategy"]);
        assert_eq!(r.notes[0].kind, NoteKind::UnknownStatus);
        let legacy = read(&[SourceFile {
            path: "tasks.json".into(),
            text: r#"{"tasks":[{"id":3,"title":"L","status":"pending"}]}"#.into(),
        }]);
        assert_eq!(legacy.items[0].id, "tm:master:3");
    }
}
