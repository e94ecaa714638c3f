//! Fuzzing the parsers that read hostile ticket text: the frontmatter reader and editor
//! (`model::frontmatter`, `model::ticket_file`), the markdown section finder
//! (`model::markdown`, `model::journal`) and the plan parser (`plan`). Inputs are arbitrary
//! bytes, and text built from the fragments those parsers care about (delimiters, keys,
//! quotes, brackets, headings, checkboxes, line endings, control characters).
//!
//! Properties: nothing panics; an edit of one field rewrites exactly that field's lines and
//! a one-line field stays one line; a ticket parsed, edited and parsed again has the new
//! value and every other field unchanged; appending to a section only inserts, and the entry
//! lands in wt's own section; a plan's phase and job texts put back together give the input.
//!
//! `cargo test` runs a few hundred cases per property (a couple of seconds in all); set
//! `WT_FUZZ_CASES` for a long run: `WT_FUZZ_CASES=100000 cargo test --release --test it
//! fuzz::` (see docs/contributing.md).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use wt::model::frontmatter::{self, Value};
use wt::model::{journal, markdown, ticket, ticket_file};

/// Cases per property: `WT_FUZZ_CASES`, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("WT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The suite's short run uses a fixed seed, so `cargo test` (and CI) is reproducible; a long
/// run (`WT_FUZZ_CASES` set) draws fresh inputs every time.
fn runner(default: u32) -> TestRunner {
    let config = Config {
        cases: cases(default),
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    if std::env::var_os("WT_FUZZ_CASES").is_some() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(
            config,
            proptest::test_runner::TestRng::deterministic_rng(
                proptest::test_runner::RngAlgorithm::ChaCha,
            ),
        )
    }
}

/// Pieces of ticket files and plans: what the parsers branch on.
const FRAGMENTS: &[&str] = &[
    "---",
    "...",
    "---\r",
    "\u{feff}---",
    "id: J-7f3ak2m9",
    "id:",
    "kind: job",
    "kind: task",
    "kind: 3",
    "title: Add login",
    "title: \"quoted \\\" # x\"",
    "title: 'it''s'",
    "title: [a, b",
    "title: |",
    "title: >-",
    "  folded line",
    "status: open",
    "status: no",
    "priority: 1",
    "priority: x",
    "parent: P-aaaa0001",
    "depends_on: [J-1, J-2]",
    "depends_on:",
    "  - J-3",
    "- item",
    "files: [src/**, \"a, b\"]",
    "artifacts: []",
    "claimed_by: ~",
    "claim_expires: 2026-01-02T03:04:05Z",
    "labels: {a: b}",
    "key: &a x",
    "other: *a",
    "tag: !!str 1",
    "# comment",
    "  # indented comment",
    "\"q k\": 1",
    "'s k': 2",
    "x: \"unterminated",
    "y: [open",
    "]",
    "?",
    ": z",
    "\t",
    "",
    " ",
    "# Heading",
    "## Description",
    "## Acceptance Criteria",
    "### Acceptance Criteria",
    "## Amendments",
    "### Amendment 1 — x by y",
    "## Progress",
    "## Phase 1",
    "### Job",
    "#### Deep",
    "Setext",
    "===",
    "- [ ] task",
    "- [x] done",
    "  - [X] nested",
    "1. [ ] ordered",
    "> - [ ] quoted",
    "```",
    "```md",
    "~~~",
    "    code",
    "<!-- wt:plan-end -->",
    "<!-- wt:plan-end no-eol file=a.md -->",
    "<!-- comment",
    "-->",
    "Depends on: Phase 1",
    "Files: src/db/**",
    "Priority: 1",
    "Gate: approval",
    "**Depends on:** Job",
    "| a | b |",
    "| --- | --- |",
    "ünïcødé 🎉",
    "\u{1b}[31m",
    "\u{0}",
    "\u{202e}",
    "\r",
    "\u{85}",
    "\u{2028}",
    "\\",
    "\"",
    "'",
    "[",
    "{",
    "*",
    "&",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
];

/// Text made of fragments joined by assorted line endings.
fn fragment_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(FRAGMENTS),
            prop::sample::select(&["\n", "\n", "\n", "\r\n", "\r", "", " "][..]),
        ),
        0..40,
    )
    .prop_map(|parts| parts.into_iter().map(|(f, e)| format!("{f}{e}")).collect())
}

/// Arbitrary bytes, arbitrary strings, and fragment text.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        any::<String>(),
        fragment_text(),
        fragment_text(),
        fragment_text(),
    ]
}

/// A field value to write.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<String>().prop_map(Value::Str),
        "[ -~]{0,20}".prop_map(Value::Str),
        prop::collection::vec(prop_oneof![any::<String>(), "[ -~]{0,8}"], 0..4)
            .prop_map(Value::List),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(ticket::KNOWN_FIELDS).prop_map(str::to_string),
        "[a-z_]{1,8}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

#[test]
fn frontmatter_reader_and_editor_never_panic_and_edit_only_their_field() {
    runner(300)
        .run(&(any_text(), key(), value()), |(text, key, value)| {
            let _ = ticket_file::parse_blob(".work/J-7f3ak2m9-x.md", text.as_bytes());
            let _ = ticket::parse(".work/J-7f3ak2m9-x.md", &text);
            let _ = ticket_file::unknown_fields(&text);
            let Ok(before) = frontmatter::fields(&text) else {
                let _ = frontmatter::set_field(&text, &key, &value);
                let _ = frontmatter::remove_field(&text, &key);
                return Ok(());
            };
            let edited = frontmatter::set_field(&text, &key, &value);
            let _ = frontmatter::remove_field(&text, &key);
            let Ok(out) = edited else { return Ok(()) };
            let after = frontmatter::fields(&out).map_err(|e| {
                TestCaseError::fail(format!("edit broke the frontmatter: {e}\n{out:?}"))
            })?;
            prop_assert!(
                after.iter().any(|f| f.key == key),
                "{key:?} missing after the edit"
            );
            match before.iter().find(|f| f.key == key) {
                Some(f) => {
                    // Exactly that field's lines changed.
                    prop_assert!(
                        out.starts_with(&text[..f.start]),
                        "bytes before the field changed"
                    );
                    prop_assert!(
                        out.ends_with(&text[f.end..]),
                        "bytes after the field changed"
                    );
                    let one_line = !text[f.start..f.end]
                        .trim_end_matches(['\n', '\r'])
                        .contains('\n');
                    let new = &out[f.start..out.len() - (text.len() - f.end)];
                    if one_line && !matches!(value, Value::List(_)) {
                        prop_assert!(
                            !new.trim_end_matches(['\n', '\r']).contains(['\n', '\r']),
                            "a one-line field became {new:?}"
                        );
                    }
                }
                None => {
                    // Inserted: everything else is kept, in order.
                    let sp = frontmatter::split(&text)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert!(out.ends_with(sp.body), "the body changed");
                    prop_assert!(
                        out.starts_with(&text[..sp.yaml_offset]),
                        "the opening changed"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A ticket wt could have written, with free-form values.
fn ticket_text() -> impl Strategy<Value = (String, String)> {
    let title = "[A-Za-z][ -~]{0,30}[A-Za-z0-9]";
    (
        title,
        title,
        prop::sample::select(&["\n", "\r\n"][..]),
        fragment_text(),
    )
        .prop_map(|(title, other, eol, body)| {
            let fields = [
                "id: J-7f3ak2m9",
                "kind: job",
                "title: x",
                "status: open",
                "priority: 2",
                "depends_on: [J-aaaa0001]",
                "claimed_by:",
                "labels: []",
            ];
            let text = format!("---{eol}{}{eol}---{eol}{body}", fields.join(eol));
            // The values as wt writes them.
            let text = frontmatter::set_field(&text, "title", &Value::Str(title)).unwrap();
            let text =
                frontmatter::set_field(&text, "labels", &Value::List(vec![other.clone()])).unwrap();
            (text, other)
        })
}

#[test]
fn a_ticket_parsed_edited_and_parsed_again_changes_only_the_edited_field() {
    runner(300)
        .run(
            &(ticket_text(), "[A-Za-z][ -~]{0,30}[A-Za-z0-9]"),
            |((text, _), new)| {
                let path = ".work/J-7f3ak2m9-x.md";
                let before = ticket::parse(path, &text)
                    .map_err(|p| TestCaseError::fail(format!("{p}\n{text:?}")))?;
                for key in ["title", "claimed_by", "status"] {
                    let v = if key == "status" {
                        "in_progress".to_string()
                    } else {
                        new.clone()
                    };
                    let out = frontmatter::set_field(&text, key, &Value::Str(v.clone()))
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    let after = ticket::parse(path, &out)
                        .map_err(|p| TestCaseError::fail(format!("{p}\n{out:?}")))?;
                    let mut want = before.clone();
                    match key {
                        "title" => want.title = v.trim().to_string(),
                        "claimed_by" => want.claimed_by = Some(v.trim().to_string()),
                        _ => want.status = ticket::Status::InProgress,
                    }
                    prop_assert_eq!(&after, &want, "{} in {:?}", key, out);
                    // One line in, one line out: the file has as many lines as before.
                    prop_assert_eq!(out.lines().count(), text.lines().count());
                }
                Ok(())
            },
        )
        .unwrap();
}

fn is_insertion(old: &str, new: &str) -> bool {
    let prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    new.len() >= old.len() && prefix + suffix >= old.len()
}

/// Inputs the random runs once got wrong, checked first on every run (fixed and random):
/// (text, heading, entry).
const MARKDOWN_CORPUS: &[(&str, &str, &str)] = &[
    // A lone `\r` ends the line before the heading; the appended entry ended in that `\r`,
    // joined the `\n` after it into one `\r\n` and became part of the next setext heading.
    (
        "---\r## Amendments\n\n\u{feff}---\n---\r\n",
        "Amendments",
        "a",
    ),
];

/// Every section `heading` the finder reports is inside the text, and an entry appended to
/// it only inserts and lands in wt's own section of the result.
fn markdown_section_property(text: &str, heading: &str, entry: &str) -> Result<(), TestCaseError> {
    let _ = markdown::headings(text);
    let _ = markdown::task_items(text, None);
    let _ = markdown::task_items(text, Some(heading));
    let _ = markdown::task_items_under_all(text, heading);
    let _ = markdown::plan_end(text);
    let _ = journal::progress_entries(text);
    let _ = journal::amendments(text);
    let _ = journal::last_amendment_number(text);
    let _ = journal::demote_headings(text, 3);
    let _ = journal::shift_headings(text, 2);
    for s in [
        markdown::find_section(text, heading),
        markdown::wt_section(text, heading),
    ]
    .into_iter()
    .flatten()
    {
        prop_assert!(s.start <= s.content_start && s.content_start <= s.end && s.end <= text.len());
        prop_assert!(text.get(s.start..s.end).is_some(), "not on char boundaries");
    }
    let out = markdown::append_to_section(text, heading, 2, entry);
    prop_assert!(is_insertion(text, &out), "{out:?}");
    if heading.is_empty() {
        return Ok(());
    }
    let out = markdown::append_to_wt_section(text, heading, entry);
    prop_assert!(is_insertion(text, &out), "{out:?}");
    // The entry is in wt's own section of the result.
    let content = markdown::wt_section_content(&out, heading)
        .ok_or_else(|| TestCaseError::fail(format!("no {heading} section in {out:?}")))?;
    prop_assert!(
        content.contains(entry.trim_end()),
        "{heading}: {content:?} in {out:?}"
    );
    Ok(())
}

#[test]
fn an_entry_appended_after_a_lone_cr_line_ending_lands_in_wts_section() {
    // Found by a random fuzz run: `\r` then `\n` across the insertion point is one line
    // ending, so the blank line before the next heading was lost.
    let text = "---\r## Amendments\n\n\u{feff}---\n---\r\n";
    for entry in ["a", "### Amendment 1 \u{2014} t by x\n\nfailed"] {
        markdown_section_property(text, "Amendments", entry).unwrap();
        let file = format!("---\nid: J-7f3ak2m9\n---\n{text}");
        let out = journal::append(&file, journal::AMENDMENTS, entry).unwrap();
        let amendments = journal::amendments(frontmatter::split(&out).unwrap().body).unwrap();
        assert!(amendments.ends_with(entry.trim_end()), "{out:?}");
    }
}

#[test]
fn the_markdown_section_finder_never_panics_and_appends_only_into_wts_section() {
    for (text, heading, entry) in MARKDOWN_CORPUS {
        markdown_section_property(text, heading, entry).unwrap();
    }
    let headings = prop::sample::select(
        &[
            "Progress",
            "Amendments",
            "Acceptance Criteria",
            "Description",
            "x",
            "",
        ][..],
    );
    runner(300)
        .run(
            &(any_text(), headings, "[a-z][a-z ]{0,20}"),
            |(text, heading, entry)| markdown_section_property(&text, heading, &entry),
        )
        .unwrap();
}

#[test]
fn the_plan_parser_never_panics_and_keeps_every_line() {
    runner(300)
        .run(&any_text(), |text| {
            let Ok(plan) = wt::plan::parse_markdown(&text, "fuzz.md") else {
                return Ok(());
            };
            let kept: String = plan
                .nodes
                .iter()
                .filter(|n| n.kind != ticket::Kind::Task)
                .map(|n| n.text.as_str())
                .collect();
            prop_assert_eq!(
                &kept,
                &text,
                "phase and job texts do not give back the plan"
            );
            if let Ok(targets) = wt::plan::resolve(&plan, &|_| None) {
                for it in wt::plan::items(&plan, &targets) {
                    let _ = ticket::path_problem(&it.title);
                    if let Some(body) = &it.body {
                        let _ = wt::plan::fragment(body);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
