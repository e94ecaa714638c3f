//! The id lookup: what a one-ticket write (claim, release, heartbeat, done) needs to know
//! about the other 9,999 tickets, without loading them.
//!
//! Such a write reads one ticket and changes it. What it needs of the rest is where its
//! ticket lives (ID or prefix → path) and, for a claim, whether the dependency graph blocks
//! it ([`Graph::unblocked`]). Both are functions of the `.work` tree, so they are kept in
//! the cache directory next to the snapshot:
//!
//! - `lookup.bin`: per ticket its ID, path and `unblocked` bit (cache file header, xxh3).
//! - `lookup.keys`: 36-byte frames (`.work` tree id, checksum of the `lookup.bin` payload it
//!   belongs to, frame checksum), one per tree the lookup is exact for.
//!
//! A full load that builds the graph writes the lookup for its tree when none covers it
//! ([`record`]). A commit that keeps every ticket's path and every field the graph reads
//! (claim, release, heartbeat, done into review: see [`crate::ticket::Ticket::graph_key`])
//! leaves the lookup exact, so the writer only appends a frame for the new tree
//! ([`note_successor`]); any other commit adds none, and the next full load writes a new
//! lookup. Like the rest of the cache it is derived data: missing, stale or corrupt files
//! send the write down the full path, which gives the same answers (tested).

use std::fs;
use std::path::Path;

use git2::Oid;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::cache::{self, RawOid, HEADER_LEN};
use crate::graph::Graph;
use crate::store::Store;
use crate::ticket::Ticket;

const LOOKUP_FILE: &str = "lookup.bin";
const LOOKUP_MAGIC: &[u8; 8] = b"wtlook1\n";
const KEYS_FILE: &str = "lookup.keys";
/// tree id (20), payload checksum (8), frame checksum (8).
const FRAME: usize = 36;
/// Past this many frames the keys file is rewritten with the newest [`KEEP_FRAMES`].
const MAX_FRAMES: usize = 1024;
const KEEP_FRAMES: usize = 64;

#[derive(Serialize, Deserialize)]
struct Rec<'a> {
    #[serde(borrow)]
    id: &'a str,
    #[serde(borrow)]
    path: &'a str,
    unblocked: bool,
}

/// The ticket an ID or prefix names, as the lookup for a tree knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub path: String,
    /// Nothing in the dependency graph blocks it ([`Graph::unblocked`]).
    pub unblocked: bool,
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
    let (Some(_), Some(tree)) = (live_schema(), cache::raw(work_tree)) else {
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
        && cache::u64_at(&header, HEADER_LEN - 8) == Some(sum)
}

fn live_schema() -> Option<u64> {
    cache::enabled().then(cache::schema_fingerprint).flatten()
}

/// Write the lookup for the `.work` tree `work_tree`, whose tickets `graph` was built from.
/// Not written when two tickets share an ID (the full path reports that). Failures only
/// cost speed.
pub fn record(dir: &Path, work_tree: Oid, graph: &Graph<'_>) {
    let (Some(schema), Some(tree)) = (live_schema(), cache::raw(work_tree)) else {
        return;
    };
    let tickets: &[Ticket] = graph.tickets;
    let mut recs = Vec::with_capacity(tickets.len());
    for (i, t) in tickets.iter().enumerate() {
        // The graph indexes the first ticket of an ID; a second one makes ID lookups
        // ambiguous in ways only the full path explains.
        if graph.index_of(&t.id) != Some(i) {
            return;
        }
        recs.push(Rec {
            id: &t.id,
            path: &t.path,
            unblocked: graph.unblocked(i),
        });
    }
    let Ok(payload) = postcard::to_stdvec(&recs) else {
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

/// Resolve `query` (an ID or unique prefix, as [`crate::id::resolve`]) with the lookup exact
/// for `work_tree`. None when there is no such lookup, or the query does not name exactly
/// one ticket (the full path then gives the answer or the error).
pub fn find(store: &Store, work_tree: Oid, query: &str) -> Option<Found> {
    let schema = live_schema()?;
    let tree = cache::raw(work_tree)?;
    let dir = cache::dir(store);
    let sum = sum_for(&dir, &tree)?;
    let bytes = cache::read(&dir.join(LOOKUP_FILE), LOOKUP_MAGIC, schema).ok()?;
    // The header's payload checksum (verified by `read`) must be the one the frame names.
    if cache::u64_at(&bytes, HEADER_LEN - 8)? != sum {
        return None;
    }
    let recs: Vec<Rec<'_>> = postcard::from_bytes(&bytes[HEADER_LEN..]).ok()?;
    let i = crate::id::resolve_position(recs.iter().map(|r| r.id), query).ok()?;
    let r = recs.get(i)?;
    Some(Found {
        id: r.id.to_string(),
        path: r.path.to_string(),
        unblocked: r.unblocked,
    })
}
