//! STAND-IN (replaced by the integration branch): the merge queue step.

use crate::error::Result;
pub use crate::model::config::MergeMode;
use crate::store::standin_run::Squashed;
use crate::store::Oid;
use crate::workspace::Workspace;

pub struct MergeRequest<'a> {
    pub ticket_id: &'a str,
    pub title: &'a str,
    pub branch: &'a str,
    pub target: &'a str,
    pub mode: MergeMode,
    pub agent: &'a str,
}

#[derive(Debug, Clone)]
pub enum Integrated {
    Merged { commit: Oid },
    Nothing,
    Conflict { paths: Vec<String> },
    Red { summary: String },
}

pub fn integrate(ws: &Workspace, req: &MergeRequest) -> Result<Integrated> {
    let msg = format!(
        "{}: {}\n\nWt-Ticket: {}\nWt-Agent: {}\n",
        req.ticket_id, req.title, req.ticket_id, req.agent
    );
    Ok(
        match ws.store.squash_standin(req.branch, req.target, &msg)? {
            Squashed::Commit(c) => Integrated::Merged { commit: c },
            Squashed::Nothing => Integrated::Nothing,
            Squashed::Conflict(paths) => Integrated::Conflict { paths },
        },
    )
}
