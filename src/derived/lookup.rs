//! The id lookup: what a one-ticket write (claim, release, heartbeat, done) needs to know
//! about the other 9,999 tickets, without loading them.
//!
//! Such a write reads one ticket and changes it. What it needs of the rest is where its
//! ticket lives (ID or prefix → path) and, for a claim, whether the dependency graph blocks
//! it ([`Graph::unblocked`]). Both are functions of the `.work` tree, so they are kept in
//! the cache directory next to the snapshot:
//!
//! - `lookup.bin`: the tree it was written for, then per ticket its ID, path, kind, whether
//!   the graph leaves it unblocked, whether it is done, whether it was open and unclaimed,
//!   whether something under it is not done, whether it is the last ticket not done under
//!   its parent, whether it was claimed with `files`, whether it has aliases, whether it and
//!   everything under it is done, its rank in the schedule order, its parent, and its
//!   `files` (cache file header, xxh3). With it `claim --next`
//!   reads the best candidates one by one until one is open and unclaimed (and its files
//!   are free: the claims holding files and the candidates' own files come from the
//!   lookup, or from the delta log for a ticket wt rewrote since, so a candidate that
//!   overlaps a claim is skipped without reading its file), and `done` knows whether
//!   finishing a ticket may close its container and, when it may, which tickets are above
//!   it and what is under each of them ([`find_with_lineage`]): it reads those few files, not every
//!   ticket. A query that is not an
//!   exact ID may be an alias (an ID from the tracker a ticket was imported from): in a tree
//!   with aliases it goes down the full path.
//! - `lookup.keys`: 36-byte frames (`.work` tree id, checksum of the `lookup.bin` payload it
//!   belongs to, frame checksum), one per tree the lookup is exact for.
//!
//! A full load that builds the graph writes the lookup for its tree when none covers it
//! ([`record`]). A commit that keeps every ticket's path, every field the graph reads and
//! its kind, priority and age (claim, release, heartbeat, done into review: see
//! [`crate::model::ticket::Ticket::schedule_key`]) leaves the lookup exact — but for the "was
//! open" and "claimed with files" flags and the `files`, which `claim --next` takes only for
//! tickets the delta log shows no wt commit rewrote since — so the writer only appends a
//! frame for the new tree
//! ([`note_successor`]); any other commit adds none, and the next full load writes a new
//! lookup. Like the rest of the cache it is derived data: missing, stale or corrupt files
//! send the write down the full path, which gives the same answers (tested).

use std::fs;
use std::path::Path;

use crate::store::Oid;
use xxhash_rust::xxh3::xxh3_64;

use crate::derived::cache::{self, RawOid, HEADER_LEN};
use crate::model::ticket::{Kind, Ticket};
use crate::model::ticket_file::Parsed;
use crate::schedule::graph::Graph;
use crate::store::Store;

const LOOKUP_FILE: &str = "lookup.bin";
const LOOKUP_MAGIC: &[u8; 8] = b"wtlook5\n";
const KEYS_FILE: &str = "lookup.keys";
/// tree id (20), payload checksum (8), frame checksum (8).
const FRAME: usize = 36;
/// Past this many frames the keys file is rewritten with the newest [`KEEP_FRAMES`].
const MAX_FRAMES: usize = 1024;
const KEEP_FRAMES: usize = 64;

/// One ticket as written: ID, path, kind, flags (see [`flag`]), rank, parent (its record's
/// position, [`NO_PARENT`] for none), `files`.
type Row<'a> = (&'a str, &'a str, Kind, u16, u32, u32, &'a [String]);

/// The parent of a ticket without one (or whose parent is not a ticket of the tree).
const NO_PARENT: u32 = u32::MAX;

/// The bits of a ticket's flags (two bytes).
mod flag {
    /// Nothing in the dependency graph blocks it.
    pub const UNBLOCKED: u16 = 1;
    /// Done: never ready again while the lookup holds (done-ness is in the graph key).
    pub const DONE: u16 = 2;
    /// Open and unclaimed when the lookup was written.
    pub const OPEN: u16 = 4;
    /// Some ticket under it is not done (parent and done-ness are in the graph key).
    pub const OPEN_CHILDREN: u16 = 8;
    /// It is not done, has a parent, and every other child of that parent is done.
    pub const LAST_OPEN_CHILD: u16 = 16;
    /// Claimed, with `files`, when the lookup was written.
    pub const HOLDS_FILES: u16 = 32;
    /// It has aliases (IDs from the tracker it was imported from): a query that is not an
    /// exact ID may name one of them, which only the full path knows.
    pub const ALIASED: u16 = 64;
    /// Its `files` list is not empty: the entries follow the parent.
    pub const FILES: u16 = 128;
    /// It is done and so is everything under it ([`Graph::is_complete`]; parent and
    /// done-ness are in the graph key).
    pub const COMPLETE: u16 = 256;
}

/// One ticket of the lookup, as read from the file (the path is rebuilt while reading).
/// The ID and path are bytes: checked to be UTF-8 ([`text`]) only where a caller uses them
/// as text, so a scan over 10,000 tickets validates none of those it passes over.
struct Rec<'a> {
    id: &'a [u8],
    kind: Kind,
    flags: u16,
    /// Position in the schedule order of all tickets ([`Graph::sort_by_schedule`]).
    rank: u32,
    /// The position of its parent's record ([`Graph::parent`]); [`NO_PARENT`] for none.
    parent: u32,
    /// Its `files` entries as stored (see [`encode`]; empty without [`flag::FILES`]),
    /// decoded by [`files_of`] when asked for.
    files: &'a [u8],
}

impl Rec<'_> {
    fn has(&self, bit: u16) -> bool {
        self.flags & bit != 0
    }
}

/// The payload: the `.work` tree it was written for (20 bytes), the number of tickets
/// (u32), then per ticket in walk order: the ID (u8
/// length, bytes), the path as the number of bytes it shares with the previous ticket's
/// path (u16) and the rest (u16 length, bytes), the kind (u8), flags (u16, see [`flag`]), the
/// rank (u32), the parent's position (u32) and, with [`flag::FILES`], the `files` entries
/// (u16 count, then each as u16 length and bytes). Read in place, without allocating per
/// ticket.
fn encode(tree: &RawOid, recs: &[Row<'_>]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(24 + recs.len() * 64);
    out.extend_from_slice(tree);
    out.extend_from_slice(&u32::try_from(recs.len()).ok()?.to_le_bytes());
    let mut prev: &str = "";
    for (id, path, kind, flags, rank, parent, files) in recs {
        let shared = prev
            .bytes()
            .zip(path.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        // Cut at a character boundary, so both parts stay UTF-8.
        let shared = (0..=shared)
            .rev()
            .find(|&n| path.is_char_boundary(n))
            .unwrap_or(0);
        let rest = &path[shared..];
        out.push(u8::try_from(id.len()).ok()?);
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&u16::try_from(shared).ok()?.to_le_bytes());
        out.extend_from_slice(&u16::try_from(rest.len()).ok()?.to_le_bytes());
        out.extend_from_slice(rest.as_bytes());
        out.push(match kind {
            Kind::PhaseSpec => 0,
            Kind::Job => 1,
            Kind::Task => 2,
        });
        if (*flags & flag::FILES != 0) == files.is_empty() {
            return None;
        }
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&rank.to_le_bytes());
        out.extend_from_slice(&parent.to_le_bytes());
        if !files.is_empty() {
            out.extend_from_slice(&u16::try_from(files.len()).ok()?.to_le_bytes());
            for f in *files {
                out.extend_from_slice(&u16::try_from(f.len()).ok()?.to_le_bytes());
                out.extend_from_slice(f.as_bytes());
            }
        }
        prev = path;
    }
    Some(out)
}

/// The tree a payload was written for.
fn written_for(payload: &[u8]) -> Option<RawOid> {
    payload.get(..20)?.try_into().ok()
}

/// ID or path bytes of a record as text; None when they are not UTF-8 (a malformed file).
fn text(b: &[u8]) -> Option<&str> {
    std::str::from_utf8(b).ok()
}

/// Read every ticket of `payload` in order, calling `f` with it and its path; stops early
/// when `f` returns true. None when the payload is malformed.
fn scan<'a>(payload: &'a [u8], mut f: impl FnMut(&Rec<'a>, &[u8]) -> bool) -> Option<()> {
    let at = std::cell::Cell::new(20usize);
    let take = |n: usize| -> Option<&'a [u8]> {
        let from = at.get();
        let b = payload.get(from..from.checked_add(n)?)?;
        at.set(from + n);
        Some(b)
    };
    let count = u32::from_le_bytes(take(4)?.try_into().ok()?);
    let mut path: Vec<u8> = Vec::new();
    for _ in 0..count {
        let id_len = take(1)?[0] as usize;
        let id = take(id_len)?;
        let shared = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
        let rest_len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
        let rest = take(rest_len)?;
        if shared > path.len() {
            return None;
        }
        path.truncate(shared);
        path.extend_from_slice(rest);
        let kind = match take(1)?[0] {
            0 => Kind::PhaseSpec,
            1 => Kind::Job,
            2 => Kind::Task,
            _ => return None,
        };
        let flags = u16::from_le_bytes(take(2)?.try_into().ok()?);
        let rank = u32::from_le_bytes(take(4)?.try_into().ok()?);
        let parent = u32::from_le_bytes(take(4)?.try_into().ok()?);
        let mut files: &[u8] = &[];
        if flags & flag::FILES != 0 {
            let start = at.get();
            let count = u16::from_le_bytes(take(2)?.try_into().ok()?);
            if count == 0 {
                return None;
            }
            for _ in 0..count {
                let len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
                take(len)?;
            }
            files = payload.get(start..at.get())?;
        }
        let rec = Rec {
            id,
            kind,
            flags,
            rank,
            parent,
            files,
        };
        if f(&rec, &path) {
            return Some(());
        }
    }
    (at.get() == payload.len()).then_some(())
}

/// The `files` entries of a record (as [`scan`] delimited them). None when one is not UTF-8.
fn files_of(raw: &[u8]) -> Option<Vec<String>> {
    let Some((count, mut rest)) = raw.split_first_chunk::<2>() else {
        return Some(Vec::new());
    };
    let mut out = Vec::with_capacity(u16::from_le_bytes(*count) as usize);
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let len = u16::from_le_bytes(*len) as usize;
        let (entry, tail) = tail.split_at_checked(len)?;
        out.push(std::str::from_utf8(entry).ok()?.to_string());
        rest = tail;
    }
    Some(out)
}

/// The ticket an ID or prefix names, as the lookup for a tree knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub path: String,
    /// Nothing in the dependency graph blocks it ([`Graph::unblocked`]).
    pub unblocked: bool,
    /// Some ticket under it is not done.
    pub open_children: bool,
    /// It is the last ticket not done under its parent: finishing it may close the parent.
    pub last_open_child: bool,
}

fn frame(tree: &RawOid, sum: u64) -> [u8; FRAME] {
    let mut f = [0u8; FRAME];
    f[..20].copy_from_slice(tree);
    f[20..28].copy_from_slice(&sum.to_le_bytes());
    let check = xxh3_64(&f[..28]);
    f[28..].copy_from_slice(&check.to_le_bytes());
    f
}

/// The valid frames of a keys file, oldest first.
fn frames(bytes: &[u8]) -> impl Iterator<Item = (RawOid, u64)> + '_ {
    bytes.chunks_exact(FRAME).filter_map(|f| {
        let check = cache::u64_at(f, 28)?;
        if xxh3_64(&f[..28]) != check {
            return None;
        }
        Some((f[..20].try_into().ok()?, cache::u64_at(f, 20)?))
    })
}

/// The checksum of the lookup payload that is exact for `tree`, if a frame says so.
fn sum_for(dir: &Path, tree: &RawOid) -> Option<u64> {
    let keys = fs::read(dir.join(KEYS_FILE)).ok()?;
    frames(&keys)
        .filter(|(t, _)| t == tree)
        .map(|(_, s)| s)
        .last()
}

fn append_frame(dir: &Path, tree: &RawOid, sum: u64) {
    use std::io::Write;
    let path = dir.join(KEYS_FILE);
    let f = frame(tree, sum);
    let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    if !len.is_multiple_of(FRAME as u64) || len >= (MAX_FRAMES * FRAME) as u64 {
        // A torn append or a long file: start again from the newest frames.
        let old = fs::read(&path).unwrap_or_default();
        let mut kept: Vec<(RawOid, u64)> = frames(&old).collect();
        let skip = kept.len().saturating_sub(KEEP_FRAMES - 1);
        kept.drain(..skip);
        let mut out = Vec::with_capacity((kept.len() + 1) * FRAME);
        for (t, s) in &kept {
            out.extend_from_slice(&frame(t, *s));
        }
        out.extend_from_slice(&f);
        cache::write_raw(&path, &out);
        return;
    }
    let _ = fs::create_dir_all(dir);
    let ok = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(&f));
    if ok.is_ok() {
        cache::with_stats(|s| s.writes += 1);
    }
}

/// Is there a lookup exact for the `.work` tree `work_tree` in the cache directory `dir`?
/// (False with the cache off.)
pub fn covers(dir: &Path, work_tree: Oid) -> bool {
    let (Some(schema), Some(tree)) = (live_schema(), cache::raw(work_tree)) else {
        return false;
    };
    let Some(sum) = sum_for(dir, &tree) else {
        return false;
    };
    // The lookup file's header names its payload's checksum.
    let mut header = [0u8; HEADER_LEN];
    fs::File::open(dir.join(LOOKUP_FILE))
        .and_then(|mut f| {
            use std::io::Read;
            f.read_exact(&mut header)
        })
        .is_ok()
        // Written by this build (another build's file is never read: it must be replaced).
        && cache::header_ok(&header, LOOKUP_MAGIC, schema)
        && cache::u64_at(&header, HEADER_LEN - 8) == Some(sum)
}

fn live_schema() -> Option<u64> {
    cache::enabled().then(cache::schema_fingerprint).flatten()
}

/// Write the lookup for the `.work` tree `work_tree`, whose tickets `graph` was built from.
/// Not written when two tickets share an ID, exactly or but for case (the full path refuses
/// them by name). Failures only cost speed.
pub fn record(dir: &Path, work_tree: Oid, graph: &Graph<'_>) {
    let (Some(schema), Some(tree)) = (live_schema(), cache::raw(work_tree)) else {
        return;
    };
    let tickets: &[Ticket] = graph.tickets;
    // Parents are stored as record positions below NO_PARENT.
    if tickets.len() >= NO_PARENT as usize {
        return;
    }
    // The graph indexes the first ticket of an ID; a second one (or one differing in case)
    // makes ID lookups ambiguous in ways only the full path explains.
    if !graph.duplicates().is_empty()
        || (0..tickets.len()).any(|i| graph.index_of(&tickets[i].id) != Some(i))
    {
        return;
    }
    // Ready lists are sorted with this order (a total one: IDs break ties), so the ready
    // tickets of a later tree, in rank order, are its ready list.
    let mut order: Vec<usize> = (0..tickets.len()).collect();
    graph.sort_by_schedule(&mut order, &graph.waiting_depths());
    let mut rank = vec![0u32; tickets.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = u32::try_from(r).unwrap_or(u32::MAX);
    }
    let done = |i: usize| tickets[i].status == crate::model::ticket::Status::Done;
    let recs: Vec<Row<'_>> = tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut flags = 0;
            let mut set = |bit: u16, on: bool| {
                if on {
                    flags |= bit;
                }
            };
            set(flag::UNBLOCKED, graph.unblocked(i));
            set(flag::DONE, done(i));
            set(
                flag::OPEN,
                t.status == crate::model::ticket::Status::Open && t.claimed_by.is_none(),
            );
            set(
                flag::OPEN_CHILDREN,
                graph.children(i).iter().any(|&c| !done(c)),
            );
            set(
                flag::LAST_OPEN_CHILD,
                !done(i)
                    && graph
                        .parent(i)
                        .is_some_and(|p| graph.children(p).iter().all(|&c| c == i || done(c))),
            );
            set(
                flag::HOLDS_FILES,
                t.claimed_by.is_some() && !t.files.is_empty(),
            );
            set(flag::ALIASED, !t.aliases.is_empty());
            set(flag::FILES, !t.files.is_empty());
            set(flag::COMPLETE, graph.is_complete(i));
            let parent = graph
                .parent(i)
                .map_or(NO_PARENT, |p| u32::try_from(p).unwrap_or(NO_PARENT));
            (
                t.id.as_str(),
                t.path.as_str(),
                t.kind,
                flags,
                rank[i],
                parent,
                t.files.as_slice(),
            )
        })
        .collect();
    let Some(payload) = encode(&tree, &recs) else {
        return;
    };
    cache::write(&dir.join(LOOKUP_FILE), LOOKUP_MAGIC, schema, &payload);
    append_frame(dir, &tree, xxh3_64(&payload));
}

/// The writer of a commit that took `.work` from `base` to `new` without changing any
/// ticket's path or graph fields: the lookup exact for `base` is exact for `new`.
/// Call with the writer lock held.
pub fn note_successor(store: &Store, base: &RawOid, new: &RawOid) {
    if live_schema().is_none() {
        return;
    }
    let dir = cache::dir(store);
    if let Some(sum) = sum_for(&dir, base) {
        append_frame(&dir, new, sum);
    }
}

/// The lookup file exact for `work_tree`, if there is one.
fn load(store: &Store, work_tree: Oid) -> Option<crate::store::mapped::FileBytes> {
    let schema = live_schema()?;
    let tree = cache::raw(work_tree)?;
    let dir = cache::dir(store);
    let sum = sum_for(&dir, &tree)?;
    let bytes = cache::read(&dir.join(LOOKUP_FILE), LOOKUP_MAGIC, schema).ok()?;
    // The header's payload checksum (verified by `read`) must be the one the frame names.
    (cache::u64_at(&bytes, HEADER_LEN - 8)? == sum).then_some(bytes)
}

fn found(r: &Rec<'_>, path: &[u8]) -> Option<Found> {
    Some(Found {
        id: text(r.id)?.to_string(),
        path: text(path)?.to_string(),
        unblocked: r.has(flag::UNBLOCKED),
        open_children: r.has(flag::OPEN_CHILDREN),
        last_open_child: r.has(flag::LAST_OPEN_CHILD),
    })
}

/// Resolve `query` (an ID or unique prefix, as [`crate::model::id::resolve`]) with the lookup exact
/// for `work_tree` (in a tree with aliases, only an exact ID). None when there is no such lookup, or the query does not name exactly
/// one ticket (the full path then gives the answer or the error).
pub fn find(store: &Store, work_tree: Oid, query: &str) -> Option<Found> {
    let bytes = load(store, work_tree)?;
    find_in(&bytes[HEADER_LEN..], query)
}

/// [`find`], and when the ticket is the last open one under its parent (finishing it may
/// close the tickets above), its [`Lineage`] too (None when the lookup cannot give it: the
/// caller then takes the full path), from one read of the lookup.
pub fn find_with_lineage(
    store: &Store,
    work_tree: Oid,
    query: &str,
) -> Option<(Found, Option<Lineage>)> {
    let bytes = load(store, work_tree)?;
    let payload = &bytes[HEADER_LEN..];
    let found = find_in(payload, query)?;
    let lineage = if found.last_open_child {
        lineage_in(payload, &found.id)
    } else {
        None
    };
    Some((found, lineage))
}

fn find_in(payload: &[u8], query: &str) -> Option<Found> {
    // An exact ID (the usual case) in one pass; the first ticket with it, as resolve does.
    let q = query.trim();
    let mut hit = None;
    scan(payload, |r, path| {
        if r.id.eq_ignore_ascii_case(q.as_bytes()) {
            hit = Some(found(r, path));
        }
        hit.is_some()
    })?;
    if let Some(hit) = hit {
        return hit;
    }
    // Not an exact ID: with aliases in the tree, the query may be one (the full path
    // resolves those, see crate::model::id::resolve).
    let mut ids: Vec<&str> = Vec::new();
    let mut aliased = false;
    let mut bad = false;
    scan(payload, |r, _| {
        match text(r.id) {
            Some(id) => ids.push(id),
            None => bad = true,
        }
        aliased |= r.has(flag::ALIASED);
        bad
    })?;
    if aliased || bad {
        return None;
    }
    let want = crate::model::id::resolve_position(ids.iter().copied(), query).ok()?;
    let mut n = 0;
    scan(payload, |r, path| {
        if n == want {
            hit = Some(found(r, path));
        }
        n += 1;
        hit.is_some()
    })?;
    hit.flatten()
}

/// A ticket under one of the tickets above another ([`find_with_lineage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    /// Its position among the lookup's tickets (the same for the same ticket in one answer).
    pub key: usize,
    pub kind: Kind,
    /// It is done, and so is everything under it ([`Graph::is_complete`]).
    pub complete: bool,
}

/// A ticket above another ([`find_with_lineage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Above {
    /// Its position among the lookup's tickets.
    pub key: usize,
    pub id: String,
    pub path: String,
    /// The tickets whose parent it is, in walk order ([`Graph::children`]).
    pub children: Vec<Child>,
}

/// The ticket with ID `id` and the tickets above it, as the lookup exact for a tree knows
/// them: what finishing it may close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lineage {
    /// The ticket's own position among the lookup's tickets.
    pub key: usize,
    /// Its parent, that one's parent, and so on ([`Graph::parent`]), nearest first; the
    /// walk stops before a ticket it has seen (a loop of parents written by hand).
    pub above: Vec<Above>,
}

/// The [`Lineage`] of the ticket with ID `id` (exactly as the lookup holds it, the first
/// such) in a lookup payload. None when no ticket has that ID or the payload is malformed.
fn lineage_in(payload: &[u8], id: &str) -> Option<Lineage> {
    // One pass for every ticket's parent, kind and completeness, a second for the IDs and
    // paths of the few above it.
    let mut parent: Vec<u32> = Vec::new();
    let mut kinds: Vec<(Kind, bool)> = Vec::new();
    let mut me = None;
    scan(payload, |r, _| {
        if me.is_none() && r.id == id.as_bytes() {
            me = Some(parent.len());
        }
        parent.push(r.parent);
        kinds.push((r.kind, r.has(flag::COMPLETE)));
        false
    })?;
    let key = me?;
    let n = parent.len();
    // The chain of parents, nearest first, each once.
    let mut chain: Vec<usize> = Vec::new();
    let mut cur = key;
    while let Some(&p) = parent.get(cur) {
        if p == NO_PARENT {
            break;
        }
        let p = p as usize;
        if p >= n {
            return None; // a malformed file
        }
        if p == key || chain.contains(&p) {
            break;
        }
        chain.push(p);
        cur = p;
    }
    let mut above: Vec<Above> = chain
        .iter()
        .map(|&k| Above {
            key: k,
            id: String::new(),
            path: String::new(),
            children: Vec::new(),
        })
        .collect();
    for (i, &p) in parent.iter().enumerate() {
        if p == NO_PARENT {
            continue;
        }
        if let Some(a) = above.iter_mut().find(|a| a.key == p as usize) {
            let (kind, complete) = kinds[i];
            a.children.push(Child {
                key: i,
                kind,
                complete,
            });
        }
    }
    if !above.is_empty() {
        let mut at = 0;
        let mut bad = false;
        scan(payload, |r, path| {
            if let Some(a) = above.iter_mut().find(|a| a.key == at) {
                match (text(r.id), text(path)) {
                    (Some(i), Some(p)) => {
                        a.id = i.to_string();
                        a.path = p.to_string();
                    }
                    _ => bad = true,
                }
            }
            at += 1;
            bad
        })?;
        if bad {
            return None;
        }
    }
    Some(Lineage { key, above })
}

/// A candidate of `claim --next`, with its `files` when the lookup knows them.
pub type Candidate = (Found, Option<Vec<String>>);

/// What `claim --next` reads from the lookup: its candidates, and the tickets claimed with
/// `files`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Next {
    /// The tickets of the kind asked for that the graph leaves free to start, best first,
    /// each with its `files` when the lookup knows them (no wt commit rewrote it since the
    /// lookup was written: it is open and unclaimed, and its files are those).
    pub candidates: Vec<Candidate>,
    /// The tickets claimed with `files` now, in walk order, as (ID, files): those the
    /// lookup flagged that no wt commit rewrote since, and those wt rewrote since that its
    /// delta log shows claimed with files. None when wt cannot tell which (no delta log
    /// leads here).
    pub held: Option<Vec<(String, Vec<String>)>>,
}

/// The tickets of `kind` (None: any) that the graph leaves free to start on `work_tree`,
/// best first: the ready list once those that are not open or are claimed are left out
/// (the caller reads each ticket to see). At most `max`. None without an exact lookup.
pub fn candidates(store: &Store, work_tree: Oid, kind: Option<Kind>, max: usize) -> Option<Next> {
    let bytes = load(store, work_tree)?;
    let payload = &bytes[HEADER_LEN..];
    let tree = cache::raw(work_tree)?;
    // A ticket that was not open when the lookup was written can only be open now if one of
    // wt's commits since rewrote its file: those are in the delta log, with what each file
    // holds now (the last rewrite of a path wins), sorted by path. Without a log that
    // leads here, every candidate is read.
    let base = written_for(payload)?;
    let rewritten: Option<Vec<(String, Option<Parsed>)>> = if base == tree {
        Some(Vec::new())
    } else {
        cache::changed_since(store, &base, &tree).map(|mut v| {
            v.reverse();
            v.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the last rewrite first
            v.dedup_by(|a, b| a.0 == b.0);
            v
        })
    };
    // None: not known; Some(None): not rewritten; Some(Some(t)): what the file holds now.
    let rewrite = |path: &[u8]| -> Option<Option<&Option<Parsed>>> {
        rewritten.as_ref().map(|v| {
            v.binary_search_by(|(p, _)| p.as_bytes().cmp(path))
                .ok()
                .map(|i| &v[i].1)
        })
    };
    // The best `max` by (rank, position): ranks are positions in a total order, so these
    // are the first `max` of that order. Only a ticket that enters is copied out.
    let mut top: Best<Candidate> = Best::new(max);
    let mut held: Vec<(String, Vec<String>)> = Vec::new();
    let mut bad = false;
    let mut n = 0;
    scan(payload, |r, path| {
        let now = rewrite(path);
        let changed = now.is_none_or(|c| c.is_some());
        let may_be_open = r.has(flag::OPEN) || changed;
        let key = (r.rank, n);
        if r.has(flag::UNBLOCKED)
            && !r.has(flag::DONE)
            && may_be_open
            && kind.is_none_or(|k| r.kind == k)
            && top.wants(key)
        {
            // Its files are known when no commit rewrote it since the lookup was written.
            let files = if changed {
                None
            } else {
                let f = files_of(r.files);
                bad |= f.is_none();
                f
            };
            match found(r, path) {
                Some(f) if !bad => top.put(key, (f, files)),
                _ => bad = true,
            }
        }
        match now {
            // The ticket as wt's last rewrite left it.
            Some(Some(Some(Parsed::Ticket { ticket: t, .. })))
                if t.claimed_by.is_some() && !t.files.is_empty() =>
            {
                held.push((t.id.clone(), t.files.clone()));
            }
            // Untouched since the lookup was written.
            Some(None) if r.has(flag::HOLDS_FILES) => match (text(r.id), files_of(r.files)) {
                (Some(id), Some(files)) if !files.is_empty() => held.push((id.to_string(), files)),
                _ => bad = true,
            },
            _ => {}
        }
        n += 1;
        bad
    })?;
    if bad {
        return None;
    }
    Some(Next {
        candidates: top.into_sorted(),
        held: rewritten.is_some().then_some(held),
    })
}

/// The `max` smallest keys offered so far, with their items.
struct Best<T> {
    max: usize,
    items: Vec<((u32, usize), T)>,
    /// Once full: the largest key kept, and where.
    worst: ((u32, usize), usize),
}

impl<T> Best<T> {
    fn new(max: usize) -> Self {
        Best {
            max,
            items: Vec::with_capacity(max.min(1024)),
            worst: ((u32::MAX, usize::MAX), 0),
        }
    }

    /// Would an item with `key` be kept? (Ask before building it.)
    fn wants(&self, key: (u32, usize)) -> bool {
        self.max > 0 && (self.items.len() < self.max || key < self.worst.0)
    }

    /// Keep `item` (when [`Best::wants`] its key), dropping the largest key when full.
    fn put(&mut self, key: (u32, usize), item: T) {
        if !self.wants(key) {
            return;
        }
        if self.items.len() < self.max {
            self.items.push((key, item));
        } else {
            self.items[self.worst.1] = (key, item);
        }
        if self.items.len() == self.max {
            if let Some(w) = self
                .items
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (*k, i))
                .max()
            {
                self.worst = w;
            }
        }
    }

    /// The items kept, smallest key first.
    fn into_sorted(mut self) -> Vec<T> {
        self.items.sort_unstable_by_key(|(k, _)| *k);
        self.items.into_iter().map(|(_, t)| t).collect()
    }
}

static FRESH: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ask the next full load of this process to write the lookup again even though one covers
/// its tree (`claim --next` read its candidates and none was free: a fresh lookup knows
/// which tickets are open now).
pub fn want_fresh() {
    FRESH.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Was a fresh lookup asked for? (Asks only once.)
pub fn fresh_wanted() -> bool {
    FRESH.swap(false, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: RawOid = [7u8; 20];

    fn files() -> &'static [String] {
        static F: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        F.get_or_init(|| vec!["src/**".to_string(), "docs/é.md".to_string()])
    }

    fn sample() -> Vec<Row<'static>> {
        vec![
            (
                "P-aaaa0001",
                ".work/P-aaaa0001-phase.md",
                Kind::PhaseSpec,
                flag::UNBLOCKED | flag::OPEN | flag::OPEN_CHILDREN,
                2,
                NO_PARENT,
                &[],
            ),
            (
                "J-bbbb0002",
                ".work/P-aaaa0001-phase/J-bbbb0002-job.md",
                Kind::Job,
                flag::OPEN_CHILDREN | flag::LAST_OPEN_CHILD | flag::HOLDS_FILES | flag::FILES,
                0,
                0,
                files(),
            ),
            (
                "T-cccc0003",
                ".work/P-aaaa0001-phase/J-bbbb0002-job/T-cccc0003-é.md",
                Kind::Task,
                flag::UNBLOCKED | flag::DONE | flag::COMPLETE,
                1,
                1,
                &[],
            ),
            (
                "T-cccc0004",
                ".work/P-aaaa0001-phase/J-bbbb0002-job/T-cccc0004-ü.md",
                Kind::Task,
                flag::UNBLOCKED | flag::OPEN | flag::LAST_OPEN_CHILD | flag::ALIASED | flag::FILES,
                3,
                1,
                &files()[1..],
            ),
        ]
    }

    #[test]
    fn records_read_back_with_their_full_paths() {
        let recs = sample();
        let bytes = encode(&TREE, &recs).expect("encode");
        assert_eq!(written_for(&bytes), Some(TREE));
        let mut got = Vec::new();
        scan(&bytes, |r, path| {
            let files = files_of(r.files).expect("files");
            got.push((
                text(r.id).expect("id").to_string(),
                text(path).expect("path").to_string(),
                r.kind,
                r.flags,
                r.rank,
                r.parent,
                files,
            ));
            false
        })
        .expect("scan");
        let want: Vec<_> = recs
            .iter()
            .map(|(i, p, k, f, r, up, fs)| {
                (i.to_string(), p.to_string(), *k, *f, *r, *up, fs.to_vec())
            })
            .collect();
        assert_eq!(got, want);
        // Prefix-compressed: past the tree id, the count and the files, smaller than the
        // paths alone.
        let paths: usize = recs.iter().map(|r| r.1.len()).sum();
        let files: usize = recs
            .iter()
            .filter(|r| !r.6.is_empty())
            .map(|r| 2 + r.6.iter().map(|f| 2 + f.len()).sum::<usize>())
            .sum();
        assert!(
            bytes.len() - 24 - files < paths,
            "{} vs {paths}",
            bytes.len()
        );
        // A FILES flag must match the list.
        let mut wrong = recs.clone();
        wrong[0].3 |= flag::FILES;
        assert!(encode(&TREE, &wrong).is_none());
    }

    #[test]
    fn lineage_names_every_ticket_above_with_what_is_under_it() {
        let bytes = encode(&TREE, &sample()).expect("encode");
        let child = |key, kind, complete| Child {
            key,
            kind,
            complete,
        };
        let got = lineage_in(&bytes, "T-cccc0004").expect("lineage");
        assert_eq!(got.key, 3);
        assert_eq!(
            got.above,
            vec![
                Above {
                    key: 1,
                    id: "J-bbbb0002".into(),
                    path: ".work/P-aaaa0001-phase/J-bbbb0002-job.md".into(),
                    children: vec![child(2, Kind::Task, true), child(3, Kind::Task, false)],
                },
                Above {
                    key: 0,
                    id: "P-aaaa0001".into(),
                    path: ".work/P-aaaa0001-phase.md".into(),
                    children: vec![child(1, Kind::Job, false)],
                },
            ]
        );
        // The top has nothing above it; an unknown ID has no lineage (the full path says).
        let top = lineage_in(&bytes, "P-aaaa0001").expect("lineage");
        assert_eq!((top.key, top.above.len()), (0, 0));
        assert!(lineage_in(&bytes, "T-nowhere").is_none());
        // A loop of parents (written by hand) is walked once; a parent past the end is
        // malformed.
        let mut looped = sample();
        looped[0].5 = 3;
        let bytes = encode(&TREE, &looped).expect("encode");
        let got = lineage_in(&bytes, "T-cccc0004").expect("lineage");
        assert_eq!(
            got.above.iter().map(|a| a.key).collect::<Vec<_>>(),
            vec![1, 0]
        );
        let mut past = sample();
        past[1].5 = 9;
        let bytes = encode(&TREE, &past).expect("encode");
        assert!(lineage_in(&bytes, "T-cccc0004").is_none());
    }

    #[test]
    fn best_keeps_the_smallest_keys_in_order() {
        // Keys in a scrambled order (a fixed permutation), some rank ties broken by position.
        let keys: Vec<(u32, usize)> = (0..500usize)
            .map(|n| (((n * 7919) % 500) as u32 / 2, n))
            .collect();
        for max in [0, 1, 5, 64, 499, 500, 600] {
            let mut best = Best::new(max);
            for &k in &keys {
                best.put(k, k);
            }
            let mut want = keys.clone();
            want.sort_unstable();
            want.truncate(max);
            assert_eq!(best.into_sorted(), want, "max {max}");
        }
    }

    #[test]
    fn malformed_records_are_refused_without_panicking() {
        let bytes = encode(&TREE, &sample()).expect("encode");
        for n in 0..bytes.len() {
            assert!(
                scan(&bytes[..n], |_, _| false).is_none(),
                "truncated to {n}"
            );
        }
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut b = bytes.clone();
                b[i] ^= bit;
                let _ = scan(&b, |_, _| false); // any answer but a panic
            }
        }
    }
}
