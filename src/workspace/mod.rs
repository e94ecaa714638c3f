//! A wt workspace: the repository, the state branch, and the two things every verb does —
//! read a [`Snapshot`] of the tickets at the branch tip, or [`Workspace::write`] one commit
//! on it by compare-and-swap.
//!
//! Writers on one machine take an advisory `flock` on `<common git dir>/wt.lock` (released by
//! the OS even when a process is killed, so it can never be left stale), then commit by
//! compare-and-swap on the branch ref; CAS still protects against `git` and other clones'
//! pushes moving the branch, and a lost race re-reads the tip and re-applies the change.

mod memo;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::Oid;
use rand::RngExt;

use crate::error::{Error, Result};
use crate::model::config::{Config, CONFIG_PATH, WORK_DIR};
use crate::model::ticket::{Kind, Problem, Status, Ticket};
use crate::model::ticket_file::Parsed;
use crate::schedule::graph::Graph;
use crate::store::{CasOutcome, Edit, Store};

/// How many times a writer re-reads and retries after losing a race.
const MAX_ATTEMPTS: u32 = 40;

/// The tickets at one commit of the state branch.
pub struct Snapshot {
    pub tip: Option<Oid>,
    /// Id of the `.work` tree (None when there is none).
    pub work_tree: Option<Oid>,
    pub config: Config,
    pub tickets: Vec<Ticket>,
    /// Ticket files that could not be read, with file, line and hint.
    pub problems: Vec<Problem>,
    /// Every regular file under `.work/` by path (fast hashing: 10,000 short keys per load).
    /// Symbolic links, submodules and names that are not UTF-8 are not here: they are in
    /// `problems`.
    pub blobs: rustc_hash::FxHashMap<String, Oid>,
    /// Per ticket path, frontmatter keys wt does not know, with their lines (`wt check`).
    pub unknown_fields: HashMap<String, Vec<(String, usize)>>,
    /// Set when this snapshot holds one ticket only (a write that [`Reads`] one ticket, and
    /// the id lookup covered the tip): `tickets` is that ticket and `blobs` its file and the
    /// config. Questions it cannot answer fail with [`Error::needs_every_ticket`], and the
    /// write loop asks again on every ticket.
    partial: Option<Partial>,
    /// In a one-ticket snapshot of `claim --next`: the tickets claimed with `files`, as (ID,
    /// files), from the id lookup and the delta log (see [`Snapshot::claims_holding_files`]).
    held: Option<Vec<(String, Vec<String>)>>,
    /// In a one-ticket snapshot of [`Reads::TicketAndAbove`] whose ticket may close the ones
    /// above it: those tickets, read from their files, with what is under each (see
    /// [`Snapshot::lineage`]).
    above: Option<Known>,
    /// Set on a full load of a commit's `.work` tree that no id lookup covers (or when a
    /// fresh one is wanted): the cache directory to write it to. The first
    /// [`Snapshot::graph`] writes it from the graph it builds for the verb anyway, so a
    /// verb that needs no graph (`list`) pays for none, and one that does
    /// builds it once.
    owes_lookup: std::sync::Mutex<Option<PathBuf>>,
}

/// A ticket under a ticket of a [`Lineage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    /// Which ticket it is: the same key for the same ticket within one [`Lineage`].
    pub key: usize,
    pub kind: Kind,
    /// It is done, and so is everything under it.
    pub complete: bool,
}

/// A ticket above another ([`Snapshot::lineage`]).
#[derive(Debug, Clone)]
pub struct Above<'s> {
    /// Which ticket it is (compare with [`Child::key`] and [`Lineage::key`]).
    pub key: usize,
    pub ticket: &'s Ticket,
    /// The tickets whose parent it is.
    pub children: Vec<Child>,
}

/// A ticket's place under the tickets above it: what finishing it may close.
#[derive(Debug, Clone)]
pub struct Lineage<'s> {
    /// The ticket's own key.
    pub key: usize,
    /// Its parent, that one's parent and so on, nearest first, each once.
    pub above: Vec<Above<'s>>,
}

/// The tickets above the ticket of a one-ticket snapshot, as read ([`Snapshot::above`]).
#[derive(Debug, Clone)]
struct Known {
    key: usize,
    above: Vec<(usize, Ticket, Vec<Child>)>,
}

/// A ticket claimed with `files` ([`Snapshot::claims_holding_files`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<'a> {
    pub id: &'a str,
    pub files: &'a [String],
}

/// What a write reads to decide its change: any tickets, the one an ID names, or the best
/// ready one of a kind. It says nothing about how the tickets are loaded: the workspace may
/// start from fewer tickets when that answers every question the write asks, and falls back
/// to all of them when it does not.
#[derive(Clone, Copy, Debug)]
pub enum Reads<'q> {
    /// Any ticket.
    All,
    /// The ticket an ID or unique prefix names (and whether the graph leaves it free).
    Ticket(&'q str),
    /// The same, and the tickets above it with what is under each, when finishing it may
    /// close them ([`Snapshot::lineage`]).
    TicketAndAbove(&'q str),
    /// The first ticket `wt ready --kind` would list (None: any kind); with `free_files`,
    /// the first whose `files` overlap no claimed ticket's.
    NextReady {
        kind: Option<Kind>,
        free_files: bool,
    },
}

/// The commit a scoped write reads from: its tree, `.work` tree and config file.
struct At<'a> {
    tip: Oid,
    root: Oid,
    work_tree: Oid,
    config: Option<(Oid, &'a [u8])>,
}

/// How many of the best candidates `claim --next` reads before it loads every ticket.
const NEXT_PROBES: usize = 64;

/// What a one-ticket snapshot knows about the tickets it does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Partial {
    /// Nothing in the dependency graph blocks the ticket ([`Graph::unblocked`]).
    unblocked: bool,
    /// The ticket is the first one of the ready list of this kind (`Some(None)`: any kind).
    first_ready_of: Option<Option<Kind>>,
    /// Some ticket under it is not done.
    open_children: bool,
    /// It is the last ticket not done under its parent.
    last_open_child: bool,
}

impl Snapshot {
    /// The ticket an ID or unique prefix names. When none does but a file that could not be
    /// read is named like it, the error says what is wrong with that file, and where.
    pub fn resolve(&self, query: &str) -> Result<&Ticket> {
        crate::model::id::resolve(&self.tickets, query).map_err(|e| {
            let q = query.trim();
            let unreadable = (e.kind == crate::error::ErrorKind::NotFound && !q.is_empty())
                .then(|| {
                    self.problems.iter().find(|p| {
                        let name = p.path.rsplit('/').next().unwrap_or(&p.path);
                        name.get(..q.len())
                            .is_some_and(|head| head.eq_ignore_ascii_case(q))
                    })
                })
                .flatten();
            match unreadable {
                Some(p) => {
                    Error::invalid(format!(
                        "{q} cannot be read: {}:{}: {}",
                        p.path, p.line, p.message
                    ))
                    .with_hint(p.hint.clone().unwrap_or_else(|| {
                        "fix the file; `wt check` lists every problem".to_string()
                    }))
                }
                None => e,
            }
        })
    }
    /// The dependency graph of the snapshot's tickets. In a write that started from fewer
    /// tickets this fails with [`Error::needs_every_ticket`], and the write runs again on all.
    pub fn graph(&self) -> Result<Graph<'_>> {
        if self.partial.is_some() {
            return Err(Error::needs_every_ticket());
        }
        let g = Graph::new(&self.tickets);
        let owed = self.owes_lookup.lock().ok().and_then(|mut d| d.take());
        if let (Some(dir), Some(tree)) = (owed, self.work_tree) {
            crate::derived::lookup::record(&dir, tree, &g);
        }
        Ok(g)
    }

    /// The tickets `wt ready --kind` lists, best first (indexes into `tickets`).
    pub fn ready(&self, kind: Option<Kind>) -> Result<Vec<usize>> {
        match self.partial {
            Some(Partial {
                first_ready_of: Some(k),
                ..
            }) if k == kind => Ok(vec![0]),
            _ => Ok(self.graph()?.ready(kind)),
        }
    }

    /// Does the dependency graph leave ticket `t` (of this snapshot) free to start? A
    /// one-ticket snapshot answers from the id lookup; a full one builds the graph.
    pub fn unblocked(&self, t: &Ticket) -> Result<bool> {
        match &self.partial {
            Some(p) => Ok(p.unblocked),
            None => {
                let g = self.graph()?;
                Ok(g.index_of(&t.id).is_none_or(|i| g.unblocked(i)))
            }
        }
    }
    /// The tickets under `t` that are not done (every level), in walk order. A one-ticket
    /// snapshot answers "none" from the id lookup, and asks for every ticket otherwise.
    pub fn open_descendants(&self, t: &Ticket) -> Result<Vec<&Ticket>> {
        match &self.partial {
            Some(p) if !p.open_children => Ok(Vec::new()),
            Some(_) => Err(Error::needs_every_ticket()),
            None => {
                let g = self.graph()?;
                Ok(match g.index_of(&t.id) {
                    Some(i) => g
                        .open_descendants_of(i)
                        .into_iter()
                        .map(|c| &self.tickets[c])
                        .collect(),
                    None => Vec::new(),
                })
            }
        }
    }

    /// Ticket `t` (of this snapshot) and the tickets above it, with what is under each:
    /// what finishing it may close. A one-ticket snapshot knows none above when a sibling
    /// is still open (finishing it closes nothing), knows them when it was made for
    /// [`Reads::TicketAndAbove`], and asks for every ticket otherwise.
    pub fn lineage(&self, t: &Ticket) -> Result<Lineage<'_>> {
        let none = Lineage {
            key: 0,
            above: Vec::new(),
        };
        match (&self.partial, &self.above) {
            (Some(p), _) if t.parent.is_none() || !p.last_open_child => Ok(none),
            (Some(_), Some(known)) => Ok(Lineage {
                key: known.key,
                above: known
                    .above
                    .iter()
                    .map(|(key, ticket, children)| Above {
                        key: *key,
                        ticket,
                        children: children.clone(),
                    })
                    .collect(),
            }),
            (Some(_), None) => Err(Error::needs_every_ticket()),
            (None, _) => {
                let g = self.graph()?;
                let Some(key) = g.index_of(&t.id) else {
                    return Ok(none);
                };
                let mut above: Vec<Above<'_>> = Vec::new();
                let mut cur = key;
                while let Some(p) = g.parent(cur) {
                    if p == key || above.iter().any(|a| a.key == p) {
                        break;
                    }
                    let children = g
                        .children(p)
                        .iter()
                        .map(|&c| Child {
                            key: c,
                            kind: self.tickets[c].kind,
                            complete: g.is_complete(c),
                        })
                        .collect();
                    above.push(Above {
                        key: p,
                        ticket: &self.tickets[p],
                        children,
                    });
                    cur = p;
                }
                Ok(Lineage { key, above })
            }
        }
    }

    /// The tickets claimed with `files` (the files `claim --next` keeps clear of). A
    /// one-ticket snapshot of `claim --next` knows them; any other asks for every ticket.
    pub fn claims_holding_files(&self) -> Result<Vec<Held<'_>>> {
        match (&self.partial, &self.held) {
            (Some(_), Some(held)) => {
                Ok(held.iter().map(|(id, files)| Held { id, files }).collect())
            }
            (Some(_), None) => Err(Error::needs_every_ticket()),
            (None, _) => Ok(self
                .tickets
                .iter()
                .filter(|t| t.claimed_by.is_some() && !t.files.is_empty())
                .map(|t| Held {
                    id: &t.id,
                    files: &t.files,
                })
                .collect()),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Ticket> {
        self.tickets.iter().find(|t| t.id == id)
    }
    pub fn has_id(&self, id: &str) -> bool {
        self.tickets.iter().any(|t| t.id == id)
    }
}

/// A structured commit message: `wt: <verb> <subject>` plus trailers.
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub verb: String,
    pub subject: String,
    pub tickets: Vec<String>,
    pub agent: Option<String>,
    pub trailers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Trailers list at most this many ticket IDs; larger commits carry a count.
const MAX_TICKET_TRAILERS: usize = 100;

impl Message {
    pub fn new(verb: &str, subject: impl Into<String>) -> Message {
        Message {
            verb: verb.to_string(),
            subject: subject.into(),
            ..Default::default()
        }
    }
    pub fn ticket(mut self, id: &str) -> Self {
        self.tickets.push(id.to_string());
        self
    }
    pub fn agent(mut self, agent: Option<&str>) -> Self {
        self.agent = agent.map(str::to_string);
        self
    }
    pub fn trailer(mut self, k: &str, v: impl Into<String>) -> Self {
        self.trailers.push((k.to_string(), v.into()));
        self
    }
    pub fn render(&self) -> String {
        let mut s = format!("wt: {} {}", self.verb, one_line(&self.subject));
        if let Some(a) = &self.agent {
            s.push_str(&format!(" ({})", one_line(a)));
        }
        s.push_str("\n\n");
        if let Some(b) = &self.body {
            s.push_str(&crate::model::text::escape_text(b.trim_end()));
            s.push_str("\n\n");
        }
        s.push_str(&format!("Wt-Verb: {}\n", self.verb));
        for id in self.tickets.iter().take(MAX_TICKET_TRAILERS) {
            s.push_str(&format!("Wt-Ticket: {id}\n"));
        }
        if self.tickets.len() > MAX_TICKET_TRAILERS {
            s.push_str(&format!("Wt-Ticket-Count: {}\n", self.tickets.len()));
        }
        if let Some(a) = &self.agent {
            s.push_str(&format!("Wt-Agent: {}\n", one_line(a)));
        }
        for (k, v) in &self.trailers {
            s.push_str(&format!("{k}: {}\n", one_line(v)));
        }
        s
    }
}

/// `s` on one line of a commit message: line breaks become spaces, other control characters
/// are escaped (git cannot store a NUL, and `git log` would pass the rest to a terminal).
fn one_line(s: &str) -> String {
    crate::model::text::escape_line(&s.replace(['\n', '\r'], " ")).into_owned()
}

/// A ticket title as it appears in a commit subject.
pub fn quoted(title: &str) -> String {
    let mut t = one_line(title);
    if t.chars().count() > 72 {
        t = t.chars().take(71).collect::<String>() + "…";
    }
    format!("\"{}\"", t.replace('"', "'"))
}

/// What a write closure decided.
pub enum Outcome<T> {
    /// Commit these edits with this message and return the value.
    Commit {
        edits: Vec<Edit>,
        message: Message,
        value: T,
    },
    /// Nothing to change (e.g. claiming your own claim again).
    NoOp(T),
}

/// The result of a write.
pub struct Written<T> {
    pub commit: Option<Oid>,
    pub value: T,
    /// Non-fatal problems (e.g. a worktree index that stayed locked).
    pub warnings: Vec<String>,
    /// How many times the write lost a race and retried.
    pub retries: u32,
}

pub struct Workspace {
    pub store: Store,
    /// Name of the state branch (without refs/heads/).
    pub branch: String,
    /// A line for stderr about what opening the workspace did (it created the local state
    /// branch from the remote's in a fresh clone).
    pub notice: Option<String>,
}

impl Workspace {
    /// Open the workspace containing `cwd` and find its state branch (see
    /// [`find_state_branch`]).
    pub fn open(cwd: &Path) -> Result<Workspace> {
        let store = Store::discover(cwd)?;
        let (branch, notice) = find_state_branch(&store)?;
        let ws = Workspace {
            store,
            branch,
            notice,
        };
        match ws.store.branch_tip(&ws.branch)? {
            Some(tip) if ws.store.blob_at(tip, CONFIG_PATH)?.is_some() => Ok(ws),
            Some(_) => Err(Error::setup(format!(
                "branch `{}` has no {CONFIG_PATH}",
                ws.branch
            ))
            .with_hint("run `wt init` to set this repository up for wt")),
            None => Err(Error::setup(format!(
                "the state branch `{}` does not exist here",
                ws.branch
            ))
            .with_hint(format!(
                "fetch it (`git fetch origin {0}:{0}`) or run `wt init` on the branch that should hold tickets",
                ws.branch
            ))),
        }
    }

    /// The directory the user's files are relative to (the current worktree's root).
    pub fn workdir(&self) -> Option<&Path> {
        self.store.workdir()
    }

    pub fn tip(&self) -> Result<Option<Oid>> {
        self.store.branch_tip(&self.branch)
    }

    /// The config at the state branch's tip, as a snapshot there would have it (the
    /// defaults when the file is missing or invalid; `wt check` reports an invalid one),
    /// without loading the tickets.
    pub fn config(&self) -> Result<Config> {
        let Some(tip) = self.tip()? else {
            return Ok(Config::default());
        };
        let Some(blob) = self.store.blob_at(tip, CONFIG_PATH)? else {
            return Ok(Config::default());
        };
        let text = self.store.read_blob(blob)?;
        Ok(Config::parse(&String::from_utf8_lossy(&text)).unwrap_or_default())
    }

    /// The tickets at the state branch's tip.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let tip = self.tip()?;
        self.snapshot_at(tip)
    }

    /// The tickets at `tip`.
    pub fn snapshot_at(&self, tip: Option<Oid>) -> Result<Snapshot> {
        load_snapshot(&self.store, tip)
    }

    /// Text of a file at the snapshot (by path under `.work/`).
    pub fn read_text(&self, snap: &Snapshot, path: &str) -> Result<String> {
        let oid = snap
            .blobs
            .get(path)
            .ok_or_else(|| Error::not_found(format!("{path} is not on the state branch")))?;
        let bytes = self.store.read_blob(*oid)?;
        String::from_utf8(bytes).map_err(|_| Error::invalid(format!("{path} is not UTF-8 text")))
    }

    /// Hold the machine-wide writer lock for this repository.
    pub fn lock(&self) -> Result<WriterLock> {
        WriterLock::acquire(self.store.common_dir())
    }

    /// The writer lock if no other wt process holds it now (None: one does), without waiting.
    pub fn try_lock(&self) -> Result<Option<WriterLock>> {
        WriterLock::try_acquire(self.store.common_dir())
    }

    /// Make one commit on the state branch. `f` sees the tickets at the tip and decides the
    /// edits; when the branch moved underneath (another clone, `git`), `f` runs again on the
    /// new tip. `reads` says what `f` reads (see [`Reads`]); `f` may run more than once and
    /// must not act outside its result.
    pub fn write<T>(
        &self,
        reads: Reads<'_>,
        f: impl FnMut(&Snapshot) -> Result<Outcome<T>>,
    ) -> Result<Written<T>> {
        self.write_loop(reads, f)
    }

    /// The one-ticket snapshot a scoped write starts from; None sends the caller down the
    /// full path (which also reports every error).
    fn scoped_snapshot(&self, tip: Option<Oid>, scope: Reads<'_>) -> Result<Option<Snapshot>> {
        let Some(tip) = tip else { return Ok(None) };
        if matches!(scope, Reads::All) {
            return Ok(None);
        }
        let root = self.store.commit_tree(tip)?;
        let Some(work_tree) = self.store.work_tree_in(root, WORK_DIR)? else {
            return Ok(None);
        };
        let config = match self.store.blob_in(root, CONFIG_PATH)? {
            Some(c) => Some((c, self.store.read_blob(c)?)),
            None => None,
        };
        let at = At {
            tip,
            root,
            work_tree,
            config: config.as_ref().map(|(c, text)| (*c, text.as_slice())),
        };
        match scope {
            Reads::All => Ok(None),
            Reads::Ticket(query) => {
                match crate::derived::lookup::find(&self.store, work_tree, query) {
                    Some(found) => self.one_ticket_snapshot(&at, found, None),
                    None => Ok(None),
                }
            }
            Reads::TicketAndAbove(query) => {
                let Some((found, lineage)) =
                    crate::derived::lookup::find_with_lineage(&self.store, work_tree, query)
                else {
                    return Ok(None);
                };
                let may_close = found.last_open_child;
                let Some(mut snap) = self.one_ticket_snapshot(&at, found, None)? else {
                    return Ok(None);
                };
                if may_close && snap.tickets[0].parent.is_some() {
                    let Some(known) = lineage
                        .map(|l| self.above(&at, l, &mut snap))
                        .transpose()?
                        .flatten()
                    else {
                        return Ok(None);
                    };
                    snap.above = Some(known);
                }
                Ok(Some(snap))
            }
            Reads::NextReady { kind, free_files } => {
                let Some(next) =
                    crate::derived::lookup::candidates(&self.store, work_tree, kind, NEXT_PROBES)
                else {
                    return Ok(None);
                };
                let held = match (free_files, next.held) {
                    (false, _) => Vec::new(),
                    (true, Some(held)) => held,
                    (true, None) => {
                        // Which tickets are claimed is not known from here: the full path
                        // answers, and writes a lookup that knows.
                        crate::derived::lookup::want_fresh();
                        return Ok(None);
                    }
                };
                let patterns: Vec<_> = held
                    .iter()
                    .map(|(id, files)| (id.as_str(), crate::schedule::overlap::patterns(files)))
                    .collect();
                // Do `files` (of ticket `id`) overlap a claim's (other than its own)?
                let clashes = |id: &str, files: &[String]| {
                    let mine = crate::schedule::overlap::patterns(files);
                    patterns.iter().any(|(h, ps)| {
                        *h != id && crate::schedule::overlap::first_overlap(&mine, ps).is_some()
                    })
                };
                for (found, files) in next.candidates {
                    // Files the lookup knows (the ticket is as it was then): a candidate that
                    // clashes is left out without reading it, as the full path leaves it out.
                    if free_files && files.is_some_and(|f| clashes(&found.id, &f)) {
                        continue;
                    }
                    let Some(mut snap) = self.one_ticket_snapshot(&at, found, Some(kind))? else {
                        return Ok(None);
                    };
                    let t = &snap.tickets[0];
                    if t.status != Status::Open || t.claimed_by.is_some() {
                        continue;
                    }
                    if free_files && clashes(&t.id, &t.files) {
                        continue;
                    }
                    snap.held = free_files.then_some(held);
                    return Ok(Some(snap));
                }
                // All taken, or nothing ready: the full path says which, and writes a fresh
                // lookup that knows which tickets are open now.
                crate::derived::lookup::want_fresh();
                Ok(None)
            }
        }
    }

    /// The snapshot of the one ticket `found` names at `at`, when its file parses to that
    /// ticket.
    fn one_ticket_snapshot(
        &self,
        at: &At<'_>,
        found: crate::derived::lookup::Found,
        first_ready_of: Option<Option<Kind>>,
    ) -> Result<Option<Snapshot>> {
        let Some(oid) = self.store.blob_in(at.root, &found.path)? else {
            return Ok(None);
        };
        let bytes = self.store.read_blob(oid)?;
        let (ticket, unknown) = match crate::model::ticket_file::parse_blob(&found.path, &bytes) {
            Parsed::Ticket {
                ticket,
                unknown_fields,
            } if ticket.id == found.id => (ticket, unknown_fields),
            _ => return Ok(None),
        };
        let mut snap = empty_snapshot(Some(at.tip));
        snap.work_tree = Some(at.work_tree);
        crate::derived::cache::with_stats(|s| s.one_ticket += 1);
        snap.partial = Some(Partial {
            unblocked: found.unblocked,
            first_ready_of,
            open_children: found.open_children,
            last_open_child: found.last_open_child,
        });
        if let Some((c, text)) = at.config {
            match Config::parse(&String::from_utf8_lossy(text)) {
                Ok(config) => snap.config = config,
                Err(p) => snap.problems.push(p),
            }
            snap.blobs.insert(CONFIG_PATH.to_string(), c);
        }
        if !unknown.is_empty() {
            snap.unknown_fields.insert(found.path.clone(), unknown);
        }
        snap.blobs.insert(found.path, oid);
        snap.tickets.push(ticket);
        Ok(Some(snap))
    }

    /// The tickets above a ticket at `at`, as the id lookup places them (`lineage`), each
    /// read from its file (added to `snap.blobs`, so the write can change it). None when a
    /// file does not hold the ticket the lookup names: the full path.
    fn above(
        &self,
        at: &At<'_>,
        lineage: crate::derived::lookup::Lineage,
        snap: &mut Snapshot,
    ) -> Result<Option<Known>> {
        let mut above = Vec::with_capacity(lineage.above.len());
        for a in lineage.above {
            let Some(oid) = self.store.blob_in(at.root, &a.path)? else {
                return Ok(None);
            };
            let bytes = self.store.read_blob(oid)?;
            let ticket = match crate::model::ticket_file::parse_blob(&a.path, &bytes) {
                Parsed::Ticket { ticket, .. } if ticket.id == a.id => ticket,
                _ => return Ok(None),
            };
            let children = a
                .children
                .iter()
                .map(|c| Child {
                    key: c.key,
                    kind: c.kind,
                    complete: c.complete,
                })
                .collect();
            snap.blobs.insert(a.path, oid);
            above.push((a.key, ticket, children));
        }
        Ok(Some(Known {
            key: lineage.key,
            above,
        }))
    }

    fn write_loop<T>(
        &self,
        scope: Reads<'_>,
        mut f: impl FnMut(&Snapshot) -> Result<Outcome<T>>,
    ) -> Result<Written<T>> {
        let _lock = self.lock()?;
        // Finish what a killed writer left (stale checkouts, its index lock); see recovery.
        let mut notes = crate::store::recovery::recover(&self.store)?;
        let mut rng = rand::rng();
        for attempt in 0..MAX_ATTEMPTS {
            let tip = self.tip()?;
            let mut snap = match take_kept(tip) {
                Some(s) => s,
                None => match self.scoped_snapshot(tip, scope)? {
                    Some(s) => s,
                    None => self.snapshot_at(tip)?,
                },
            };
            let mut decided = f(&snap);
            if snap.partial.is_some() && matches!(&decided, Err(e) if e.needs_all) {
                snap = self.snapshot_at(tip)?;
                decided = f(&snap);
            }
            let (edits, message, value) = match decided? {
                Outcome::NoOp(value) => {
                    keep(snap);
                    return Ok(Written {
                        commit: None,
                        value,
                        warnings: notes,
                        retries: attempt,
                    });
                }
                Outcome::Commit {
                    edits,
                    message,
                    value,
                } => (edits, message, value),
            };
            for e in &edits {
                if !e.path().starts_with(".work/") {
                    return Err(Error::internal(format!(
                        "refusing to commit {} outside .work/",
                        e.path()
                    )));
                }
            }
            let checkouts = self.store.checkouts_of(&self.branch)?;
            let old: Vec<(String, Option<Oid>)> = edits
                .iter()
                .map(|e| (e.path().to_string(), snap.blobs.get(e.path()).copied()))
                .collect();
            for c in &checkouts {
                self.store.check_checkout_clean(c, &old)?;
            }
            let journal = match checkouts.is_empty() {
                true => None,
                false => Some(crate::store::recovery::Journal::begin(
                    &self.store,
                    &self.branch,
                    tip,
                    &edits,
                )?),
            };
            crate::store::recovery::fault("before-commit");
            let marker = crate::store::recovery::RefMarker::new(&self.store, &self.branch);
            let cas = self
                .store
                .commit_cas(&self.branch, tip, &edits, &message.render());
            drop(marker);
            match cas? {
                CasOutcome::Committed(oid) => {
                    crate::store::recovery::fault("after-commit");
                    crate::derived::note_commit(
                        &self.store,
                        snap.work_tree,
                        oid,
                        &edits,
                        |p| snap.blobs.contains_key(p),
                        |p| snap.tickets.iter().find(|t| t.path == p),
                    );
                    let mut warnings = notes;
                    let mut behind = false;
                    for c in &checkouts {
                        if let Some(w) = self.store.update_checkout(c, &edits)? {
                            warnings.push(w);
                            behind = true;
                        }
                    }
                    crate::store::recovery::fault("after-checkouts");
                    // A checkout left behind (its index stayed locked) keeps the journal, so
                    // the next writer or `wt doctor` finishes the update.
                    if let (Some(j), false) = (journal, behind) {
                        j.finish();
                    }
                    finished_with(snap);
                    return Ok(Written {
                        commit: Some(oid),
                        value,
                        warnings,
                        retries: attempt,
                    });
                }
                CasOutcome::Raced => {
                    if let Some(j) = journal {
                        j.finish();
                    }
                    // A ref lock left by a killed process: wait for it, clear it once stale.
                    if let Some(n) =
                        crate::store::recovery::wait_or_clear_ref_lock(&self.store, &self.branch)?
                    {
                        notes.push(n);
                        continue;
                    }
                    let cap = 2u64.saturating_pow(attempt.min(7)) * 2;
                    std::thread::sleep(Duration::from_millis(rng.random_range(1..=cap.max(2))));
                }
            }
        }
        Err(Error::busy(format!(
            "the branch `{}` kept moving; gave up after {MAX_ATTEMPTS} attempts",
            self.branch
        ))
        .with_hint("another process is writing heavily; retry in a moment"))
    }
}

/// Read every ticket under `.work/` at `tip`.
pub fn load_snapshot(store: &Store, tip: Option<Oid>) -> Result<Snapshot> {
    match tip {
        Some(commit) => {
            let root = store.commit_tree(commit)?;
            load_snapshot_of_tree(store, root, tip)
        }
        None => Ok(empty_snapshot(None)),
    }
}

fn empty_snapshot(tip: Option<Oid>) -> Snapshot {
    Snapshot {
        tip,
        work_tree: None,
        config: Config::default(),
        tickets: Vec::new(),
        problems: Vec::new(),
        blobs: Default::default(),
        unknown_fields: HashMap::new(),
        partial: None,
        held: None,
        above: None,
        owes_lookup: std::sync::Mutex::new(None),
    }
}

/// Read every ticket under `.work/` in the root tree `root` — a commit's tree, or one that
/// belongs to no commit yet such as what is staged (`tip` is then None).
pub fn load_snapshot_of_tree(store: &Store, root: Oid, tip: Option<Oid>) -> Result<Snapshot> {
    let mut snap = empty_snapshot(tip);
    snap.work_tree = store.work_tree_in(root, WORK_DIR)?;
    // Through the cache: only blobs it has not seen are read and parsed.
    let entries = crate::derived::cache::work_entries(store, snap.work_tree)?.into_vec();
    snap.blobs.reserve(entries.len());
    // The config is read after the walk; its problem (if any) goes where it was found.
    let mut config: Option<(Oid, usize)> = None;
    let problems = &mut snap.problems;
    let unknown = &mut snap.unknown_fields;
    let blobs = &mut snap.blobs;
    // Collected in place: the tickets stay in the memory the entries were decoded into.
    snap.tickets = entries
        .into_iter()
        .filter_map(|e| {
            let mut ticket = None;
            // A link, a submodule, a name that is not UTF-8: never read, reported.
            if let Some(p) = crate::model::ticket_file::entry_problem(&e.path, e.kind) {
                problems.push(p);
                return None;
            }
            if e.path == CONFIG_PATH {
                config = Some((e.oid, problems.len()));
            } else {
                match e.parsed {
                    Some(Parsed::Ticket {
                        ticket: t,
                        unknown_fields,
                    }) => {
                        if !unknown_fields.is_empty() {
                            unknown.insert(e.path.clone(), unknown_fields);
                        }
                        ticket = Some(t);
                    }
                    Some(Parsed::Problem(p)) => problems.push(p),
                    None => {}
                }
            }
            blobs.insert(e.path, e.oid);
            ticket
        })
        .collect();
    if let Some((oid, at)) = config {
        let bytes = store.read_blob(oid)?;
        match Config::parse(&String::from_utf8_lossy(&bytes)) {
            Ok(c) => snap.config = c,
            Err(p) => snap.problems.insert(at, p),
        }
    }
    // The id lookup of a commit's `.work` tree (what one-ticket writes start from) is
    // derived once per tree, from the graph the first verb that needs one builds (see
    // `owes_lookup`).
    if let (Some(_), Some(tree)) = (tip, snap.work_tree) {
        if crate::derived::cache::enabled() {
            let dir = crate::derived::cache::dir(store);
            if crate::derived::lookup::fresh_wanted() || !crate::derived::lookup::covers(&dir, tree)
            {
                snap.owes_lookup = std::sync::Mutex::new(Some(dir));
            }
        }
    }
    Ok(snap)
}

/// Lines for stderr that tell where the time of this process went, when asked for:
/// `WT_DEBUG_STATS` (the caches: hits, tickets parsed) and `WT_DEBUG_INDEX` (git index refresh).
pub fn debug_lines() -> Vec<String> {
    let on = |var: &str| matches!(std::env::var(var), Ok(v) if !v.is_empty() && v != "0");
    let mut lines = Vec::new();
    if on("WT_DEBUG_STATS") {
        lines.push(crate::derived::cache::stats_line());
    }
    if on("WT_DEBUG_INDEX") {
        lines.push(crate::store::index::stats_line());
    }
    lines
}

static SHORT_LIVED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Declare that this process exits right after its command (the `wt` binary does): the last
/// snapshot of a write is then left for the OS to reclaim instead of being freed ticket by
/// ticket (about 100,000 allocations at 10,000 tickets).
pub fn set_short_lived(yes: bool) {
    SHORT_LIVED.store(yes, std::sync::atomic::Ordering::Relaxed);
}

/// Done with `snap` for good: drop it, or in a short-lived process, leave it to the OS.
pub fn finished_with(snap: Snapshot) {
    if SHORT_LIVED.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(snap);
    }
}

/// The snapshot of the last write that committed nothing, kept for the next write of this
/// process: `wt done` stops its first write to run the CI checks and then writes again,
/// usually on the same tip. A snapshot is a function of its commit id alone, so reusing it
/// for the same tip gives the same answers without loading 10,000 tickets twice.
static KEPT: std::sync::Mutex<Option<Snapshot>> = std::sync::Mutex::new(None);

fn keep(snap: Snapshot) {
    // A one-ticket snapshot is cheap to load again, and must not stand in for a full one.
    if snap.tip.is_none() || snap.partial.is_some() {
        return finished_with(snap);
    }
    if let Ok(mut k) = KEPT.lock() {
        if let Some(old) = k.replace(snap) {
            finished_with(old);
        }
    }
}

fn take_kept(tip: Option<Oid>) -> Option<Snapshot> {
    let mut k = KEPT.lock().ok()?;
    match k.take() {
        Some(s) if tip.is_some() && s.tip == tip => Some(s),
        Some(s) => {
            finished_with(s);
            None
        }
        None => None,
    }
}

/// Where the state branch was found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Located {
    /// A local branch (or the name of one that does not exist anywhere).
    Local(String),
    /// Only as a remote-tracking branch: `remote/name` holds the state, no local `name` does.
    Remote { remote: String, name: String },
}

/// Which branch holds the tickets: `WT_BRANCH`, git config `wt.branch`, the `branch:` in
/// HEAD's `.work/config.yaml`, or any local branch whose config names itself; in a fresh
/// clone, where the state branch exists only as a remote-tracking branch (`origin/tickets`),
/// a local branch is created from it (by compare-and-swap: only if there is none) and a line
/// for stderr says so.
pub fn find_state_branch(store: &Store) -> Result<(String, Option<String>)> {
    match locate_state_branch(store)? {
        Located::Local(b) => Ok((b, None)),
        Located::Remote { remote, name } => {
            let rref = format!("refs/remotes/{remote}/{name}");
            let tip = store.ref_target(&rref).ok_or_else(|| {
                Error::internal(format!("{rref} disappeared while wt was reading it"))
            })?;
            let created = store.create_branch(
                &name,
                tip,
                &format!("wt: state branch from {remote}/{name}"),
            )?;
            let note = created.then(|| {
                store.set_upstream(&name, &remote);
                format!(
                    "wt: created the local state branch `{name}` from {remote}/{name} (a fresh clone); `wt sync` keeps them in step"
                )
            });
            Ok((name, note))
        }
    }
}

/// The remote-tracking branch `<remote>/<name>` holding a wt config, if any (the remote
/// `origin` first).
fn remote_with_state(store: &Store, name: &str) -> Result<Option<String>> {
    let mut remotes: Vec<String> = Vec::new();
    for r in store.branch_refs()? {
        if let Some(rest) = r.strip_prefix("refs/remotes/") {
            if let Some((remote, branch)) = rest.split_once('/') {
                if branch == name && !remotes.iter().any(|x| x == remote) {
                    remotes.push(remote.to_string());
                }
            }
        }
    }
    remotes.sort_by_key(|r| r != "origin");
    for remote in remotes {
        if let Some(tip) = store.ref_target(&format!("refs/remotes/{remote}/{name}")) {
            if store.blob_at(tip, CONFIG_PATH)?.is_some() {
                return Ok(Some(remote));
            }
        }
    }
    Ok(None)
}

fn locate_state_branch(store: &Store) -> Result<Located> {
    // A branch named by the environment, git config or HEAD's config: local if it is there,
    // else the remote's.
    let named = |b: String| -> Result<Located> {
        if store.branch_tip(&b)?.is_none() {
            if let Some(remote) = remote_with_state(store, &b)? {
                return Ok(Located::Remote { remote, name: b });
            }
        }
        Ok(Located::Local(b))
    };
    if let Ok(b) = std::env::var("WT_BRANCH") {
        if !b.trim().is_empty() {
            return named(b.trim().to_string());
        }
    }
    if let Some(b) = store.config_string("wt.branch") {
        return named(b);
    }
    let from_commit = |oid: Oid, fallback: Option<String>| -> Result<Option<String>> {
        if let Some(blob) = store.blob_at(oid, CONFIG_PATH)? {
            let text = String::from_utf8_lossy(&store.read_blob(blob)?).into_owned();
            let cfg = Config::parse(&text)
                .map_err(|p| Error::invalid(p.to_string()).with_hint("fix .work/config.yaml"))?;
            return Ok(cfg.branch.or(fallback));
        }
        Ok(None)
    };
    if let Some(head) = store.head_commit() {
        if let Some(b) = from_commit(head, store.head_branch()?)? {
            return named(b);
        }
    }
    // Any local branch whose config names itself; then remote-tracking ones (a fresh clone
    // whose state branch is not checked out has only origin/<branch>), origin's first.
    let mut remote_hits = Vec::new();
    for r in store.branch_refs()? {
        let Some(tip) = store.ref_target(&r) else {
            continue;
        };
        if let Some(local) = r.strip_prefix("refs/heads/") {
            if from_commit(tip, Some(local.to_string()))?.as_deref() == Some(local) {
                return Ok(Located::Local(local.to_string()));
            }
        } else if let Some(rest) = r.strip_prefix("refs/remotes/") {
            let Some((remote, short)) = rest.split_once('/') else {
                continue;
            };
            if from_commit(tip, Some(short.to_string()))?.as_deref() == Some(short) {
                remote_hits.push((remote.to_string(), short.to_string()));
            }
        }
    }
    remote_hits.sort_by_key(|(r, _)| r != "origin");
    if let Some((remote, name)) = remote_hits.into_iter().next() {
        return Ok(Located::Remote { remote, name });
    }
    Err(Error::setup("this repository has no wt state (.work/) yet")
        .with_hint("run `wt init` on the branch that should hold the tickets"))
}

/// The machine-wide writer lock: an advisory lock on `wt.lock` in the common git directory
/// ([`crate::store::lock::FileLock`]). The OS releases it when the process exits, however it
/// exits.
pub struct WriterLock {
    _lock: crate::store::lock::FileLock,
}

impl WriterLock {
    /// The lock if it is free now; None when another process holds it.
    pub fn try_acquire(common_dir: &Path) -> Result<Option<WriterLock>> {
        Ok(
            crate::store::lock::FileLock::try_acquire(&common_dir.join("wt.lock"))?
                .map(|l| WriterLock { _lock: l }),
        )
    }

    /// The lock, waiting up to [`crate::store::lock::LOCK_TIMEOUT`] for another process.
    pub fn acquire(common_dir: &Path) -> Result<WriterLock> {
        crate::store::lock::FileLock::acquire(&common_dir.join("wt.lock"))
            .map(|l| WriterLock { _lock: l })
    }
}
