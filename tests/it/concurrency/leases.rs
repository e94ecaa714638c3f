//! Leases, heartbeats, stale claims and fencing tokens.

use super::*;

fn later(minutes: i64) -> Vec<(&'static str, String)> {
    vec![("WT_NOW", now_plus(minutes))]
}

fn at(r: &Repo, minutes: i64, args: &[&str]) -> Run {
    let env = later(minutes);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    r.wt_env(&r.root, args, &env)
}

#[test]
fn claim_returns_a_token_and_a_lease_of_the_configured_length() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Lease me"]);
    let j = r.wt_json(&["claim", &id, "--agent", "a"]);
    let token = j["claim_token"].as_str().expect("token");
    assert_eq!(token.len(), 16);
    assert_eq!(j["claim_expires"], now_plus(30));
    assert_eq!(j["stale"], false);
    let text = r.read(&r.ticket_path(&id));
    assert!(text.contains(&format!("claim_token: {token}\n")), "{text}");
    // The lease fields sit right after claimed_at.
    assert!(
        text.contains(&format!(
            "claimed_at: \"{NOW}\"\nclaim_expires: \"{}\"\nclaim_token:",
            now_plus(30)
        )),
        "{text}"
    );
    // Claiming again as the holder is a no-op that hands back the same token.
    let again = r.wt_json(&["claim", &id, "--agent", "a"]);
    assert_eq!(again["already_yours"], true);
    assert_eq!(again["claim_token"], token);
    // --lease overrides the configured length; text output names token and lease.
    let id2 = r.new_ticket(&["job", "Short lease"]);
    let out = r.wt(&["claim", &id2, "--agent", "a", "--lease", "5"]).ok();
    assert!(
        out.contains("token ") && out.contains(&format!("lease until {}", now_plus(5))),
        "{out}"
    );
}

#[test]
fn an_expired_claim_is_stale_in_list_and_blocked_and_only_steal_stale_takes_it() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Abandoned"]);
    r.wt(&["claim", &id, "--agent", "a"]).ok();
    // Before expiry: not stale, and --steal-stale does not take a live claim.
    let list = at(&r, 29, &["--json", "list"]).json();
    assert_eq!(tickets(&list)[0]["stale"], false);
    at(&r, 29, &["claim", &id, "--agent", "b", "--steal-stale"]).fails_with(4);
    // After expiry: shown as stale; a plain claim is refused with a hint to take over.
    let text = at(&r, 31, &["list"]).ok();
    assert!(text.contains("(a, stale)"), "{text}");
    assert_eq!(
        tickets(&at(&r, 31, &["--json", "list"]).json())[0]["stale"],
        true
    );
    let blocked = at(&r, 31, &["blocked"]).ok();
    assert!(
        blocked.contains("claim by a is stale") && blocked.contains("--steal-stale"),
        "{blocked}"
    );
    let refused = at(&r, 31, &["--json", "claim", &id, "--agent", "b"]);
    refused.fails_with(4);
    let e = refused.json();
    assert_eq!(e["error"]["detail"]["claimed_by"], "a");
    assert_eq!(e["error"]["detail"]["stale"], true);
    assert!(e["error"]["hint"]
        .as_str()
        .unwrap()
        .contains("--steal-stale"));
    // Taking it over: new holder, new token, previous holder recorded, status unchanged.
    let took = at(
        &r,
        31,
        &["--json", "claim", &id, "--agent", "b", "--steal-stale"],
    )
    .json();
    assert_eq!(took["claimed_by"], "b");
    assert_eq!(took["took_over_from"], "a");
    assert_eq!(took["status"], "in_progress");
    assert_eq!(took["claim_expires"], now_plus(61));
    let subject = &r.subjects("main")[0];
    assert!(subject.starts_with(&format!("wt: claim {id}")), "{subject}");
    let body = r.git(&["log", "-1", "--format=%b"]).ok();
    assert!(body.contains("Wt-Took-Over-From: a"), "{body}");
}

#[test]
fn a_superseded_holder_cannot_finish_release_or_renew_the_work() {
    let r = Repo::without_review();
    let id = r.new_ticket(&["job", "Contested"]);
    let ta = r.wt_json(&["claim", &id, "--agent", "a"])["claim_token"]
        .as_str()
        .unwrap()
        .to_string();
    let tb = at(
        &r,
        31,
        &["--json", "claim", &id, "--agent", "b", "--steal-stale"],
    )
    .json()["claim_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(ta, tb);
    // The superseded agent, carrying its old token, is refused everything.
    for args in [
        vec!["done", &id, "--agent", "a", "--token", &ta],
        vec!["release", &id, "--agent", "a", "--token", &ta],
        vec!["heartbeat", &id, "--agent", "a", "--token", &ta],
    ] {
        let run = at(&r, 32, &args);
        run.fails_with(5);
        assert!(run.stderr().contains("held by b"), "{}", run.stderr());
    }
    // Through the environment too.
    let env = [("WT_CLAIM_TOKEN", ta.as_str()), ("WT_AGENT", "a")];
    r.wt_env(&r.root, &["done", &id], &env).fails_with(5);
    // Without a token, a superseded agent that shares the new holder's name is refused,
    // because the claim was taken over.
    let same_name = at(&r, 32, &["done", &id, "--agent", "b"]);
    same_name.fails_with(5);
    assert!(
        same_name.stderr().contains("taken over"),
        "{}",
        same_name.stderr()
    );
    // The ticket is untouched by all of that.
    let t = r.wt_json(&["show", &id]);
    assert_eq!(t["claimed_by"], "b");
    assert_eq!(t["status"], "in_progress");
    // The new holder with its token finishes it.
    let env = [("WT_CLAIM_TOKEN", tb.as_str()), ("WT_AGENT", "b")];
    r.wt_env(&r.root, &["done", &id], &env).ok();
    let t = r.wt_json(&["show", &id]);
    assert_eq!(t["status"], "done");
    assert_eq!(t["claim_expires"], Value::Null);
    let text = r.read(&r.ticket_path(&id));
    assert!(
        text.contains("claim_token:\n") && text.contains("claim_stolen_from:\n"),
        "{text}"
    );
    // A fresh claim (not a takeover) is finished by name alone, as before leases.
    let id2 = r.new_ticket(&["job", "Plain"]);
    r.wt(&["claim", &id2, "--agent", "c"]).ok();
    r.wt(&["done", &id2, "--agent", "c"]).ok();
}

#[test]
fn heartbeat_extends_the_lease_changing_one_line_and_revives_a_claim_nobody_took() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Long job"]);
    r.wt(&["claim", &id, "--agent", "a"]).ok();
    let h = at(&r, 20, &["--json", "heartbeat", &id, "--agent", "a"]).json();
    assert_eq!(h["claim_expires"], now_plus(50));
    assert_eq!(h["was_stale"], false);
    let diff = r.git(&["diff", "HEAD~1", "HEAD", "--unified=0"]).ok();
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        vec![
            format!("-claim_expires: \"{}\"", now_plus(30)).as_str(),
            format!("+claim_expires: \"{}\"", now_plus(50)).as_str()
        ],
        "{diff}"
    );
    assert!(r.subjects("main")[0].starts_with(&format!("wt: heartbeat {id}")));
    // Expired but not taken over: the holder may still renew.
    let late = at(&r, 60, &["--json", "heartbeat", &id, "--agent", "a"]).json();
    assert_eq!(late["was_stale"], true);
    assert_eq!(late["claim_expires"], now_plus(90));
    // Someone else may not.
    at(&r, 61, &["heartbeat", &id, "--agent", "b"]).fails_with(5);
}

#[test]
fn claim_next_takes_over_stale_claims_only_when_asked_or_configured() {
    let r = Repo::new();
    let ids = jobs(&r, 2, "Stale");
    for id in &ids {
        r.wt(&["claim", id, "--agent", "a"]).ok();
    }
    at(&r, 31, &["claim", "--next", "--agent", "b"]).fails_with(3);
    let first = at(
        &r,
        31,
        &["--json", "claim", "--next", "--agent", "b", "--steal-stale"],
    )
    .json();
    assert_eq!(first["took_over_from"], "a");
    // Configure it for everyone.
    let cfg = r
        .read(".work/config.yaml")
        .replace("steal_stale_on_next: false", "steal_stale_on_next: true");
    assert!(cfg.contains("steal_stale_on_next: true"));
    r.write(".work/config.yaml", &cfg);
    r.git(&["commit", "-qam", "steal stale on next"]).ok();
    let second = at(&r, 31, &["--json", "claim", "--next", "--agent", "c"]).json();
    assert_eq!(second["took_over_from"], "a");
    assert_ne!(first["id"], second["id"]);
    // Nothing left: the fresh claims of b and c are not stale.
    at(&r, 32, &["claim", "--next", "--agent", "d"]).fails_with(3);
}

#[test]
fn a_lease_of_zero_never_expires() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Forever"]);
    let j = r.wt_json(&["claim", &id, "--agent", "a", "--lease", "0"]);
    assert_eq!(j["claim_expires"], Value::Null);
    assert!(r.read(&r.ticket_path(&id)).contains("\nclaim_expires:\n"));
    assert_eq!(
        tickets(&at(&r, 60 * 24 * 365, &["--json", "list"]).json())[0]["stale"],
        false
    );
    at(
        &r,
        60 * 24 * 365,
        &["claim", &id, "--agent", "b", "--steal-stale"],
    )
    .fails_with(4);
}

#[test]
fn check_flags_an_unreadable_claim_expiry_and_it_never_counts_as_stale() {
    let r = Repo::new();
    let id = r.new_ticket(&["job", "Odd"]);
    r.wt(&["claim", &id, "--agent", "a"]).ok();
    let path = r.ticket_path(&id);
    let text = r.read(&path);
    let bad = text.replace(
        &format!("claim_expires: \"{}\"", now_plus(30)),
        "claim_expires: soon",
    );
    assert_ne!(bad, text);
    r.write(&path, &bad);
    r.git(&["commit", "-qam", "hand edit"]).ok();
    let check = r.wt(&["check"]);
    check.fails_with(1);
    assert!(
        check
            .stdout()
            .contains("claim_expires is not an RFC 3339 time"),
        "{}",
        check.stdout()
    );
    at(&r, 600, &["claim", &id, "--agent", "b", "--steal-stale"]).fails_with(4);
}
