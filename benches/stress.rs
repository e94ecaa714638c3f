//! Claim races at scale, with real `wt` processes in temporary repositories. Not part of
//! `cargo test`; run with
//!
//! ```text
//! cargo bench --bench stress -- [--racers 16] [--trials 200] [--workers 8] [--tickets 200]
//!                                [--clone-trials 20] [--clone-tickets 40] [--only NAME]
//! ```
//!
//! Scenarios (NAME): `one-ticket` (R racers claim one ticket, T trials; the ticket is
//! force-released between trials), `next` (W `claim --next` workers over K tickets),
//! `worktrees` (both, split over two worktrees), `clones` (racers and workers split over two
//! clones of a bare repository, claiming with --remote), `latency` (uncontended claims).
//! Prints counts; exits non-zero if any trial had other than exactly one winner or any
//! ticket was handed out twice or not at all.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value;

const NOW: &str = "2026-01-02T03:04:05Z";

struct Opts {
    racers: usize,
    trials: usize,
    workers: usize,
    tickets: usize,
    clone_trials: usize,
    clone_tickets: usize,
    only: Option<String>,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        racers: 16,
        trials: 200,
        workers: 8,
        tickets: 200,
        clone_trials: 20,
        clone_tickets: 40,
        only: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = |i: usize| -> usize {
            args.get(i + 1)
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{} needs a number", args[i]))
        };
        match args[i].as_str() {
            "--racers" => o.racers = val(i),
            "--trials" => o.trials = val(i),
            "--workers" => o.workers = val(i),
            "--tickets" => o.tickets = val(i),
            "--clone-trials" => o.clone_trials = val(i),
            "--clone-tickets" => o.clone_tickets = val(i),
            "--only" => {
                o.only = args.get(i + 1).cloned();
            }
            // cargo bench passes --bench; ignore it and anything unknown.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Stress")
        .env("GIT_AUTHOR_EMAIL", "stress@example.com")
        .env("GIT_COMMITTER_NAME", "Stress")
        .env("GIT_COMMITTER_EMAIL", "stress@example.com")
        .env("WT_NOW", NOW)
        .env("LC_ALL", "C");
}

struct Env {
    home: PathBuf,
}

impl Env {
    fn wt(&self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wt"));
        hermetic(&mut c, &self.home);
        c.current_dir(dir).args(args);
        c
    }
    fn ok(&self, mut c: Command) -> String {
        let o = c.output().expect("run");
        assert!(
            o.status.success(),
            "{:?} failed: {}",
            c,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
    fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut c = Command::new("git");
        hermetic(&mut c, &self.home);
        c.current_dir(dir).args(args);
        self.ok(c)
    }
    fn repo(&self, name: &str) -> PathBuf {
        let d = self.home.join(name);
        std::fs::create_dir_all(&d).unwrap();
        self.git(&d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("README.md"), "# stress\n").unwrap();
        self.git(&d, &["add", "README.md"]);
        self.git(&d, &["commit", "-q", "-m", "initial"]);
        self.ok(self.wt(&d, &["init"]));
        d
    }
    fn import(&self, dir: &Path, n: usize, prefix: &str) -> Vec<String> {
        let items: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"key": format!("k{i}"), "kind": "job", "title": format!("{prefix} {i}")}))
            .collect();
        let p = self.home.join(format!("plan-{prefix}.json"));
        std::fs::write(&p, Value::Array(items).to_string()).unwrap();
        let out = self.ok(self.wt(dir, &["--json", "import", p.to_str().unwrap()]));
        let m: Value = serde_json::from_str(&out).unwrap();
        (0..n)
            .map(|i| m["ids"][format!("k{i}")].as_str().unwrap().to_string())
            .collect()
    }
}

fn race(cmds: Vec<Command>) -> Vec<Output> {
    let b = Arc::new(Barrier::new(cmds.len()));
    let hs: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            let b = b.clone();
            std::thread::spawn(move || {
                b.wait();
                c.output().expect("run wt")
            })
        })
        .collect();
    hs.into_iter().map(|h| h.join().unwrap()).collect()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// R racers on one ticket, T trials. Returns (trials with exactly one winner, bad trials).
fn one_ticket(
    e: &Env,
    dirs: &[PathBuf],
    racers: usize,
    trials: usize,
    extra: &[&str],
) -> (usize, usize) {
    let id = e.import(&dirs[0], 1, "race")[0].clone();
    if extra.contains(&"--remote") {
        for d in dirs {
            e.ok(e.wt(d, &["sync"]));
        }
    }
    let (mut good, mut bad) = (0, 0);
    let start = Instant::now();
    for t in 0..trials {
        let names: Vec<String> = (0..racers).map(|i| format!("r{i}")).collect();
        let cmds = (0..racers)
            .map(|i| {
                let mut a = vec!["--json", "claim", id.as_str(), "--agent", names[i].as_str()];
                a.extend_from_slice(extra);
                e.wt(&dirs[i % dirs.len()], &a)
            })
            .collect();
        let outs = race(cmds);
        let winners = outs.iter().filter(|o| code(o) == 0).count();
        let losers4 = outs.iter().filter(|o| code(o) == 4).count();
        if winners == 1 && losers4 == racers - 1 {
            good += 1;
        } else {
            bad += 1;
            eprintln!(
                "trial {t}: {winners} winner(s), exit codes {:?}",
                outs.iter().map(code).collect::<Vec<_>>()
            );
        }
        if t + 1 == trials {
            break; // leave the last winner's claim, so later scenarios do not see the ticket
        }
        e.ok(e.wt(&dirs[0], &["release", &id, "--force", "--agent", "referee"]));
        if extra.contains(&"--remote") {
            // Publish the release too (these repositories are not in `sync: claim` mode).
            e.ok(e.wt(&dirs[0], &["sync"]));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "  {trials} trials x {racers} racers: {good} with exactly one winner, {bad} bad ({:.1} trials/s)",
        trials as f64 / secs
    );
    (good, bad)
}

/// W workers loop `claim --next` over K tickets. Returns (distinct, duplicates, skipped).
fn next(
    e: &Env,
    dirs: &[PathBuf],
    workers: usize,
    tickets: usize,
    extra: &[&str],
) -> (usize, usize, usize) {
    let ids = e.import(&dirs[0], tickets, "next");
    if extra.contains(&"--remote") {
        for d in dirs {
            e.ok(e.wt(d, &["sync"]));
        }
    }
    let start = Instant::now();
    let b = Arc::new(Barrier::new(workers));
    let hs: Vec<_> = (0..workers)
        .map(|i| {
            let b = b.clone();
            let dir = dirs[i % dirs.len()].clone();
            let home = e.home.clone();
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            std::thread::spawn(move || {
                let name = format!("w{i}");
                b.wait();
                let mut got = Vec::new();
                loop {
                    let mut c = Command::new(env!("CARGO_BIN_EXE_wt"));
                    hermetic(&mut c, &home);
                    c.current_dir(&dir)
                        .args(["--json", "claim", "--next", "--agent", &name])
                        .args(&extra);
                    let o = c.output().expect("run wt");
                    match code(&o) {
                        0 => {
                            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
                            got.push(v["id"].as_str().unwrap().to_string());
                        }
                        3 => break,
                        c => panic!("{name}: exit {c}: {}", String::from_utf8_lossy(&o.stderr)),
                    }
                }
                (name, got)
            })
        })
        .collect();
    let got: BTreeMap<String, Vec<String>> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let secs = start.elapsed().as_secs_f64();
    let all: Vec<&String> = got.values().flatten().collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    let dups = all.len() - distinct.len();
    let skipped = ids.iter().filter(|i| !distinct.contains(i)).count();
    let per: Vec<usize> = got.values().map(Vec::len).collect();
    println!(
        "  {workers} workers over {tickets} tickets: {} claims, {} distinct, {dups} duplicates, {skipped} skipped; per worker {per:?} ({:.1} claims/s)",
        all.len(),
        distinct.len(),
        all.len() as f64 / secs
    );
    (distinct.len(), dups, skipped)
}

fn latency(e: &Env, n: usize) {
    let dir = e.repo("latency");
    let ids = e.import(&dir, n, "lat");
    let mut times: Vec<Duration> = ids
        .iter()
        .map(|id| {
            let s = Instant::now();
            e.ok(e.wt(&dir, &["claim", id, "--agent", "solo"]));
            s.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {n} uncontended claims ({n} tickets in the tree): median {:.1} ms, p90 {:.1} ms, max {:.1} ms (process start to exit)",
        ms(times[n / 2]),
        ms(times[n * 9 / 10]),
        ms(times[n - 1])
    );
}

fn main() {
    let o = parse_opts();
    let tmp = tempfile::Builder::new()
        .prefix("wt-stress-")
        .tempdir()
        .unwrap();
    let e = Env {
        home: tmp.path().to_path_buf(),
    };
    let want = |n: &str| o.only.as_deref().is_none_or(|x| x == n);
    let mut failed = false;
    if want("one-ticket") {
        println!("one ticket, one worktree:");
        let d = e.repo("one");
        failed |= one_ticket(&e, &[d], o.racers, o.trials, &[]).1 > 0;
    }
    if want("next") {
        println!("claim --next, one worktree:");
        let d = e.repo("next");
        let (_, dups, skipped) = next(&e, &[d], o.workers, o.tickets, &[]);
        failed |= dups + skipped > 0;
    }
    if want("worktrees") {
        println!("two worktrees of one repository:");
        let a = e.repo("wt-a");
        let b = e.home.join("wt-b");
        e.git(
            &a,
            &["worktree", "add", "-q", "-b", "side", b.to_str().unwrap()],
        );
        let dirs = [a, b];
        failed |= one_ticket(&e, &dirs, o.racers, o.trials, &[]).1 > 0;
        let (_, dups, skipped) = next(&e, &dirs, o.workers, o.tickets, &[]);
        failed |= dups + skipped > 0;
    }
    if want("clones") {
        println!("two clones sharing a bare remote (claim --remote):");
        let src = e.repo("origin-src");
        e.git(
            &e.home,
            &["clone", "-q", "--bare", src.to_str().unwrap(), "remote.git"],
        );
        let dirs: Vec<PathBuf> = (0..2)
            .map(|i| {
                let n = format!("clone{i}");
                e.git(&e.home, &["clone", "-q", "remote.git", &n]);
                e.home.join(n)
            })
            .collect();
        failed |= one_ticket(&e, &dirs, o.racers.min(8), o.clone_trials, &["--remote"]).1 > 0;
        let (_, dups, skipped) = next(&e, &dirs, o.workers, o.clone_tickets, &["--remote"]);
        failed |= dups + skipped > 0;
    }
    if want("latency") {
        println!("latency:");
        latency(&e, 50);
    }
    if failed {
        println!("FAILED: a race had more or fewer than one winner, or a ticket was handed out twice or skipped");
        std::process::exit(1);
    }
    println!("ok: exactly once everywhere");
}
