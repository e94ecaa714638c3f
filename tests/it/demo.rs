//! `wt demo`, the shop window: it must show the loop as it really runs, and keep working
//! with nothing installed but wt and a shell (`wt demo --run`, the executor's demo, is a set-up
//! command of CI: see tests/it/run_loop.rs).

use std::process::Command;

use crate::common::*;

#[test]
fn the_demo_shows_parallel_agents_red_ci_a_failed_audit_an_escalation_a_gate_and_closed_phases() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(wt_bin());
    hermetic(&mut cmd, home.path());
    cmd.current_dir(home.path()).args(["--json", "demo"]);
    let run = Run {
        out: cmd.output().expect("run wt demo"),
    };
    let v = run.json();
    run.ok();
    let t = v["transcript"].as_str().unwrap();
    // Newest first in the report; oldest first here.
    let mut log: Vec<String> = v["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    log.reverse();
    let at = |pred: &dyn Fn(&str) -> bool, what: &str| -> usize {
        log.iter()
            .position(|s| pred(s))
            .unwrap_or_else(|| panic!("no commit {what} in:\n{}", log.join("\n")))
    };
    // Two agents at once: both claims are made before either hands work in.
    let c1 = at(
        &|s| s.starts_with("wt: claim J-") && s.ends_with("(agent-1)"),
        "claim by agent-1",
    );
    let c2 = at(
        &|s| s.starts_with("wt: claim J-") && s.ends_with("(agent-2)"),
        "claim by agent-2",
    );
    let d1 = at(
        &|s| s.starts_with("wt: done J-") && s.ends_with("(agent-1)"),
        "done by agent-1",
    );
    let d2 = at(
        &|s| s.starts_with("wt: done J-") && s.ends_with("(agent-2)"),
        "done by agent-2",
    );
    assert!(
        c1.max(c2) < d1.min(d2),
        "claims overlap:\n{}",
        log.join("\n")
    );
    // CI goes red and blocks a done until the code is fixed and committed.
    let red = t.find("CI is red").expect("a red CI run");
    let fixed = t.find("adds the email column").expect("the fix");
    let green = t[fixed..]
        .find("CI green on the committed code; Schema")
        .expect("then green");
    assert!(red < fixed && green > 0, "{t}");
    // An audit fails with an amendment; the next attempt passes.
    let fail = at(
        &|s| s.contains("fail J-") && s.contains("amendment 1, attempt 1 of 2"),
        "failed audit",
    );
    let pass_after = log[fail..]
        .iter()
        .any(|s| s.starts_with("wt: pass J-") && s.contains("Config loader"));
    assert!(pass_after, "{}", log.join("\n"));
    assert!(
        t.contains("the bundle carries the amendment: SESSION_TTL is not read"),
        "{t}"
    );
    // An escalation after max_attempts, which a person reopens.
    let esc = at(
        &|s| s.contains("escalated after 2 failed attempts"),
        "escalation",
    );
    let reopen = at(
        &|s| s.starts_with("wt: reopen") && s.ends_with("(alice)"),
        "reopen by alice",
    );
    assert!(esc < reopen);
    // A gate only alice may approve.
    assert!(t.contains("agent-1 may not approve: only alice may"), "{t}");
    at(
        &|s| s.starts_with("wt: approve P-") && s.ends_with("(alice)"),
        "approval by alice",
    );
    // Both phases end done, and nothing is left open.
    assert!(t.contains("6 tickets: 6 done, 0 open, 0 escalated"), "{t}");
    assert_eq!(
        t.matches("closes itself in the same commit").count(),
        2,
        "{t}"
    );
    assert!(!t.contains("the planner closes"), "{t}");
    // The criterion is ticked through wt before done.
    assert!(t.contains("wt tick"), "{t}");
    // wt's commits never took the staged file.
    assert!(
        t.contains("staged.txt is still staged: true; committed by wt: false"),
        "{t}"
    );
    assert!(v["kept"].is_null());
}
