//! Import benchmark: `wt import --from <tracker>` on a generated source of each tracker,
//! timed as whole processes of the release build.
//!
//!     cargo bench --bench import                           # 5,000 items per tracker, 3 runs
//!     cargo bench --bench import -- --items 2000 --runs 5 --tools beads,tk --dir /tmp/wt-import
//!
//! Per tracker and run, in a fresh repository: the first import (every item new), the same
//! import again (nothing changes, no commit), an import of a newer export in which every
//! tenth item changed, and `wt ready --json --kind any` on the result. Printed: the median,
//! min and max wall time of each, and the median CPU time (user + system) of the `wt`
//! process — on a loaded machine the wall time is mostly waiting. The source: items in groups of a parent with nine
//! children (so both kinds of ticket appear), each depending on up to two earlier items;
//! a third done, a few in progress. A benchmark, not a test: nothing fails on a number.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used)]
// getrusage(2) is how the children's CPU time is read.
#![allow(unsafe_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const WT: &str = env!("CARGO_BIN_EXE_wt");

struct Opts {
    items: usize,
    runs: usize,
    tools: Vec<String>,
    dir: Option<PathBuf>,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        items: 5_000,
        runs: 3,
        tools: ["beads", "backlog", "taskmaster", "tk"]
            .map(String::from)
            .to_vec(),
        dir: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--items" => o.items = args.next().and_then(|s| s.parse().ok()).unwrap_or(5_000),
            "--runs" => o.runs = args.next().and_then(|s| s.parse().ok()).unwrap_or(3),
            "--tools" => {
                o.tools = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::to_string)
                    .collect()
            }
            "--dir" => o.dir = args.next().map(PathBuf::from),
            "--bench" => {} // added by `cargo bench`
            "-h" | "--help" => {
                println!("usage: cargo bench --bench import -- [--items 5000] [--runs 3] [--tools beads,backlog,taskmaster,tk] [--dir DIR]");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other} (try --help)");
                std::process::exit(2);
            }
        }
    }
    o
}

fn run(dir: &Path, prog: &str, args: &[&str]) -> String {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{prog} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// CPU time (user + system) of the children waited for so far.
fn children_cpu() -> Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes one `rusage` into the pointer it is given, which points to
    // zeroed memory of that type; the value is read only after it returned 0.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, ru.as_mut_ptr()) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    // SAFETY: initialised by the successful call above (and zeroed before it).
    let ru = unsafe { ru.assume_init() };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// One timed `wt` run: wall time, CPU time, stdout.
fn timed(dir: &Path, args: &[&str]) -> ((Duration, Duration), String) {
    let cpu = children_cpu();
    let t = Instant::now();
    let out = run(dir, WT, args);
    ((t.elapsed(), children_cpu().saturating_sub(cpu)), out)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    }
}

/// One generated item: its parent and dependencies as indexes, and its state.
struct Gen {
    parent: Option<usize>,
    deps: Vec<usize>,
    /// 0 open, 1 in progress, 2 done.
    state: u8,
}

fn generate(n: usize) -> Vec<Gen> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let parent = (i % 10 != 0).then_some(i - i % 10);
            let mut deps = Vec::new();
            for _ in 0..rng.below(3) {
                let d = rng.below(i.max(1));
                // Earlier groups only: no cycles, no waiting on one's own parent.
                if d < i - i % 10 && !deps.contains(&d) {
                    deps.push(d);
                }
            }
            let roll = rng.below(100);
            let state = if i < n / 3 {
                2
            } else if roll < 3 {
                1
            } else {
                0
            };
            Gen {
                parent,
                deps,
                state,
            }
        })
        .collect()
}

/// Write the source of `tool` for `items` into `dir`; `version` changes every tenth title.
fn write_source(tool: &str, dir: &Path, items: &[Gen], version: u32) {
    let title = |i: usize| {
        if version > 0 && i % 10 == 5 {
            format!("Item {i} v{version}")
        } else {
            format!("Item {i}")
        }
    };
    match tool {
        "beads" => {
            let mut s = String::new();
            for (i, g) in items.iter().enumerate() {
                let status = ["open", "in_progress", "closed"][g.state as usize];
                let mut deps: Vec<String> = g
                    .deps
                    .iter()
                    .map(|d| {
                        format!(
                            r#"{{"issue_id":"bd-{i}","depends_on_id":"bd-{d}","type":"blocks"}}"#
                        )
                    })
                    .collect();
                if let Some(p) = g.parent {
                    deps.push(format!(
                        r#"{{"issue_id":"bd-{i}","depends_on_id":"bd-{p}","type":"parent-child"}}"#
                    ));
                }
                let _ = writeln!(
                    s,
                    r#"{{"id":"bd-{i}","title":"{}","description":"Generated item {i}.","status":"{status}","priority":{},"issue_type":"task","assignee":"agent-{}","created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-02T00:00:00Z","labels":["gen"],"dependencies":[{}]}}"#,
                    title(i),
                    i % 5,
                    i % 7,
                    deps.join(",")
                );
            }
            std::fs::create_dir_all(dir.join(".beads")).unwrap();
            std::fs::write(dir.join(".beads/issues.jsonl"), s).unwrap();
        }
        "backlog" => {
            let tasks = dir.join("backlog/tasks");
            let _ = std::fs::remove_dir_all(&tasks);
            std::fs::create_dir_all(&tasks).unwrap();
            for (i, g) in items.iter().enumerate() {
                let status = ["To Do", "In Progress", "Done"][g.state as usize];
                let deps: Vec<String> = g.deps.iter().map(|d| format!("task-{d}")).collect();
                let parent = g
                    .parent
                    .map(|p| format!("parent_task_id: task-{p}\n"))
                    .unwrap_or_default();
                let text = format!(
                    "---\nid: task-{i}\ntitle: {}\nstatus: {status}\nassignee: [@agent-{}]\ncreated_date: '2025-01-01 10:00'\nlabels: [gen]\ndependencies: [{}]\n{parent}priority: medium\n---\n\n## Description\n\n<!-- SECTION:DESCRIPTION:BEGIN -->\nGenerated item {i}.\n<!-- SECTION:DESCRIPTION:END -->\n\n## Acceptance Criteria\n<!-- AC:BEGIN -->\n- [ ] #1 It works\n<!-- AC:END -->\n",
                    title(i),
                    i % 7,
                    deps.join(", ")
                );
                std::fs::write(tasks.join(format!("task-{i} - Item {i}.md")), text).unwrap();
            }
        }
        "taskmaster" => {
            // Tasks are the parents; their nine children are subtasks.
            let mut tasks = Vec::new();
            for (i, g) in items.iter().enumerate() {
                if g.parent.is_some() {
                    continue;
                }
                let status = |s: u8| ["pending", "in-progress", "done"][s as usize];
                let subs: Vec<String> = (i + 1..(i + 10).min(items.len()))
                    .map(|c| {
                        format!(
                            r#"{{"id":{},"title":"{}","description":"Generated.","details":"","status":"{}","dependencies":[]}}"#,
                            c - i,
                            title(c),
                            status(items[c].state)
                        )
                    })
                    .collect();
                let deps: Vec<String> = g.deps.iter().map(|d| (d - d % 10).to_string()).collect();
                tasks.push(format!(
                    r#"{{"id":{i},"title":"{}","description":"Generated item {i}.","details":"","testStrategy":"","status":"{}","priority":"medium","dependencies":[{}],"subtasks":[{}]}}"#,
                    title(i),
                    status(g.state),
                    deps.join(","),
                    subs.join(",")
                ));
            }
            std::fs::create_dir_all(dir.join(".taskmaster/tasks")).unwrap();
            std::fs::write(
                dir.join(".taskmaster/tasks/tasks.json"),
                format!(r#"{{"master":{{"tasks":[{}]}}}}"#, tasks.join(",\n")),
            )
            .unwrap();
        }
        _ => {
            let t = dir.join(".tickets");
            std::fs::create_dir_all(&t).unwrap();
            for (i, g) in items.iter().enumerate() {
                let status = ["open", "in_progress", "closed"][g.state as usize];
                let deps: Vec<String> = g.deps.iter().map(|d| format!("gen-{d}")).collect();
                let parent = g
                    .parent
                    .map(|p| format!("parent: gen-{p}\n"))
                    .unwrap_or_default();
                let text = format!(
                    "---\nid: gen-{i}\nstatus: {status}\ndeps: [{}]\nlinks: []\ncreated: 2025-01-01T00:00:00Z\ntype: task\npriority: {}\nassignee: Agent {}\n{parent}---\n# {}\n\nGenerated item {i}.\n",
                    deps.join(", "),
                    i % 5,
                    i % 7,
                    title(i)
                );
                std::fs::write(t.join(format!("gen-{i}.md")), text).unwrap();
            }
        }
    }
}

fn stats(runs: &mut [(Duration, Duration)]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut wall: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    let mut cpu: Vec<Duration> = runs.iter().map(|r| r.1).collect();
    wall.sort();
    cpu.sort();
    format!(
        "wall median {:>7.0} ms (min {:>7.0}, max {:>7.0})   cpu median {:>7.0} ms",
        ms(wall[wall.len() / 2]),
        ms(wall[0]),
        ms(wall[wall.len() - 1]),
        ms(cpu[cpu.len() / 2])
    )
}

fn main() {
    let o = parse_opts();
    let tmp = tempfile::Builder::new()
        .prefix("wt-import-bench-")
        .tempdir()
        .unwrap();
    let base = o.dir.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let items = generate(o.items);
    println!(
        "wt import --from, {} items per tracker, {} runs (release build, state branch checked out)",
        o.items, o.runs
    );
    for tool in &o.tools {
        let (mut first, mut again, mut newer, mut ready) = (vec![], vec![], vec![], vec![]);
        for run_no in 0..o.runs {
            let dir = base.join(format!("{tool}-{run_no}"));
            let _ = std::fs::remove_dir_all(&dir);
            let repo = dir.join("repo");
            let src = dir.join("src");
            std::fs::create_dir_all(&repo).unwrap();
            std::fs::create_dir_all(&src).unwrap();
            run(&repo, "git", &["init", "-q", "-b", "main"]);
            run(
                &repo,
                "git",
                &["commit", "-q", "--allow-empty", "-m", "init"],
            );
            run(&repo, WT, &["init", "--no-hook"]);
            write_source(tool, &src, &items, 0);
            let s = src.to_str().unwrap();
            let (d, out) = timed(&repo, &["--json", "import", "--from", tool, s]);
            first.push(d);
            assert!(out.contains("\"created\""), "{out}");
            again.push(timed(&repo, &["--json", "import", "--from", tool, s]).0);
            write_source(tool, &src, &items, 1);
            newer.push(timed(&repo, &["--json", "import", "--from", tool, s]).0);
            ready.push(timed(&repo, &["--json", "ready", "--kind", "any"]).0);
        }
        println!("{tool}:");
        println!("  first import               {}", stats(&mut first));
        println!("  same source again          {}", stats(&mut again));
        println!("  newer export (10% changed) {}", stats(&mut newer));
        println!("  ready --json --kind any    {}", stats(&mut ready));
    }
}
