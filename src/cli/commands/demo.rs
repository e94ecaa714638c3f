use crate::app::demo::{DemoRepo, DemoReport};
use crate::app::report::SchemaVersion;
use crate::cli::{Ctx, Out};
use crate::workspace::Workspace;

const PLAN: &str = include_str!("demo.plan.json");

/// Walk through wt in a throwaway repository: init, import a small plan, then agents take
/// ready work (ready -> claim -> done -> audit) while the ready set changes; ends with the git log.
#[derive(clap::Args)]
pub struct Args {
    /// Keep the demo repository and print its path (default: delete it).
    #[arg(long)]
    pub keep: bool,
}

/// Finish every open phase-spec whose jobs are all complete; returns how many.
fn close_finished_phases(
    ws: &Workspace,
    say: &mut impl FnMut(&str),
) -> Result<usize, crate::Error> {
    let snap = ws.snapshot()?;
    let g = snap.graph()?;
    let mut n = 0;
    for (i, t) in snap.tickets.iter().enumerate() {
        let finished = t.kind == crate::model::ticket::Kind::PhaseSpec
            && t.status == crate::model::ticket::Status::Open
            && !g.children(i).is_empty()
            && g.children(i).iter().all(|&c| g.is_complete(c));
        if finished {
            crate::app::claim::claim(ws, &t.id, "planner", false)?;
            crate::app::done::done(ws, &t.id, "planner", &Default::default())?;
            say(&format!(
                "$ wt claim {0} --agent planner && wt done {0}   (every job of phase \"{1}\" is done)",
                t.id, t.title
            ));
            n += 1;
        }
    }
    Ok(n)
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
            Err(e) if e.kind == crate::ErrorKind::NotFound => {
                // No job is ready: close every phase-spec whose work is all done, which
                // unblocks the phases that depend on it.
                if close_finished_phases(&ws, &mut say)? == 0 {
                    break;
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        say(&format!(
            "$ wt claim --next --agent {agent}\n  claimed {} \"{}\"",
            claimed.id, claimed.title
        ));
        for a in &claimed.artifacts {
            let p = root.join(a);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(&p, "CREATE TABLE users (id INTEGER PRIMARY KEY);\n")?;
            say(&format!(
                "  (the agent writes its artifact {a}: `wt done` checks it exists)"
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
        if finished.value.status == crate::model::ticket::Status::Review {
            // `review: true`: a different agent audits the job before it counts as done.
            crate::app::claim::claim(&ws, &claimed.id, "auditor", false)?;
            crate::app::review::pass(&ws, &claimed.id, "auditor", None, None)?;
            say(&format!(
                "$ wt claim {0} --agent auditor && wt pass {0} --agent auditor   (the audit)",
                claimed.id
            ));
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
