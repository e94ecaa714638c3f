//! Plan order: `wt list`, `wt tree` (and `wt blocked`) show tickets in one order — depth first,
//! siblings in the order they were added (docs/tickets.md#plan-order).

use serde_json::Value;

use crate::common::*;

fn titles(doc: &Value) -> Vec<String> {
    tickets(doc)
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect()
}

fn tree_titles(nodes: &Value, out: &mut Vec<String>) {
    for n in nodes.as_array().unwrap() {
        out.push(n["title"].as_str().unwrap().to_string());
        tree_titles(&n["children"], out);
    }
}

#[test]
fn list_and_tree_follow_one_plan_order_whatever_made_the_tickets() {
    let r = Repo::new();
    // A phase made by hand before the plan, one job in it.
    let p0 = r.new_ticket(&["phase-spec", "Made first"]);
    r.new_ticket(&["job", "First job", "--parent", &p0]);
    r.write(
        "plan.md",
        "## Imported one\n\n### Alpha\n\n- [ ] a1\n- [ ] a2\n\n### Beta\n\n## Imported two\n\n### Gamma\n",
    );
    let v = r.wt_json(&["plan", "import", "plan.md"]);
    let one = v["nodes"][0]["id"].as_str().unwrap().to_string();
    // Added by hand after the import: after the siblings already there.
    for t in ["Delta", "Epsilon", "Zeta"] {
        r.new_ticket(&["job", t, "--parent", &one]);
    }
    r.new_ticket(&["job", "Second job", "--parent", &p0]);
    r.new_ticket(&["job", "No phase"]);
    let p3 = r.new_ticket(&["phase-spec", "Made last"]);
    r.import(&format!(
        r#"[{{"key": "x", "kind": "job", "title": "X", "parent": "{p3}"}},
            {{"key": "y", "kind": "job", "title": "Y", "parent": "{p3}"}}]"#
    ));
    let want: Vec<&str> = vec![
        "Made first",
        "First job",
        "Second job",
        "Imported one",
        "Alpha",
        "a1",
        "a2",
        "Beta",
        "Delta",
        "Epsilon",
        "Zeta",
        "Imported two",
        "Gamma",
        "Made last",
        "X",
        "Y",
        "No phase",
    ];
    assert_eq!(titles(&r.wt_json(&["list"])), want, "wt list");
    let mut tree = Vec::new();
    tree_titles(&r.wt_json(&["tree"])["roots"], &mut tree);
    assert_eq!(tree, want, "wt tree");
    // Filters keep the order.
    let jobs: Vec<&str> = want
        .iter()
        .copied()
        .filter(|t| {
            !matches!(*t, "a1" | "a2") && !t.starts_with("Made") && !t.starts_with("Imported")
        })
        .collect();
    assert_eq!(titles(&r.wt_json(&["list", "--kind", "job"])), jobs);
    // The text of wt list is in the same order.
    let text = r.wt(&["list"]).ok();
    let at = |t: &str| text.find(t).unwrap_or_else(|| panic!("{t} in {text}"));
    assert!(at("Made first") < at("Imported one") && at("Zeta") < at("Imported two"));
}
