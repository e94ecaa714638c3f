//! Three-way merge of one ticket file, field by field, for `wt sync`.
//!
//! `base` is the file where both sides started, `ours` the local change being replayed,
//! `theirs` the version already on the remote. The result starts from `theirs` and takes
//! from `ours` what only ours changed, byte for byte (a field's lines are copied whole).
//!
//! - A frontmatter field changed on one side only takes that side's lines.
//! - The claim fields (`status`, `claimed_by`, `claimed_at`, `claim_expires`, `claim_token`,
//!   `claim_stolen_from`) are one unit: a claim, a heartbeat, a takeover, a release or a done
//!   is never mixed with another side's; when both sides changed them differently, the
//!   remote's claim stands (it was published first) and a conflict is reported. The losing
//!   side's whole change to that ticket goes with its claim (a superseded `done`'s
//!   `implemented_by` and progress note too): the result is the remote's file, and the
//!   conflict names what was dropped.
//! - `updated` changed on both sides takes the later time, without a conflict.
//! - Any other field changed differently on both sides: the remote's value stands, conflict.
//! - The markdown body is merged line by line (diffy, like `git merge-file`); lines both
//!   sides inserted at the same place (two progress notes) are both kept, remote's first.
//!   Other overlapping edits keep the remote's body and report a conflict.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::model::frontmatter;

/// Fields that change together when a claim changes.
pub const CLAIM_GROUP: &[&str] = &[
    "status",
    "claimed_by",
    "claimed_at",
    "claim_expires",
    "claim_token",
    "claim_stolen_from",
];

/// One place where both sides changed the same thing; the remote's version was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldConflict {
    /// A field name, `claim` for the claim fields, or `body`.
    pub field: String,
    /// The local (dropped) value, as written in the file.
    pub ours: String,
    /// The remote (kept) value.
    pub theirs: String,
}

/// The merged text and what could not be merged.
#[derive(Debug, Clone)]
pub struct Merged {
    pub text: String,
    pub conflicts: Vec<FieldConflict>,
}

/// Raw field lines by key (first occurrence), and the byte ranges in the text.
struct Fields<'a> {
    raw: HashMap<String, &'a str>,
    ranges: HashMap<String, (usize, usize)>,
    /// Byte offset where a new field line goes (just before the closing delimiter).
    insert_at: usize,
    body: &'a str,
}

fn parse(text: &str) -> Option<Fields<'_>> {
    let split = frontmatter::split(text).ok()?;
    let fs = frontmatter::fields(text).ok()?;
    let mut raw = HashMap::new();
    let mut ranges = HashMap::new();
    for f in fs {
        if !raw.contains_key(&f.key) {
            raw.insert(f.key.clone(), &text[f.start..f.end]);
            ranges.insert(f.key, (f.start, f.end));
        }
    }
    Some(Fields {
        raw,
        ranges,
        insert_at: split.yaml_offset + split.yaml.len(),
        body: split.body,
    })
}

/// A field's value as shown in a conflict report: the text after `key:`, trimmed.
fn shown(raw: Option<&str>) -> String {
    match raw {
        None => "(absent)".into(),
        Some(r) => {
            let v = r.split_once(':').map(|(_, v)| v).unwrap_or(r);
            let v = v.trim();
            if v.is_empty() {
                "(empty)".into()
            } else {
                v.replace('\n', " ")
            }
        }
    }
}

fn claim_summary(f: &Fields<'_>) -> String {
    let get = |k: &str| shown(f.raw.get(k).copied());
    format!(
        "status {}, claimed_by {}, token {}",
        get("status"),
        get("claimed_by"),
        get("claim_token")
    )
}

/// Merge one ticket file. Returns None when a side is not a readable ticket file (the
/// caller keeps the remote's file and reports it).
pub fn merge_ticket(base: &str, ours: &str, theirs: &str) -> Option<Merged> {
    let (b, o, t) = (parse(base)?, parse(ours)?, parse(theirs)?);
    let mut conflicts = Vec::new();
    // Keys whose result is ours' lines (None = remove the field).
    let mut take_ours: Vec<(String, Option<&str>)> = Vec::new();
    let keys: BTreeSet<&String> = b
        .raw
        .keys()
        .chain(o.raw.keys())
        .chain(t.raw.keys())
        .collect();
    let changed = |f: &Fields<'_>, k: &str| f.raw.get(k) != b.raw.get(k);
    // The claim group as a unit.
    let ours_claim = CLAIM_GROUP.iter().any(|k| changed(&o, k));
    let theirs_claim = CLAIM_GROUP.iter().any(|k| changed(&t, k));
    let same_claim = CLAIM_GROUP.iter().all(|k| o.raw.get(*k) == t.raw.get(*k));
    if ours_claim && !same_claim {
        if theirs_claim {
            // Two claims: the remote's stands whole. Everything else our change did to this
            // ticket came with our claim (one wt commit is one verb: a done's
            // `implemented_by`, its progress note) and goes with it, so the result never
            // holds fields of both.
            let mut dropped: Vec<String> = keys
                .iter()
                .filter(|k| !CLAIM_GROUP.contains(&k.as_str()) && k.as_str() != "updated")
                .filter(|k| changed(&o, k) && o.raw.get(k.as_str()) != t.raw.get(k.as_str()))
                .map(|k| format!("{k} {}", shown(o.raw.get(k.as_str()).copied())))
                .collect();
            if o.body != b.body && o.body != t.body {
                dropped.push("its edits to the body".into());
            }
            let mut ours = claim_summary(&o);
            if !dropped.is_empty() {
                ours.push_str(&format!("; with it {}", dropped.join(", ")));
            }
            conflicts.push(FieldConflict {
                field: "claim".into(),
                ours,
                theirs: claim_summary(&t),
            });
            return Some(Merged {
                text: theirs.to_string(),
                conflicts,
            });
        } else {
            for k in CLAIM_GROUP {
                if o.raw.get(*k) != t.raw.get(*k) {
                    take_ours.push((k.to_string(), o.raw.get(*k).copied()));
                }
            }
        }
    }
    for k in keys {
        if CLAIM_GROUP.contains(&k.as_str()) {
            continue;
        }
        let (ob, ot, bb) = (o.raw.get(k), t.raw.get(k), b.raw.get(k));
        if ob == bb || ob == ot {
            continue;
        }
        if ot == bb {
            take_ours.push((k.clone(), ob.copied()));
            continue;
        }
        if k == "updated" {
            continue;
        }
        conflicts.push(FieldConflict {
            field: k.clone(),
            ours: shown(ob.copied()),
            theirs: shown(ot.copied()),
        });
    }
    // Body.
    let body = if o.body == b.body || o.body == t.body {
        t.body.to_string()
    } else if t.body == b.body {
        o.body.to_string()
    } else {
        match merge_body(b.body, o.body, t.body) {
            Some(m) => m,
            None => {
                conflicts.push(FieldConflict {
                    field: "body".into(),
                    ours: "(local edits to the body)".into(),
                    theirs: "(remote edits to the body)".into(),
                });
                t.body.to_string()
            }
        }
    };
    // `updated` changed on both sides: the later time, if anything of ours landed at all
    // (a change of ours that lost every conflict must not leave a trace).
    let ours_landed = !take_ours.is_empty() || body != t.body;
    let (uo, ut, ub) = (
        o.raw.get("updated"),
        t.raw.get("updated"),
        b.raw.get("updated"),
    );
    if ours_landed && uo != ub && uo != ut && shown(uo.copied()) > shown(ut.copied()) {
        take_ours.push(("updated".into(), uo.copied()));
    }
    // Build the result from theirs: replace/remove/insert fields, then the body.
    let body_start = theirs.len() - t.body.len();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (k, raw) in take_ours {
        let mut line = raw.map(str::to_string).unwrap_or_default();
        if !line.is_empty() && !line.ends_with('\n') {
            line.push('\n');
        }
        match t.ranges.get(&k) {
            Some(&(s, e)) => edits.push((s, e, line)),
            None => edits.push((t.insert_at, t.insert_at, line)),
        }
    }
    edits.push((body_start, theirs.len(), body));
    edits.sort_by_key(|e| (e.0, e.1));
    let mut text = String::with_capacity(theirs.len() + 64);
    let mut pos = 0;
    for (s, e, r) in edits {
        text.push_str(&theirs[pos..s]);
        text.push_str(&r);
        pos = e;
    }
    text.push_str(&theirs[pos..]);
    Some(Merged { text, conflicts })
}

const MARK: usize = 29;

/// Line-based three-way merge; insertions both sides made at the same place are unioned
/// (theirs first). None when other edits overlap.
pub fn merge_body(base: &str, ours: &str, theirs: &str) -> Option<String> {
    let mut opts = diffy::MergeOptions::new();
    opts.set_conflict_style(diffy::ConflictStyle::Diff3)
        .set_conflict_marker_length(MARK)
        .set_incomplete_hunk_style(diffy::IncompleteHunkStyle::Git);
    let conflicted = match opts.merge(base, ours, theirs) {
        Ok(m) => return Some(m),
        Err(c) => c,
    };
    let open = "<".repeat(MARK) + " ours";
    let orig = "|".repeat(MARK) + " original";
    let sep = "=".repeat(MARK);
    let close = ">".repeat(MARK) + " theirs";
    let is_marker = |l: &str| l == open || l == orig || l == sep || l == close;
    if [base, ours, theirs]
        .iter()
        .any(|s| s.lines().any(is_marker) || (!s.is_empty() && !s.ends_with('\n')))
    {
        return None;
    }
    let mut out = String::with_capacity(conflicted.len());
    let mut lines = conflicted.split_inclusive('\n');
    while let Some(l) = lines.next() {
        if l.trim_end_matches('\n') != open {
            out.push_str(l);
            continue;
        }
        let (mut o, mut b, mut t) = (String::new(), String::new(), String::new());
        let mut part = 0;
        for l in lines.by_ref() {
            let bare = l.trim_end_matches('\n');
            if bare == orig {
                part = 1;
            } else if bare == sep {
                part = 2;
            } else if bare == close {
                break;
            } else {
                match part {
                    0 => o.push_str(l),
                    1 => b.push_str(l),
                    _ => t.push_str(l),
                }
            }
        }
        if !b.is_empty() {
            return None;
        }
        out.push_str(&t);
        out.push_str(&o);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "---\nid: J-a\nkind: job\ntitle: Old\nstatus: open\npriority: 2\nclaimed_by:\nclaimed_at:\nupdated: \"2026-01-01T00:00:00Z\"\nlabels: []\n---\n# T\n\n## Progress\n- one\n";

    fn with(fields: &[(&str, &str)], body_extra: &str) -> String {
        let mut s = BASE.to_string();
        for (k, v) in fields {
            s = crate::model::frontmatter::set_field(
                &s,
                k,
                &crate::model::frontmatter::Value::Str(v.to_string()),
            )
            .unwrap();
        }
        s.push_str(body_extra);
        s
    }

    #[test]
    fn different_fields_merge_without_conflict() {
        let ours = with(&[("title", "New")], "");
        let theirs = with(&[("priority", "1")], "");
        let m = merge_ticket(BASE, &ours, &theirs).unwrap();
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert!(m.text.contains("title: New\n"));
        assert!(m.text.contains("priority: \"1\"\n") || m.text.contains("priority: 1\n"));
    }

    #[test]
    fn both_claiming_keeps_the_remote_claim_and_reports_it() {
        let ours = with(
            &[
                ("status", "in_progress"),
                ("claimed_by", "a"),
                ("updated", "2026-01-01T00:05:00Z"),
            ],
            "",
        );
        let theirs = with(
            &[
                ("status", "in_progress"),
                ("claimed_by", "b"),
                ("updated", "2026-01-01T00:04:00Z"),
            ],
            "",
        );
        let m = merge_ticket(BASE, &ours, &theirs).unwrap();
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].field, "claim");
        assert!(m.text.contains("claimed_by: b\n"));
        // Nothing of ours landed, so not even our `updated`: the result is theirs exactly.
        assert_eq!(m.text, theirs);
        let ours2 = crate::model::frontmatter::set_field(
            &ours,
            "title",
            &crate::model::frontmatter::Value::Str("Both".into()),
        )
        .unwrap();
        // A change that came with the losing claim (one wt commit is one verb) loses with
        // it, and the conflict names it.
        let m2 = merge_ticket(BASE, &ours2, &theirs).unwrap();
        assert_eq!(m2.text, theirs);
        assert!(
            m2.conflicts[0].ours.contains("title Both"),
            "{:?}",
            m2.conflicts
        );
    }

    #[test]
    fn a_superseded_done_loses_whole_to_the_claim_that_took_over() {
        let claimed = with(&[("status", "in_progress"), ("claimed_by", "alice")], "");
        let done = with(
            &[("status", "review"), ("implemented_by", "alice")],
            "- alice: done without CI\n",
        );
        let stolen = with(
            &[
                ("status", "in_progress"),
                ("claimed_by", "bob"),
                ("claim_stolen_from", "alice"),
            ],
            "",
        );
        let m = merge_ticket(&claimed, &done, &stolen).unwrap();
        assert_eq!(m.text, stolen, "nothing of the superseded done is kept");
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].field, "claim");
        assert!(
            m.conflicts[0].ours.contains("implemented_by alice")
                && m.conflicts[0].ours.contains("body"),
            "{:?}",
            m.conflicts
        );
    }

    #[test]
    fn a_claim_on_one_side_and_a_title_edit_on_the_other_both_land() {
        let ours = with(&[("status", "in_progress"), ("claimed_by", "a")], "");
        let theirs = with(&[("title", "Renamed")], "");
        let m = merge_ticket(BASE, &ours, &theirs).unwrap();
        assert!(m.conflicts.is_empty());
        assert!(m.text.contains("claimed_by: a\n") && m.text.contains("title: Renamed\n"));
        assert!(m.text.contains("status: in_progress\n"));
    }

    #[test]
    fn progress_notes_appended_on_both_sides_are_both_kept() {
        let ours = with(&[], "- two (ours)\n");
        let theirs = with(&[], "- two (theirs)\n");
        let m = merge_ticket(BASE, &ours, &theirs).unwrap();
        assert!(m.conflicts.is_empty());
        assert!(
            m.text.ends_with("- one\n- two (theirs)\n- two (ours)\n"),
            "{}",
            m.text
        );
    }

    #[test]
    fn overlapping_body_edits_keep_theirs_and_conflict() {
        let ours = BASE.replace("- one", "- uno");
        let theirs = BASE.replace("- one", "- eins");
        let m = merge_ticket(BASE, &ours, &theirs).unwrap();
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.text, theirs);
    }

    #[test]
    fn a_field_only_ours_added_is_inserted_and_one_ours_removed_is_removed() {
        let ours = with(&[("claim_token", "x"), ("claimed_by", "a")], "");
        let theirs = BASE.replace("labels: []\n", "");
        let m = merge_ticket(BASE, &ours, &theirs).unwrap();
        assert!(m.conflicts.is_empty());
        assert!(m.text.contains("claim_token: x\n") && !m.text.contains("labels"));
    }
}
