//! One-ticket writes (`claim <id>`, `release`, `heartbeat`, `done`) read the ticket through
//! the id lookup in the cache instead of loading every ticket (`src/lookup.rs`). They must
//! answer exactly as the full path does: the same exit codes, errors and resulting tickets,
//! including when the lookup is stale, corrupt or missing, and right after a commit that
//! changes the graph (a dependency done by wt or by hand).

use serde_json::Value;

use crate::common::*;

fn cache_dir(r: &Repo) -> std::path::PathBuf {
    r.root.join(".git").join("wt").join("cache")
}

/// A second repository with the same files and history (and cache), in its own temp dir.
fn twin(r: &Repo) -> Repo {
    let tmp = tempfile::Builder::new()
        .prefix("wt-twin-")
        .tempdir()
        .expect("tempdir");
    let root = tmp.path().join("repo");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(&r.root)
        .arg(&root)
        .status()
        .expect("cp");
    assert!(st.success());
    Repo { tmp, root }
}

/// Drop what is random in a claim (its token, and so the commit id) from a JSON answer.
fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("claim_token");
            m.remove("token");
            m.remove("commit"); // differs with the token it commits
            m.remove("checked_commit"); // HEAD is the state branch here: the same
            m.values_mut().for_each(scrub);
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

/// Exit code, scrubbed JSON stdout and stderr (without the stats line) of one command, and
/// how many tickets it read through the lookup without loading every ticket after all.
fn answer(r: &Repo, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String, usize) {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let mut env = env.to_vec();
    env.push(("WT_DEBUG_STATS", "1"));
    let run = r.wt_env(&r.root, &a, &env);
    let mut json: Value = serde_json::from_str(&run.stdout()).unwrap_or(Value::Null);
    scrub(&mut json);
    let mut one_ticket = 0;
    let err: String = run
        .stderr()
        .lines()
        .filter(|l| {
            if let Some(n) = l.split("one_ticket=").nth(1) {
                // Only when no full load followed (`cache=none`): the write read that
                // ticket alone.
                if l.contains("cache=none ") {
                    one_ticket = n.trim().parse().unwrap_or(0);
                }
            }
            !l.starts_with("wt-stats:")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    (run.code(), json, err, one_ticket)
}

/// Run `step` in both twins (`plain` with the cache off) and assert the same answer;
/// returns the exit code, the JSON, and how many tickets the cached twin read through the
/// lookup alone.
#[track_caller]
fn same_answer(cached: &Repo, plain: &Repo, step: &[&str]) -> (i32, Value, usize) {
    let want = answer(plain, step, &[("WT_NO_CACHE", "1")]);
    let got = answer(cached, step, &[]);
    assert_eq!(
        (&got.0, &got.1, &got.2),
        (&want.0, &want.1, &want.2),
        "{step:?}"
    );
    assert_eq!(want.3, 0, "the cache is off in the twin");
    (want.0, want.1, got.3)
}

fn all_tickets(r: &Repo) -> Value {
    let mut v = r.wt_json(&["list"]);
    scrub(&mut v);
    v
}

/// A plan with every kind of blocker: open and done dependencies, a container dependency,
/// an approval gate, a cycle, a dangling dependency and a claim (the last three by hand).
fn blocked_every_way() -> (Repo, Vec<String>) {
    let r = Repo::without_review();
    let ids = r.import(
        r#"[
        {"key": "p", "kind": "phase-spec", "title": "Phase"},
        {"key": "g", "kind": "phase-spec", "title": "Gated"},
        {"key": "a", "kind": "job", "title": "Job A", "parent": "p"},
        {"key": "b", "kind": "job", "title": "Job B", "parent": "p", "depends_on": ["a"]},
        {"key": "c", "kind": "job", "title": "Job C", "parent": "p", "status": "done"},
        {"key": "d", "kind": "job", "title": "Job D", "parent": "p", "depends_on": ["c"]},
        {"key": "e", "kind": "job", "title": "Job E", "parent": "g"},
        {"key": "t1", "kind": "task", "title": "Task 1", "parent": "a"},
        {"key": "t2", "kind": "task", "title": "Task 2", "parent": "a", "depends_on": ["t1"]},
        {"key": "t3", "kind": "task", "title": "Task 3", "parent": "d"},
        {"key": "f", "kind": "job", "title": "Job F", "parent": "p", "depends_on": ["a"]},
        {"key": "x", "kind": "job", "title": "Cycle X"},
        {"key": "y", "kind": "job", "title": "Cycle Y", "depends_on": ["x"]},
        {"key": "z", "kind": "job", "title": "Dangling"}
    ]"#,
    );
    let id = |k: &str| ids[k].as_str().expect("id").to_string();
    // A cycle and a dangling dependency can only be made by hand.
    let x = r.ticket_path(&id("x"));
    let text = r
        .read(&x)
        .replace("depends_on: []", &format!("depends_on: [{}]", id("y")));
    r.write(&x, &text);
    let z = r.ticket_path(&id("z"));
    let text = r
        .read(&z)
        .replace("depends_on: []", "depends_on: [J-nowhere1]");
    r.write(&z, &text);
    let g = r.ticket_path(&id("g"));
    let text = r
        .read(&g)
        .replacen("\nstatus:", "\ngate: approval\nstatus:", 1);
    assert!(text.contains("gate: approval"), "{text}");
    r.write(&g, &text);
    r.git(&[
        "commit",
        "-q",
        "-am",
        "by hand: a cycle, a dangling dependency, a gate",
    ])
    .ok();
    r.wt(&["claim", &id("f"), "--agent", "holder", "--force"])
        .ok();
    let mut all: Vec<String> = ids
        .values()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    all.sort();
    (r, all)
}

/// Every verb on every ticket, in the same order in two copies of one repository: one with
/// the cache (and so the one-ticket path) and one with `WT_NO_CACHE=1`. Same answers, same
/// tickets after each step; and the one-ticket path really was taken.
#[test]
fn one_ticket_writes_answer_exactly_like_full_loads() {
    let (cached, ids) = blocked_every_way();
    let plain = twin(&cached);
    cached.wt(&["ready"]).ok(); // records the lookup
    let mut fast = 0;
    for id in &ids {
        let prefix = &id[..5]; // kind letter, dash and 3 characters: a prefix resolve
        let steps: Vec<Vec<&str>> = vec![
            vec!["claim", prefix, "--agent", "a"],
            vec!["claim", id, "--agent", "b"],
            vec!["heartbeat", id, "--agent", "a"],
            vec!["release", id, "--agent", "b"],
            vec!["release", id, "--agent", "a"],
            vec!["claim", id, "--agent", "a"],
            vec!["done", id, "--agent", "a", "--no-ci", "--reason", "test"],
            vec!["claim", id, "--agent", "a", "--force"],
        ];
        for step in steps {
            fast += same_answer(&cached, &plain, &step).2;
            // Reads in between record a lookup for the new tree when a write changed the
            // graph, as an agent's `wt ready` would.
            if step[0] == "done" {
                cached.wt(&["ready"]).ok();
            }
        }
        assert_eq!(all_tickets(&cached), all_tickets(&plain), "after {id}");
    }
    assert!(fast > ids.len() * 3, "one-ticket writes taken: {fast}");
    // Ambiguous and unknown IDs: the full path reports them, the same way.
    for q in ["J-", "T-zzzz", "nothing", ""] {
        same_answer(&cached, &plain, &["claim", q, "--agent", "a"]);
    }
}

/// Regression guard for a lookup carried past a change of the graph: once task 1 is done
/// (by wt, or by hand with git), task 2 that depends on it is claimable at once, although
/// the lookup recorded before said it was blocked.
#[test]
fn a_claim_right_after_its_dependency_is_done_is_not_refused_by_an_old_lookup() {
    for by_hand in [false, true] {
        let r = Repo::without_review();
        let ids = r.import(
            r#"[
            {"key": "t1", "kind": "task", "title": "Task 1"},
            {"key": "t2", "kind": "task", "title": "Task 2", "depends_on": ["t1"]}
        ]"#,
        );
        let (t1, t2) = (
            ids["t1"].as_str().expect("id"),
            ids["t2"].as_str().expect("id"),
        );
        r.wt(&["ready"]).ok();
        r.wt(&["claim", t2, "--agent", "a"]).fails_with(5);
        r.wt(&["claim", t1, "--agent", "a"]).ok();
        if by_hand {
            let p = r.ticket_path(t1);
            let text = r.read(&p).replace("status: in_progress", "status: done");
            r.write(&p, &text);
            r.git(&["commit", "-q", "-am", "t1 done by hand"]).ok();
        } else {
            r.wt(&["done", t1, "--agent", "a", "--no-ci", "--reason", "test"])
                .ok();
        }
        let out = r.wt(&["claim", t2, "--agent", "a"]);
        out.ok();
    }
}

/// A lookup that was not written for this tree, or is damaged, is never used.
#[test]
fn a_damaged_or_foreign_lookup_changes_speed_only() {
    let (r, ids) = blocked_every_way();
    r.wt(&["ready"]).ok();
    let dir = cache_dir(&r);
    let lookup = std::fs::read(dir.join("lookup.bin")).expect("lookup.bin");
    let keys = std::fs::read(dir.join("lookup.keys")).expect("lookup.keys");
    assert_eq!(keys.len() % 36, 0);
    // Damage: truncate, flip payload bytes, flip a key frame, swap in garbage.
    let mut flipped = lookup.clone();
    for i in (50..flipped.len()).step_by(31) {
        flipped[i] ^= 0x21;
    }
    let mut bad_key = keys.clone();
    bad_key[3] ^= 1;
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("lookup.bin", lookup[..lookup.len() / 2].to_vec()),
        ("lookup.bin", flipped),
        ("lookup.keys", bad_key),
        ("lookup.keys", keys[..20].to_vec()),
        ("lookup.bin", vec![7u8; lookup.len()]),
    ];
    // Each claim starts from the same commit: the branch and checkout are reset to it (and the
    // damaged cache files written again) before every step, instead of copying the repository.
    let orig = r.git(&["rev-parse", "HEAD"]).ok().trim().to_string();
    let reset = |repo: &Repo, files: &[(&str, &[u8])]| {
        repo.git(&["reset", "-q", "--hard", &orig]).ok();
        for (name, bytes) in files {
            std::fs::write(cache_dir(repo).join(name), bytes).expect("damage");
        }
    };
    // What a cold load answers, once per ticket (a damaged cache cannot change it).
    let plain = twin(&r);
    let want: Vec<_> = ids
        .iter()
        .map(|id| {
            reset(&plain, &[]);
            answer(
                &plain,
                &["claim", id, "--agent", "a"],
                &[("WT_NO_CACHE", "1")],
            )
        })
        .collect();
    for (name, bytes) in damaged {
        let copy = twin(&r);
        let other = if name == "lookup.bin" {
            ("lookup.keys", keys.as_slice())
        } else {
            ("lookup.bin", lookup.as_slice())
        };
        for (id, want) in ids.iter().zip(&want) {
            reset(&copy, &[other, (name, bytes.as_slice())]);
            let got = answer(&copy, &["claim", id, "--agent", "a"], &[]);
            assert_eq!(
                (got.0, got.1, got.2),
                (want.0, want.1.clone(), want.2.clone()),
                "{name} {id}"
            );
        }
    }
    // A lookup of another tree filed under this tree's key (as a bug carrying a lookup past
    // a rename would): the ticket it names is not at the recorded path, so the write
    // takes the full path and finds the moved file.
    let a = ids
        .iter()
        .find(|id| id.starts_with("T-"))
        .expect("a task")
        .clone();
    let old = r.ticket_path(&a);
    let new = old.replace(".md", "-moved.md");
    r.git(&["mv", &old, &new]).ok();
    r.git(&["commit", "-q", "-m", "rename by hand"]).ok();
    let tree = r.git(&["rev-parse", "main:.work"]).ok();
    let tree: Vec<u8> = (0..20)
        .map(|i| u8::from_str_radix(&tree.trim()[2 * i..2 * i + 2], 16).expect("hex"))
        .collect();
    let lookup = std::fs::read(dir.join("lookup.bin")).expect("lookup.bin");
    let mut frame = tree;
    frame.extend_from_slice(&lookup[36..44]); // the payload checksum in its header
    frame.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&frame).to_le_bytes());
    let mut keys = std::fs::read(dir.join("lookup.keys")).expect("keys");
    keys.extend_from_slice(&frame);
    std::fs::write(dir.join("lookup.keys"), keys).expect("forge");
    let s = r.wt_env(
        &r.root,
        &["claim", &a, "--agent", "a", "--force"],
        &[("WT_DEBUG_STATS", "1")],
    );
    s.ok();
    assert!(s.stderr().contains("one_ticket=0"), "{}", s.stderr());
    assert!(r.read(&new).contains("claimed_by: a"));
    assert!(!r.root.join(&old).exists());
}

/// The dangerous direction: a lookup that still says "unblocked" after the graph blocked the
/// ticket would let a claim through. A new dependency (by wt or by hand), and a dependency
/// reopened after it was done, each block task 2 at once.
#[test]
fn a_claim_right_after_the_graph_blocks_the_ticket_is_refused() {
    for how in ["dep add", "by hand", "reopen"] {
        let r = Repo::without_review();
        let ids = r.import(
            r#"[
            {"key": "t1", "kind": "task", "title": "Task 1", "status": "done"},
            {"key": "t2", "kind": "task", "title": "Task 2", "depends_on": ["t1"]},
            {"key": "t3", "kind": "task", "title": "Task 3"}
        ]"#,
        );
        let id = |k: &str| ids[k].as_str().expect("id").to_string();
        // t2 is claimable and the lookup says so; a claim and release carry it forward.
        r.wt(&["ready"]).ok();
        r.wt(&["claim", &id("t2"), "--agent", "a"]).ok();
        r.wt(&["release", &id("t2"), "--agent", "a"]).ok();
        match how {
            "dep add" => {
                r.wt(&["dep", "add", &id("t2"), &id("t3")]).ok();
            }
            "by hand" => {
                let p = r.ticket_path(&id("t2"));
                let text = r.read(&p).replace(
                    &format!("depends_on: [{}]", id("t1")),
                    &format!("depends_on: [{}, {}]", id("t1"), id("t3")),
                );
                assert!(text.contains(&id("t3")), "{text}");
                r.write(&p, &text);
                r.git(&["commit", "-q", "-am", "t2 waits on t3 too"]).ok();
            }
            _ => {
                r.wt(&["reopen", &id("t1"), "-m", "not finished", "--agent", "h"])
                    .ok();
            }
        }
        let out = r.wt(&["claim", &id("t2"), "--agent", "a"]);
        out.fails_with(5);
        assert!(
            out.stderr().contains("not ready"),
            "{how}: {}",
            out.stderr()
        );
    }
}

/// `claim --next` reads the best candidates of the lookup one by one: it must take the
/// same ticket the full ready list would, every time, for every kind, until nothing is
/// ready; with releases, dones (which change the graph) and priorities in between.
#[test]
fn claim_next_takes_the_same_ticket_as_the_full_ready_list() {
    let cached = Repo::new();
    // Tickets with priorities, dependencies and a hierarchy, so the order matters.
    let mut plan = String::from(
        r#"[{"key": "p", "kind": "phase-spec", "title": "Phase"},
        {"key": "q", "kind": "phase-spec", "title": "Later phase", "depends_on": ["p"]}"#,
    );
    for i in 0..24 {
        plan.push(',');
        let parent = match i % 3 {
            0 => r#", "parent": "p""#,
            1 => r#", "parent": "q""#,
            _ => "",
        };
        let deps = if i % 3 == 2 {
            format!(r#", "depends_on": ["k{}"]"#, i - 2)
        } else {
            String::new()
        };
        let kind = if i % 4 == 0 { "task" } else { "job" };
        plan.push_str(&format!(
            r#"{{"key": "k{i}", "kind": "{kind}", "title": "Item {i}", "priority": {}{deps}{}}}"#,
            i % 5,
            if kind == "job" { parent } else { "" }
        ));
    }
    plan.push(']');
    cached.import(&plan);
    let plain = twin(&cached);
    cached.wt(&["ready"]).ok(); // records the lookup
    let mut fast = 0;
    let mut claimed = 0;
    for round in 0..40 {
        let kind = ["job", "task", "any", "phase-spec"][round % 4];
        let agent = format!("agent-{round}");
        let step = ["claim", "--next", "--kind", kind, "--agent", agent.as_str()];
        let (code, json, n) = same_answer(&cached, &plain, &step);
        fast += n;
        if code != 0 {
            continue;
        }
        claimed += 1;
        let id = json["id"].as_str().expect("id").to_string();
        // Give every third one back, finish every other one (a job goes to review).
        let follow: Vec<&str> = match round % 3 {
            0 => vec!["release", &id, "--agent", &agent],
            1 => vec!["done", &id, "--agent", &agent, "--no-ci", "--reason", "t"],
            _ => vec![],
        };
        if !follow.is_empty() {
            same_answer(&cached, &plain, &follow);
        }
        if round % 5 == 4 {
            cached.wt(&["ready", "--kind", "any"]).ok(); // records a lookup again
        }
    }
    assert!(claimed > 10, "claimed {claimed}");
    assert!(fast > 5, "one-ticket claims: {fast}");
    assert_eq!(all_tickets(&cached), all_tickets(&plain));
}

/// A ticket that was claimed when the lookup was written and was given back since (a
/// commit that carries the lookup on) is the best ticket again: `claim --next` must see it
/// through the delta log, and without the log (deleted) it must still find it.
#[test]
fn claim_next_sees_a_ticket_given_back_after_the_lookup_was_written() {
    for drop_log in [false, true] {
        let r = Repo::without_review();
        let ids = r.import(
            r#"[
            {"key": "a", "kind": "task", "title": "Best", "priority": 0},
            {"key": "b", "kind": "task", "title": "Second", "priority": 1},
            {"key": "c", "kind": "task", "title": "Third", "priority": 2},
            {"key": "z", "kind": "task", "title": "Other", "priority": 4}
        ]"#,
        );
        let id = |k: &str| ids[k].as_str().expect("id").to_string();
        r.wt(&["claim", &id("a"), "--agent", "holder"]).ok();
        r.wt(&["claim", &id("z"), "--agent", "other"]).ok();
        // A commit that changes the graph, then a read: the lookup is written with `a` held.
        r.wt(&[
            "done",
            &id("z"),
            "--agent",
            "other",
            "--no-ci",
            "--reason",
            "t",
        ])
        .ok();
        r.wt(&["ready", "--kind", "any"]).ok();
        r.wt(&["release", &id("a"), "--agent", "holder"]).ok();
        if drop_log {
            std::fs::remove_file(cache_dir(&r).join("delta.bin")).expect("delta.bin");
        }
        let got = answer(
            &r,
            &["claim", "--next", "--kind", "task", "--agent", "n"],
            &[],
        );
        assert_eq!(got.0, 0, "{}", got.2);
        assert_eq!(got.1["id"], Value::String(id("a")), "drop_log {drop_log}");
        if drop_log {
            // Without the log wt cannot tell which tickets hold files: the full path
            // answered, and wrote a lookup that knows; the next one is fast again.
            r.wt(&["release", &id("a"), "--agent", "n"]).ok();
            let again = answer(
                &r,
                &["claim", "--next", "--kind", "task", "--agent", "n"],
                &[],
            );
            assert_eq!(again.1["id"], Value::String(id("a")));
            assert!(
                again.3 > 0,
                "the one-ticket path was taken after the fresh lookup"
            );
        } else {
            assert!(got.3 > 0, "the one-ticket path was taken");
        }
    }
}

/// Tickets that share an ID, exactly or but for case, are refused alike with and without the
/// cache: no id lookup is written for such a tree (its `find` would take the first match),
/// and the one written before the copy arrived does not cover the new tree.
#[test]
fn shared_ids_answer_alike_with_and_without_the_cache() {
    for exact in [false, true] {
        let cached = Repo::without_review();
        let a = cached.new_ticket(&["job", "First"]);
        let c = cached.new_ticket(&["job", "Second"]);
        cached.wt(&["ready"]).ok(); // a lookup for the tree without the copy
                                    // By git: a copy of `a`, with its id as it is or differing only in case.
        let copy = if exact {
            a.clone()
        } else {
            format!("J-{}", a[2..].to_ascii_uppercase())
        };
        let text = cached.read(&cached.ticket_path(&a)).replace(&a, &copy);
        cached.write(&format!(".work/{copy}-copy.md"), &text);
        cached.git(&["add", ".work"]).ok();
        cached.git(&["commit", "-q", "-m", "a copy"]).ok();
        let plain = twin(&cached);
        cached.wt(&["ready"]).ok(); // would record a lookup for this tree
        let lower = a.to_ascii_lowercase();
        let steps: Vec<Vec<&str>> = vec![
            vec!["ready"],
            vec!["claim", &a, "--agent", "x"],
            vec!["claim", &copy, "--agent", "x"],
            vec!["claim", &lower, "--agent", "x", "--force"],
            vec!["claim", &a[..6], "--agent", "x"],
            vec!["release", &a, "--agent", "x"],
            vec!["heartbeat", &copy, "--agent", "x"],
            vec!["done", &a, "--agent", "x", "--no-ci", "--reason", "r"],
            vec!["claim", "--next", "--agent", "x"],
            vec!["claim", "--next", "--agent", "y"],
            vec!["blocked"],
            vec!["list"],
        ];
        let mut fast = 0;
        for step in &steps {
            let (code, _, n) = same_answer(&cached, &plain, step);
            fast += n;
            if step.len() > 1
                && step[1].len() > 2
                && a.to_ascii_lowercase()
                    .starts_with(&step[1].to_ascii_lowercase())
            {
                assert_eq!(
                    code, 2,
                    "{step:?} must refuse the shared id (exact: {exact})"
                );
            }
        }
        assert_eq!(fast, 0, "no write read its ticket through a lookup");
        assert_eq!(all_tickets(&cached), all_tickets(&plain));
        assert_eq!(
            cached.wt_json(&["show", &c])["claimed_by"],
            "x",
            "claim --next took the only free ticket"
        );
    }
}

/// `claim --next` keeps clear of the files of claimed tickets. The one-ticket path knows
/// them from the lookup (its flags and files) and the delta log (what wt rewrote since), and
/// leaves out a candidate that clashes without reading it. It must take the same ticket as
/// the full path while claims with files come and go after the lookup was written: held
/// claims given back, new claims taken, tickets finished, and fresh lookups in between.
#[test]
fn claim_next_skipping_clashing_files_takes_the_same_ticket_as_the_full_path() {
    let cached = Repo::without_review();
    let files = [
        r#"["src/db/**"]"#,
        r#"["src/db/pool.rs"]"#,
        r#"["src/api.rs", "docs/"]"#,
        r#"["src/api.rs"]"#,
        r#"["docs/guide.md"]"#,
        r#"["src/*.rs"]"#,
        "[]",
    ];
    let mut plan = String::from("[");
    for i in 0..28 {
        if i > 0 {
            plan.push(',');
        }
        let kind = if i % 3 == 0 { "job" } else { "task" };
        plan.push_str(&format!(
            r#"{{"key": "k{i}", "kind": "{kind}", "title": "Item {i}", "priority": {}, "files": {}}}"#,
            i % 4,
            files[i % files.len()]
        ));
    }
    plan.push(']');
    let ids = cached.import(&plan);
    let id = |i: usize| ids[&format!("k{i}")].as_str().expect("id").to_string();
    // Claims with files held when the lookup is written (a commit that changes the graph
    // comes after them, so the next read writes a lookup that flags them).
    for (i, agent) in [(0, "h0"), (3, "h3"), (4, "h4")] {
        cached.wt(&["claim", &id(i), "--agent", agent]).ok();
    }
    cached.wt(&["claim", &id(6), "--agent", "z"]).ok();
    cached
        .wt(&["done", &id(6), "--agent", "z", "--no-ci", "--reason", "t"])
        .ok();
    let plain = twin(&cached);
    cached.wt(&["ready", "--kind", "any"]).ok(); // records the lookup
    let mut fast = 0;
    let mut claimed = 0;
    let mut refused = 0;
    for round in 0..24 {
        let kind = ["any", "task", "job"][round % 3];
        let agent = format!("agent-{round}");
        let step = ["claim", "--next", "--kind", kind, "--agent", agent.as_str()];
        let (code, json, n) = same_answer(&cached, &plain, &step);
        fast += n;
        // A held claim from before the lookup is given back now and then: what overlapped
        // it is free again, which only the delta log tells.
        let back = match round {
            2 => Some((0, "h0")),
            7 => Some((3, "h3")),
            13 => Some((4, "h4")),
            _ => None,
        };
        if let Some((i, holder)) = back {
            same_answer(&cached, &plain, &["release", &id(i), "--agent", holder]);
        }
        if code != 0 {
            refused += 1;
            continue;
        }
        claimed += 1;
        let got = json["id"].as_str().expect("id").to_string();
        let follow: Vec<&str> = match round % 4 {
            0 => vec!["release", &got, "--agent", &agent],
            1 => vec!["done", &got, "--agent", &agent, "--no-ci", "--reason", "t"],
            _ => vec![], // kept: its files are held from now on
        };
        if !follow.is_empty() {
            same_answer(&cached, &plain, &follow);
        }
        if round % 7 == 6 {
            cached.wt(&["ready", "--kind", "any"]).ok(); // records a lookup again
        }
    }
    assert!(claimed > 8, "claimed {claimed}");
    assert!(refused > 0, "some round found every ready ticket clashing");
    assert!(fast > 5, "one-ticket claims: {fast}");
    assert_eq!(all_tickets(&cached), all_tickets(&plain));
}

/// Finishing the last open ticket under a container closes it (and the ones above it)
/// without loading every ticket: the tickets above are read from their files, what is under
/// each comes from the lookup. The answers and the tickets after each step are those of a
/// full load, in every case that keeps a container open as well: a claimed parent, an
/// unticked criterion, artifacts, a sibling done by hand with an open ticket under it, and
/// with review on (a job goes to review and stops the climb).
#[test]
fn finishing_the_last_open_ticket_closes_containers_like_a_full_load() {
    for review in [false, true] {
        let cached = if review {
            Repo::new()
        } else {
            Repo::without_review()
        };
        let ids = cached.import(
            r#"[
            {"key": "p1", "kind": "phase-spec", "title": "Closes twice"},
            {"key": "j1", "kind": "job", "title": "Only job", "parent": "p1"},
            {"key": "t1", "kind": "task", "title": "First", "parent": "j1"},
            {"key": "t1b", "kind": "task", "title": "Second", "parent": "j1"},
            {"key": "j2", "kind": "job", "title": "Claimed", "files": ["src/**"]},
            {"key": "t2", "kind": "task", "title": "Under claimed", "parent": "j2"},
            {"key": "j3", "kind": "job", "title": "Unticked"},
            {"key": "t3", "kind": "task", "title": "Under unticked", "parent": "j3"},
            {"key": "j4", "kind": "job", "title": "Artifacts", "artifacts": ["out.txt"]},
            {"key": "t4", "kind": "task", "title": "Under artifacts", "parent": "j4"},
            {"key": "p5", "kind": "phase-spec", "title": "Not complete"},
            {"key": "j5a", "kind": "job", "title": "Done by hand", "parent": "p5"},
            {"key": "t5c", "kind": "task", "title": "Open under done", "parent": "j5a"},
            {"key": "j5b", "kind": "job", "title": "Last open", "parent": "p5"}
        ]"#,
        );
        let id = |k: &str| ids[k].as_str().expect("id").to_string();
        let j3 = cached.ticket_path(&id("j3"));
        let text = cached.read(&j3).replacen(
            "## Acceptance Criteria\n",
            "## Acceptance Criteria\n\n- [ ] it works\n",
            1,
        );
        cached.write(&j3, &text);
        let j5a = cached.ticket_path(&id("j5a"));
        let text = cached
            .read(&j5a)
            .replacen("status: open", "status: done", 1);
        cached.write(&j5a, &text);
        cached
            .git(&["commit", "-q", "-am", "by hand: a criterion, a done task"])
            .ok();
        cached
            .wt(&["claim", &id("j2"), "--agent", "holder", "--force"])
            .ok();
        let plain = twin(&cached);
        let mut fast = 0;
        for k in ["t1", "t1b", "t2", "t3", "t4", "j5b"] {
            cached.wt(&["ready"]).ok(); // records the lookup for this tree
            let t = id(k);
            same_answer(&cached, &plain, &["claim", &t, "--agent", "a"]);
            let (code, json, read_one) = same_answer(
                &cached,
                &plain,
                &["done", &t, "--agent", "a", "--no-ci", "--reason", "test"],
            );
            assert_eq!(code, 0, "done {k}: {json}");
            fast += read_one;
            assert_eq!(all_tickets(&cached), all_tickets(&plain), "after {k}");
        }
        assert_eq!(fast, 6, "every done read its ticket through the lookup");
        let status = |k: &str| {
            let v = cached.wt_json(&["show", &id(k)]);
            v["status"].as_str().expect("status").to_string()
        };
        let closed = if review { "review" } else { "done" };
        assert_eq!(status("j1"), closed);
        // A job in review is not done: the phase above it stays open.
        assert_eq!(status("p1"), if review { "open" } else { "done" });
        for k in ["j2", "j3", "j4", "p5"] {
            assert_ne!(status(k), closed, "{k} stays open");
        }
    }
}
