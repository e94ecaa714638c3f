//! Speed benchmark: builds ticket trees of 1,000, 10,000 and 50,000 tickets with `wt import`
//! and times the agent loop's commands as whole processes of the release build.
//!
//!     cargo bench --bench speed                      # sizes 1000,10000,50000, 20 runs each
//!     cargo bench --bench speed -- --sizes 10000 --runs 30 --dir /tmp/wt-bench
//!     cargo bench --bench speed -- --sizes 10000 --baseline /path/to/older/wt   # before/after
//!
//! With `--baseline`, both builds measure copies of one tree (the one the baseline imported), so
//! the comparison is of the code on the same input; each build's import is still timed, and
//! `--import-runs N` (default 7) more imports per build, each into a new repository, make the
//! comparison's import row. The comparison gives, per row, the ratio of the medians and the
//! median of the paired ratios, wall and CPU (sample k of each build ran one after the
//! other), each with a distribution-free 95% confidence interval.
//!
//! For each size it prints, per operation, the median, p10, p90 and max wall time, the
//! median CPU time (user + system), the peak resident memory of the `wt` process and its major
//! page faults (pages read from disk: a sign the kernel evicted the binary or the tree), next to
//! the target from issue 6. It also checks that `wt ready` prints the same bytes with the
//! cache as without it (`WT_NO_CACHE=1`), on the fresh tree and after the write loops.
//!
//! The tree: phase-specs of 40 jobs, each job with about 4 tasks; every ticket depends on
//! 0-3 earlier tickets of its kind; the first 30% (in plan order) are done; some open jobs
//! are claimed by five agents. The write loops claim, release and finish ready tasks (a
//! container is never done while something under it is open). Write operations are measured twice: with the state branch
//! checked out in the repository (every write also refreshes that worktree's files and git
//! index), and with the state branch checked out nowhere (`git switch` to another branch).
//! A benchmark, not a test: figures depend on the machine; nothing here fails on a number.

// A benchmark harness: a failed step should stop it loudly.
#![allow(clippy::unwrap_used)]
// wait4(2) is how one child's own CPU time and peak memory are read.
#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const WT: &str = env!("CARGO_BIN_EXE_wt");

/// The binary being measured: this build, or the `--baseline` one.
static BIN: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

fn bin() -> PathBuf {
    BIN.lock()
        .ok()
        .and_then(|b| b.clone())
        .unwrap_or_else(|| PathBuf::from(WT))
}

struct Opts {
    sizes: Vec<usize>,
    runs: usize,
    dir: Option<PathBuf>,
    /// Another build of wt to measure in the same run (before/after a change).
    baseline: Option<PathBuf>,
    /// With a baseline: imports timed per side, each into a new repository, for the import row.
    import_runs: usize,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        sizes: vec![1_000, 10_000, 50_000],
        runs: 20,
        dir: None,
        baseline: None,
        import_runs: 7,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--sizes" => {
                o.sizes = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().replace('_', "").parse().ok())
                    .collect()
            }
            "--runs" => o.runs = args.next().and_then(|s| s.parse().ok()).unwrap_or(20),
            "--dir" => o.dir = args.next().map(PathBuf::from),
            "--baseline" => o.baseline = args.next().map(PathBuf::from),
            "--import-runs" => {
                o.import_runs = args.next().and_then(|s| s.parse().ok()).unwrap_or(7)
            }
            "--bench" => {} // added by `cargo bench`
            "-h" | "--help" => {
                println!("usage: cargo bench --bench speed -- [--sizes 1000,10000,50000] [--runs 20] [--dir DIR] [--baseline OTHER_WT_BINARY [--import-runs 7]]");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other} (try --help)");
                std::process::exit(2);
            }
        }
    }
    o.runs = o.runs.max(1);
    o
}

/// One finished process: wall time, CPU time, peak RSS, exit code, stdout.
struct Sample {
    wall: Duration,
    cpu: Duration,
    rss_kb: i64,
    /// Major page faults: pages read from disk (a binary or file the kernel had evicted).
    majflt: i64,
    code: i32,
    stdout: Vec<u8>,
}

/// Run a command and measure it with wait4 (rusage of exactly that child).
#[allow(clippy::zombie_processes)] // reaped by wait4, which also reports its rusage
fn measure(cmd: &mut Command) -> Sample {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let err = child.stderr.take().map(|mut e| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = e.read_to_end(&mut v);
            v
        })
    });
    let mut stdout = Vec::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_end(&mut stdout).expect("read stdout");
    }
    let stderr = err.and_then(|t| t.join().ok()).unwrap_or_default();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for the child we spawned (not yet reaped: Child::wait was not called).
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert!(pid > 0, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    if code != 0 && code != 3 {
        eprintln!(
            "command failed ({code}): {:?}\n{}",
            cmd,
            String::from_utf8_lossy(&stderr)
        );
    }
    Sample {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        rss_kb: usage.ru_maxrss,
        majflt: usage.ru_majflt,
        code,
        stdout,
    }
}

fn git(dir: &Path, args: &[&str]) {
    let st = env(Command::new("git"), dir)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("git");
    assert!(st.success(), "git {args:?} failed");
}

/// Fixed identity and no user or system git config, so runs are comparable.
fn env(mut c: Command, dir: &Path) -> Command {
    c.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("WT_AGENT", "bench")
        .env_remove("WT_NO_CACHE")
        .env_remove("WT_DEBUG_STATS")
        .env_remove("WT_BRANCH");
    c
}

fn wt(dir: &Path, args: &[&str]) -> Command {
    let mut c = env(Command::new(bin()), dir);
    c.args(args);
    c
}

fn run_ok(dir: &Path, args: &[&str]) -> Sample {
    let s = measure(&mut wt(dir, args));
    assert!(s.code == 0, "wt {args:?} exited {}", s.code);
    s
}

/// A sample kept for the statistics only: its output is dropped at once, because the peak
/// RSS the kernel reports for a child includes what it shared with this process when it
/// was forked, so this process must stay small.
fn timed(dir: &Path, args: &[&str]) -> Sample {
    let mut s = run_ok(dir, args);
    s.stdout = Vec::new();
    s
}

/// Give freed memory back to the OS (see [`timed`]).
fn trim() {
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe {
        libc::malloc_trim(0);
    }
}

// ---------------------------------------------------------------------------
// The plan

/// xorshift64*: a fixed sequence, so every run builds the same plan.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "login",
    "form",
    "cache",
    "index",
    "parser",
    "billing",
    "export",
    "report",
    "search",
    "upload",
    "session",
    "token",
    "schema",
    "migration",
    "queue",
    "worker",
    "retry",
    "audit",
    "metrics",
    "dashboard",
    "invoice",
    "webhook",
    "profile",
    "settings",
    "email",
    "import",
];

fn title(rng: &mut Rng, verb: &str) -> String {
    let a = WORDS[rng.below(WORDS.len())];
    let b = WORDS[rng.below(WORDS.len())];
    format!("{verb} the {a} {b}")
}

/// Write the plan as a JSON array, one item at a time (this process must stay small: see
/// [`timed`]).
fn write_plan(path: &Path, n: usize) {
    use std::io::Write;
    let mut items: Vec<Value> = Vec::with_capacity(n);
    plan(n, &mut |it| items.push(it));
    // A container is done only when everything under it is (as `wt check` requires): the
    // first 30% in plan order cuts through a phase and a job, which stay open.
    let mut open_under: std::collections::HashSet<String> = std::collections::HashSet::new();
    for it in items.iter_mut().rev() {
        let key = it["key"].as_str().unwrap_or_default().to_string();
        if open_under.contains(&key) && it["status"] == "done" {
            it.as_object_mut().unwrap().remove("status");
        }
        if it["status"] != "done" {
            if let Some(p) = it["parent"].as_str() {
                open_under.insert(p.to_string());
            }
        }
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create plan"));
    f.write_all(b"[").expect("write");
    for (k, it) in items.iter().enumerate() {
        if k > 0 {
            f.write_all(b",\n").expect("write");
        }
        serde_json::to_writer(&mut f, it).expect("write");
    }
    f.write_all(b"]\n").expect("write");
    f.flush().expect("flush");
}

fn vm_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Items for `wt import`: phase-specs of 40 jobs, jobs of ~4 tasks, 0-3 dependencies on
/// earlier tickets of the same kind, the first 30% done.
fn plan(n: usize, emit: &mut dyn FnMut(Value)) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n as u64);
    let done = n * 3 / 10;
    let mut made = 0usize;
    let mut push = |mut it: Value| {
        if made < n {
            if made < done {
                it["status"] = json!("done");
            }
            emit(it);
            made += 1;
        }
    };
    let mut count = 0usize;
    let (mut phases, mut jobs, mut tasks): (Vec<String>, Vec<String>, Vec<String>) =
        (vec![], vec![], vec![]);
    let deps = |rng: &mut Rng, pool: &[String], window: usize| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let k = rng.below(4);
        let lo = pool.len().saturating_sub(window);
        for _ in 0..k {
            if pool.len() > lo {
                let d = pool[lo + rng.below(pool.len() - lo)].clone();
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
        out
    };
    'outer: loop {
        let pk = format!("p{}", phases.len());
        let pdeps = deps(&mut rng, &phases, 3);
        push(
            json!({"key": pk, "kind": "phase-spec", "title": title(&mut rng, "Deliver"),
            "depends_on": pdeps, "description": "A vertical slice of the product."}),
        );
        count += 1;
        phases.push(pk.clone());
        for j in 0..40 {
            if count >= n {
                break 'outer;
            }
            let jk = format!("{pk}j{j}");
            let jdeps = deps(&mut rng, &jobs, 60);
            let labels = if rng.below(3) == 0 {
                vec!["backend"]
            } else {
                vec![]
            };
            count += 1;
            push(
                json!({"key": jk, "kind": "job", "title": title(&mut rng, "Build"),
                "parent": pk, "depends_on": jdeps, "priority": rng.below(5),
                "files": [format!("src/{}.rs", WORDS[rng.below(WORDS.len())])],
                "labels": labels,
                "description": "Implement the feature described by the phase; keep the API stable and cover it with tests."}),
            );
            jobs.push(jk.clone());
            let first_task = tasks.len();
            for t in 0..(3 + rng.below(3)) {
                if count >= n {
                    break 'outer;
                }
                let tk = format!("{jk}t{t}");
                let tdeps = deps(&mut rng, &tasks[first_task..], 8);
                count += 1;
                push(
                    json!({"key": tk, "kind": "task", "title": title(&mut rng, "Write"),
                    "parent": jk, "depends_on": tdeps,
                    "description": "One step of the job."}),
                );
                tasks.push(tk);
            }
        }
        if count >= n {
            break;
        }
    }
}

// ---------------------------------------------------------------------------
// Statistics and output

struct Row {
    name: String,
    samples: Vec<Sample>,
    target_ms: Option<f64>,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn print_rows(rows: &[Row], with_targets: bool) {
    println!(
        "  {:<44} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6}  {:<16}",
        "operation", "median", "p10", "p90", "max", "cpu med", "peak MB", "major", "target"
    );
    for r in rows {
        let mut w: Vec<f64> = r.samples.iter().map(|s| ms(s.wall)).collect();
        w.sort_by(f64::total_cmp);
        let mut c: Vec<f64> = r.samples.iter().map(|s| ms(s.cpu)).collect();
        c.sort_by(f64::total_cmp);
        let rss = r.samples.iter().map(|s| s.rss_kb).max().unwrap_or(0) as f64 / 1024.0;
        // Major page faults over all samples: a row that has them read from disk what
        // should have been in memory (the kernel evicted the binary or the tree).
        let major: i64 = r.samples.iter().map(|s| s.majflt).sum();
        let med = pct(&w, 0.5);
        let target = match r.target_ms.filter(|_| with_targets) {
            Some(t) => format!("<= {t:.0} ms {}", if med <= t { "met" } else { "MISSED" }),
            None => String::new(),
        };
        println!(
            "  {:<44} {:>6.1}ms {:>6.1}ms {:>6.1}ms {:>6.1}ms {:>6.1}ms {:>8.1} {:>6}  {}",
            r.name,
            med,
            pct(&w, 0.1),
            pct(&w, 0.9),
            pct(&w, 1.0),
            pct(&c, 0.5),
            rss,
            major,
            target
        );
    }
}

/// The median wall time of the row called `name` (0 when there is none).
fn named(rows: &[Row], name: &str) -> f64 {
    rows.iter()
        .find(|r| r.name == name)
        .map_or(0.0, median_wall)
}

fn median_wall(r: &Row) -> f64 {
    let mut w: Vec<f64> = r.samples.iter().map(|s| ms(s.wall)).collect();
    w.sort_by(f64::total_cmp);
    pct(&w, 0.5)
}

// ---------------------------------------------------------------------------

fn ready_ids(dir: &Path, kind: &str) -> VecDeque<String> {
    let s = run_ok(dir, &["--json", "ready", "--kind", kind]);
    let v: Value = serde_json::from_slice(&s.stdout).expect("ready json");
    // A bare array (schema before `schema_version`) or `{"tickets": [...]}`.
    v.as_array()
        .or_else(|| v["tickets"].as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| t["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The next ready ticket of `kind`, refilling the queue from `wt ready` when it runs dry.
fn next_ready(dir: &Path, q: &mut VecDeque<String>, kind: &str) -> String {
    if q.is_empty() {
        *q = ready_ids(dir, kind);
    }
    q.pop_front().expect("a ready ticket")
}

/// `wt ready --json` (and `--kind any`) with the cache and without it must print the same.
fn same_with_and_without_cache(dir: &Path) -> bool {
    let mut ok = true;
    for args in [
        &["--json", "ready"][..],
        &["--json", "ready", "--kind", "any"][..],
    ] {
        let cached = run_ok(dir, args).stdout;
        let cached_again = run_ok(dir, args).stdout;
        let plain = measure(wt(dir, args).env("WT_NO_CACHE", "1")).stdout;
        ok &= cached == plain && cached_again == plain && !plain.is_empty();
    }
    ok
}

/// The first `"id"` string in a JSON document (the claimed ticket's, whatever the shape).
fn first_id(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => m
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| m.values().find_map(first_id)),
        Value::Array(a) => a.iter().find_map(first_id),
        _ => None,
    }
}

/// One build of wt and its own tree: the build measured (`this`) or the `--baseline` one.
/// With a baseline, every sample of an operation is taken on both sides in turn, so a change
/// in the machine's load falls on both alike.
struct Side {
    label: &'static str,
    bin: PathBuf,
    dir: PathBuf,
    queue: VecDeque<String>,
    /// Ready tasks for the write loops (a container is not done while something under it
    /// is open; the last task of a job closes it, through the full path, as for an agent).
    tasks: VecDeque<String>,
    import: Option<Sample>,
    version: Option<Sample>,
    same_fresh: bool,
}

impl Side {
    /// Make the following `wt` calls run this side's binary.
    fn select(&self) -> &Path {
        *BIN.lock().expect("bin lock") = Some(self.bin.clone());
        &self.dir
    }
    fn cache(&self) -> PathBuf {
        self.dir.join(".git").join("wt").join("cache")
    }
}

/// `cp -a`: the same files, modes and git objects (a copy of a repository is a repository).
fn copy_tree(from: &Path, to: &Path) {
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp")
        .success();
    assert!(ok, "cp -a {} {}", from.display(), to.display());
}

/// A new repository at `dir` with one commit and `wt init` run (by the selected build).
fn new_repo(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README.md"), "# bench\n").expect("write");
    git(dir, &["add", "README.md"]);
    git(dir, &["commit", "-q", "-m", "initial"]);
    run_ok(dir, &["init"]);
    trim();
}

/// `runs` imports of the plan per side, in turn (ABBA), each into a new repository that is
/// removed afterwards: the import row of a before/after comparison.
fn import_row(root: &Path, plan_path: &Path, sides: &[Side], runs: usize) -> Vec<Row> {
    let mut out: Vec<Vec<Sample>> = sides.iter().map(|_| Vec::new()).collect();
    for run in 0..runs {
        for k in turn(run, sides.len()) {
            let side = &sides[k];
            side.select();
            let dir = root.join(format!("import-{}", side.label));
            if dir.exists() {
                std::fs::remove_dir_all(&dir).expect("clean old import");
            }
            new_repo(&dir);
            out[k].push(timed(&dir, &["import", plan_path.to_str().expect("utf8")]));
            std::fs::remove_dir_all(&dir).expect("remove import");
            trim();
        }
    }
    out.into_iter()
        .map(|samples| Row {
            name: format!("import ({runs} new repositories)"),
            samples,
            target_ms: None,
        })
        .collect()
}

/// A fresh repository with `n` imported tickets, some of them claimed.
fn setup(side: &mut Side, plan_path: &Path, n: usize) {
    let dir = side.select().to_path_buf();
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("clean old tree");
    }
    new_repo(&dir);
    side.version = Some(timed(&dir, &["--version"]));
    side.import = Some(timed(&dir, &["import", plan_path.to_str().expect("utf8")]));
    // Some open tickets are held by agents.
    side.queue = ready_ids(&dir, "any");
    for k in 0..(n / 200).clamp(5, 50) {
        let id = next_ready(&dir, &mut side.queue, "any");
        run_ok(
            &dir,
            &["claim", &id, "--agent", &format!("agent-{}", k % 5)],
        );
    }
    side.same_fresh = same_with_and_without_cache(&dir);
    trim();
}

/// The order the sides take their samples in on run `run`: forwards, then backwards (ABBA), so
/// that neither build always runs right after the other.
fn turn(run: usize, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    if run % 2 == 1 {
        v.reverse();
    }
    v
}

/// `runs` samples of `args` on every side in turn; `cold` deletes the side's cache before
/// each sample, otherwise one unmeasured run warms it first.
fn sample_reads(sides: &[Side], runs: usize, args: &[&str], cold: bool) -> Vec<Vec<Sample>> {
    let mut out: Vec<Vec<Sample>> = sides.iter().map(|_| Vec::new()).collect();
    if !cold {
        for side in sides {
            timed(side.select(), args);
        }
    }
    for run in 0..runs {
        for k in turn(run, sides.len()) {
            let side = &sides[k];
            if cold {
                let _ = std::fs::remove_dir_all(side.cache());
            }
            out[k].push(timed(side.select(), args));
        }
    }
    out
}

/// The write loop (claim, release, claim, done, ready; then `claim --next` and release),
/// `runs` times on every side in turn; rows per side.
fn write_rows(sides: &mut [Side], runs: usize, label: &str) -> Vec<Vec<Row>> {
    let k = sides.len();
    let mut claim: Vec<Vec<Sample>> = (0..k).map(|_| Vec::new()).collect();
    let mut release: Vec<Vec<Sample>> = (0..k).map(|_| Vec::new()).collect();
    let mut done: Vec<Vec<Sample>> = (0..k).map(|_| Vec::new()).collect();
    let mut ready_after: Vec<Vec<Sample>> = (0..k).map(|_| Vec::new()).collect();
    let mut next: Vec<Vec<Sample>> = (0..k).map(|_| Vec::new()).collect();
    for run in 0..runs {
        for i in turn(run, k) {
            let side = &mut sides[i];
            let dir = side.select().to_path_buf();
            let id = next_ready(&dir, &mut side.tasks, "task");
            claim[i].push(timed(&dir, &["claim", &id]));
            release[i].push(timed(&dir, &["release", &id]));
            timed(&dir, &["claim", &id]);
            // The CI checks are the team's own commands, not wt: skipped (and recorded).
            done[i].push(timed(&dir, &["done", &id, "--no-ci", "--reason", "bench"]));
            ready_after[i].push(timed(&dir, &["--json", "ready"]));
        }
    }
    // `claim --next` takes the best ready ticket; given back at once, so it takes it again.
    for run in 0..runs {
        for i in turn(run, k) {
            let dir = sides[i].select();
            let mut s = run_ok(dir, &["--json", "claim", "--next"]);
            let v: Value = serde_json::from_slice(&s.stdout).expect("claim json");
            s.stdout = Vec::new();
            let id = first_id(&v).expect("claimed id");
            timed(dir, &["release", &id]);
            next[i].push(s);
        }
    }
    let mut per_side = Vec::new();
    for i in 0..k {
        let row = |name: &str, samples: &mut Vec<Vec<Sample>>, target_ms| Row {
            name: format!("{name} ({label})"),
            samples: std::mem::take(&mut samples[i]),
            target_ms,
        };
        per_side.push(vec![
            row("claim", &mut claim, Some(15.0)),
            row("release", &mut release, Some(15.0)),
            row("done --no-ci", &mut done, Some(15.0)),
            row("claim --next", &mut next, None),
            row("ready --json, after a write", &mut ready_after, None),
        ]);
    }
    per_side
}

/// Every operation at `n` tickets on every side; the rows of each side.
fn bench_size(
    root: &Path,
    n: usize,
    runs: usize,
    import_runs: usize,
    sides: &mut [Side],
) -> Vec<Vec<Row>> {
    let plan_path = root.join(format!("plan-{n}.json"));
    write_plan(&plan_path, n);
    for side in sides.iter_mut() {
        side.dir = root.join(format!("tree-{n}-{}", side.label));
        setup(side, &plan_path, n);
    }
    // Before/after compares the code on the same input: each build's import is timed on its
    // own tree, then every side measures a copy of the first side's (the baseline's) tree.
    // Otherwise a newer import that records more per ticket (`source`, `order`) would be
    // measured as a slower reader.
    // Every side, the baseline too, measures a copy made the same way: a tree as `wt import`
    // wrote it and a `cp -a` of it differ on disk (file order, directory layout).
    if sides.len() > 1 {
        let imported = sides[0].dir.clone();
        let (queue, tasks) = (sides[0].queue.clone(), sides[0].tasks.clone());
        for side in sides.iter_mut() {
            if side.dir != imported {
                std::fs::remove_dir_all(&side.dir).expect("remove own tree");
            }
            side.dir = root.join(format!("copy-{n}-{}", side.label));
            copy_tree(&imported, &side.dir);
            // The copy's files have new inodes and times: let git record them, as a clone would.
            git(&side.dir, &["update-index", "-q", "--refresh"]);
            let _ = std::fs::remove_dir_all(side.cache());
            side.queue = queue.clone();
            side.tasks = tasks.clone();
            side.same_fresh = same_with_and_without_cache(side.select());
        }
        std::fs::remove_dir_all(&imported).expect("remove the imported tree");
        trim();
    }
    let mut rows: Vec<Vec<Row>> = sides.iter().map(|_| Vec::new()).collect();
    if sides.len() > 1 && import_runs > 0 {
        for (k, row) in import_row(root, &plan_path, sides, import_runs)
            .into_iter()
            .enumerate()
        {
            rows[k].push(row);
        }
    }
    let reads: [(&str, &[&str], bool, Option<f64>); 6] = [
        (
            "ready --json (no cache)",
            &["--json", "ready"],
            true,
            Some(150.0),
        ),
        (
            "ready --json (warm cache)",
            &["--json", "ready"],
            false,
            Some(20.0),
        ),
        ("list (no cache)", &["list"], true, None),
        ("list (warm cache)", &["list"], false, Some(30.0)),
        ("check (no cache)", &["check"], true, None),
        ("check (warm cache)", &["check"], false, Some(150.0)),
    ];
    for (name, args, cold, target_ms) in reads {
        for (k, samples) in sample_reads(sides, runs, args, cold)
            .into_iter()
            .enumerate()
        {
            rows[k].push(Row {
                name: name.into(),
                samples,
                target_ms,
            });
        }
    }
    for (k, r) in write_rows(sides, runs, "state branch checked out")
        .into_iter()
        .enumerate()
    {
        rows[k].extend(r);
    }
    // Now the state branch is checked out nowhere: writes touch no working tree.
    for side in sides.iter() {
        git(side.select(), &["switch", "-q", "-c", "elsewhere"]);
    }
    for (k, r) in write_rows(sides, runs, "not checked out")
        .into_iter()
        .enumerate()
    {
        rows[k].extend(r);
    }
    for (side, rows) in sides.iter().zip(&rows) {
        let same_after = same_with_and_without_cache(side.select());
        let import = side.import.as_ref().expect("imported");
        println!(
            "\n{n} tickets, {} ({}): import {:.2} s, peak {:.1} MB; {} runs per operation",
            side.label,
            side.bin.display(),
            import.wall.as_secs_f64(),
            import.rss_kb as f64 / 1024.0,
            runs
        );
        // The targets of issue 6 are for 10,000 tickets (50,000 must stay usable).
        print_rows(rows, n == 10_000);
        println!(
            "  (peak MB of `wt --version` here: {:.1}, harness RSS {:.1} MB: a child's peak includes what it shared with the harness when forked)",
            side.version.as_ref().map_or(0, |v| v.rss_kb) as f64 / 1024.0,
            vm_rss_mb()
        );
        println!(
            "  ratios: ready no cache / warm = {:.1}x",
            named(rows, "ready --json (no cache)")
                / named(rows, "ready --json (warm cache)").max(0.001)
        );
        println!(
            "  wt ready identical with and without the cache: fresh tree {}, after {} write loops {}",
            if side.same_fresh { "yes" } else { "NO" },
            runs * 2,
            if same_after { "yes" } else { "NO" }
        );
    }
    rows
}

/// The median of one row's paired ratios (this / baseline; the k-th samples of the two sides
/// were taken one right after the other), with a confidence interval for that median from
/// order statistics: distribution-free, and pairing cancels the machine's slow drifts.
struct Paired {
    median: f64,
    lo: f64,
    hi: f64,
    /// The interval's coverage: 95% or more from 6 pairs on ([min, max] below that).
    coverage: f64,
}

fn paired(before: &[f64], after: &[f64]) -> Paired {
    let mut r: Vec<f64> = before
        .iter()
        .zip(after)
        .map(|(b, a)| a / b.max(1e-9))
        .collect();
    r.sort_by(f64::total_cmp);
    let n = r.len();
    if n == 0 {
        return Paired {
            median: 1.0,
            lo: 1.0,
            hi: 1.0,
            coverage: 0.0,
        };
    }
    let median = if n % 2 == 1 {
        r[n / 2]
    } else {
        (r[n / 2 - 1] + r[n / 2]) / 2.0
    };
    let (k, coverage) = median_interval_rank(n);
    Paired {
        median,
        lo: r[k],
        hi: r[n - 1 - k],
        coverage,
    }
}

/// For `n` samples: the 0-based rank `k` such that [x(k), x(n-1-k)] of the sorted samples
/// covers the median with probability at least 95% (the largest such `k`, so the narrowest
/// interval), and that probability. The count `B` of samples below the true median is
/// Binomial(n, 1/2), and the interval misses it when B <= k or B >= n-k: probability
/// 2 P(B <= k). With too few samples for 95% (n < 6), the interval is [min, max].
fn median_interval_rank(n: usize) -> (usize, f64) {
    // P(B <= j) for j = 0, 1, ...: the pmf in logs, so no power of 2 underflows.
    let mut log_pmf = -(n as f64) * std::f64::consts::LN_2;
    let mut cdf = 0.0;
    let (mut k, mut miss) = (0, 2.0 * log_pmf.exp());
    for j in 0..n / 2 {
        cdf += log_pmf.exp();
        if cdf > 0.025 {
            break;
        }
        (k, miss) = (j, 2.0 * cdf);
        log_pmf += ((n - j) as f64 / (j + 1) as f64).ln();
    }
    (k, 1.0 - miss)
}

/// Before/after: each row's median wall time and median CPU time (user + system, steadier
/// than wall time on a loaded machine) for the baseline and this build, their ratios, then
/// the median of the paired ratios (wall and CPU) with their confidence intervals. A row is
/// flagged when a paired median is over 1.10, and marked as decided when the whole interval
/// is.
fn print_comparison(n: usize, before: &[Row], after: &[Row]) {
    println!("\n{n} tickets, baseline vs this build (medians, their ratio; paired: the median of this/baseline over pairs of samples taken one after the other, [95% interval]):");
    println!(
        "  {:<44} {:>9} {:>9} {:>6}  {:>9} {:>9} {:>6}  {:>20}  {:>20}",
        "operation",
        "wall base",
        "this",
        "ratio",
        "cpu base",
        "this",
        "ratio",
        "wall paired",
        "cpu paired"
    );
    let med = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        pct(&v, 0.5)
    };
    let walls = |r: &Row| r.samples.iter().map(|s| ms(s.wall)).collect::<Vec<f64>>();
    let cpus = |r: &Row| r.samples.iter().map(|s| ms(s.cpu)).collect::<Vec<f64>>();
    let show = |p: &Paired| format!("{:.2}x [{:.2}, {:.2}]", p.median, p.lo, p.hi);
    let mut worst: Option<(f64, String)> = None;
    let mut narrow = 1.0f64;
    for (b, a) in before.iter().zip(after) {
        let (wb, wa) = (med(&walls(b)), med(&walls(a)));
        let (cb, ca) = (med(&cpus(b)), med(&cpus(a)));
        let pw = paired(&walls(b), &walls(a));
        let pc = paired(&cpus(b), &cpus(a));
        narrow = narrow.min(pc.coverage);
        let flag = if pc.lo > 1.10 || pw.lo > 1.10 {
            "  slower by > 10%"
        } else if pc.median > 1.10 || pw.median > 1.10 {
            "  over 1.10, not decided"
        } else {
            ""
        };
        let top = pc.median.max(pw.median);
        if worst.as_ref().is_none_or(|(m, _)| top > *m) {
            worst = Some((top, a.name.clone()));
        }
        println!(
            "  {:<44} {:>7.1}ms {:>7.1}ms {:>5.2}x  {:>7.1}ms {:>7.1}ms {:>5.2}x  {:>20}  {:>20}{flag}",
            a.name,
            wb,
            wa,
            wa / wb.max(0.001),
            cb,
            ca,
            ca / cb.max(0.001),
            show(&pw),
            show(&pc)
        );
    }
    if let Some((m, name)) = worst {
        println!("  highest paired ratio (wall or CPU): {m:.2}x ({name})");
    }
    if narrow < 0.95 {
        println!(
            "  (a row with fewer than 6 samples has [min, max] as its interval, which covers the median less often than 95%: {:.0}%)",
            narrow * 100.0
        );
    }
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, load average {load}")
}

fn main() {
    let o = parse_opts();
    let tmp;
    let root = match &o.dir {
        Some(d) => {
            std::fs::create_dir_all(d).expect("mkdir");
            d.clone()
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("wt-bench-")
                .tempdir()
                .expect("tempdir");
            tmp.path().to_path_buf()
        }
    };
    println!("wt speed benchmark: {}", WT);
    println!("machine: {}", machine());
    println!("trees under {}", root.display());
    if let Some(b) = &o.baseline {
        println!(
            "baseline: {} (samples alternate between the two builds; both measure copies of the tree the baseline imported)",
            b.display()
        );
    }
    let side = |label, bin: PathBuf| Side {
        label,
        bin,
        dir: PathBuf::new(),
        queue: VecDeque::new(),
        tasks: VecDeque::new(),
        import: None,
        version: None,
        same_fresh: false,
    };
    // With a baseline, each side runs a fresh copy of its binary, made the same way: how a
    // binary's file came to be (written by the linker, or copied) changes how many page
    // faults starting it takes, by up to a fifth of a short command's CPU (measured: the
    // same binary against itself, one copy from the linker and one from `cp`).
    let fresh = |label: &str, bin: &Path| -> PathBuf {
        if o.baseline.is_none() {
            return bin.to_path_buf();
        }
        let dir = root.join(format!("bin-{label}"));
        std::fs::create_dir_all(&dir).expect("mkdir bin");
        let to = dir.join("wt");
        std::fs::copy(bin, &to).expect("copy the binary");
        to
    };
    for &n in &o.sizes {
        let mut sides = Vec::new();
        if let Some(b) = &o.baseline {
            sides.push(side("baseline", fresh("baseline", b)));
        }
        sides.push(side("this", fresh("this", Path::new(WT))));
        let rows = bench_size(&root, n, o.runs, o.import_runs, &mut sides);
        if rows.len() == 2 {
            print_comparison(n, &rows[0], &rows[1]);
        }
    }
}
