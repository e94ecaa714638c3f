//! ticket (`tk`): `.tickets/<id>.md`, frontmatter then `# Title` and the body.
//!
//! Frontmatter fields: `id`, `status` (open, in_progress, closed), `deps`, `links`,
//! `created`, `type`, `priority` (0-4), `assignee`, `parent`, `tags`, `external-ref`. tk
//! reads them line by line (`key: value`), so this reader does too: values tk writes
//! unquoted (`assignee: Jane Doe`) are not always YAML. The body keeps its sections
//! (`## Design`, `## Acceptance Criteria`, `## Notes`); the text between the title and the
//! first section is the Description.

use serde_json::Value;

use super::text::{self, Raw};
use super::{clamp_priority, map_status, Foreign, Naming, Note, NoteKind, Read, SourceFile};
use crate::model::ticket::Status;

/// tk IDs match exactly (tk's own partial matching is for typing, not for stored IDs).
pub struct Names;

impl Naming for Names {
    fn canonical(&self, id: &str) -> String {
        id.trim().to_string()
    }
}

/// tk statuses: open, in_progress, closed; `needs_testing` (some versions) is review.
const STATUSES: &[(&[&str], Status, Option<&str>)] = &[
    (&["open"], Status::Open, None),
    (&["in_progress"], Status::InProgress, None),
    (&["closed", "done"], Status::Done, None),
    (
        &["needs_testing"],
        Status::Review,
        Some("status:needs-testing"),
    ),
];

/// Read every `.md` file given (normally `.tickets/*.md`).
pub fn read(files: &[SourceFile]) -> Read {
    let mut r = Read::default();
    for file in files {
        let Some((yaml, body)) = text::split_frontmatter(&file.text) else {
            r.notes.push(Note {
                key: file.path.clone(),
                kind: NoteKind::Unreadable,
                message: "no frontmatter: skipped".into(),
            });
            continue;
        };
        let fields = text::lenient_fields(yaml);
        let get = |k: &str| fields.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let stem = file
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&file.path)
            .trim_end_matches(".md")
            .to_string();
        let id = get("id")
            .map(Raw::text)
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(stem);
        let id = text::line(&id);
        let mut f = Foreign {
            id: id.clone(),
            origin: file.path.clone(),
            place: file.path.clone(),
            ..Foreign::default()
        };
        let status = get("status")
            .map(Raw::text)
            .unwrap_or_else(|| "open".into());
        let (st, label) = map_status(&status, STATUSES, &id, &mut r.notes);
        f.status = st;
        f.status_label = label;
        for (key, v) in &fields {
            match key.as_str() {
                "id" | "status" => {}
                "deps" => f.depends_on.extend(v.list().iter().map(|d| text::line(d))),
                "links" => {
                    for l in v.list() {
                        f.links.push(("related".into(), text::line(&l)));
                    }
                }
                "parent" => {
                    let p = text::line(&v.text());
                    if !p.is_empty() {
                        f.parent = Some(p);
                    }
                }
                "created" => match text::time(&v.text()) {
                    Some(t) => f.created = Some(t),
                    None => f.keep("created", Value::String(v.text())),
                },
                "type" => f.labels.push(format!("type:{}", text::label(&v.text()))),
                "priority" => match v
                    .text()
                    .trim()
                    .trim_start_matches(['P', 'p'])
                    .parse::<i64>()
                {
                    Ok(p) => f.priority = Some(clamp_priority(p, &id, &mut r.notes)),
                    Err(_) => f.keep("priority", Value::String(v.text())),
                },
                "assignee" if st == Status::InProgress => f.claimant = Some(v.text()),
                "tags" => f.labels.extend(v.list()),
                other => f.keep(
                    other,
                    match v {
                        Raw::Text(s) => Value::String(s.clone()),
                        Raw::List(l) => {
                            Value::Array(l.iter().map(|x| Value::String(x.clone())).collect())
                        }
                    },
                ),
            }
        }
        if st == Status::InProgress && f.claimant.is_none() {
            f.claimant = Some("tk".into());
        }
        // `# Title`, then the description, then `## ` sections as they are.
        let (pre, sections) = text::sections(body);
        let mut desc = String::new();
        let mut titled = false;
        for l in pre.lines() {
            if !titled {
                if let Some(t) = l.strip_prefix("# ") {
                    f.title = text::line(t);
                    titled = true;
                    continue;
                }
                if l.trim().is_empty() {
                    continue;
                }
                titled = true;
            }
            desc.push_str(l);
            desc.push('\n');
        }
        f.description = desc;
        for (h, s) in sections {
            if h.eq_ignore_ascii_case("description") && f.description.trim().is_empty() {
                f.description = s;
            } else {
                f.section(&h, &s);
            }
        }
        r.items.push(f);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_file_maps_every_field() {
        let text = "---\nid: wt-a1b2\nstatus: in_progress\ndeps: [wt-c3d4, wt-gone]\nlinks: [wt-e5f6]\ncreated: 2026-01-09T19:42:47Z\ntype: epic\npriority: 1\nassignee: Jane Doe\nexternal-ref: gh-12\nparent: wt-0000  # Parent title\ntags: [ui, backend]\n---\n# Fix it\n\nSome words.\n\n## Design\n\nD\n\n## Notes\n\n**2026-01-10** a note\n";
        let r = read(&[SourceFile {
            path: ".tickets/wt-a1b2.md".into(),
            text: text.into(),
        }]);
        let f = &r.items[0];
        assert_eq!(f.id, "wt-a1b2");
        assert_eq!(f.title, "Fix it");
        assert_eq!(f.status, Status::InProgress);
        assert_eq!(f.claimant.as_deref(), Some("Jane Doe"));
        assert_eq!(f.depends_on, ["wt-c3d4", "wt-gone"]);
        assert_eq!(f.links, [("related".to_string(), "wt-e5f6".to_string())]);
        assert_eq!(f.parent.as_deref(), Some("wt-0000"));
        assert_eq!(f.labels, ["type:epic", "ui", "backend"]);
        assert_eq!(f.priority, Some(1));
        assert_eq!(f.description.trim(), "Some words.");
        assert_eq!(f.sections.len(), 2);
        assert_eq!(f.extra[0].0, "external-ref");
    }
}
