//! Claim, release and heartbeat as `wt` runs them: locally, or won only once the remote
//! accepted them (`sync: {mode: claim}` in the config, or `--remote`). The decisions of
//! each verb are in [`super::claim`]; publishing is [`super::sync`]'s.

use super::claim::{self, ClaimOptions, ClaimReport, HeartbeatReport, Wanted};
use super::report::{Reported, SchemaVersion, TicketChange, TicketView};
use super::review;
use super::sync::{self, claim_mode, claim_published, ClaimTarget, SyncOptions};
use crate::error::Result;
use crate::workspace::Workspace;

/// Claim as `wt claim` does: for a review locally; otherwise through the remote when
/// `sync: {mode: claim}` is configured or `remote` is asked for (the claim is won only once
/// the remote accepted it), else locally.
pub fn claim(
    ws: &Workspace,
    wanted: Wanted<'_>,
    agent: &str,
    opts: &ClaimOptions,
    remote: bool,
) -> Result<Reported<ClaimReport>> {
    let publish = match claim_mode(ws)? {
        Some(so) => Some(so),
        None if remote => Some(SyncOptions::default()),
        None => None,
    };
    let wanted = match wanted {
        Wanted::Next(None) => Wanted::Next(Some(Some(ws.config()?.ready.default_kind))),
        w => w,
    };
    let mut warnings = Vec::new();
    let w = match (wanted, publish) {
        (Wanted::NextReview(kind), _) => review::claim_next_review(ws, kind, agent)?,
        (Wanted::Id(q), Some(so)) => {
            let (w, rep) = claim_published(ws, ClaimTarget::Id(q), agent, opts, &so)?;
            warnings.extend(rep.warnings);
            w
        }
        (Wanted::Next(kind), Some(so)) => {
            let target = ClaimTarget::Next(kind.flatten());
            let (w, rep) = claim_published(ws, target, agent, opts, &so)?;
            warnings.extend(rep.warnings);
            w
        }
        (Wanted::Id(q), None) => claim::claim_with(ws, q, agent, opts)?,
        (Wanted::Next(kind), None) => claim::claim_next_with(ws, kind.flatten(), agent, opts)?,
    };
    warnings.extend(w.warnings.iter().cloned());
    Ok(Reported::new(ClaimReport::new(&w)).warning(warnings))
}

/// Release as `wt release` does: published through the remote in claim mode.
pub fn release(
    ws: &Workspace,
    query: &str,
    agent: &str,
    token: Option<&str>,
    force: bool,
) -> Result<Reported<TicketChange>> {
    let (w, sync_warnings) = sync::maybe_published(
        ws,
        || claim::release_with(ws, query, agent, token, force),
        |_, _| Ok(()),
    )?;
    Ok(Reported::new(TicketChange::new(&w.value, w.commit))
        .warning(w.warnings)
        .warning(sync_warnings))
}

/// Renew a lease as `wt heartbeat` does: published through the remote in claim mode.
pub fn heartbeat(
    ws: &Workspace,
    query: &str,
    agent: &str,
    token: Option<&str>,
    lease_minutes: Option<u32>,
) -> Result<Reported<HeartbeatReport>> {
    let (w, sync_warnings) = sync::maybe_published(
        ws,
        || claim::heartbeat(ws, query, agent, token, lease_minutes),
        |ws, h| sync::check_claim_unchanged(ws, &h.ticket),
    )?;
    let h = &w.value;
    let report = HeartbeatReport {
        schema_version: SchemaVersion,
        ticket: TicketView::of(&h.ticket),
        was_stale: h.was_stale,
        commit: w.commit.map(|x| x.to_string()),
        no_lease: h.no_lease,
    };
    Ok(Reported::new(report)
        .warning(w.warnings)
        .warning(sync_warnings))
}
