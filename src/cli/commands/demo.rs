use std::collections::BTreeSet;

use crate::app::demo::{DemoRepo, DemoReport};
use crate::app::report::SchemaVersion;
use crate::cli::{Ctx, Out};
use crate::model::ticket::{Kind, Status, Ticket};
use crate::workspace::Workspace;

const PLAN: &str = include_str!("demo.plan.md");

/// The demo's CI check: a plain shell command that works everywhere. Red while the schema
/// exists without an `email` column.
const CHECK: &str = "test ! -f src/schema.sql || grep -q email src/schema.sql";

/// Walk through the agent loop as it really runs, in a throwaway repository, in a few seconds.
///
/// A plan is imported; two agents work at once; a CI check goes red and blocks a `wt done`
/// until the code is fixed; an auditor fails a job with an amendment and passes the next
/// attempt; a job that keeps failing is escalated to a person, who reopens it; a person (and
/// only the one the config names) approves the gated phase; finished phases close. Ends with
/// the git log. Needs nothing but wt and a shell.
#[derive(clap::Args)]
pub struct Args {
    /// Keep the demo repository and print its path (default: delete it).
    #[arg(long)]
    pub keep: bool,
    /// Show the executor instead: `wt run` works a small plan end to end with wt's built-in
    /// fake agent (no API key): parallel loops, a red CI fixed in the next iteration, a job
    /// that needs two iterations, merges that unblock the next phase.
    #[arg(long)]
    pub run: bool,
}

/// The demo's steps, printed as they happen (text mode) and kept for the report.
struct Script<'a> {
    ws: Workspace,
    repo: DemoRepo,
    root: std::path::PathBuf,
    json: bool,
    log: String,
    /// Phases already said to be closed.
    closed: BTreeSet<String>,
    _dir: &'a tempfile::TempDir,
}

impl Script<'_> {
    fn say(&mut self, s: &str) {
        if !self.json {
            println!("{s}");
        }
        self.log.push_str(s);
        self.log.push('\n');
    }

    fn ticket(&self, title: &str) -> Result<Ticket, crate::Error> {
        let snap = self.ws.snapshot()?;
        snap.tickets
            .iter()
            .find(|t| t.title == title)
            .cloned()
            .ok_or_else(|| crate::Error::internal(format!("demo: no ticket `{title}`")))
    }

    fn ready(&mut self) -> Result<(), crate::Error> {
        let snap = self.ws.snapshot()?;
        let g = snap.graph()?;
        let ids: Vec<String> = g
            .ready(Some(Kind::Job))
            .iter()
            .map(|&i| format!("{} \"{}\"", snap.tickets[i].id, snap.tickets[i].title))
            .collect();
        let line = if ids.is_empty() {
            "$ wt ready\n  (nothing)".to_string()
        } else {
            format!("$ wt ready\n  {}", ids.join(", "))
        };
        self.say(&format!("\n{line}"));
        Ok(())
    }

    /// `wt claim ID`: the agent takes the job called `title`.
    fn claim(&mut self, agent: &str, title: &str) -> Result<Ticket, crate::Error> {
        let id = self.ticket(title)?.id;
        let c = crate::app::claim::claim(&self.ws, &id, agent, false)?;
        let t = c.value.ticket;
        self.say(&format!(
            "$ wt claim {} --agent {agent}\n  {agent} holds {} \"{}\"",
            t.id, t.id, t.title
        ));
        Ok(t)
    }

    fn claim_next(&mut self, agent: &str) -> Result<Ticket, crate::Error> {
        let c = crate::app::claim::claim_next(&self.ws, Some(Kind::Job), agent)?;
        let t = c.value.ticket;
        self.say(&format!(
            "$ wt claim --next --agent {agent}\n  {agent} holds {} \"{}\"",
            t.id, t.title
        ));
        Ok(t)
    }

    /// The agent writes code, commits it, and logs progress.
    fn work(
        &mut self,
        agent: &str,
        t: &Ticket,
        path: &str,
        content: &str,
        note: &str,
    ) -> Result<(), crate::Error> {
        if let Some(d) = self.root.join(path).parent() {
            std::fs::create_dir_all(d)?;
        }
        self.repo
            .commit_only(path, content, &format!("{}: {note}", t.title))?;
        crate::app::progress::progress(&self.ws, &t.id, agent, note, &[path.to_string()])?;
        self.say(&format!(
            "  {agent}: writes {path}, git commit, wt progress {} \"{note}\"",
            t.id
        ));
        Ok(())
    }

    /// `wt done`; returns the refusal instead of failing the demo.
    fn done(&mut self, agent: &str, t: &Ticket) -> Result<Option<crate::Error>, crate::Error> {
        match crate::app::done::done(&self.ws, &t.id, agent, &Default::default()) {
            Ok(w) => {
                let next = match w.value.ticket.status {
                    Status::Review => "waits for an audit",
                    Status::Done => "is done",
                    _ => "moved on",
                };
                self.say(&format!(
                    "$ wt done {} --agent {agent}\n  CI green on the committed code; {} {next}",
                    t.id, t.title
                ));
                self.closed_itself(&w.value.closed);
                Ok(None)
            }
            Err(e) if e.kind == crate::ErrorKind::Refused => {
                self.say(&format!(
                    "$ wt done {} --agent {agent}\n  refused (exit 5): {}",
                    t.id,
                    e.message.lines().next().unwrap_or("")
                ));
                Ok(Some(e))
            }
            Err(e) => Err(e),
        }
    }

    /// The auditor (never the implementer) audits `t`; `amendment` None passes it.
    fn audit(&mut self, t: &Ticket, amendment: Option<&str>) -> Result<(), crate::Error> {
        crate::app::claim::claim(&self.ws, &t.id, "auditor", false)?;
        match amendment {
            None => {
                let passed = crate::app::review::pass(&self.ws, &t.id, "auditor", None, None)?;
                self.say(&format!(
                    "$ wt claim {0} --agent auditor && wt pass {0}\n  \"{1}\" passes its audit",
                    t.id, t.title
                ));
                self.closed_itself(&passed.value.closed);
                self.phases()?;
            }
            Some(text) => {
                let f = crate::app::review::fail(&self.ws, &t.id, "auditor", text, None)?;
                let what = if f.value.escalated {
                    format!(
                        "failed attempt {} of {}: escalated to a person",
                        f.value.ticket.attempts, f.value.max_attempts
                    )
                } else {
                    format!(
                        "failed attempt {}: amendment {} written, the job is ready again",
                        f.value.ticket.attempts, f.value.amendment
                    )
                };
                self.say(&format!(
                    "$ wt claim {0} --agent auditor && wt fail {0} -m \"{text}\"\n  {what}",
                    t.id
                ));
            }
        }
        Ok(())
    }

    /// Say what a write closed on its way: the containers whose last open ticket it finished.
    fn closed_itself(&mut self, closed: &[crate::app::containers::Closed]) {
        for c in closed {
            self.say(&format!(
                "  {} {} \"{}\" closes itself in the same commit: {}",
                c.ticket.kind, c.ticket.id, c.ticket.title, c.reason
            ));
            self.closed.insert(c.ticket.id.clone());
        }
    }

    /// Say which phases are finished: closed by wt itself, or (where this wt does not close
    /// them yet) closed by the planner.
    fn phases(&mut self) -> Result<(), crate::Error> {
        let snap = self.ws.snapshot()?;
        let g = snap.graph()?;
        let mut to_close = Vec::new();
        let mut closed_now = Vec::new();
        for (i, t) in snap.tickets.iter().enumerate() {
            if t.kind != Kind::PhaseSpec || self.closed.contains(&t.id) {
                continue;
            }
            let kids = g.children(i);
            if t.status == Status::Done {
                closed_now.push((t.id.clone(), t.title.clone()));
            } else if !kids.is_empty() && kids.iter().all(|&c| g.is_complete(c)) {
                to_close.push((t.id.clone(), t.title.clone()));
            }
        }
        for (id, title) in closed_now {
            self.say(&format!(
                "  phase \"{title}\" closed itself: its last job passed"
            ));
            self.closed.insert(id);
        }
        for (id, title) in to_close {
            crate::app::claim::claim(&self.ws, &id, "planner", false)?;
            crate::app::done::done(&self.ws, &id, "planner", &Default::default())?;
            self.say(&format!(
                "$ wt claim {id} --agent planner && wt done {id}\n  every job of \"{title}\" is done: the planner closes the phase"
            ));
            self.closed.insert(id);
        }
        Ok(())
    }
}

/// The config with the demo's settings: its CI check, two attempts before escalation, and
/// alice as the only approver.
fn demo_config(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line {
            "max_attempts: 10" => "max_attempts: 2",
            "  approvers: []" => "  approvers: [alice]",
            l if l.starts_with("ci:") => "ci:",
            l => l,
        };
        out.push_str(line);
        out.push('\n');
        if line == "ci:" {
            out.push_str(&format!("  schema: \"{CHECK}\"\n"));
        }
    }
    out
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    if args.run {
        return super::run::demo(args.keep, ctx);
    }
    let dir = tempfile::Builder::new().prefix("wt-demo-").tempdir()?;
    let root = dir.path().to_path_buf();
    let repo = DemoRepo::create(&root)?;
    repo.commit_file("README.md", "# demo app\n", "Initial commit")?;
    let init = crate::app::init::init(&root, &Default::default())?;
    let ws = Workspace::open(&root)?;
    let mut s = Script {
        ws,
        repo,
        root: root.clone(),
        json: ctx.json,
        log: String::new(),
        closed: BTreeSet::new(),
        _dir: &dir,
    };
    s.say(&format!(
        "$ git init {}  (a throwaway repository with one code commit)\n$ wt init\n  state branch: {}",
        root.display(),
        init.branch
    ));
    let cfg = std::fs::read_to_string(root.join(".work/config.yaml"))?;
    s.repo
        .commit_file(".work/config.yaml", &demo_config(&cfg), "demo settings")?;
    s.say(&format!(
        "$ $EDITOR .work/config.yaml && git commit\n  ci: schema: \"{CHECK}\"\n  max_attempts: 2 (failed audits before a person decides); gates.approvers: [alice]"
    ));

    std::fs::write(root.join("plan.md"), PLAN)?;
    let w = crate::app::plan::import(&s.ws, &root.join("plan.md"), "plan.md", Some("planner"))?;
    s.say(&format!(
        "$ wt plan import plan.md\n  {}; phase 2 waits on phase 1 and on a person's approval",
        crate::app::plan::summary(&w.value.0)
    ));

    // A colleague has code staged while the agents work: neither wt's commits nor the
    // agents' (which commit only their own files) take it.
    std::fs::write(root.join("staged.txt"), "work in progress\n")?;
    s.repo.stage("staged.txt")?;
    s.say("$ git add staged.txt   (someone's unrelated staged code: wt will not commit it)");

    // Phase 1: two agents at once.
    s.ready()?;
    let schema = s.claim("agent-1", "Schema")?;
    let config = s.claim("agent-2", "Config loader")?;
    s.say("  (both claims are held at the same time: two agents at work)");
    s.work(
        "agent-2",
        &config,
        "src/config.sh",
        "DATABASE_URL=${DATABASE_URL:-sqlite://app.db}\n",
        "reads DATABASE_URL",
    )?;
    s.done("agent-2", &config)?;
    s.work(
        "agent-1",
        &schema,
        "src/schema.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
        "users table",
    )?;
    // The agent believes the criterion is met; CI knows better.
    crate::app::tick::tick(
        &s.ws,
        &schema.id,
        "agent-1",
        &crate::app::tick::Which::Numbers(vec![1]),
        false,
        None,
    )?;
    s.say(&format!(
        "$ wt tick {} 1 --agent agent-1\n  agent-1 ticks criterion 1, \"the users table has an email column\"",
        schema.id
    ));
    if s.done("agent-1", &schema)?.is_some() {
        s.work(
            "agent-1",
            &schema,
            "src/schema.sql",
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);\n",
            "adds the email column",
        )?;
        s.done("agent-1", &schema)?;
    }

    // The audits: one fails with an amendment, the next attempt passes.
    s.audit(&config, Some("SESSION_TTL is not read"))?;
    s.audit(&schema, None)?;
    s.ready()?;
    let again = s.claim_next("agent-2")?;
    let bundle = crate::app::context::context(&s.ws, &again.id, &Default::default(), None)?;
    let shown = bundle
        .report
        .bundle
        .text
        .lines()
        .find(|l| l.contains("SESSION_TTL is not read"))
        .unwrap_or("")
        .trim()
        .to_string();
    s.say(&format!(
        "$ wt context {}\n  the bundle carries the amendment: {shown}",
        again.id
    ));
    s.work(
        "agent-2",
        &again,
        "src/config.sh",
        "DATABASE_URL=${DATABASE_URL:-sqlite://app.db}\nSESSION_TTL=${SESSION_TTL:-14d}\n",
        "reads SESSION_TTL too",
    )?;
    s.done("agent-2", &again)?;
    s.audit(&again, None)?;

    // Phase 2 waits for a person.
    s.ready()?;
    let blocked = crate::app::read::blocked(&s.ws, Some(Kind::PhaseSpec))?;
    let phase2 = s.ticket("Phase 2: Login")?;
    if let Some(b) = blocked
        .report
        .tickets
        .iter()
        .find(|b| b.ticket.id == phase2.id)
    {
        let why = b.reasons.join("; ");
        s.say(&format!(
            "$ wt blocked --kind phase-spec\n  {} {why}",
            phase2.id
        ));
    }
    match crate::app::review::approve(&s.ws, std::slice::from_ref(&phase2.id), "agent-1") {
        Err(e) if e.kind == crate::ErrorKind::Refused => s.say(&format!(
            "$ wt approve {} --agent agent-1\n  refused (exit 5): {}",
            phase2.id, e.message
        )),
        Err(e) => return Err(e),
        Ok(_) => return Err(crate::Error::internal("demo: an agent approved a gate")),
    }
    crate::app::review::approve(&s.ws, std::slice::from_ref(&phase2.id), "alice")?;
    s.say(&format!(
        "$ wt approve {} --agent alice\n  approved: phase 2 may start",
        phase2.id
    ));

    // Phase 2: two agents again; one job keeps failing its audit and goes to a person.
    s.ready()?;
    let form = s.claim("agent-1", "Login form")?;
    let cookies = s.claim("agent-2", "Session cookies")?;
    s.work(
        "agent-1",
        &form,
        "web/login.html",
        "<form method=post action=/login><input name=email><input name=password type=password></form>\n",
        "login form",
    )?;
    s.work(
        "agent-2",
        &cookies,
        "src/session.sh",
        "echo 'Set-Cookie: session=$TOKEN'\n",
        "session cookie",
    )?;
    s.done("agent-1", &form)?;
    s.done("agent-2", &cookies)?;
    s.audit(&form, None)?;
    s.audit(&cookies, Some("the cookie lacks HttpOnly"))?;
    let again = s.claim_next("agent-2")?;
    s.work(
        "agent-2",
        &again,
        "src/session.sh",
        "echo 'Set-Cookie: session=$TOKEN; HttpOnly'\n",
        "adds HttpOnly",
    )?;
    s.done("agent-2", &again)?;
    s.audit(&again, Some("SameSite is missing"))?;
    s.ready()?;
    s.say(&format!(
        "$ wt status\n  escalated: {} \"{}\" after 2 failed audits: waits for a person",
        cookies.id, cookies.title
    ));
    crate::app::review::reopen(
        &s.ws,
        &cookies.id,
        "alice",
        Some("use HttpOnly; Secure; SameSite=Lax, as the OWASP cheat sheet says"),
    )?;
    s.say(&format!(
        "$ wt reopen {} -m \"use HttpOnly; Secure; SameSite=Lax\" --agent alice\n  a person decided: open again, with a note for the next attempt",
        cookies.id
    ));
    let last = s.claim_next("agent-2")?;
    s.work(
        "agent-2",
        &last,
        "src/session.sh",
        "echo 'Set-Cookie: session=$TOKEN; HttpOnly; Secure; SameSite=Lax'\n",
        "all three cookie flags",
    )?;
    s.done("agent-2", &last)?;
    s.audit(&last, None)?;
    s.ready()?;

    let snap = s.ws.snapshot()?;
    let count = |st: Status| snap.tickets.iter().filter(|t| t.status == st).count();
    s.say(&format!(
        "$ wt status\n  {}: {} done, {} open, {} escalated",
        crate::model::plural(snap.tickets.len(), "ticket"),
        count(Status::Done),
        count(Status::Open),
        count(Status::Escalated)
    ));
    s.say("\n$ git log --format='%h %s' main");
    let mut subjects = Vec::new();
    let mut lines = Vec::new();
    for c in s.repo.log("main")? {
        let c = c?;
        lines.push(format!("  {} {}", &c.id.to_string()[..7], c.summary));
        subjects.push(c.summary);
    }
    for l in lines {
        s.say(&l);
    }
    let staged = s.repo.is_staged("staged.txt")?;
    let head_has_it = s.repo.head_has("staged.txt")?;
    s.say(&format!(
        "\nstaged.txt is still staged: {staged}; committed by wt: {head_has_it}"
    ));
    let log = std::mem::take(&mut s.log);
    drop(s);
    let kept = if args.keep {
        let p = dir.keep();
        let line = format!("demo repository kept at {}", p.display());
        if !ctx.json {
            println!("{line}");
        }
        Some(p.display().to_string())
    } else {
        None
    };
    let report = DemoReport {
        schema_version: SchemaVersion,
        log: subjects,
        kept,
        transcript: log,
    };
    // The text was printed step by step.
    Ok(Out::new(report, |_| String::new()))
}
