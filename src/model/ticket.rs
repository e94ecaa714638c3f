//! The ticket model: kinds, statuses, and parsing a ticket file into a [`Ticket`].
//!
//! Parsing never edits: writes go through [`crate::model::frontmatter::set_field`] so that a change to
//! one field changes only that field's line.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The section whose checklist `wt done` requires ticked.
pub const CRITERIA_HEADING: &str = "Acceptance Criteria";

use crate::model::frontmatter;

/// The three kinds of ticket. A phase-spec holds jobs, a job holds tasks.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    PhaseSpec,
    #[default]
    Job,
    Task,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::PhaseSpec, Kind::Job, Kind::Task];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::PhaseSpec => "phase-spec",
            Kind::Job => "job",
            Kind::Task => "task",
        }
    }
    /// The ID prefix letter: `P-`, `J-`, `T-`.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::PhaseSpec => "P",
            Kind::Job => "J",
            Kind::Task => "T",
        }
    }
    /// The kind a parent of this kind must have, if any.
    pub fn parent_kind(self) -> Option<Kind> {
        match self {
            Kind::PhaseSpec => None,
            Kind::Job => Some(Kind::PhaseSpec),
            Kind::Task => Some(Kind::Job),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "phase-spec" | "phase_spec" | "phasespec" | "phase" | "p" => Ok(Kind::PhaseSpec),
            "job" | "j" => Ok(Kind::Job),
            "task" | "t" => Ok(Kind::Task),
            _ => Err(format!(
                "unknown kind `{s}` (expected phase-spec, job or task)"
            )),
        }
    }
}

/// Where a ticket is in its life.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not started; may be ready if nothing blocks it.
    #[default]
    Open,
    /// Claimed by an agent and being worked on.
    InProgress,
    /// Implemented; waiting for an audit.
    Review,
    /// Finished.
    Done,
    /// Too many failed attempts; waiting for a human.
    Escalated,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Open,
        Status::InProgress,
        Status::Review,
        Status::Done,
        Status::Escalated,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::Review => "review",
            Status::Done => "done",
            Status::Escalated => "escalated",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.to_ascii_lowercase().replace('-', "_");
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == norm)
            .ok_or_else(|| {
                format!(
                    "unknown status `{s}` (expected open, in_progress, review, done or escalated)"
                )
            })
    }
}

/// Frontmatter keys wt knows. `wt check` flags any other top-level key.
pub const KNOWN_FIELDS: &[&str] = &[
    "id",
    "kind",
    "title",
    "status",
    "priority",
    "parent",
    "depends_on",
    "claimed_by",
    "claimed_at",
    "claim_expires",
    "claim_token",
    "claim_stolen_from",
    "created",
    "updated",
    "files",
    "artifacts",
    "labels",
    "attempts",
    "implemented_by",
    "gate",
    "approved_by",
    "approved_at",
    "order",
    "aliases",
    "links",
    "source",
    "source_hash",
    "agent",
    "spent",
    "max_usd",
    "max_minutes",
    "vote",
];

/// The position of `key` in [`KNOWN_FIELDS`], if it is one (a `match`: read for every line
/// of every ticket, where a search of the list cost a comparison per known field).
pub fn known_field(key: &str) -> Option<usize> {
    Some(match key {
        "id" => 0,
        "kind" => 1,
        "title" => 2,
        "status" => 3,
        "priority" => 4,
        "parent" => 5,
        "depends_on" => 6,
        "claimed_by" => 7,
        "claimed_at" => 8,
        "claim_expires" => 9,
        "claim_token" => 10,
        "claim_stolen_from" => 11,
        "created" => 12,
        "updated" => 13,
        "files" => 14,
        "artifacts" => 15,
        "labels" => 16,
        "attempts" => 17,
        "implemented_by" => 18,
        "gate" => 19,
        "approved_by" => 20,
        "approved_at" => 21,
        "order" => 22,
        "aliases" => 23,
        "links" => 24,
        "source" => 25,
        "source_hash" => 26,
        "agent" => 27,
        "spent" => 28,
        "max_usd" => 29,
        "max_minutes" => 30,
        "vote" => 31,
        _ => return None,
    })
}

/// The only gate kind: a human must `wt approve` the ticket before work under it starts.
pub const GATE_APPROVAL: &str = "approval";

/// Lowest (least urgent) priority; 0 is the most urgent.
pub const MAX_PRIORITY: u8 = 4;
/// Priority given to a ticket that does not say.
pub const DEFAULT_PRIORITY: u8 = 2;

/// See [`Ticket::graph_key`]: id, parent, depends_on, done, awaits approval, kind.
pub type GraphKey<'a> = (&'a str, Option<&'a str>, &'a [String], bool, bool, Kind);

/// A parsed ticket. `path` is relative to the repository root (`.work/...`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: String,
    pub kind: Kind,
    pub title: String,
    pub status: Status,
    pub priority: u8,
    pub parent: Option<String>,
    pub depends_on: Vec<String>,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<String>,
    /// When the claim's lease runs out (RFC 3339); `wt heartbeat` extends it.
    pub claim_expires: Option<String>,
    /// Fencing token of the current claim: changes whenever the claim changes hands.
    pub claim_token: Option<String>,
    /// The holder whose stale claim this one took over, if it was taken over.
    pub claim_stolen_from: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub files: Vec<String>,
    pub artifacts: Vec<String>,
    pub labels: Vec<String>,
    /// Failed audits so far (the attempt in progress is `attempts + 1`).
    pub attempts: u32,
    /// Who last finished the work and sent it to review (an auditor must be someone else).
    pub implemented_by: Option<String>,
    /// `approval`: nothing under or depending on this ticket is ready until `wt approve`.
    pub gate: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// Position among its siblings: given by `wt plan import`, `wt import` and `wt new` (after
    /// the siblings already there); plan order follows it.
    pub order: Option<u32>,
    /// Other names that find this ticket (`wt show bd-a3f8`): the IDs it had in the tracker
    /// it was imported from (`wt import --from`).
    pub aliases: Vec<String>,
    /// Relations that do not block (`related:J-7f3ak2m9`, `discovered-from:bd-a3f8`): `type:`
    /// then a ticket ID, or the original ID of an item that was not imported.
    pub links: Vec<String>,
    /// The item this ticket was imported from, `<tool>:<original id>` (`beads:bd-a3f8`); a
    /// later import of the same source updates this ticket instead of making another.
    pub source: Option<String>,
    /// Digest of the source item as last imported: an import rewrites the ticket only when
    /// the item changed in the source.
    pub source_hash: Option<String>,
    pub path: String,
}

impl Ticket {
    /// How siblings are ordered (see `schedule::order`): `order`, tickets without one after
    /// those with one; then creation time; then ID.
    pub fn sibling_key(&self) -> (u32, &str, &str) {
        (
            self.order.unwrap_or(u32::MAX),
            self.created.as_deref().unwrap_or(""),
            self.id.as_str(),
        )
    }
}

/// A problem found while reading a ticket file: where, what, and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}:{}:{}: {}", self.path, self.line, c, self.message)?,
            None => write!(f, "{}:{}: {}", self.path, self.line, self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// A number, or text where a number belongs (reported with a clear message).
#[derive(Debug, Deserialize, PartialEq)]
#[serde(untagged)]
enum IntOrText {
    Int(i64),
    Text(String),
}

/// Loosely typed frontmatter, so that type errors come back with a YAML location.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
struct Raw {
    id: Option<String>,
    kind: Option<String>,
    title: Option<String>,
    status: Option<String>,
    priority: Option<IntOrText>,
    parent: Option<String>,
    depends_on: Option<Vec<String>>,
    claimed_by: Option<String>,
    claimed_at: Option<String>,
    claim_expires: Option<String>,
    claim_token: Option<String>,
    claim_stolen_from: Option<String>,
    created: Option<String>,
    updated: Option<String>,
    files: Option<Vec<String>>,
    artifacts: Option<Vec<String>>,
    labels: Option<Vec<String>>,
    attempts: Option<i64>,
    implemented_by: Option<String>,
    gate: Option<String>,
    approved_by: Option<String>,
    approved_at: Option<String>,
    order: Option<i64>,
    aliases: Option<Vec<String>>,
    links: Option<Vec<String>>,
    source: Option<String>,
    source_hash: Option<String>,
}

/// The frontmatter wt writes, read without a YAML parser: only `key: value` lines of known
/// keys, with values whose meaning no YAML reading could dispute. None for anything else
/// (comments, indentation, block lists, escapes, anchors, tags, a value that could be a
/// number, boolean or null, a repeated key...), which then goes to serde-saphyr. What it
/// returns is what serde-saphyr returns for the same text (a differential test checks).
fn simple_raw(yaml: &str) -> Option<Raw> {
    let mut raw = Raw::default();
    let mut seen: u32 = 0;
    for line in yaml.split('\n') {
        if line.is_empty() {
            continue;
        }
        let (key, rest) = line.split_once(':')?;
        let value = match rest.as_bytes().first() {
            None => None,
            Some(b' ') => Some(rest.trim_start_matches(' ')),
            Some(_) => return None,
        };
        let value = value.filter(|v| !v.is_empty());
        // KNOWN_FIELDS are the fields of Raw (at most 32: one bit each).
        let bit = known_field(key)?;
        if seen & (1 << bit) != 0 {
            return None;
        }
        seen |= 1 << bit;
        // Outer None: not simple (give up); inner None: the value is null.
        fn read<T>(value: Option<&str>, f: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
            match value {
                None => Some(None),
                Some(v) => f(v).map(Some),
            }
        }
        let text = || read(value, simple_scalar);
        let list = || read(value, simple_list);
        let int = || read(value, simple_int);
        match key {
            "id" => raw.id = text()?,
            "kind" => raw.kind = text()?,
            "title" => raw.title = text()?,
            "status" => raw.status = text()?,
            "priority" => raw.priority = int()?.map(IntOrText::Int),
            "parent" => raw.parent = text()?,
            "depends_on" => raw.depends_on = list()?,
            "claimed_by" => raw.claimed_by = text()?,
            "claimed_at" => raw.claimed_at = text()?,
            "claim_expires" => raw.claim_expires = text()?,
            "claim_token" => raw.claim_token = text()?,
            "claim_stolen_from" => raw.claim_stolen_from = text()?,
            "created" => raw.created = text()?,
            "updated" => raw.updated = text()?,
            "files" => raw.files = list()?,
            "artifacts" => raw.artifacts = list()?,
            "labels" => raw.labels = list()?,
            "attempts" => raw.attempts = int()?,
            "implemented_by" => raw.implemented_by = text()?,
            "gate" => raw.gate = text()?,
            "approved_by" => raw.approved_by = text()?,
            "approved_at" => raw.approved_at = text()?,
            "order" => raw.order = int()?,
            "aliases" => raw.aliases = list()?,
            "links" => raw.links = list()?,
            "source" => raw.source = text()?,
            "source_hash" => raw.source_hash = text()?,
            // Read by `wt run` from the file itself (see app::run::cost); here only checked
            // to be simple, so that the full YAML reader agrees.
            "agent" => {
                text()?;
            }
            "vote" => {
                int()?;
            }
            "spent" | "max_usd" | "max_minutes" => return None,
            _ => return None,
        }
    }
    Some(raw)
}

/// A string value: `"text"` without escapes, or plain text that starts with a letter, has
/// no ` #` comment and no `: `, and is no YAML keyword.
fn simple_scalar(v: &str) -> Option<String> {
    let v = v.trim_end_matches(' ');
    if v.chars().any(char::is_control) {
        return None;
    }
    if let Some(inner) = v.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        return (!inner.contains(['"', '\\'])).then(|| inner.to_string());
    }
    let first = v.chars().next()?;
    let plain = first.is_ascii_alphabetic()
        && !v.contains(" #")
        && !v.contains(": ")
        && !v.ends_with(':')
        && !v.contains(['\t', '\r'])
        && !is_keyword(v);
    plain.then(|| v.to_string())
}

/// YAML words that plain text would turn into a null or a boolean in some reading.
fn is_keyword(v: &str) -> bool {
    const WORDS: [&str; 11] = [
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(v))
}

/// `[]`, or `[a, b]` whose items are plain words (letters first; letters, digits and
/// `-_./` after) or `"quoted"` text without escapes.
fn simple_list(v: &str) -> Option<Vec<String>> {
    if v.chars().any(char::is_control) {
        return None;
    }
    let inner = v
        .trim_end_matches(' ')
        .strip_prefix('[')?
        .strip_suffix(']')?;
    if inner.trim_matches(' ').is_empty() {
        return Some(Vec::new());
    }
    inner
        .split(',')
        .map(|item| {
            let item = item.trim_matches(' ');
            if let Some(q) = item.strip_prefix('"') {
                let q = q.strip_suffix('"')?;
                return (!q.contains(['"', '\\'])).then(|| q.to_string());
            }
            // A `:` inside a word (`type:bug`, `tm:master:12.3`) is part of it: in a flow
            // list YAML reads `:` as an indicator only before a space, `,` or the end.
            let b = item.as_bytes();
            let ok = b.first()?.is_ascii_alphabetic()
                && b.iter().enumerate().all(|(i, &c)| {
                    c.is_ascii_alphanumeric()
                        || b"-_./".contains(&c)
                        || (c == b':' && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric))
                })
                && !is_keyword(item);
            ok.then(|| item.to_string())
        })
        .collect()
}

/// A plain decimal integer without sign or leading zeros.
fn simple_int(v: &str) -> Option<i64> {
    let v = v.trim_end_matches(' ');
    let ok = !v.is_empty()
        && v.len() <= 18
        && v.bytes().all(|b| b.is_ascii_digit())
        && (v == "0" || !v.starts_with('0'));
    if ok {
        v.parse().ok()
    } else {
        None
    }
}

/// `s` trimmed, unless empty (kept in place when there is nothing to trim).
fn non_empty(s: Option<String>) -> Option<String> {
    s.map(trimmed).filter(|v| !v.is_empty())
}

fn trimmed(v: String) -> String {
    if v.trim().len() == v.len() {
        v
    } else {
        v.trim().to_string()
    }
}

/// Parse a ticket file. `path` is used for error messages and stored in the ticket.
pub fn parse(path: &str, text: &str) -> Result<Ticket, Problem> {
    parse_reading(path, text).map(|(t, _)| t)
}

/// [`parse`], also saying whether the frontmatter was read by the simple reader: then
/// every line of it is a known field's `key: value`, so it has no unknown key.
pub fn parse_reading(path: &str, text: &str) -> Result<(Ticket, bool), Problem> {
    let problem =
        |line: usize, column: Option<usize>, message: String, hint: Option<&str>| Problem {
            path: path.to_string(),
            line,
            column,
            message,
            hint: hint.map(str::to_string),
        };
    let split = frontmatter::split(text).map_err(|e| {
        problem(
            fm_error_line(&e),
            None,
            fm_error_message(&e),
            Some("a ticket starts with a `---` line, then YAML fields, then a closing `---` line"),
        )
    })?;
    let first = split.yaml_first_line;
    let mut simple = false;
    let raw: Raw = if split.yaml.trim().is_empty() {
        Raw::default()
    } else if let Some(raw) = simple_raw(split.yaml) {
        simple = true;
        raw
    } else {
        serde_saphyr::from_str(split.yaml).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line() as usize, Some(l.column() as usize)))
                .unwrap_or((1, None));
            let msg = yaml_message(&e.to_string());
            problem(
                first + line.saturating_sub(1),
                col,
                format!("invalid frontmatter: {msg}"),
                Some("fix the YAML; quote values that contain `: ` or start with a special character"),
            )
        })?
    };
    let field_line = |key: &str| -> usize {
        frontmatter::fields(text)
            .ok()
            .and_then(|fs| fs.into_iter().find(|f| f.key == key).map(|f| f.line))
            .unwrap_or(first.saturating_sub(1).max(1))
    };
    let id = non_empty(raw.id).ok_or_else(|| {
        problem(
            field_line("id"),
            None,
            "missing `id`".into(),
            Some("every ticket needs an id such as J-7f3ak2m9"),
        )
    })?;
    let kind_s = non_empty(raw.kind).ok_or_else(|| {
        problem(
            field_line("kind"),
            None,
            "missing `kind`".into(),
            Some("kind is one of phase-spec, job, task"),
        )
    })?;
    let kind: Kind = kind_s.parse().map_err(|m: String| {
        problem(
            field_line("kind"),
            None,
            m,
            Some("kind is one of phase-spec, job, task (the id's letter P-, J-, T- names it)"),
        )
    })?;
    let status = match non_empty(raw.status) {
        None => Status::Open,
        Some(s) => s.parse().map_err(|m: String| {
            problem(
                field_line("status"),
                None,
                m,
                Some("status is one of open, in_progress, review, done, escalated; wt's verbs change it (`wt claim`, `wt done`, `wt reopen`)"),
            )
        })?,
    };
    let priority = match raw.priority {
        None => DEFAULT_PRIORITY,
        Some(IntOrText::Int(p)) if (0..=MAX_PRIORITY as i64).contains(&p) => p as u8,
        Some(IntOrText::Text(p)) => {
            return Err(problem(
                field_line("priority"),
                None,
                format!("priority `{p}` is not a number"),
                Some("priority is 0 (most urgent) to 4"),
            ))
        }
        Some(IntOrText::Int(p)) => {
            return Err(problem(
                field_line("priority"),
                None,
                format!("priority {p} is out of range"),
                Some("priority is 0 (most urgent) to 4"),
            ))
        }
    };
    let title = non_empty(raw.title).ok_or_else(|| {
        problem(
            field_line("title"),
            None,
            "missing `title`".into(),
            Some("every ticket needs a one-line `title:`"),
        )
    })?;
    // IDs and titles are printed on every line that names a ticket: no control characters.
    for (key, value) in [("id", &id), ("title", &title)] {
        if let Some(c) = crate::model::text::first_unsafe(value) {
            return Err(problem(
                field_line(key),
                None,
                format!(
                    "{key} contains the control character {} ({})",
                    crate::model::text::code_point(c),
                    crate::model::text::one_line(value)
                ),
                Some("ids and titles are one line of printable text: remove the character"),
            ));
        }
    }
    // A count or position: 0 or more.
    let counter = |v: Option<i64>, key: &str, hint: &str| -> Result<Option<u32>, Problem> {
        match v {
            None => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| {
                problem(
                    field_line(key),
                    None,
                    format!("{key} {n} is out of range"),
                    Some(hint),
                )
            }),
        }
    };
    let attempts = counter(
        raw.attempts,
        "attempts",
        "attempts counts failed audits: 0 or more",
    )?
    .unwrap_or(0);
    let order = counter(
        raw.order,
        "order",
        "order is the position among siblings: 0 or more",
    )?;
    let gate = non_empty(raw.gate);
    if let Some(g) = &gate {
        if g != GATE_APPROVAL {
            return Err(problem(
                field_line("gate"),
                None,
                format!("unknown gate `{g}`"),
                Some("the only gate is `approval`; remove the field for no gate"),
            ));
        }
    }
    let clean = |v: Option<Vec<String>>| -> Vec<String> {
        v.unwrap_or_default()
            .into_iter()
            .map(trimmed)
            .filter(|s| !s.is_empty())
            .collect()
    };
    let ticket = Ticket {
        id,
        kind,
        title,
        status,
        priority,
        parent: non_empty(raw.parent),
        depends_on: clean(raw.depends_on),
        claimed_by: non_empty(raw.claimed_by),
        claimed_at: non_empty(raw.claimed_at),
        claim_expires: non_empty(raw.claim_expires),
        claim_token: non_empty(raw.claim_token),
        claim_stolen_from: non_empty(raw.claim_stolen_from),
        created: non_empty(raw.created),
        updated: non_empty(raw.updated),
        files: clean(raw.files),
        artifacts: clean(raw.artifacts),
        labels: clean(raw.labels),
        attempts,
        implemented_by: non_empty(raw.implemented_by),
        gate,
        approved_by: non_empty(raw.approved_by),
        approved_at: non_empty(raw.approved_at),
        order,
        aliases: clean(raw.aliases),
        links: clean(raw.links),
        source: non_empty(raw.source),
        source_hash: non_empty(raw.source_hash),
        path: path.to_string(),
    };
    Ok((ticket, simple))
}

/// The YAML parser's message without the location it puts in the text (`error: line 3
/// column 8: ...` or `... at line 3, column 8`): that location counts from the first line
/// after `---`, and a [`Problem`] carries the file's own line and column.
fn yaml_message(full: &str) -> String {
    use std::sync::OnceLock;
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r"^(?:error: )?(?:line \d+ column \d+: )?(.*?)(?: at line \d+, column \d+)?$",
        )
        .expect("valid regex")
    });
    let first = full.lines().next().unwrap_or("").trim();
    let msg = re
        .captures(first)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim())
        .unwrap_or(first);
    if msg.is_empty() {
        "invalid YAML".to_string()
    } else {
        msg.to_string()
    }
}

fn fm_error_line(e: &frontmatter::FrontmatterError) -> usize {
    use frontmatter::FrontmatterError as E;
    match e {
        E::NoFrontmatter { line }
        | E::Unterminated { line }
        | E::UnexpectedLine { line, .. }
        | E::UnterminatedValue { line, .. } => *line,
    }
}

/// The error's message without its `line N:` prefix and hint (a Problem carries both).
fn fm_error_message(e: &frontmatter::FrontmatterError) -> String {
    let s = e.to_string();
    let s = match s.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") => rest.to_string(),
        _ => s,
    };
    match s.split_once(" (hint:") {
        Some((m, _)) => m.to_string(),
        None => s,
    }
}

/// Why `p`, a `files:` or `artifacts:` entry, is not a repository-relative path (None when it
/// is one). Such paths are relative to the repository root: not absolute (`/etc/passwd`,
/// `C:\x`, `~/x`), without `..` segments, not inside `.git`, one line of printable text.
/// Globs (`src/**/*.rs`) are fine. Where a path leads through symbolic links is checked
/// against the working tree by the verbs that read it.
pub fn path_problem(p: &str) -> Option<String> {
    if let Some(c) = crate::model::text::first_unsafe(p) {
        return Some(format!(
            "contains the control character {}",
            crate::model::text::code_point(c)
        ));
    }
    let b = p.as_bytes();
    if p.starts_with(['/', '\\']) || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':') {
        return Some("is absolute; paths are relative to the repository root".into());
    }
    if p.starts_with('~') {
        return Some("starts with `~`; paths are relative to the repository root".into());
    }
    for seg in p.split(['/', '\\']) {
        if seg == ".." {
            return Some("has a `..` segment; paths stay inside the repository".into());
        }
        if seg.eq_ignore_ascii_case(".git") {
            return Some("is inside `.git`, git's own folder".into());
        }
    }
    None
}

/// Is this repository path a ticket file? (`.work/**/X-xxxx*.md`, not under templates.)
pub fn is_ticket_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix(".work/") else {
        return false;
    };
    if rest.starts_with("templates/") || !rest.ends_with(".md") {
        return false;
    }
    let name = rest.rsplit('/').next().unwrap_or(rest);
    looks_like_id_prefix(name)
}

/// Does this file name start like a ticket ID (`P-`, `J-`, `T-` then an alphanumeric)?
pub fn looks_like_id_prefix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 2
        && matches!(b[0], b'P' | b'J' | b'T')
        && b[1] == b'-'
        && b[2].is_ascii_alphanumeric()
}

impl Ticket {
    pub fn is_claimed(&self) -> bool {
        self.claimed_by.is_some()
    }
    /// Everything about this ticket that the dependency graph reads: two tickets with equal
    /// keys block and unblock the same tickets (see [`crate::schedule::graph::Graph::unblocked`]).
    pub fn graph_key(&self) -> GraphKey<'_> {
        (
            &self.id,
            self.parent.as_deref(),
            &self.depends_on,
            self.status == Status::Done,
            self.awaits_approval(),
            // A parent of the wrong kind, or an ID whose letter names another kind, blocks.
            self.kind,
        )
    }

    /// [`Ticket::graph_key`] plus what orders ready tickets (kind, priority, age): two
    /// tickets with equal keys are scheduled alike (see [`crate::schedule::graph::Graph::ready`]).
    pub fn schedule_key(&self) -> (GraphKey<'_>, Kind, u8, Option<&str>) {
        (
            self.graph_key(),
            self.kind,
            self.priority,
            self.created.as_deref(),
        )
    }

    /// Carries a gate that no one has approved yet.
    pub fn awaits_approval(&self) -> bool {
        self.gate.is_some() && self.approved_by.is_none()
    }
    /// The claim's lease expiry, when it has a readable one.
    pub fn lease_expiry(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let e = self.claim_expires.as_deref()?;
        chrono::DateTime::parse_from_rfc3339(e)
            .ok()
            .map(|d| d.with_timezone(&chrono::Utc))
    }
    /// Claimed, and the lease ran out before `now` (an unreadable expiry never counts as
    /// stale: wt fails closed and `wt check` names it).
    pub fn is_stale(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.claimed_by.is_some() && self.lease_expiry().is_some_and(|e| e <= now)
    }
    /// The folder this ticket's children live in: the file path without `.md`.
    pub fn child_dir(&self) -> String {
        self.path
            .strip_suffix(".md")
            .unwrap_or(&self.path)
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values that YAML readers disagree on or that change meaning with one character.
    const VALUES: &[&str] = &[
        "",
        " ",
        "[]",
        "[ ]",
        "[a, b]",
        "[ J-1 ,J-2 ]",
        "[J-0p9c38h5]",
        "[\"a\", b]",
        "[a,]",
        "[,]",
        "[true]",
        "[1]",
        "[a b]",
        "[src/*.rs]",
        "[tm:master:12.3]",
        "[type:bug, a]",
        "[a:, b]",
        "[a: b]",
        "[a:b:]",
        "[:a]",
        "[a::b]",
        "[a:-b]",
        "beads:bd-a3f8",
        "[a, [b]]",
        "[\"x\\\"y\"]",
        "\"quoted\"",
        "\"with \\\" escape\"",
        "\"\"",
        "\" spaced \"",
        "\"a\" b",
        "'single'",
        "null",
        "~",
        "Null",
        "NULL",
        "true",
        "yes",
        "No",
        "on",
        "y",
        "n",
        "123",
        "0",
        "007",
        "-1",
        "+1",
        "1.5",
        "0x1f",
        "1e3",
        ".inf",
        ".nan",
        "abc",
        "a: b",
        "a #c",
        "a#c",
        "C#",
        "foo:",
        ":foo",
        "&anchor x",
        "*alias",
        "!tag x",
        "!!str 1",
        "|",
        ">",
        "- item",
        "a, b",
        "{a: b}",
        "x\ty",
        "Ünïcode",
        "é",
        "2026-01-01T00:00:00Z",
        "\"2026-01-01T00:00:00Z\"",
        "a  ",
        "job",
        "task",
        "open",
        "in_progress",
        "approval",
        "Write the email email",
        "it's a \"title\"",
        "a [b] {c}",
        "%x",
        "@x",
        "`x`",
        "?x",
        "a\r",
        "99999999999999999999",
    ];

    fn keys() -> Vec<&'static str> {
        assert!(KNOWN_FIELDS.len() <= 32);
        let mut k = KNOWN_FIELDS.to_vec();
        k.extend(["estimate", "Title", "id ", " id", "depends_on "]);
        k
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whenever the simple reader answers, serde-saphyr answers the same.
        #[test]
        fn simple_reading_agrees_with_serde_saphyr(
            lines in prop::collection::vec(
                (prop::sample::select(keys()), prop::sample::select(VALUES.to_vec()), 0..4u8),
                1..8,
            )
        ) {
            let yaml: String = lines
                .iter()
                .map(|(k, v, sep)| match sep {
                    0 => format!("{k}:{v}\n"),
                    1 => format!("{k}:  {v}\n"),
                    2 => format!("{k}:\n"),
                    _ => format!("{k}: {v}\n"),
                })
                .collect();
            if let Some(fast) = simple_raw(&yaml) {
                // What parse_reading promises: simply read means no unknown key.
                let text = format!("---\n{yaml}---\n");
                for f in frontmatter::fields(&text).unwrap_or_default() {
                    prop_assert!(known_field(&f.key).is_some(), "{}\n{}", f.key, yaml);
                }
                let slow: Result<Raw, _> = serde_saphyr::from_str(&yaml);
                match slow {
                    Ok(slow) => prop_assert_eq!(fast, slow, "{}", yaml),
                    Err(e) => prop_assert!(false, "saphyr refused what the simple reader took: {e}\n{yaml}"),
                }
            }
        }
    }

    #[test]
    fn known_field_is_the_position_in_known_fields() {
        for (i, k) in KNOWN_FIELDS.iter().enumerate() {
            assert_eq!(known_field(k), Some(i), "{k}");
        }
        for other in ["", "Id", "id ", "estimate", "claimed", "source_hashes"] {
            assert_eq!(known_field(other), None, "{other}");
        }
    }

    #[test]
    fn repository_relative_paths_are_told_from_the_rest() {
        for ok in [
            "src/lib.rs",
            "src/**/*.rs",
            "a..b/c",
            ".github/x",
            "docs/",
            "x~",
            "ab:c",
        ] {
            assert_eq!(path_problem(ok), None, "{ok}");
        }
        for bad in [
            "~x",
            "a:b/c",
            "/etc/passwd",
            "\\server\\x",
            "C:\\x",
            "c:/x",
            "~/x",
            "../x",
            "a/../../x",
            "a\\..\\x",
            ".git/config",
            "sub/.GIT/x",
            "a\u{1b}b",
            "a\nb",
        ] {
            assert!(path_problem(bad).is_some(), "{bad}");
        }
    }

    /// The frontmatter wt itself writes takes the simple path (or the speed-up is lost).
    #[test]
    fn frontmatter_that_wt_writes_is_read_simply() {
        let yaml = "id: T-4g1es69m\nkind: task\ntitle: Write the email email\nstatus: open\npriority: 2\nparent: J-07qbs9vp\ndepends_on: [T-0p9c38h5, T-1ja787s4]\nclaimed_by:\nclaimed_at:\nclaim_expires:\nclaim_token:\ncreated: \"2026-11-21T00:08:51Z\"\nupdated: \"2026-11-21T00:08:51Z\"\nfiles: [src/audit.rs, docs/a-b_c.md]\nartifacts: []\nlabels: []\nattempts: 1\ngate: approval\napproved_by:\norder: 3\n";
        let fast = simple_raw(yaml).expect("simple");
        let slow: Raw = serde_saphyr::from_str(yaml).expect("yaml");
        assert_eq!(fast, slow);
        assert_eq!(fast.depends_on.as_deref().map(<[String]>::len), Some(2));
    }
}
