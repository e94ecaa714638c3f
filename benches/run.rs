//! Executor benchmark: `wt run` on 30 jobs in 3 waves (a dependency DAG), worked by wt's
//! built-in fake agent taking ~1 s per iteration, at several `--max-parallel` values.
//!
//!     cargo bench --bench run                                  # 30 jobs, 1000 ms, parallel 1,3,6
//!     cargo bench --bench run -- --jobs 30 --agent-ms 1000 --parallel 1,3,6 --runs 1
//!
//! Per setting, in a fresh repository: the wall time of the whole `wt run`; the sum of the
//! agents' wall times (from the `run_ended` event); the ideal wall time if wt itself took no
//! time (waves × ⌈jobs per wave ÷ parallel⌉ × the agent's time, each iteration's agent time
//! measured, not assumed); and wt's own overhead per iteration: (wall − ideal) ÷ the number
//! of iterations in sequence on the critical path. Each job has one criterion and a CI check
//! (`test ! -f BROKEN`) that runs on every verification and every merge. A benchmark, not a
//! test: nothing fails on a number.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const WT: &str = env!("CARGO_BIN_EXE_wt");

struct Opts {
    jobs: usize,
    agent_ms: u64,
    parallel: Vec<usize>,
    runs: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        jobs: 30,
        agent_ms: 1000,
        parallel: vec![1, 3, 6],
        runs: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--jobs" => o.jobs = args.next().and_then(|s| s.parse().ok()).unwrap_or(30),
            "--agent-ms" => o.agent_ms = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000),
            "--runs" => o.runs = args.next().and_then(|s| s.parse().ok()).unwrap_or(1),
            "--parallel" => {
                o.parallel = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect()
            }
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    o
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

fn wt(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(WT)
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("WT_AGENT", "bench")
        .output()
        .unwrap();
    out
}

/// A plan of `jobs` jobs in 3 waves: every job of wave n depends on one job of wave n-1.
fn plan(jobs: usize) -> String {
    let per = jobs.div_ceil(3);
    let mut p = String::from("# Plan: bench\n\n## Phase 1: All\n\n");
    for i in 0..jobs {
        let wave = i / per;
        p.push_str(&format!("### Job {i}\nFiles: src/job{i}.txt\n"));
        if wave > 0 {
            let dep = (wave - 1) * per + (i % per);
            p.push_str(&format!("Depends on: Job {dep}\n"));
        }
        p.push_str(&format!(
            "\nDo job {i}.\n\n#### Acceptance Criteria\n\n- [ ] job {i} is done\n\n"
        ));
    }
    p
}

fn setup(dir: &Path, jobs: usize, agent_ms: u64) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "bench"]);
    git(dir, &["config", "user.email", "bench@example.com"]);
    std::fs::write(dir.join("README.md"), "bench\n").unwrap();
    git(dir, &["add", "README.md"]);
    git(dir, &["commit", "-q", "-m", "init"]);
    assert!(wt(dir, &["init", "--no-hook"]).status.success());
    let cfg = std::fs::read_to_string(dir.join(".work/config.yaml")).unwrap();
    let mut out = String::new();
    for line in cfg.lines() {
        let line = match line {
            "review: true" => "review: false".to_string(),
            l if l.starts_with("ci:") => "ci:\n  no-stray-files: test ! -f BROKEN".to_string(),
            l => l.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&format!(
        "agents:\n  fake:\n    cmd: [\"{WT}\", fake-agent, --sleep-ms, \"{agent_ms}\"]\n    prompt: file\nrun:\n  agent: fake\n"
    ));
    std::fs::write(dir.join(".work/config.yaml"), out).unwrap();
    git(dir, &["commit", "-q", "-am", "bench config"]);
    std::fs::write(dir.join("plan.md"), plan(jobs)).unwrap();
    let o = wt(dir, &["plan", "import", "plan.md"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_file(dir.join("plan.md")).unwrap();
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let o = parse_opts();
    let per = o.jobs.div_ceil(3);
    println!(
        "wt run: {} jobs in 3 waves, fake agent sleeping {} ms per iteration, {} run(s) each",
        o.jobs, o.agent_ms, o.runs
    );
    println!(
        "{:>9} {:>10} {:>10} {:>10} {:>11} {:>22}",
        "parallel", "wall s", "ideal s", "agents s", "iterations", "wt overhead/iteration"
    );
    for &p in &o.parallel {
        let (mut walls, mut ideals, mut agents, mut overheads) = (vec![], vec![], vec![], vec![]);
        let mut iterations = 0;
        for _ in 0..o.runs {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            setup(dir, o.jobs, o.agent_ms);
            let t0 = Instant::now();
            let out = wt(dir, &["--json", "run", "--max-parallel", &p.to_string()]);
            let wall = t0.elapsed().as_secs_f64();
            let text = String::from_utf8_lossy(&out.stdout);
            let end: serde_json::Value = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|e| e["event"] == "run_ended")
                .expect("run_ended");
            let t = &end["totals"];
            assert_eq!(
                t["merged"].as_array().map(Vec::len),
                Some(o.jobs),
                "not every job merged: {text}"
            );
            iterations = t["iterations"].as_u64().unwrap() as usize;
            let agent_s = t["agent_ms"].as_u64().unwrap() as f64 / 1000.0;
            // The agents' own mean time per iteration, measured.
            let per_iteration = agent_s / iterations as f64;
            let steps = 3 * per.div_ceil(p);
            let ideal = steps as f64 * per_iteration;
            walls.push(wall);
            ideals.push(ideal);
            agents.push(agent_s);
            overheads.push((wall - ideal) / steps as f64);
        }
        println!(
            "{:>9} {:>10.2} {:>10.2} {:>10.2} {:>11} {:>20.0} ms",
            p,
            median(&mut walls),
            median(&mut ideals),
            median(&mut agents),
            iterations,
            median(&mut overheads) * 1000.0
        );
    }
}
