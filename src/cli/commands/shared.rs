//! Arguments several verbs take, declared once and flattened into each verb's `Args`
//! (`#[command(flatten)]`), so that a flag means the same everywhere.

use crate::model::ticket::Kind;
use crate::workspace::Workspace;

/// The ticket a verb acts on.
#[derive(clap::Args, Debug, Clone)]
pub struct TicketId {
    /// Ticket ID or unique prefix.
    pub id: String,
}

/// Who is acting.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AgentArg {
    /// Who is acting (recorded in the commit); default WT_AGENT, else git's user.name.
    #[arg(long)]
    pub agent: Option<String>,
}

impl AgentArg {
    /// The agent's name: --agent, WT_AGENT or git's user.name (an error when there is none).
    pub fn name(&self, ws: &Workspace) -> Result<String, crate::Error> {
        crate::app::acting_agent(ws, self.agent.as_deref())
    }
    /// The agent's name if one is known (verbs that only record it in the commit).
    pub fn name_if_known(&self, ws: &Workspace) -> Option<String> {
        self.name(ws).ok()
    }
}

/// The claim token that proves who holds a claim.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TokenArg {
    /// The claim token `wt claim` printed (default WT_CLAIM_TOKEN); refused once the claim
    /// has been taken over.
    #[arg(long)]
    pub token: Option<String>,
}

impl TokenArg {
    /// --token, else WT_CLAIM_TOKEN.
    pub fn token(&self) -> Option<String> {
        crate::model::lease::token_from(self.token.as_deref())
    }
}

/// A human's override of a refusal, and why it was needed.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ForceReason {
    /// Override the refusal (you do not hold the claim, or evidence is missing); needs
    /// --reason, and is recorded.
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why the override was needed (recorded in the commit and the ticket).
    #[arg(long)]
    pub reason: Option<String>,
}

impl ForceReason {
    /// The reason when --force is given.
    pub fn forced(&self) -> Option<String> {
        self.reason.clone().filter(|_| self.force)
    }
}

/// A `--kind` filter over one kind, or `any` (the default: all kinds).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KindArg {
    /// Only tickets of this kind: job, task, phase-spec, or any (the default).
    #[arg(long = "kind", value_parser = parse_kind_or_any)]
    kind_filter: Option<KindFilter>,
}

impl KindArg {
    /// The one kind asked for; None for all kinds.
    pub fn kind(&self) -> Option<Kind> {
        self.kind_filter.and_then(|k| k.0)
    }
}

/// A `--kind` that may also be `any`, defaulting to the config's `ready.default_kind`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KindOrAny {
    /// job (default from config), task, phase-spec or any.
    #[arg(long, value_parser = parse_kind_or_any)]
    pub kind: Option<KindFilter>,
}

impl KindOrAny {
    /// `Some(None)` for any kind, `Some(Some(k))` for one, None for the config's default.
    pub fn kind(&self) -> Option<Option<Kind>> {
        self.kind.map(|k| k.0)
    }
}

/// A `--kind` value that may also be `any` (`KindFilter(None)`).
///
/// A newtype, because clap's derive reads `Option<Option<T>>` as "a flag with an optional
/// value of type T" and then fails to downcast a parser's `Option<T>` at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindFilter(pub Option<Kind>);

/// Parse a `--kind` value that may also be `any`.
pub fn parse_kind_or_any(s: &str) -> Result<KindFilter, String> {
    if s.eq_ignore_ascii_case("any") || s.eq_ignore_ascii_case("all") {
        Ok(KindFilter(None))
    } else {
        s.parse().map(|k| KindFilter(Some(k))).map_err(|_: String| {
            format!("unknown kind `{s}` (expected job, task, phase-spec or any)")
        })
    }
}
