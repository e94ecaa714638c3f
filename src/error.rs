//! The library's error type. Each variant maps to one exit code in the CLI.

use std::fmt;

/// What kind of failure this is; the CLI maps each kind to an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something went wrong that the user did not cause (git, I/O).
    Internal,
    /// The input (arguments, files, IDs) is invalid.
    Invalid,
    /// A ticket, file or ref does not exist.
    NotFound,
    /// The ticket is claimed by someone else.
    AlreadyClaimed,
    /// A precondition for the verb does not hold (checklist, artifacts, claimant, local edits).
    Refused,
    /// The state branch kept moving or a lock stayed held: try again.
    Busy,
    /// The repository is not set up for wt (no repository, no `.work/`).
    Setup,
}

/// A wt error: a message, a kind, and an optional hint saying what to do.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// Extra machine-readable detail (e.g. who holds a claim).
    pub detail: Option<serde_json::Value>,
    /// Set when a write decided on too little of the tickets to answer (see
    /// [`Error::needs_every_ticket`]): the workspace then decides again on all of them. Never
    /// reaches a user.
    pub(crate) needs_all: bool,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            detail: None,
            needs_all: false,
        }
    }
    /// The snapshot a write started from holds too few tickets for the question asked (a
    /// graph, a ready list): the workspace runs the write again on every ticket.
    pub(crate) fn needs_every_ticket() -> Self {
        let mut e = Self::new(
            ErrorKind::Internal,
            "a write asked for every ticket while it had them all",
        );
        e.needs_all = true;
        e
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Attach machine-readable detail: a typed value, documented with the error document in
    /// docs/reference/json.md.
    pub fn with_detail(mut self, detail: impl serde::Serialize) -> Self {
        self.detail = serde_json::to_value(detail).ok();
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Refused, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn setup(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Setup, message)
    }
    pub fn busy(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Busy, message)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(format!("I/O error: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
