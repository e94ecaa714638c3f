//! What every report has in common: the schema version, the ticket as reports show it, the
//! error document, and the notes that go to stderr beside a report rather than into it.
//!
//! Each verb family's module defines the report of its verbs (`#[derive(Serialize)]`, first
//! field `schema_version`). `--json` prints the report as it serializes; the text is rendered
//! from the same report by the CLI. docs/reference/json.md documents every report.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::ticket::{Kind, Problem, Status, Ticket};

/// The version of the `--json` documents' schema, the number every report starts with.
/// Adding a field keeps it; removing or renaming a field, or changing its type or meaning,
/// raises it.
pub const SCHEMA_VERSION: u32 = 1;

/// The `schema_version` field of a report: serializes as the integer [`SCHEMA_VERSION`], and
/// reads back only that number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchemaVersion;

impl Serialize for SchemaVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(SCHEMA_VERSION)
    }
}

impl<'de> Deserialize<'de> for SchemaVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u32::deserialize(d)? {
            SCHEMA_VERSION => Ok(SchemaVersion),
            v => Err(serde::de::Error::custom(format!(
                "schema_version {v}, expected {SCHEMA_VERSION}"
            ))),
        }
    }
}

/// A ticket as every report shows it: its frontmatter fields (not the claim token), its
/// file's path, and whether its claim is stale. Fields in alphabetical order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    /// Other names that find the ticket: its IDs in the tracker it was imported from.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Who approved the ticket's gate (`wt approve`).
    pub approved_by: Option<String>,
    /// Paths that must exist and be non-empty before `wt done`.
    pub artifacts: Vec<String>,
    /// Failed audits so far.
    pub attempts: u32,
    /// When the claim's lease runs out (RFC 3339); null: no claim, or a claim without expiry.
    pub claim_expires: Option<String>,
    /// When the current claim was made.
    pub claimed_at: Option<String>,
    /// The agent holding the claim.
    pub claimed_by: Option<String>,
    pub created: Option<String>,
    /// IDs this ticket waits on.
    pub depends_on: Vec<String>,
    /// Paths (globs) the work is expected to touch.
    pub files: Vec<String>,
    /// `approval` when a human must `wt approve` the ticket before work under it starts.
    pub gate: Option<String>,
    pub id: String,
    /// Who last handed the work in for review.
    pub implemented_by: Option<String>,
    pub kind: Kind,
    pub labels: Vec<String>,
    /// Relations that do not block, `type:target` (`related:J-7f3ak2m9`).
    #[serde(default)]
    pub links: Vec<String>,
    /// Position among its siblings in the plan it was imported from.
    pub order: Option<u32>,
    pub parent: Option<String>,
    /// The ticket's file, relative to the repository root (`.work/...`).
    pub path: String,
    /// 0 (most urgent) to 4.
    pub priority: u8,
    /// What the ticket was imported from (`beads:bd-a3f8`), by `wt import --from`.
    #[serde(default)]
    pub source: Option<String>,
    /// The claim's lease has expired (the claim may be taken over).
    pub stale: bool,
    pub status: Status,
    pub title: String,
    pub updated: Option<String>,
}

impl TicketView {
    /// The view of `t` at `now` (which decides `stale`).
    pub fn at(t: &Ticket, now: chrono::DateTime<chrono::Utc>) -> TicketView {
        TicketView::owned(t.clone(), now)
    }

    /// The view of `t` now.
    pub fn of(t: &Ticket) -> TicketView {
        TicketView::at(t, crate::model::clock::now())
    }

    /// The view of `t` at `now`, taking its fields instead of copying them (lists of
    /// thousands).
    pub fn owned(t: Ticket, now: chrono::DateTime<chrono::Utc>) -> TicketView {
        let stale = t.is_stale(now);
        TicketView {
            aliases: t.aliases,
            approved_by: t.approved_by,
            artifacts: t.artifacts,
            attempts: t.attempts,
            claim_expires: t.claim_expires,
            claimed_at: t.claimed_at,
            claimed_by: t.claimed_by,
            created: t.created,
            depends_on: t.depends_on,
            files: t.files,
            gate: t.gate,
            id: t.id,
            implemented_by: t.implemented_by,
            kind: t.kind,
            labels: t.labels,
            links: t.links,
            order: t.order,
            parent: t.parent,
            path: t.path,
            priority: t.priority,
            source: t.source,
            stale,
            status: t.status,
            title: t.title,
            updated: t.updated,
        }
    }
}

/// A ticket changed by a write, and the commit (null when nothing had to change). The report
/// of `wt new`, `wt release`, `wt done`, `wt pass` and `wt reopen`.
#[derive(Debug, Clone, Serialize)]
pub struct TicketChange {
    pub schema_version: SchemaVersion,
    /// The ticket as it is after the write.
    #[serde(flatten)]
    pub ticket: TicketView,
    /// The commit on the state branch; null when nothing was committed.
    pub commit: Option<String>,
    /// `wt done`, `wt pass`: the containers above the ticket that closed with it (or went
    /// to review) because nothing under them was open any more, nearest first.
    pub closed: Vec<crate::app::containers::ClosedView>,
    /// `wt new`, `wt reopen`: the done containers above the ticket that reopened in the
    /// same commit because it is open under them, nearest first.
    pub reopened: Vec<crate::app::containers::ClosedView>,
    /// `wt done`: the commit whose work was judged (`--rev`, default HEAD); null otherwise.
    pub checked_commit: Option<String>,
}

impl TicketChange {
    pub fn new(t: &Ticket, commit: Option<crate::store::Oid>) -> TicketChange {
        TicketChange {
            schema_version: SchemaVersion,
            ticket: TicketView::of(t),
            commit: commit.map(|c| c.to_string()),
            closed: Vec::new(),
            reopened: Vec::new(),
            checked_commit: None,
        }
    }

    /// With the containers that reopened.
    pub fn reopening(mut self, o: &crate::app::containers::Opened) -> TicketChange {
        self.reopened = o
            .reopened
            .iter()
            .map(crate::app::containers::ClosedView::reopened)
            .collect();
        self
    }

    /// With the containers that closed.
    pub fn closing(mut self, closed: &[crate::app::containers::Closed]) -> TicketChange {
        self.closed = closed
            .iter()
            .map(crate::app::containers::ClosedView::of)
            .collect();
        self
    }
}

/// A line for stderr that goes with a report (printed in text and JSON mode alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Note {
    /// A ticket file that could not be read was left out.
    Skipped(Problem),
    /// Something went wrong that did not stop the verb.
    Warning(String),
}

/// A report and the notes for stderr that go with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reported<R> {
    pub report: R,
    pub notes: Vec<Note>,
}

impl<R> Reported<R> {
    pub fn new(report: R) -> Reported<R> {
        Reported {
            report,
            notes: Vec::new(),
        }
    }
    /// With a note for each unreadable ticket file that was left out.
    pub fn skipping(mut self, problems: &[Problem]) -> Reported<R> {
        self.notes
            .extend(problems.iter().cloned().map(Note::Skipped));
        self
    }
    /// With these warnings.
    pub fn warning(mut self, warnings: impl IntoIterator<Item = String>) -> Reported<R> {
        self.notes.extend(warnings.into_iter().map(Note::Warning));
        self
    }
}

/// The document `--json` prints when a command fails.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub schema_version: SchemaVersion,
    pub error: ErrorBody,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// `error`, `invalid`, `not_found`, `already_claimed`, `refused`, `busy` or `not_set_up`.
    pub kind: &'static str,
    /// The exit code.
    pub code: i32,
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
    /// Machine-readable detail for some errors (who holds a claim, the red CI run, ...).
    pub detail: Option<serde_json::Value>,
}
