//! `wt run`, the executor, driven end to end with scripted fake agents: wt's built-in
//! `wt fake-agent` and small shell scripts. No network, no real agent CLI.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{hermetic, wt_bin, Repo};

/// A repository with review off, a CI check (`test ! -f BROKEN`) and `agents`/`run` config
/// appended (YAML text).
fn repo_with(config: &str) -> Repo {
    let r = Repo::without_review();
    let cfg = r.read(".work/config.yaml");
    let mut out = String::new();
    for line in cfg.lines() {
        if line.starts_with("ci:") {
            out.push_str("ci:\n  no-stray-files: test ! -f BROKEN\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push('\n');
    out.push_str(config);
    r.write(".work/config.yaml", &out);
    r.git(&["commit", "-q", "-am", "config: wt run"]).ok();
    r
}

/// The built-in fake agent as the run's agent.
const FAKE: &str =
    "agents:\n  fake:\n    cmd: [wt, fake-agent]\n    prompt: file\nrun:\n  agent: fake\n";

/// A job with one criterion, the given extra body lines and dependencies.
fn job(r: &Repo, title: &str, body: &str, deps: &[&str]) -> String {
    let mut args = vec!["job", title];
    for d in deps {
        args.push("--dep");
        args.push(d);
    }
    let id = r.new_ticket(&args);
    let path = r.ticket_path(&id);
    let text = r.read(&path);
    let text = text.replacen(
        "## Acceptance Criteria\n",
        &format!("{body}\n\n## Acceptance Criteria\n\n- [ ] {title} works\n"),
        1,
    );
    r.write(&path, &text);
    r.git(&["commit", "-q", "-am", &format!("body of {id}")])
        .ok();
    id
}

/// Write an executable script under the test's home and return its path.
fn script(r: &Repo, name: &str, body: &str) -> PathBuf {
    let p = r.home().join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).expect("write script");
    let st = Command::new("chmod")
        .arg("+x")
        .arg(&p)
        .status()
        .expect("chmod");
    assert!(st.success());
    p
}

/// Make `agent` the run's agent (profile `a`, with `profile` lines added under it, and `run`
/// lines under `run:`), committed.
fn use_agent(r: &Repo, agent: &Path, profile: &str, run: &str) {
    let cfg = r.read(".work/config.yaml");
    r.write(
        ".work/config.yaml",
        &format!(
            "{cfg}agents:\n  a:\n    cmd: [{}]\n{profile}run:\n  agent: a\n{run}",
            agent.display()
        ),
    );
    r.git(&["commit", "-q", "-am", "the run's agent"]).ok();
}

/// `wt --json run ARGS`: the exit code and the events.
fn run_json(r: &Repo, args: &[&str]) -> (i32, Vec<Value>) {
    let mut a = vec!["--json", "run"];
    a.extend_from_slice(args);
    let out = r.wt(&a);
    let events = out
        .stdout()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.code(), events)
}

fn of_kind<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

fn status(r: &Repo, id: &str) -> String {
    r.wt_json(&["show", id])["status"]
        .as_str()
        .expect("status")
        .to_string()
}

/// Every first-parent commit of main passes the CI check (`BROKEN` absent from its tree).
fn every_first_parent_commit_green(r: &Repo) {
    let log = r.git(&["rev-list", "--first-parent", "main"]).ok();
    for c in log.lines() {
        let files = r.git(&["ls-tree", "-r", "--name-only", c]).ok();
        assert!(
            !files.lines().any(|f| f == "BROKEN"),
            "commit {c} on main's first-parent history has BROKEN (red)"
        );
    }
}

#[test]
fn run_works_a_ticket_end_to_end_and_merges_it_as_one_commit() {
    let r = repo_with(FAKE);
    let a = job(&r, "Schema", "", &[]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(events[0]["event"], "run_started");
    assert_eq!(events[0]["schema_version"], 1);
    assert_eq!(events.last().expect("events")["event"], "run_ended");
    let merged = of_kind(&events, "merged");
    assert_eq!(merged.len(), 1, "{events:?}");
    assert_eq!(merged[0]["ticket"], a.as_str());
    assert_eq!(status(&r, &a), "done");
    // The code is on main as one commit named after the ticket, the worktree and branch gone.
    let subjects = r.subjects("main");
    assert!(
        subjects.iter().any(|s| s == &format!("{a}: Schema")),
        "{subjects:?}"
    );
    assert!(r
        .git(&["show", &format!("main:work/{a}.txt")])
        .out
        .status
        .success());
    let branches = r.git(&["branch", "--list", "wt/*"]).ok();
    assert!(branches.trim().is_empty(), "{branches}");
    let wts = r.git(&["worktree", "list"]).ok();
    assert_eq!(wts.lines().count(), 1, "{wts}");
    // The iteration is on the ticket's progress log.
    let show = r.wt(&["show", &a]).ok();
    assert!(show.contains("wt run iteration 1 of 10"), "{show}");
}

#[test]
fn an_agent_that_needs_two_iterations_gets_a_fresh_second_one() {
    let r = repo_with(FAKE);
    let a = job(&r, "Login form", "<!-- fake-agent: needs 1 -->", &[]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    let ended = of_kind(&events, "iteration_ended");
    assert_eq!(ended.len(), 2, "{events:?}");
    assert_eq!(ended[0]["record"]["claimed_completion"], false);
    assert_eq!(ended[1]["record"]["claimed_completion"], true);
    assert_eq!(status(&r, &a), "done");
    // The second prompt says why the first iteration did not finish.
    let prompt = std::fs::read_to_string(r.root.join(format!(".git/wt/run/logs/{a}/2.prompt.md")))
        .expect("prompt 2");
    assert!(
        prompt.contains("iteration 1: the agent ended (exit 0) without the completion signal"),
        "{prompt}"
    );
}

#[test]
fn red_ci_is_sent_back_and_the_next_iteration_fixes_it_having_read_the_failure() {
    let r = repo_with(FAKE);
    let a = job(&r, "Schema", "<!-- fake-agent: red-first -->", &[]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    let failed = of_kind(&events, "verification_failed");
    assert_eq!(failed.len(), 1, "{events:?}");
    let reason = failed[0]["reason"].as_str().expect("reason");
    assert!(reason.contains("no-stray-files"), "{reason}");
    let prompt = std::fs::read_to_string(r.root.join(format!(".git/wt/run/logs/{a}/2.prompt.md")))
        .expect("prompt 2");
    assert!(prompt.contains("CI is red"), "{prompt}");
    assert_eq!(status(&r, &a), "done");
    every_first_parent_commit_green(&r);
}

#[test]
fn a_ticket_that_never_completes_is_escalated_with_the_reason() {
    let r = repo_with(FAKE);
    let a = job(&r, "Hard", "<!-- fake-agent: never -->", &[]);
    let (code, events) = run_json(&r, &["--max-iterations", "2"]);
    assert_eq!(code, 5, "{events:?}");
    let esc = of_kind(&events, "escalated");
    assert_eq!(esc.len(), 1, "{events:?}");
    assert!(esc[0]["reason"]
        .as_str()
        .expect("reason")
        .contains("2 iterations did not finish it"));
    assert_eq!(status(&r, &a), "escalated");
    let show = r.wt(&["show", &a]).ok();
    assert!(
        show.contains("escalated: 2 iterations did not finish it"),
        "{show}"
    );
    // A person inspects the work: the worktree and branch stay.
    assert!(r
        .git(&["rev-parse", "--verify", &format!("wt/{a}")])
        .out
        .status
        .success());
    every_first_parent_commit_green(&r);
}

#[test]
fn an_unblocked_ticket_starts_after_its_dependency_merges_and_sees_its_code() {
    let r = repo_with(FAKE);
    let a = job(&r, "Schema", "", &[]);
    let b = job(&r, "Queries", "", &[&a]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    let pos = |kind: &str, id: &str| {
        events
            .iter()
            .position(|e| e["event"] == kind && e["ticket"] == id)
            .unwrap_or_else(|| panic!("no {kind} for {id}: {events:?}"))
    };
    assert!(pos("merged", &a) < pos("ticket_claimed", &b));
    // B's branch started from main after A's merge: its merge commit's tree has both files.
    let files = r.git(&["ls-tree", "-r", "--name-only", "main"]).ok();
    assert!(files.contains(&format!("work/{a}.txt")), "{files}");
    assert!(files.contains(&format!("work/{b}.txt")), "{files}");
    assert_eq!(status(&r, &b), "done");
}

#[test]
fn tickets_run_in_parallel_up_to_max_parallel() {
    let r = repo_with("");
    let log = r.home().join("times.log");
    let agent = script(
        &r,
        "slow.sh",
        &format!(
            "echo \"start $WT_TICKET $(date +%s%N)\" >> {log}\nsleep 2\necho \"$WT_TICKET\" > \"$WT_TICKET.txt\"\ngit add . && git commit -qm work\nwt tick \"$WT_TICKET\" --all >/dev/null\necho \"end $WT_TICKET $(date +%s%N)\" >> {log}\necho '<complete/>'\n",
            log = log.display()
        ),
    );
    use_agent(&r, &agent, "    prompt: file\n", "");
    let ids: Vec<String> = (0..3)
        .map(|i| job(&r, &format!("Job {i}"), "", &[]))
        .collect();
    let (code, events) = run_json(&r, &["--max-parallel", "3"]);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(of_kind(&events, "merged").len(), 3);
    let text = std::fs::read_to_string(&log).expect("times");
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    for l in text.lines() {
        let parts: Vec<&str> = l.split_whitespace().collect();
        let t: u128 = parts[2].parse().expect("time");
        if parts[0] == "start" {
            starts.push(t);
        } else {
            ends.push(t);
        }
    }
    // All three were running at one moment: the last start came before the first end.
    let last_start = starts.iter().max().expect("starts");
    let first_end = ends.iter().min().expect("ends");
    assert!(last_start < first_end, "not parallel: {text}");
    for id in &ids {
        assert_eq!(status(&r, id), "done");
    }
}

#[test]
fn the_wall_clock_timer_ends_an_agent_and_its_children() {
    let r = repo_with("");
    let marker = r.home().join("still-running");
    let agent = script(
        &r,
        "hang.sh",
        &format!(
            "(sleep 30; touch {m}) &\nsleep 30\ntouch {m}\n",
            m = marker.display()
        ),
    );
    use_agent(
        &r,
        &agent,
        "    timeouts: {wall: 1s, idle: 10m, after_result: 5s}\n",
        "",
    );
    let a = job(&r, "Hangs", "", &[]);
    let t0 = Instant::now();
    let (code, events) = run_json(&r, &["--max-iterations", "1"]);
    assert_eq!(code, 5, "{events:?}");
    assert!(
        t0.elapsed() < Duration::from_secs(25),
        "the timer did not fire"
    );
    let ended = of_kind(&events, "iteration_ended");
    assert_eq!(ended[0]["record"]["ended"], "wall", "{events:?}");
    assert_eq!(status(&r, &a), "escalated");
    let show = r.wt(&["show", &a]).ok();
    assert!(show.contains("wall-clock timer"), "{show}");
    // Nothing the agent started (its child included) is left to finish its sleep: the
    // marker would appear after 30 s. Wait past the kill grace and look for the processes.
    std::thread::sleep(Duration::from_secs(3));
    let ps = Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .expect("ps");
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(
        !ps.lines()
            .any(|l| l.contains(&marker.display().to_string())),
        "a process of the agent outlived it:\n{ps}"
    );
}

#[test]
fn two_tickets_that_conflict_are_merged_one_after_the_other() {
    let r = repo_with("");
    // Both tickets write the same file differently; the second to merge conflicts, is sent
    // back, merges main into its branch (keeping both lines) and completes.
    let agent = script(
        &r,
        "conflict.sh",
        "if grep -q 'conflicts with' \"$WT_PROMPT_FILE\"; then\n  git merge -q main >/dev/null 2>&1\n  sort -u shared.txt | grep -v '^[<=>]' > merged.tmp; mv merged.tmp shared.txt\n  git add shared.txt && git commit -qm 'resolve the conflict'\nelse\n  echo \"line from $WT_TICKET\" > shared.txt\n  git add shared.txt && git commit -qm \"$WT_TICKET writes shared.txt\"\nfi\nwt tick \"$WT_TICKET\" --all >/dev/null 2>&1\necho '<complete/>'\n",
    );
    use_agent(&r, &agent, "", "");
    let a = job(&r, "One", "", &[]);
    let b = job(&r, "Two", "", &[]);
    let (code, events) = run_json(&r, &["--max-parallel", "2"]);
    assert_eq!(code, 0, "{events:?}");
    let failed = of_kind(&events, "merge_failed");
    assert_eq!(failed.len(), 1, "{events:?}");
    assert!(failed[0]["reason"]
        .as_str()
        .expect("reason")
        .contains("shared.txt"));
    assert_eq!(status(&r, &a), "done");
    assert_eq!(status(&r, &b), "done");
    let shared = r.git(&["show", "main:shared.txt"]).ok();
    assert!(shared.contains(&format!("line from {a}")), "{shared}");
    assert!(shared.contains(&format!("line from {b}")), "{shared}");
}

fn wt_cmd(r: &Repo, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(wt_bin());
    hermetic(&mut cmd, &r.home());
    cmd.current_dir(dir).args(args);
    cmd
}

#[test]
fn a_killed_run_resumes_its_ticket_at_the_next_iteration() {
    let r = repo_with("");
    let started = r.home().join("started");
    // First iteration: say so, then hang (the run is killed meanwhile). Later: finish.
    let agent = script(
        &r,
        "resume.sh",
        &format!(
            "if [ \"$WT_ITERATION\" = 1 ]; then touch {s}; sleep 31.234; fi\necho ok > \"$WT_TICKET.txt\"\ngit add . && git commit -qm work\nwt tick \"$WT_TICKET\" --all >/dev/null\necho '<complete/>'\n",
            s = started.display()
        ),
    );
    use_agent(&r, &agent, "", "");
    let a = job(&r, "Resume me", "", &[]);
    let mut child = wt_cmd(&r, &r.root, &["--json", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wt run");
    let t0 = Instant::now();
    while !started.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "agent never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    assert_eq!(status(&r, &a), "in_progress");
    // `wt status` shows the loop the dead run left, at its first iteration.
    let st = r.wt_json(&["status"]);
    let loops = st["loops"].as_array().expect("loops");
    assert_eq!(loops.len(), 1, "{st}");
    assert_eq!(loops[0]["id"], a.as_str());
    assert_eq!(loops[0]["alive"], false);
    assert_eq!(loops[0]["iteration"], 1);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(events[0]["resumed"], serde_json::json!([a]), "{events:?}");
    let ended = of_kind(&events, "iteration_ended");
    assert_eq!(ended[0]["record"]["iteration"], 2, "{events:?}");
    assert_eq!(status(&r, &a), "done");
    let claims = r
        .subjects("main")
        .into_iter()
        .filter(|s| s.starts_with("wt: claim "))
        .count();
    assert_eq!(claims, 1, "the resumed run claimed again");
    // No process of the killed run's agent is left (its `sleep` was in the agent's group).
    let ps = Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .expect("ps");
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(
        !ps.lines().any(|l| l.contains("sleep 31.234")),
        "an agent process outlived its run:\n{ps}"
    );
}

#[test]
fn two_runs_on_one_repository_never_take_the_same_ticket() {
    let r = repo_with("");
    let log = r.home().join("worked.log");
    let agent = script(
        &r,
        "count.sh",
        &format!(
            "echo \"$WT_TICKET $WT_AGENT\" >> {log}\nsleep 0.3\necho ok > \"$WT_TICKET.txt\"\ngit add . && git commit -qm work\nwt tick \"$WT_TICKET\" --all >/dev/null\necho '<complete/>'\n",
            log = log.display()
        ),
    );
    use_agent(&r, &agent, "", "");
    let ids: Vec<String> = (0..6)
        .map(|i| job(&r, &format!("Job {i}"), "", &[]))
        .collect();
    let spawn = || {
        wt_cmd(&r, &r.root, &["--json", "run", "--max-parallel", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn wt run")
    };
    let (one, two) = (spawn(), spawn());
    let o1 = one.wait_with_output().expect("run 1");
    let o2 = two.wait_with_output().expect("run 2");
    let text = std::fs::read_to_string(&log).expect("log");
    for id in &ids {
        let workers: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("{id} ")))
            .collect();
        assert_eq!(
            workers.len(),
            1,
            "{id} worked {} times: {text}",
            workers.len()
        );
        assert_eq!(status(&r, id), "done");
    }
    let runs: std::collections::BTreeSet<&str> =
        text.lines().filter_map(|l| l.split(' ').nth(1)).collect();
    assert_eq!(
        runs.len(),
        2,
        "both runs worked: {text}\n{}\n{}",
        String::from_utf8_lossy(&o1.stdout),
        String::from_utf8_lossy(&o2.stdout)
    );
    every_first_parent_commit_green(&r);
}

#[test]
fn run_without_an_agent_says_how_to_name_one() {
    let r = Repo::without_review();
    job(&r, "Anything", "", &[]);
    let out = r.wt(&["run"]);
    assert_eq!(out.code(), 7, "{}", out.stderr());
    assert!(out.stderr().contains("--agent"), "{}", out.stderr());
    let out = r.wt(&["run", "--agent", "nosuch"]);
    assert_eq!(out.code(), 2, "{}", out.stderr());
    assert!(
        out.stderr().contains("no agent profile named `nosuch`"),
        "{}",
        out.stderr()
    );
}

#[test]
fn demo_run_works_its_plan_end_to_end() {
    let home = tempfile::tempdir().expect("home");
    let mut cmd = Command::new(wt_bin());
    hermetic(&mut cmd, home.path());
    let out = cmd
        .current_dir(home.path())
        .args(["demo", "--run"])
        .output()
        .expect("demo --run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("5 merged, 0 escalated"), "{text}");
    assert!(text.contains("not verified"), "{text}");
    assert!(text.contains("git log --first-parent"), "{text}");
}

#[test]
fn sigterm_ends_the_agents_releases_the_claims_and_keeps_the_worktrees() {
    let r = repo_with("");
    let started = r.home().join("started");
    let agent = script(
        &r,
        "sleepy.sh",
        &format!("touch {s}\nsleep 30\n", s = started.display()),
    );
    use_agent(&r, &agent, "", "");
    let a = job(&r, "Interrupted", "", &[]);
    let child = wt_cmd(&r, &r.root, &["--json", "run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wt run");
    let t0 = Instant::now();
    while !started.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "agent never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    let t1 = Instant::now();
    let out = child.wait_with_output().expect("wait");
    assert!(t1.elapsed() < Duration::from_secs(20), "did not stop");
    assert_eq!(out.status.code(), Some(130));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"event\":\"stopped\""), "{text}");
    assert!(text.contains("\"released\":true"), "{text}");
    assert_eq!(status(&r, &a), "open");
    // The worktree and its log stay for a look.
    assert!(r.root.join(format!(".git/wt/run/worktrees/{a}")).is_dir());
    assert!(r
        .root
        .join(format!(".git/wt/run/logs/{a}/1.prompt.md"))
        .is_file());
    let ps = Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .expect("ps");
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(
        !ps.lines().any(|l| l.contains(&agent.display().to_string())),
        "the agent outlived the run:\n{ps}"
    );
}

/// A fake `claude` (stream-json on stdout, as Claude Code prints it) that reports $0.40 and
/// 150 tokens per iteration and never signals completion.
fn fake_claude(r: &Repo) -> PathBuf {
    script(
        r,
        "claude",
        "cat > /dev/null\n\
         date +%s%N > progress.txt && git add progress.txt && git commit -qm step\n\
         echo '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s-1\",\"model\":\"fake\"}'\n\
         echo '{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"Still working.\"}]},\"session_id\":\"s-1\"}'\n\
         echo '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"Still working.\",\"total_cost_usd\":0.40,\"num_turns\":1,\"session_id\":\"s-1\",\"usage\":{\"input_tokens\":100,\"output_tokens\":50}}'\n",
    )
}

#[test]
fn the_run_stops_starting_iterations_once_its_budget_is_spent() {
    let r = repo_with("");
    let claude = fake_claude(&r);
    use_agent(
        &r,
        &claude,
        "    parser: claude\n    prompt: stdin\n",
        "  budget: {usd: 1.00}\n",
    );
    let a = job(&r, "Costly", "", &[]);
    let (code, events) = run_json(&r, &["--max-parallel", "1"]);
    assert_eq!(code, 5, "{events:?}");
    let ended = of_kind(&events, "iteration_ended");
    // $0.40 a time: the third iteration passes $1.00, and no fourth starts.
    assert_eq!(ended.len(), 3, "{events:?}");
    for e in &ended {
        assert_eq!(e["record"]["cost_usd"], 0.4, "{e}");
        assert_eq!(e["record"]["cost_estimated"], false, "{e}");
    }
    let reached = of_kind(&events, "budget_reached");
    assert_eq!(reached.len(), 1, "{events:?}");
    assert!(reached[0]["reason"]
        .as_str()
        .expect("reason")
        .contains("$1.20 spent of the run's budget of $1.00"));
    let end = events.last().expect("end");
    assert!(
        (end["totals"]["cost_usd"].as_f64().expect("cost") - 1.2).abs() < 1e-9,
        "{end}"
    );
    // The ticket's `spent` is the sum of its iterations.
    let path = r.ticket_path(&a);
    let text = r.read(&path);
    assert!(
        text.contains("spent: {usd: 1.2000, tokens: 450, seconds: "),
        "{text}"
    );
    assert!(text.contains("iterations: 3}"), "{text}");
    // Released for a later run, not escalated: the budget was the run's, not the ticket's.
    assert_eq!(status(&r, &a), "open");
}

#[test]
fn a_ticket_over_its_own_budget_is_escalated_with_that_reason() {
    let r = repo_with("");
    let claude = fake_claude(&r);
    use_agent(&r, &claude, "    parser: claude\n", "");
    let a = job(&r, "Capped", "", &[]);
    let path = r.ticket_path(&a);
    let text = r
        .read(&path)
        .replacen("priority: 2\n", "priority: 2\nmax_usd: 0.5\n", 1);
    r.write(&path, &text);
    r.git(&["commit", "-q", "-am", "cap it"]).ok();
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 5, "{events:?}");
    assert_eq!(of_kind(&events, "iteration_ended").len(), 2, "{events:?}");
    let esc = of_kind(&events, "escalated");
    assert!(
        esc[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("$0.80 spent of max_usd 0.50"),
        "{esc:?}"
    );
    assert_eq!(status(&r, &a), "escalated");
}

/// Implementer and auditor: wt's fake agent in both roles, review on.
fn audited_repo() -> Repo {
    let r = repo_with(
        "agents:\n  fake:\n    cmd: [wt, fake-agent]\n    prompt: file\n  fake-auditor:\n    cmd: [wt, fake-agent, --audit]\n    prompt: file\nrun:\n  agent: fake\n  auditor: fake-auditor\n",
    );
    let cfg = r.read(".work/config.yaml");
    r.write(
        ".work/config.yaml",
        &cfg.replacen("\nreview: false\n", "\nreview: true\n", 1),
    );
    r.git(&["commit", "-q", "-am", "review on"]).ok();
    r
}

#[test]
fn a_failed_audit_becomes_an_amendment_the_next_iteration_reads() {
    let r = audited_repo();
    let a = job(&r, "Audited", "<!-- fake-auditor: fail-first -->", &[]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    let audits = of_kind(&events, "audit_ended");
    let verdicts: Vec<&str> = audits
        .iter()
        .map(|e| e["verdict"].as_str().expect("v"))
        .collect();
    assert_eq!(verdicts, ["fail", "pass"], "{events:?}");
    assert_eq!(audits[0]["auditor"], "fake-auditor");
    // The implementer's second prompt carries the amendment.
    let prompt = std::fs::read_to_string(r.root.join(format!(".git/wt/run/logs/{a}/2.prompt.md")))
        .expect("prompt 2");
    assert!(
        prompt.contains(wt::app::run::fake::FAKE_AMENDMENT),
        "{prompt}"
    );
    assert_eq!(status(&r, &a), "done");
    let merged = of_kind(&events, "merged");
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0]["status"], "done");
    let subjects = r.subjects("main");
    assert!(
        subjects
            .iter()
            .any(|s| s.starts_with(&format!("wt: fail {a}"))),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.starts_with(&format!("wt: pass {a}"))),
        "{subjects:?}"
    );
    // The merge comes after the passing audit, never before.
    let pass_at = subjects
        .iter()
        .position(|s| s.starts_with(&format!("wt: pass {a}")))
        .expect("pass");
    let merge_at = subjects
        .iter()
        .position(|s| s == &format!("{a}: Audited"))
        .expect("merge");
    assert!(
        merge_at > pass_at,
        "newest first: the pass is newer than the merge: {subjects:?}"
    );
    // As a person reads it: the progress log shows the audits.
    let show = r.wt(&["show", &a]).ok();
    assert!(
        show.contains("audit of attempt 1 failed: amendment 1"),
        "{show}"
    );
    assert!(show.contains("audit of attempt 2 passed"), "{show}");
}

#[test]
fn an_auditor_that_gives_no_verdict_is_asked_twice_then_the_ticket_is_escalated() {
    let r = audited_repo();
    let a = job(&r, "Unjudged", "<!-- fake-auditor: silent -->", &[]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 5, "{events:?}");
    let audits = of_kind(&events, "audit_ended");
    assert_eq!(audits.len(), 2, "{events:?}");
    assert!(audits.iter().all(|e| e["verdict"] == "none"));
    let esc = of_kind(&events, "escalated");
    assert!(
        esc[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("gave no verdict twice"),
        "{esc:?}"
    );
    assert_eq!(status(&r, &a), "escalated");
    // Nothing reached main unaudited.
    assert!(!r
        .subjects("main")
        .iter()
        .any(|s| s == &format!("{a}: Unjudged")));
}

#[test]
fn the_auditor_must_not_be_the_implementer() {
    let r = repo_with(FAKE);
    job(&r, "Anything", "", &[]);
    let out = r.wt(&["run", "--auditor", "fake"]);
    assert_eq!(out.code(), 2, "{}", out.stderr());
    assert!(
        out.stderr()
            .contains("the auditor `fake` is the implementer's profile"),
        "{}",
        out.stderr()
    );
}

#[test]
fn run_report_totals_are_the_sums_of_the_iteration_records() {
    let r = audited_repo();
    let a = job(&r, "Red first", "<!-- fake-agent: red-first -->", &[]);
    let b = job(&r, "Audited", "<!-- fake-auditor: fail-first -->", &[]);
    let c = job(&r, "Never", "<!-- fake-agent: never -->", &[]);
    let (_, events) = run_json(&r, &["--max-iterations", "2", "--max-parallel", "3"]);
    let ended = of_kind(&events, "iteration_ended");
    let run_id = events[0]["run"].as_str().expect("run").to_string();
    let report = r.wt_json(&["run", "report"]);
    assert_eq!(report["run"], run_id.as_str());
    assert_eq!(report["ended"], true);
    let totals = &report["totals"];
    assert_eq!(
        totals["iterations"].as_u64(),
        Some(ended.len() as u64),
        "{report}"
    );
    let agent_ms: u64 = ended
        .iter()
        .map(|e| e["record"]["duration_ms"].as_u64().expect("ms"))
        .chain(
            of_kind(&events, "audit_ended")
                .iter()
                .map(|e| e["duration_ms"].as_u64().expect("ms")),
        )
        .sum();
    assert_eq!(totals["agent_ms"].as_u64(), Some(agent_ms), "{report}");
    assert_eq!(
        totals["audits"].as_u64(),
        Some(of_kind(&events, "audit_ended").len() as u64)
    );
    assert_eq!(totals["merged"], 2);
    assert_eq!(totals["escalated"], 1);
    let tickets = report["tickets"].as_array().expect("tickets");
    let line = |id: &str| {
        tickets
            .iter()
            .find(|t| t["ticket"] == id)
            .expect("ticket line")
    };
    assert_eq!(line(&a)["outcome"], "merged");
    assert_eq!(line(&a)["iterations"], 2);
    let verdicts: Vec<&str> = line(&b)["audits"]
        .as_array()
        .expect("audits")
        .iter()
        .map(|x| x["verdict"].as_str().expect("verdict"))
        .collect();
    assert_eq!(verdicts, ["fail", "pass"]);
    assert_eq!(line(&c)["outcome"], "escalated");
    assert!(line(&c)["reason"]
        .as_str()
        .expect("reason")
        .contains("2 iterations"));
    // By identity too, and the text form names the escalation.
    let text = r.wt(&["run", "report", &run_id]).ok();
    assert!(text.contains(&format!("escalated {c}:")), "{text}");
}

#[test]
fn a_red_integration_check_after_a_phase_s_last_job_becomes_a_job_that_keeps_it_open() {
    let r = repo_with("");
    let agent = script(
        &r,
        "integrate.sh",
        "if grep -q 'Integration failure' \"$WT_PROMPT_FILE\"; then\n  echo ok > fixed.txt && git add fixed.txt\nelse\n  echo x > \"$WT_TICKET.txt\" && git add \"$WT_TICKET.txt\"\nfi\ngit commit -qm work\nwt tick \"$WT_TICKET\" --all >/dev/null 2>&1\necho '<complete/>'\n",
    );
    use_agent(
        &r,
        &agent,
        "",
        "  integration:\n    e2e: test -f fixed.txt\n",
    );
    let p = r.new_ticket(&["phase-spec", "Checkout"]);
    let j1 = r.new_ticket(&["job", "Cart", "--parent", &p]);
    let j2 = r.new_ticket(&["job", "Payment", "--parent", &p, "--dep", &j1]);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    let checks = of_kind(&events, "integration_checked");
    assert_eq!(checks.len(), 2, "{events:?}");
    assert_eq!(checks[0]["phase"], p.as_str());
    assert_eq!(checks[0]["green"], false);
    let fix = checks[0]["job"].as_str().expect("the new job").to_string();
    assert_eq!(checks[1]["green"], true);
    let shown = r.wt_json(&["show", &fix]);
    assert_eq!(shown["title"], "Integration failure: e2e");
    assert_eq!(shown["parent"], p.as_str());
    assert_eq!(shown["status"], "done");
    for id in [&j1, &j2] {
        assert_eq!(status(&r, id), "done");
    }
    // The phase closed only after the fix: its done commit is the newest.
    assert_eq!(status(&r, &p), "done");
    let subjects = r.subjects("main");
    let closed_at = subjects
        .iter()
        .position(|s| s.contains(&format!("closing {p}")))
        .expect("closing");
    let fix_merge = subjects
        .iter()
        .position(|s| s == &format!("{fix}: Integration failure: e2e"))
        .expect("fix merged");
    assert!(closed_at < fix_merge, "{subjects:?}");
}

/// A repository whose agent writes `answer.txt`: "same" in attempts 1 and 2, attempt-specific
/// text otherwise (the attempt is the `.vN` suffix of its worktree); with an auditor that
/// chooses attempt 2 when asked.
fn vote_repo(agree: bool) -> Repo {
    let r = repo_with("");
    let agent = script(
        &r,
        "voter.sh",
        &format!(
            "k=${{PWD##*.v}}\nif {} [ \"$k\" != 3 ]; then echo same > answer.txt; else echo \"answer $k\" > answer.txt; fi\ngit add answer.txt && git commit -qm \"attempt $k\"\nwt tick \"$WT_TICKET\" --all >/dev/null\necho '<complete/>'\n",
            if agree { "" } else { "false &&" }
        ),
    );
    let auditor = script(
        &r,
        "chooser.sh",
        "if grep -q 'Choose the one' \"$WT_PROMPT_FILE\"; then echo 'Attempt 2 reads best.'; echo '<choose 2/>'; fi\n",
    );
    let cfg = r.read(".work/config.yaml");
    r.write(
        ".work/config.yaml",
        &format!(
            "{cfg}agents:\n  voter:\n    cmd: [{}]\n  chooser:\n    cmd: [{}]\nrun:\n  agent: voter\n  auditor: chooser\n",
            agent.display(),
            auditor.display()
        ),
    );
    r.git(&["commit", "-q", "-am", "voting agents"]).ok();
    r
}

fn voted_job(r: &Repo) -> String {
    let a = job(r, "Voted", "", &[]);
    let path = r.ticket_path(&a);
    let text = r
        .read(&path)
        .replacen("priority: 2\n", "priority: 2\nvote: 3\n", 1);
    r.write(&path, &text);
    r.git(&["commit", "-q", "-am", "vote 3"]).ok();
    a
}

#[test]
fn a_three_way_vote_integrates_the_tree_two_attempts_agree_on() {
    let r = vote_repo(true);
    let a = voted_job(&r);
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    let votes = of_kind(&events, "vote_decided");
    assert_eq!(votes.len(), 1, "{events:?}");
    let v = votes[0];
    assert_eq!(v["winner"], 1, "{v}");
    assert!(
        v["why"]
            .as_str()
            .expect("why")
            .contains("attempts 1 and 2 produced the same tree"),
        "{v}"
    );
    let trees: Vec<&str> = v["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|x| x["tree"].as_str().expect("tree"))
        .collect();
    assert_eq!(trees[0], trees[1]);
    assert_ne!(trees[0], trees[2]);
    // Three attempts really ran, each in its own worktree.
    let iterations: Vec<u64> = of_kind(&events, "iteration_ended")
        .iter()
        .map(|e| e["record"]["attempt"].as_u64().expect("attempt"))
        .collect();
    let mut sorted = iterations.clone();
    sorted.sort();
    assert_eq!(sorted, [1, 2, 3], "{iterations:?}");
    assert_eq!(r.git(&["show", "main:answer.txt"]).ok(), "same\n");
    assert_eq!(status(&r, &a), "done");
    // The losers' branches are gone; the progress log says what happened, for a person.
    let branches = r.git(&["branch", "--list", "wt/*"]).ok();
    assert!(branches.trim().is_empty(), "{branches}");
    let show = r.wt(&["show", &a]).ok();
    assert!(show.contains("vote of 3 attempts:"), "{show}");
    assert!(
        show.contains("winner: attempt 1, because attempts 1 and 2 produced the same tree"),
        "{show}"
    );
}

#[test]
fn a_vote_without_agreement_is_decided_by_the_auditor() {
    let r = vote_repo(false);
    let a = voted_job(&r);
    let (code, events) = run_json(&r, &["--keep-losers"]);
    assert_eq!(code, 0, "{events:?}");
    let v = of_kind(&events, "vote_decided")[0];
    assert_eq!(v["winner"], 2, "{v}");
    assert!(
        v["why"]
            .as_str()
            .expect("why")
            .contains("the auditor (chooser) chose it"),
        "{v}"
    );
    assert_eq!(r.git(&["show", "main:answer.txt"]).ok(), "answer 2\n");
    assert_eq!(status(&r, &a), "done");
    // --keep-losers keeps attempts 1 and 3.
    let branches = r.git(&["branch", "--list", "wt/*"]).ok();
    assert!(branches.contains(&format!("wt/{a}.v1")), "{branches}");
    assert!(branches.contains(&format!("wt/{a}.v3")), "{branches}");
}

#[test]
fn check_names_an_agent_profile_that_wt_run_could_not_start() {
    let r = repo_with("agents:\n  broken:\n    prompt: file\n  ok:\n    cmd: [true]\n");
    let out = r.wt(&["check"]);
    assert_eq!(out.code(), 1, "{}", out.stdout());
    let text = out.stdout();
    assert!(
        text.contains("agent profile broken: `cmd` is empty"),
        "{text}"
    );
    assert!(!text.contains("agent profile ok"), "{text}");
}

#[test]
fn a_ticket_s_own_agent_field_picks_its_profile() {
    let r = repo_with(
        "agents:\n  broken:\n    cmd: [\"false\"]\n  fake:\n    cmd: [wt, fake-agent]\n    prompt: file\nrun:\n  agent: broken\n",
    );
    let a = job(&r, "Own agent", "", &[]);
    let path = r.ticket_path(&a);
    let text = r
        .read(&path)
        .replacen("priority: 2\n", "priority: 2\nagent: fake\n", 1);
    r.write(&path, &text);
    r.git(&["commit", "-q", "-am", "agent: fake"]).ok();
    let (code, events) = run_json(&r, &[]);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(of_kind(&events, "ticket_claimed")[0]["agent"], "fake");
    assert_eq!(status(&r, &a), "done");
}
