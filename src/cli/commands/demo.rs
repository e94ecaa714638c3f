use crate::app::demo::{DemoRepo, DemoReport};
use crate::app::report::SchemaVersion;
use crate::cli::{Ctx, Out};
use crate::workspace::Workspace;

const PLAN: &str = include_str!("demo.plan.json");

/// Walk through wt in a throwaway repository: init, import a small plan, then agents take
/// ready work (ready -> claim -> done -> audit) while the ready set changes and phases close
/// themselves; ends with the git log.
#[derive(clap::Args)]
pub struct Args {
    /// Keep the demo repository and print its path (default: delete it).
    #[arg(long)]
    pub keep: bool,
}

/// Say what a write closed on its way: the containers whose last open ticket it finished.
fn say_closed(closed: &[crate::app::containers::Closed], say: &mut impl FnMut(&str)) {
    for c in closed {
        say(&format!(
            "  {} {} \"{}\" closes itself: {}",
            c.ticket.kind, c.ticket.id, c.ticket.title, c.reason
        ));
    }
}

fn ready_line(ws: &Workspace) -> Result<String, crate::Error> {
    let snap = ws.snapshot()?;
    let g = snap.graph()?;
    let ids: Vec<String> = g
        .ready(Some(crate::model::ticket::Kind::Job))
        .iter()
        .map(|&i| format!("{} \"{}\"", snap.tickets[i].id, snap.tickets[i].title))
        .collect();
    Ok(if ids.is_empty() {
        "ready: (nothing)".into()
    } else {
        format!("ready: {}", ids.join(", "))
    })
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let dir = tempfile::Builder::new().prefix("wt-demo-").tempdir()?;
    let root = dir.path().to_path_buf();
    let mut log = String::new();
    let mut say = |s: &str| {
        if !ctx.json {
            println!("{s}");
        }
        log.push_str(s);
        log.push('\n');
    };
    let repo = DemoRepo::create(&root)?;
    repo.commit_file("README.md", "# demo app\n", "Initial commit")?;
    say(&format!(
        "$ git init {}  (a throwaway repository with one code commit)",
        root.display()
    ));

    let report = crate::app::init::init(&root, &Default::default())?;
    say(&format!(
        "$ wt init\n  state branch: {}; created {}",
        report.branch,
        report.created.join(", ")
    ));

    let ws = Workspace::open(&root)?;
    let items = crate::app::import::parse_items(PLAN, "demo-plan.json")?;
    let w = crate::app::import::import(&ws, &items, "demo-plan.json", Some("planner"))?;
    say(&format!("$ wt import demo-plan.json\n  {} tickets: 2 phase-specs, 5 jobs, 1 task; phase 2 depends on phase 1", w.value.len()));

    // A user has code staged while agents work: wt commits never take it.
    std::fs::write(root.join("staged.txt"), "work in progress\n")?;
    repo.stage("staged.txt")?;
    say("$ git add staged.txt   (someone's unrelated staged code; wt will not commit it)");

    let agents = ["agent-1", "agent-2"];
    let mut round = 0;
    while round < 50 {
        say(&format!("\n{}", ready_line(&ws)?));
        let agent = agents[round % agents.len()];
        round += 1;
        let claimed = match crate::app::claim::claim_next(
            &ws,
            Some(crate::model::ticket::Kind::Job),
            agent,
        ) {
            Ok(c) => c.value.ticket,
            // No job is ready: phases closed themselves as their last job passed, so this
            // is the end of the plan.
            Err(e) if e.kind == crate::ErrorKind::NotFound => break,
            Err(e) => return Err(e),
        };
        say(&format!(
            "$ wt claim --next --agent {agent}\n  claimed {} \"{}\"",
            claimed.id, claimed.title
        ));
        for a in &claimed.artifacts {
            repo.commit_only(
                a,
                "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
                &format!("Add {a}"),
            )?;
            say(&format!(
                "  (the agent writes and commits its artifact {a}: `wt done` checks the commit has it)"
            ));
        }
        // Tasks under a job are finished along with it in this demo.
        let snap = ws.snapshot()?;
        for t in snap
            .tickets
            .iter()
            .filter(|t| t.parent.as_deref() == Some(claimed.id.as_str()))
        {
            crate::app::claim::claim(&ws, &t.id, agent, false)?;
            crate::app::done::done(&ws, &t.id, agent, &Default::default())?;
            say(&format!(
                "$ wt claim {0} && wt done {0}   (its task \"{1}\")",
                t.id, t.title
            ));
        }
        let finished = crate::app::done::done(&ws, &claimed.id, agent, &Default::default())?;
        say(&format!("$ wt done {} --agent {agent}", claimed.id));
        say_closed(&finished.value.closed, &mut say);
        if finished.value.ticket.status == crate::model::ticket::Status::Review {
            // `review: true`: a different agent audits the job before it counts as done.
            crate::app::claim::claim(&ws, &claimed.id, "auditor", false)?;
            let passed = crate::app::review::pass(&ws, &claimed.id, "auditor", None, None)?;
            say(&format!(
                "$ wt claim {0} --agent auditor && wt pass {0} --agent auditor   (the audit)",
                claimed.id
            ));
            say_closed(&passed.value.closed, &mut say);
        }
    }

    say("\n$ git log --format='%h %s' main");
    let mut subjects = Vec::new();
    for c in repo.log("main")? {
        let c = c?;
        say(&format!("  {} {}", &c.id.to_string()[..7], c.summary));
        subjects.push(c.summary);
    }
    let staged = repo.is_staged("staged.txt")?;
    let head_has_it = repo.head_has("staged.txt")?;
    say(&format!(
        "\nstaged.txt is still staged: {staged}; committed by wt: {head_has_it}"
    ));
    let kept = if args.keep {
        let p = dir.keep();
        say(&format!("demo repository kept at {}", p.display()));
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
