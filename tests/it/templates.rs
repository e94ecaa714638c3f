//! Ticket templates: every frontmatter field a template sets is the default for `wt new`,
//! `wt import` and `wt plan import`; values given explicitly win.

use crate::common::Repo;

/// A repository whose job and phase-spec templates set priority 3, a label and a file.
fn repo_with_templates() -> Repo {
    let r = Repo::new();
    for kind in ["job", "phase-spec"] {
        let path = format!(".work/templates/{kind}.md");
        let t = r.read(&path);
        let t = t
            .replace("priority: 2\n", "priority: 3\n")
            .replace("labels: []\n", "labels: [team-x]\n")
            .replace("files: []\n", "files: [docs/]\n")
            .replace("artifacts: []\n", "artifacts: [docs/out.md]\n");
        assert!(t.contains("priority: 3\n") && t.contains("[team-x]"), "{t}");
        r.write(&path, &t);
    }
    r.git(&["commit", "-q", "-am", "templates: team defaults"])
        .ok();
    r
}

fn fields(r: &Repo, id: &str) -> (u64, Vec<String>, Vec<String>, Vec<String>) {
    let v = r.wt_json(&["show", id]);
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap_or_else(|| panic!("{k} in {v}"))
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    (
        v["priority"].as_u64().unwrap(),
        list("labels"),
        list("files"),
        list("artifacts"),
    )
}

#[test]
fn wt_new_takes_every_field_the_template_sets_and_explicit_values_win() {
    let r = repo_with_templates();
    let j = r.new_ticket(&["job", "From the template"]);
    assert_eq!(
        fields(&r, &j),
        (
            3,
            vec!["team-x".to_string()],
            vec!["docs/".to_string()],
            vec!["docs/out.md".to_string()]
        )
    );
    let k = r.new_ticket(&[
        "job",
        "Explicit",
        "--priority",
        "1",
        "--label",
        "mine",
        "--file",
        "src/a.rs",
    ]);
    let (p, labels, files, artifacts) = fields(&r, &k);
    assert_eq!(
        (p, labels, files),
        (1, vec!["mine".into()], vec!["src/a.rs".into()])
    );
    assert_eq!(
        artifacts,
        vec!["docs/out.md".to_string()],
        "not given: the template's"
    );
}

#[test]
fn wt_import_takes_the_template_defaults_for_fields_an_item_leaves_out() {
    let r = repo_with_templates();
    let ids = r.import(
        r#"[{"key": "a", "kind": "job", "title": "A"},
            {"key": "b", "kind": "job", "title": "B", "priority": 0, "labels": [], "files": ["x"]}]"#,
    );
    let a = ids["a"].as_str().unwrap();
    let b = ids["b"].as_str().unwrap();
    assert_eq!(fields(&r, a).0, 3);
    assert_eq!(fields(&r, a).1, vec!["team-x".to_string()]);
    let (p, labels, files, _) = fields(&r, b);
    assert_eq!(
        (p, labels, files),
        (0, Vec::<String>::new(), vec!["x".to_string()]),
        "an explicit empty list wins over the template's"
    );
}

#[test]
fn wt_plan_import_takes_the_template_defaults_for_fields_a_plan_leaves_out() {
    let r = repo_with_templates();
    r.write(
        "plan.md",
        "## Phase\n\n### Plain job\n\nText.\n\n### Urgent job\nPriority: 0\nFiles: src/x.rs\n",
    );
    let v = r.wt_json(&["plan", "import", "plan.md"]);
    let ids: Vec<String> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields(&r, &ids[0]).0,
        3,
        "the phase-spec template's priority"
    );
    let (p, labels, files, _) = fields(&r, &ids[1]);
    assert_eq!(
        (p, labels, files),
        (3, vec!["team-x".into()], vec!["docs/".into()])
    );
    let (p, labels, files, _) = fields(&r, &ids[2]);
    assert_eq!(
        (p, labels, files),
        (0, vec!["team-x".into()], vec!["src/x.rs".into()])
    );
}
