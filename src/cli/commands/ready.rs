use serde_json::{json, Value};

use crate::cli::{output, Ctx, Out};

/// List tickets that can be started now, best first.
///
/// Ready = open, unclaimed, every dependency done (a dependency on a phase-spec or job counts
/// only when it and everything under it is done), no ancestor blocked, no unapproved gate on
/// it, an ancestor or a dependency. An unknown dependency blocks. Order: priority, then the
/// longest chain of work waiting on it, then age.
///
/// --review lists jobs waiting for an audit instead. --parallel N lists up to N ready tickets
/// that can run together: their `files` overlap neither each other nor any claimed ticket's
/// (glob-aware: `src/auth/**` overlaps `src/auth/login.rs`; see the README for the rules).
#[derive(clap::Args)]
pub struct Args {
    /// job (default from config), task, phase-spec or any.
    #[arg(long, value_parser = super::parse_kind_or_any)]
    pub kind: Option<super::KindFilter>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
    /// List tickets in review that no one holds (for auditors).
    #[arg(long, conflicts_with = "parallel")]
    pub review: bool,
    /// With --review: leave out tickets this agent implemented.
    #[arg(long, requires = "review")]
    pub agent: Option<String>,
    /// Up to N ready tickets whose files do not overlap each other or claimed tickets.
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
}

/// A ready list stored in the cache for a `.work` tree: what the command prints.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    text: String,
    json: String,
    notes: Vec<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let ws = ctx.workspace()?;
    // The plain ready list is a function of the `.work` tree (tickets and config) and the
    // arguments alone, so it is kept in the cache by tree id. --review and --parallel also
    // read the agent's name and the worktree's files: not kept.
    let key = (!args.review && args.parallel.is_none())
        .then(|| format!("ready kind={:?} limit={:?}", args.kind, args.limit));
    let tree = match (&key, ws.tip()?) {
        (Some(_), Some(tip)) => ws.store.work_tree(tip, crate::model::config::WORK_DIR)?,
        _ => None,
    };
    if let (Some(key), Some(tree)) = (&key, tree) {
        let stored = crate::derived::cache::result(&ws.store, tree, key)
            .and_then(|b| postcard::from_bytes::<Stored>(&b).ok());
        if let Some(s) = stored {
            let mut out = Out::new(s.text, Value::Null).notes(s.notes);
            out.json_text = Some(s.json);
            return Ok(out);
        }
    }
    let out = compute(&args, &ws)?;
    if let (Some(key), Some(tree)) = (&key, tree) {
        let stored = Stored {
            text: out.text.clone(),
            json: serde_json::to_string_pretty(&out.json).unwrap_or_else(|_| "null".into()),
            notes: out.notes.clone(),
        };
        // Only a list that reads no clock: a listed ticket with a lease would show `stale`.
        let timeless = out.json.as_array().is_some_and(|a| {
            a.iter()
                .all(|t| t["claim_expires"].is_null() && t["claimed_by"].is_null())
        });
        if let (true, Ok(bytes)) = (timeless, postcard::to_stdvec(&stored)) {
            crate::derived::cache::put_result(&ws.store, tree, key, &bytes);
        }
    }
    Ok(out)
}

fn compute(args: &Args, ws: &crate::workspace::Workspace) -> Result<Out, crate::Error> {
    let snap = ws.snapshot()?;
    let kind = args
        .kind
        .as_ref()
        .map(|k| k.0)
        .unwrap_or(Some(snap.config.ready.default_kind));
    let g = snap.graph()?;
    let mut skipped = Vec::new();
    let mut ids = if args.review {
        crate::app::review::ready_for_review(&g, kind, args.agent.as_deref())
    } else if let Some(n) = args.parallel {
        let (ids, s) = crate::app::batch::pick_parallel(&snap, kind, n)?;
        skipped = s;
        ids
    } else {
        g.ready(kind)
    };
    if let Some(l) = args.limit {
        ids.truncate(l);
    }
    let ts: Vec<&crate::model::ticket::Ticket> = ids.iter().map(|&i| &snap.tickets[i]).collect();
    let mut json = Value::Array(ts.iter().map(|t| output::ticket_json(t)).collect());
    let what = kind.map(|k| k.as_str()).unwrap_or("any kind");
    let mut text = if ts.is_empty() {
        if args.review {
            format!("nothing waits for review ({what})")
        } else {
            format!("nothing ready ({what})")
        }
    } else {
        output::ticket_lines(ts)
    };
    if args.parallel.is_some() {
        for s in &skipped {
            text.push_str(&format!(
                "  (left out {}: {} overlaps {} of {})\n",
                s.id, s.entries.0, s.entries.1, s.conflicts_with
            ));
        }
        json = json!({"tickets": json, "skipped": skipped});
    }
    let out = Out::new(text, json).notes(output::skipped_notes(&snap.problems));
    drop(g);
    crate::workspace::finished_with(snap);
    Ok(out)
}
