use crate::app::status::{parse_duration, short_age, Overview};
use crate::cli::{Ctx, Out};

/// One screen on the state of the work: what a person or an orchestrator needs after a crash.
///
/// Counts by status (and how many are ready, and how many wait for an auditor), who holds
/// what and since when, stale claims (lease expired; a claim with no lease expiry counts as
/// stale once older than --stale-after), escalated tickets waiting for a
/// human (`wt reopen`), gates waiting for approval (`wt approve`) and how much waits on each,
/// and the tickets finished last (from the state branch's history).
#[derive(clap::Args)]
pub struct Args {
    /// A claim with no lease expiry older than this is listed as stale: 90s, 30m, 2h, 1d.
    #[arg(long, default_value = "2h", value_parser = parse_duration, value_name = "AGE")]
    pub stale_after: i64,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::status::status(&ctx.workspace()?, args.stale_after)?;
    Ok(Out::reported(r, render_text))
}

fn render_text(o: &Overview) -> String {
    let mut s = String::new();
    let tip = o
        .tip
        .as_deref()
        .map(|t| &t[..t.len().min(7)])
        .unwrap_or("-");
    s.push_str(&format!("state branch {} at {tip}, {}\n", o.branch, o.now));
    let c = |k: &str| o.counts.get(k).copied().unwrap_or(0);
    s.push_str(&format!(
        "{}: {} open ({} ready), {} in_progress, {} review ({} waiting for an auditor), {} done, {} escalated\n",
        crate::model::plural(o.total, "ticket"),
        c("open"),
        o.ready,
        c("in_progress"),
        c("review"),
        o.awaiting_review,
        c("done"),
        c("escalated"),
    ));
    s.push_str(&format!("\nheld ({}):\n", o.held.len()));
    if o.held.is_empty() {
        s.push_str("  none\n");
    }
    for h in &o.held {
        s.push_str(&format!(
            "  {:<10}  {:<11}  {:<12}  since {} ({}){}  {}\n",
            h.id,
            h.status.as_str(),
            crate::model::text::one_line(&h.agent),
            h.since.as_deref().unwrap_or("?"),
            h.age_secs.map(short_age).unwrap_or_else(|| "?".into()),
            if h.stale { " STALE" } else { "" },
            h.title
        ));
    }
    let stale = o.held.iter().filter(|h| h.stale).count();
    s.push_str(&format!(
        "stale claims (lease expired, or no lease and older than {}): {stale}\n",
        short_age(o.stale_after_secs)
    ));
    s.push_str(&format!("\nescalated ({}):\n", o.escalated.len()));
    if o.escalated.is_empty() {
        s.push_str("  none\n");
    }
    for e in &o.escalated {
        s.push_str(&format!(
            "  {:<10}  {} failed attempts  {}  (a human runs `wt reopen {}`)\n",
            e.id, e.attempts, e.title, e.id
        ));
    }
    s.push_str(&format!(
        "\nawaiting approval ({}):\n",
        o.awaiting_approval.len()
    ));
    if o.awaiting_approval.is_empty() {
        s.push_str("  none\n");
    }
    for gt in &o.awaiting_approval {
        s.push_str(&format!(
            "  {:<10}  {}  ({} {}; `wt approve {}`)\n",
            gt.id,
            gt.title,
            crate::model::plural(gt.waiting, "ticket"),
            if gt.waiting == 1 { "waits" } else { "wait" },
            gt.id
        ));
    }
    s.push_str("\nfinished last:\n");
    if o.finished_last.is_empty() {
        s.push_str("  none\n");
    }
    for f in &o.finished_last {
        s.push_str(&format!(
            "  {}  {:<4}  {:<10}  {}{}\n",
            f.at,
            f.verb,
            f.id,
            f.title,
            f.agent
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        ));
    }
    if o.problems > 0 {
        s.push_str(&format!(
            "\n{} ticket file(s) could not be read: run `wt check`\n",
            o.problems
        ));
    }
    s
}
