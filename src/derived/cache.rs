//! A cache of parsed tickets, derived from git object ids.
//!
//! Loading the tickets means walking the `.work` tree and parsing every ticket blob. Both are
//! pure functions of git object ids: a tree id determines its entries, and a (path, blob id)
//! pair determines what [`crate::model::ticket::parse`] makes of it. So loads are remembered in
//! `<common git dir>/wt/cache/`, shared by every worktree of the repository:
//!
//! - `snapshot.bin`, the whole result of the last load, keyed by the `.work` tree id: every
//!   blob under `.work/` in walk order, with its parsed ticket (or parse problem). When the
//!   tree id matches, nothing is read from git and nothing is parsed. Stored in parts that
//!   are decoded on separate threads.
//! - `delta.bin`, what wt's own commits changed since: (tree before, tree after, the new
//!   blobs of the files it rewrote, parsed by the writer, which had their text anyway). A
//!   load whose snapshot is older follows this chain instead of walking git, and after 32
//!   steps writes a fresh snapshot.
//! - `trees.bin`, every tree under `.work/` by tree id, so that after any other change (a
//!   `git commit` of a ticket, a merge, `wt new`) the walk reads only the trees on the
//!   changed paths, and only changed blobs are parsed.
//!
//! All of it is derived data. A missing, truncated, corrupt or foreign file is ignored (a
//! header with magic, format version, build and schema fingerprints, length and an xxh3
//! checksum guards every read; each delta frame has its own checksum) and replaced by temp
//! file + rename, so a reader never sees a half-written file and racing writers only race to
//! install equally valid files. The fingerprints make any other build of wt (another
//! parser, a new `Ticket` field) start afresh instead of trusting records it did not write.
//! Nothing is cached that a fresh parse would not produce: parse problems are cached as
//! the same problems. `WT_NO_CACHE=1` bypasses the cache; `WT_DEBUG_STATS=1` makes the CLI
//! print what the loads did (see [`stats`]).

use crate::store::mapped::FileBytes;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Mutex;

use crate::store::Oid;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::error::Result;
use crate::model::ticket::{self, Problem, Ticket};
pub use crate::model::ticket_file::{parse_blob, EntryKind, Parsed};
use crate::store::{Edit, Store};

mod record;

/// Bump when the layout of the file changes in a way the fingerprints would not notice.
pub const FORMAT_VERSION: u32 = 2;
/// magic, version, build fingerprint, schema fingerprint, payload length, payload checksum.
pub(crate) const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8 + 8;
/// Hash of the sources this wt was built from (see build.rs).
const BUILD_FINGERPRINT: &str = env!("WT_BUILD_FINGERPRINT");
/// Below this many blobs to parse, parsing stays on the calling thread.
const PARALLEL_MIN: usize = 256;

/// An entry under `.work/` other than a folder: its path, id, what it is, and for ticket
/// files (regular files only) what it parses to.
#[derive(Debug, Clone)]
pub struct WorkEntry {
    pub path: String,
    pub oid: Oid,
    pub kind: EntryKind,
    pub parsed: Option<Parsed>,
}

impl WorkEntry {
    /// A regular file whose path is a ticket's: what loads parse.
    fn is_ticket_file(&self) -> bool {
        self.kind == EntryKind::File && ticket::is_ticket_path(&self.path)
    }
}

/// Every blob of a `.work` tree in walk order, held in parts (decoded on separate threads);
/// iterate it to get the entries in order.
#[derive(Debug, Default)]
pub struct Entries {
    parts: Vec<Vec<WorkEntry>>,
}

impl Entries {
    fn single(entries: Vec<WorkEntry>) -> Entries {
        Entries {
            parts: vec![entries],
        }
    }
    pub fn len(&self) -> usize {
        self.parts.iter().map(Vec::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// All entries in walk order, as one vector (without copying when there is one part).
    pub fn into_vec(mut self) -> Vec<WorkEntry> {
        if self.parts.len() == 1 {
            return self.parts.pop().unwrap_or_default();
        }
        self.parts.into_iter().flatten().collect()
    }
    pub fn iter(&self) -> impl Iterator<Item = &WorkEntry> {
        self.parts.iter().flatten()
    }
    fn iter_mut(&mut self) -> impl Iterator<Item = &mut WorkEntry> {
        self.parts.iter_mut().flatten()
    }
}

impl IntoIterator for Entries {
    type Item = WorkEntry;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<WorkEntry>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.parts.into_iter().flatten()
    }
}

// ---------------------------------------------------------------------------
// Statistics (for WT_DEBUG_STATS and the tests)

/// What the loads of this process did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// The last load's cache state: off, absent, invalid, stale, hit or partial.
    pub state: &'static str,
    /// Ticket files whose text was read and parsed.
    pub parsed: usize,
    /// Ticket files taken from the cache.
    pub reused: usize,
    /// Trees read from git.
    pub trees_read: usize,
    /// Cache files written.
    pub writes: usize,
    /// Writes that read one ticket through the id lookup instead of loading every ticket.
    pub one_ticket: usize,
}

static STATS: Mutex<Stats> = Mutex::new(Stats {
    state: "none",
    parsed: 0,
    reused: 0,
    trees_read: 0,
    writes: 0,
    one_ticket: 0,
});

pub(crate) fn with_stats(f: impl FnOnce(&mut Stats)) {
    if let Ok(mut s) = STATS.lock() {
        f(&mut s);
    }
}

/// Counters summed over every load in this process.
pub fn stats() -> Stats {
    STATS.lock().map(|s| s.clone()).unwrap_or_default()
}

/// One line for stderr: `wt-stats: cache=hit parsed=0 reused=10000 trees_read=0 writes=0`.
pub fn stats_line() -> String {
    let s = stats();
    format!(
        "wt-stats: cache={} parsed={} reused={} trees_read={} writes={} one_ticket={}",
        s.state, s.parsed, s.reused, s.trees_read, s.writes, s.one_ticket
    )
}

// ---------------------------------------------------------------------------
// The file

pub(crate) type RawOid = [u8; 20];

pub(crate) fn raw(oid: Oid) -> Option<RawOid> {
    oid.as_bytes().try_into().ok()
}

fn oid(raw: &RawOid) -> Option<Oid> {
    Oid::from_bytes(raw).ok()
}

#[derive(Serialize, Deserialize)]
struct TreeRec {
    oid: RawOid,
    /// (name, id, what it is)
    entries: Vec<(String, RawOid, EntryKind)>,
}

impl Parsed {
    fn path(&self) -> &str {
        match self {
            Parsed::Ticket { ticket, .. } => &ticket.path,
            Parsed::Problem(p) => &p.path,
        }
    }
}

/// Is the cache in use? (`WT_NO_CACHE` set to anything but `0` or empty turns it off.)
pub fn enabled() -> bool {
    !matches!(std::env::var("WT_NO_CACHE"), Ok(v) if !v.is_empty() && v != "0")
}

/// Where the cache lives for this repository (all worktrees share the common git dir).
pub fn dir(store: &Store) -> PathBuf {
    store.common_dir().join("wt").join("cache")
}

/// The whole result of the last load (section A).
const SNAPSHOT_FILE: &str = "snapshot.bin";
const SNAPSHOT_MAGIC: &[u8; 8] = b"wtsnap1\n";
/// Changes wt itself committed since a snapshot: (tree before, tree after, changed blobs).
const DELTA_FILE: &str = "delta.bin";
const DELTA_MAGIC: &[u8; 8] = b"wtdelt1\n";
/// magic, version, build fingerprint, schema fingerprint; then frames.
const DELTA_HEADER_LEN: usize = 8 + 4 + 8 + 8;
/// A reader that had to apply this many deltas writes a fresh snapshot.
const COMPACT_AFTER: usize = 32;
/// A writer starts a new delta file beyond this size.
const MAX_DELTA_BYTES: u64 = 64 * 1024;
/// Trees by id (section B), read only when the `.work` tree changed.
const TREES_FILE: &str = "trees.bin";
const TREES_MAGIC: &[u8; 8] = b"wttree1\n";

/// A fingerprint of the record types as serde sees them. The build fingerprint already
/// changes with any source change; this one also guards a build whose sources could not be
/// hashed. It fails (None) when the records do not survive a round trip through the compact
/// format (e.g. a field marked `skip_serializing_if`): then the cache stays off.
pub(crate) fn schema_fingerprint() -> Option<u64> {
    static SCHEMA: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *SCHEMA.get_or_init(compute_schema_fingerprint)
}

fn compute_schema_fingerprint() -> Option<u64> {
    let full = Ticket {
        id: "J-0".into(),
        title: "t".into(),
        parent: Some("P-0".into()),
        depends_on: vec!["J-1".into()],
        claimed_by: Some("a".into()),
        claimed_at: Some("c".into()),
        created: Some("c".into()),
        updated: Some("u".into()),
        files: vec!["f".into()],
        artifacts: vec!["a".into()],
        labels: vec!["l".into()],
        aliases: vec!["bd-1".into()],
        links: vec!["related:J-1".into()],
        source: Some("beads:bd-1".into()),
        source_hash: Some("h".into()),
        path: ".work/J-0.md".into(),
        ..Default::default()
    };
    let probes = [
        Parsed::Ticket {
            ticket: Ticket::default(),
            unknown_fields: vec![],
        },
        Parsed::Ticket {
            ticket: full,
            unknown_fields: vec![("x".into(), 3)],
        },
        Parsed::Problem(Problem {
            path: String::new(),
            line: 0,
            column: None,
            message: String::new(),
            hint: None,
        }),
    ];
    let mut names = String::new();
    for p in &probes {
        let bytes = postcard::to_stdvec(p).ok()?;
        let back: Parsed = postcard::from_bytes(&bytes).ok()?;
        if &back != p {
            return None;
        }
        // The snapshot's own encoding must give the record back too.
        let mut bytes = Vec::new();
        record::put_entry(&mut bytes, Some("x"), &[7; 20], EntryKind::File, Some(p));
        let mut r = record::Reader { rest: &bytes };
        if r.entry()?.parsed.as_ref() != Some(p) || !r.rest.is_empty() {
            return None;
        }
        names.push_str(&serde_json::to_string(p).ok()?);
    }
    Some(xxh3_64(names.as_bytes()))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Is `header` (the first [`HEADER_LEN`] bytes of a cache file) one this build writes
/// with `magic`: same format version, build and schema fingerprints?
pub(crate) fn header_ok(header: &[u8], magic: &[u8; 8], schema: u64) -> bool {
    header.len() >= HEADER_LEN
        && &header[..8] == magic
        && header[8..12] == FORMAT_VERSION.to_le_bytes()
        && u64_at(header, 12) == Some(build_fingerprint())
        && u64_at(header, 20) == Some(schema)
}

/// Read a cache file and check its header; returns the whole file (the payload starts at
/// [`HEADER_LEN`]), mapped when large (cache files are replaced by rename or appended to,
/// never rewritten in place: see [`crate::store::mapped`]). Err carries the state to report.
pub(crate) fn read(
    path: &Path,
    magic: &[u8; 8],
    schema: u64,
) -> std::result::Result<FileBytes, &'static str> {
    let bytes = match crate::store::mapped::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err("absent"),
        Err(_) => return Err("invalid"),
    };
    if bytes.len() < HEADER_LEN || &bytes[..8] != magic {
        return Err("invalid");
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().map_err(|_| "invalid")?);
    let build = u64_at(&bytes, 12).ok_or("invalid")?;
    let schema_in_file = u64_at(&bytes, 20).ok_or("invalid")?;
    if version != FORMAT_VERSION || build != build_fingerprint() || schema_in_file != schema {
        return Err("stale");
    }
    let len = u64_at(&bytes, 28).ok_or("invalid")?;
    let sum = u64_at(&bytes, 36).ok_or("invalid")?;
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != len || xxh3_64(payload) != sum {
        return Err("invalid");
    }
    Ok(bytes)
}

fn build_fingerprint() -> u64 {
    u64::from_str_radix(BUILD_FINGERPRINT, 16).unwrap_or(0)
}

/// Install `payload` as the cache file `path` by temp file + rename. Failures only cost
/// speed, so they are ignored.
pub(crate) fn write(path: &Path, magic: &[u8; 8], schema: u64, payload: &[u8]) {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(magic);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&build_fingerprint().to_le_bytes());
    header.extend_from_slice(&schema.to_le_bytes());
    header.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    header.extend_from_slice(&xxh3_64(payload).to_le_bytes());
    write_parts(path, &[&header, payload]);
}

/// Install `bytes` as `path` by temp file + rename; failures are ignored.
pub(crate) fn write_raw(path: &Path, out: &[u8]) {
    write_parts(path, &[out]);
}

/// Install the concatenation of `parts` as `path` by temp file + rename (no copy into one
/// buffer); failures are ignored.
fn write_parts(path: &Path, parts: &[&[u8]]) {
    let Some(dir) = path.parent() else { return };
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    let nonce: u64 = rand::random();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("cache");
    let tmp = dir.join(format!(".{name}.{}.{nonce:016x}.tmp", std::process::id()));
    let written = fs::File::create(&tmp).and_then(|mut f| {
        use std::io::Write;
        parts.iter().try_for_each(|p| f.write_all(p))
    });
    if written.is_ok() && fs::rename(&tmp, path).is_ok() {
        with_stats(|s| s.writes += 1);
    } else {
        let _ = fs::remove_file(&tmp);
    }
}

/// Snapshots of this many entries or more are stored in [`CHUNKS`] parts that are decoded
/// on separate threads. Two, not four: at 10,000 tickets decoding is mostly page faults,
/// which contend on the process's page tables; four threads took 20–30% more CPU than one
/// or two for the same wall time on a 2-core machine.
const CHUNKED_FROM: usize = 2048;
const CHUNKS: usize = 2;

/// Payload: root tree id, number of parts (u32), then per part its length (u64) and the
/// postcard sequence of its entries. Handed to `emit` piece by piece (one part at a time in
/// memory).
fn encode_snapshot(
    root: RawOid,
    entries: &Entries,
    emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> Option<()> {
    let entries: Vec<&WorkEntry> = entries.iter().collect();
    let parts = if entries.len() >= CHUNKED_FROM {
        CHUNKS
    } else {
        1
    };
    let size = entries.len().div_ceil(parts).max(1);
    emit(&root).ok()?;
    emit(&(parts as u32).to_le_bytes()).ok()?;
    let mut chunks = entries.chunks(size);
    for _ in 0..parts {
        let chunk: &[&WorkEntry] = chunks.next().unwrap_or(&[]);
        // The entry count, then the records (see `record`).
        let mut bytes = Vec::with_capacity(chunk.len() * 256);
        record::put_varint(&mut bytes, chunk.len() as u64);
        for e in chunk {
            let path = match &e.parsed {
                Some(p) if p.path() == e.path => None,
                _ => Some(e.path.as_str()),
            };
            record::put_entry(&mut bytes, path, &raw(e.oid)?, e.kind, e.parsed.as_ref());
        }
        emit(&(bytes.len() as u64).to_le_bytes()).ok()?;
        emit(&bytes).ok()?;
    }
    Some(())
}

/// Write the snapshot file by temp file + rename, streaming the payload (its length and
/// checksum go into the header afterwards); failures are ignored.
fn write_snapshot(path: &Path, schema: u64, root: RawOid, entries: &Entries) {
    use std::io::{Seek, SeekFrom, Write};
    let Some(dir) = path.parent() else { return };
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    let nonce: u64 = rand::random();
    let tmp = dir.join(format!(
        ".{SNAPSHOT_FILE}.{}.{nonce:016x}.tmp",
        std::process::id()
    ));
    let written = (|| -> Option<()> {
        let file = fs::File::create(&tmp).ok()?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        out.write_all(&[0u8; HEADER_LEN]).ok()?;
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        let mut len = 0u64;
        encode_snapshot(root, entries, &mut |piece| {
            hash.update(piece);
            len += piece.len() as u64;
            out.write_all(piece)
        })?;
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(SNAPSHOT_MAGIC);
        header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        header.extend_from_slice(&build_fingerprint().to_le_bytes());
        header.extend_from_slice(&schema.to_le_bytes());
        header.extend_from_slice(&len.to_le_bytes());
        header.extend_from_slice(&hash.digest().to_le_bytes());
        let mut file = out.into_inner().ok()?;
        file.seek(SeekFrom::Start(0)).ok()?;
        file.write_all(&header).ok()?;
        Some(())
    })();
    if written.is_some() && fs::rename(&tmp, path).is_ok() {
        with_stats(|s| s.writes += 1);
    } else {
        let _ = fs::remove_file(&tmp);
    }
}

fn decode_snapshot(payload: &[u8]) -> Option<(RawOid, Entries)> {
    let root: RawOid = payload.get(..20)?.try_into().ok()?;
    let parts = u32::from_le_bytes(payload.get(20..24)?.try_into().ok()?) as usize;
    // Each part: its entry count, then the records.
    let mut slices: Vec<(usize, &[u8])> = Vec::with_capacity(parts.min(64));
    let mut at = 24;
    for _ in 0..parts {
        let len = usize::try_from(u64_at(payload, at)?).ok()?;
        let end = (at + 8).checked_add(len)?;
        let mut r = record::Reader {
            rest: payload.get(at + 8..end)?,
        };
        let n = usize::try_from(r.varint()?).ok()?;
        let records = r.rest;
        // A record takes at least 20 bytes (its blob id): a larger count is corrupt.
        if n > records.len() / 20 {
            return None;
        }
        slices.push((n, records));
        at = end;
    }
    if at != payload.len() {
        return None;
    }
    // All parts are decoded into one vector (each thread into its own range of it), so the
    // snapshot's tickets can later be collected in place: no second copy of 10,000 tickets.
    let total = slices.iter().map(|(n, _)| n).sum::<usize>();
    let mut entries: Vec<WorkEntry> = Vec::with_capacity(total);
    let mut ranges: Vec<&mut [std::mem::MaybeUninit<WorkEntry>]> = Vec::with_capacity(slices.len());
    let mut spare = &mut entries.spare_capacity_mut()[..total];
    for (n, _) in &slices {
        let (mine, rest) = spare.split_at_mut(*n);
        ranges.push(mine);
        spare = rest;
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let work = slices.iter().map(|(_, b)| *b).zip(ranges);
    let ok = if slices.len() > 1 && threads > 1 {
        std::thread::scope(|scope| {
            let mut work = work;
            let first = work.next();
            let handles: Vec<_> = work
                .map(|(b, r)| scope.spawn(move || decode_chunk(b, r)))
                .collect();
            let mut ok = first.is_none_or(|(b, r)| decode_chunk(b, r));
            for h in handles {
                ok &= h.join().unwrap_or(false);
            }
            ok
        })
    } else {
        work.fold(true, |ok, (b, r)| decode_chunk(b, r) && ok)
    };
    if !ok {
        // Every range that failed dropped what it had written; the ones that succeeded are
        // leaked with `entries` (it keeps length 0): a corrupt cache file is rare, and only
        // costs this memory in this process.
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: the ranges cover `entries[..total]` exactly, and every decode_chunk that
    // returned true initialised every slot of its range.
    unsafe {
        entries.set_len(total)
    };
    Some((root, Entries::single(entries)))
}

/// Decode the records `bytes` into `out`, one per slot. True when every slot was written
/// and nothing is left over; on false, no slot is left initialised.
fn decode_chunk(bytes: &[u8], out: &mut [std::mem::MaybeUninit<WorkEntry>]) -> bool {
    let mut r = record::Reader { rest: bytes };
    let mut written = 0;
    let ok = (|| -> Option<()> {
        for slot in out.iter_mut() {
            r.entry_into(slot)?;
            written += 1;
        }
        r.rest.is_empty().then_some(())
    })()
    .is_some();
    if !ok {
        for slot in &mut out[..written] {
            #[allow(unsafe_code)]
            // SAFETY: the first `written` slots were initialised above and nothing else
            // will read or drop them.
            unsafe {
                slot.assume_init_drop()
            };
        }
    }
    ok
}

// ---------------------------------------------------------------------------
// Loading

/// Every blob under the `.work` tree `work_tree`, in tree order, with ticket files parsed;
/// from the cache where it has them, from git (and then into the cache) where not.
pub fn work_entries(store: &Store, work_tree: Option<Oid>) -> Result<Entries> {
    let Some(root) = work_tree else {
        return Ok(Entries::default());
    };
    let schema = if enabled() {
        schema_fingerprint()
    } else {
        None
    };
    let (Some(schema), Some(root_raw)) = (schema, raw(root)) else {
        with_stats(|s| s.state = "off");
        return load(store, root, Known::empty(), HashMap::new()).map(|(e, _)| Entries::single(e));
    };
    let dir = dir(store);
    let snap_path = dir.join(SNAPSHOT_FILE);
    let (state, known) = match read(&snap_path, SNAPSHOT_MAGIC, schema) {
        Ok(bytes) => match decode_snapshot(&bytes[HEADER_LEN..]) {
            Some((r, entries)) if r == root_raw => {
                let n = entries.iter().filter(|e| e.parsed.is_some()).count();
                with_stats(|s| {
                    s.state = "hit";
                    s.reused += n;
                });
                return Ok(entries);
            }
            Some((r, mut entries)) => {
                // Changes wt committed since (claim, release, done...) are in the delta log.
                let (reached, applied) = apply_deltas(&dir, schema, r, root_raw, &mut entries);
                if reached {
                    let n = entries.iter().filter(|e| e.parsed.is_some()).count();
                    with_stats(|s| {
                        s.state = "delta";
                        s.reused += n;
                    });
                    if applied >= COMPACT_AFTER {
                        write_snapshot(&snap_path, schema, root_raw, &entries);
                    }
                    return Ok(entries);
                }
                ("partial", entries)
            }
            None => ("invalid", Entries::default()),
        },
        Err(state) => (state, Entries::default()),
    };
    with_stats(|s| s.state = state);
    // The tree changed (or there is no usable file): reuse what the old files know.
    let known = Known::new(known.into_vec());
    let trees_path = dir.join(TREES_FILE);
    let old_trees = read(&trees_path, TREES_MAGIC, schema)
        .ok()
        .and_then(|b| decode_trees(&b[HEADER_LEN..]))
        .unwrap_or_default();
    let (entries, trees) = load(store, root, known, old_trees)?;
    let entries = Entries::single(entries);
    // One file after the other, freeing as we go (peak memory matters more than a few ms).
    if let Ok(payload) = postcard::to_stdvec(&trees) {
        drop(trees);
        write(&trees_path, TREES_MAGIC, schema, &payload);
    }
    write_snapshot(&snap_path, schema, root_raw, &entries);
    Ok(entries)
}

/// One commit wt made: the `.work` tree went from `base` to `new` by replacing the blobs of
/// existing paths; with each path, the new blob and what it parses to (ticket files only).
/// Stored as a frame whose payload is `base`, `new`, then the postcard-encoded changes, so a
/// reader decodes only the records on its way.
type Mods = Vec<(String, RawOid, Option<Parsed>)>;

struct DeltaFrame<'a> {
    base: RawOid,
    new: RawOid,
    mods: &'a [u8],
}

fn delta_header(schema: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(DELTA_HEADER_LEN);
    h.extend_from_slice(DELTA_MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&build_fingerprint().to_le_bytes());
    h.extend_from_slice(&schema.to_le_bytes());
    h
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(12 + payload.len());
    f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    f.extend_from_slice(&xxh3_64(payload).to_le_bytes());
    f.extend_from_slice(payload);
    f
}

/// The frames of a delta file (after its header) in the order they were written, up to the
/// first one that does not check out (a torn append ends the usable part), and the length
/// of that usable part.
fn parse_frames(body: &[u8]) -> (Vec<DeltaFrame<'_>>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    while body.len() - at >= 12 {
        let rest = &body[at..];
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let Some(sum) = u64_at(rest, 4) else { break };
        let Some(payload) = rest.get(12..12 + len) else {
            break;
        };
        if len < 40 || xxh3_64(payload) != sum {
            break;
        }
        let (Ok(base), Ok(new)) = (payload[..20].try_into(), payload[20..40].try_into()) else {
            break;
        };
        out.push(DeltaFrame {
            base,
            new,
            mods: &payload[40..],
        });
        at += 12 + len;
    }
    (out, at)
}

/// The delta file's bytes after its header, if the header is this build's.
fn read_delta_body(path: &Path, schema: u64) -> Option<Vec<u8>> {
    let bytes = fs::read(path).ok()?;
    (bytes.len() >= DELTA_HEADER_LEN && bytes[..DELTA_HEADER_LEN] == delta_header(schema)[..])
        .then(|| bytes[DELTA_HEADER_LEN..].to_vec())
}

/// Bring `entries` (the snapshot of tree `from`) forward along the delta log towards `to`.
/// Returns whether `to` was reached and how many deltas were applied; whatever happens,
/// `entries` stays an exact snapshot of the tree it has reached.
fn apply_deltas(
    dir: &Path,
    schema: u64,
    from: RawOid,
    to: RawOid,
    entries: &mut Entries,
) -> (bool, usize) {
    let body = read_delta_body(&dir.join(DELTA_FILE), schema).unwrap_or_default();
    let (frames, _) = parse_frames(&body);
    // Follow the chain first (paths only), then change the entries.
    let mut changes: Vec<(usize, Oid, Option<Parsed>)> = Vec::new();
    let mut cur = from;
    let mut applied = 0;
    {
        let index: FxHashMap<&str, usize> = if frames.iter().any(|f| f.base == from) {
            let mut index = FxHashMap::with_capacity_and_hasher(entries.len(), Default::default());
            index.extend(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (e.path.as_str(), i)),
            );
            index
        } else {
            FxHashMap::default()
        };
        for frame in frames {
            if cur == to {
                break;
            }
            if frame.base != cur {
                continue;
            }
            let Ok(mods) = postcard::from_bytes::<Mods>(frame.mods) else {
                break;
            };
            // Every changed path must be one the snapshot has, or the record does not apply.
            let Some(targets) = mods
                .iter()
                .map(|(p, o, _)| Some((*index.get(p.as_str())?, oid(o)?)))
                .collect::<Option<Vec<_>>>()
            else {
                break;
            };
            for ((i, o), (_, _, parsed)) in targets.into_iter().zip(mods) {
                changes.push((i, o, parsed));
            }
            cur = frame.new;
            applied += 1;
        }
    }
    if !changes.is_empty() {
        let mut all: Vec<&mut WorkEntry> = entries.iter_mut().collect();
        for (i, o, parsed) in changes {
            // wt's commits write regular files only.
            all[i].oid = o;
            all[i].kind = EntryKind::File;
            all[i].parsed = parsed;
        }
    }
    (cur == to, applied)
}

/// The paths wt's own commits rewrote on the way from the `.work` tree `from` to `to`, in
/// commit order, each with what the commit wrote there as its writer parsed it (the last
/// one of a path is what `to` holds), following the delta log; None when the log does not
/// lead from one to the other.
pub fn changed_since(
    store: &Store,
    from: &RawOid,
    to: &RawOid,
) -> Option<Vec<(String, Option<Parsed>)>> {
    let schema = enabled().then(schema_fingerprint).flatten()?;
    let body = read_delta_body(&dir(store).join(DELTA_FILE), schema)?;
    let (frames, _) = parse_frames(&body);
    let mut cur = *from;
    let mut paths = Vec::new();
    for frame in frames {
        if cur == *to {
            break;
        }
        if frame.base != cur {
            continue;
        }
        let mods = postcard::from_bytes::<Mods>(frame.mods).ok()?;
        paths.extend(mods.into_iter().map(|(p, _, parsed)| (p, parsed)));
        cur = frame.new;
    }
    (cur == *to).then_some(paths)
}

/// Record a commit wt just made on top of the snapshot of `.work` tree `base`: if it only
/// replaced existing files (claim, release, done, edits), append (base, new tree, new
/// records) to the delta log, so the next load needs neither git reads nor parsing.
/// Failures only cost speed, so they are ignored. Call with the writer lock held.
///
/// Returns `(base, new tree)` when every edit rewrites a ticket file into a ticket with the
/// same graph and schedule fields ([`Ticket::schedule_key`]; `old` gives the ticket each path
/// held): the id lookup of `base` then also holds for the new tree.
pub fn note_commit<'t>(
    store: &Store,
    base: Option<Oid>,
    new_commit: Oid,
    edits: &[Edit],
    exists: impl Fn(&str) -> bool,
    old: impl Fn(&str) -> Option<&'t Ticket>,
) -> Option<(RawOid, RawOid)> {
    let schema = enabled().then(schema_fingerprint).flatten()?;
    let base = base.and_then(raw)?;
    let new = store
        .work_tree(new_commit, crate::model::config::WORK_DIR)
        .ok()
        .flatten()
        .and_then(raw)?;
    let mut mods = Vec::with_capacity(edits.len());
    let mut same_graph = true;
    for e in edits {
        let Edit::Write { path, content } = e else {
            return None;
        };
        if !exists(path) {
            return None;
        }
        let o = crate::store::hash_blob(content).and_then(raw)?;
        let parsed = ticket::is_ticket_path(path).then(|| parse_blob(path, content));
        same_graph &= match (&parsed, old(path)) {
            (Some(Parsed::Ticket { ticket: new, .. }), Some(was)) => {
                new.schedule_key() == was.schedule_key()
            }
            _ => false,
        };
        mods.push((path.clone(), o, parsed));
    }
    let mut payload = Vec::with_capacity(256);
    payload.extend_from_slice(&base);
    payload.extend_from_slice(&new);
    let successor = same_graph.then_some((base, new));
    let Ok(payload) = postcard::to_extend(&mods, payload) else {
        return successor;
    };
    let path = dir(store).join(DELTA_FILE);
    let f = frame(&payload);
    // Append when the file is this build's, small, and ends with a whole frame; otherwise
    // start a new file (header + this frame) by temp file + rename.
    let body = read_delta_body(&path, schema);
    let appendable = body
        .as_ref()
        .is_some_and(|b| (b.len() as u64) < MAX_DELTA_BYTES && parse_frames(b).1 == b.len());
    if appendable {
        use std::io::Write;
        let ok = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&f));
        if ok.is_ok() {
            with_stats(|s| s.writes += 1);
        }
    } else {
        let mut all = delta_header(schema);
        all.extend_from_slice(&f);
        write_raw(&path, &all);
    }
    successor
}

type Trees = HashMap<Oid, Vec<(String, Oid, EntryKind)>>;

fn decode_trees(bytes: &[u8]) -> Option<Trees> {
    let recs: Vec<TreeRec> = postcard::from_bytes(bytes).ok()?;
    recs.into_iter()
        .map(|t| {
            let entries = t
                .entries
                .into_iter()
                .map(|(n, o, d)| Some((n, oid(&o)?, d)))
                .collect::<Option<Vec<_>>>()?;
            Some((oid(&t.oid)?, entries))
        })
        .collect()
}

/// What an older load parsed, for reuse by path and blob id. The old entries stay where they
/// were decoded (only an index by path is built), so a reload after the tree changed holds
/// one copy of the old tickets, not two.
struct Known {
    by_path: FxHashMap<String, usize>,
    old: Vec<WorkEntry>,
}

impl Known {
    fn new(mut old: Vec<WorkEntry>) -> Known {
        let mut by_path = FxHashMap::with_capacity_and_hasher(old.len(), Default::default());
        for (i, e) in old.iter_mut().enumerate() {
            if e.parsed.is_some() && e.kind == EntryKind::File {
                by_path.insert(std::mem::take(&mut e.path), i);
            }
        }
        Known { by_path, old }
    }
    fn empty() -> Known {
        Known {
            by_path: FxHashMap::default(),
            old: Vec::new(),
        }
    }
    fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
    /// What the older load parsed at `path`, if it was the same blob.
    fn take(&mut self, path: &str, oid: Oid) -> Option<Parsed> {
        let i = self.by_path.remove(path)?;
        let e = self.old.get_mut(i)?;
        if e.oid == oid {
            e.parsed.take()
        } else {
            None
        }
    }
}

/// Walk `root`, taking trees from `trees` and parsed tickets from `known` (path → blob id,
/// record) where they match, reading and parsing the rest.
fn load(
    store: &Store,
    root: Oid,
    mut known: Known,
    mut trees: Trees,
) -> Result<(Vec<WorkEntry>, Vec<TreeRec>)> {
    let mut entries = Vec::new();
    let mut order = Vec::new();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    if known.is_empty() && threads > 1 {
        // Nothing to reuse: every ticket is parsed, so parsing starts while the walk goes on.
        let parts = walk_and_parse(store, root, &mut trees, &mut order, &mut entries, threads)?;
        // Each thread's results straight into the entries (no merged copy of them all).
        for part in parts {
            with_stats(|s| s.parsed += part.len());
            for (i, p) in part {
                entries[i].parsed = Some(p);
            }
        }
    } else {
        walk(
            store,
            root,
            crate::model::config::WORK_DIR,
            &mut trees,
            &mut order,
            &mut entries,
            &mut |_, _| Ok(()),
        )?;
        let mut todo = Vec::new();
        let mut reused = 0;
        for (i, e) in entries.iter_mut().enumerate() {
            if !e.is_ticket_file() {
                continue;
            }
            match known.take(&e.path, e.oid) {
                Some(p) => {
                    e.parsed = Some(p);
                    reused += 1;
                }
                None => todo.push(i),
            }
        }
        // The old tickets that were not reused go before the new ones are parsed.
        drop(known);
        let parsed = parse_all(store, &entries, &todo)?;
        with_stats(|s| {
            s.reused += reused;
            s.parsed += parsed.len();
        });
        for (i, p) in parsed {
            entries[i].parsed = Some(p);
        }
    }
    let mut recs = Vec::with_capacity(order.len());
    for t in order {
        if let (Some(list), Some(r)) = (trees.remove(&t), raw(t)) {
            let list = list
                .into_iter()
                .filter_map(|(n, o, d)| Some((n, raw(o)?, d)))
                .collect();
            recs.push(TreeRec {
                oid: r,
                entries: list,
            });
        }
    }
    Ok((entries, recs))
}

/// Walk `tree`, appending every entry but folders to `out` (folders are walked, except one
/// whose name is not UTF-8); `on_blob` sees each one as it is added.
fn walk(
    store: &Store,
    tree: Oid,
    prefix: &str,
    trees: &mut Trees,
    order: &mut Vec<Oid>,
    out: &mut Vec<WorkEntry>,
    on_blob: &mut dyn FnMut(usize, &WorkEntry) -> Result<()>,
) -> Result<()> {
    let list = match trees.remove(&tree) {
        Some(l) => l,
        None => {
            with_stats(|s| s.trees_read += 1);
            store.tree_entries(tree)?
        }
    };
    order.push(tree);
    for (name, id, kind) in &list {
        let path = format!("{prefix}/{name}");
        if *kind == EntryKind::Tree {
            walk(store, *id, &path, trees, order, out, on_blob)?;
        } else {
            out.push(WorkEntry {
                path,
                oid: *id,
                kind: *kind,
                parsed: None,
            });
            if let Some(e) = out.last() {
                on_blob(out.len() - 1, e)?;
            }
        }
    }
    // (A tree cannot contain itself, so nothing below needed this listing.)
    trees.insert(tree, list);
    Ok(())
}

/// Ticket blobs to parse: (entry index, path, file bytes).
type Batch = Vec<(usize, String, Vec<u8>)>;
/// Parsed tickets by entry index.
type ParsedPart = Vec<(usize, Parsed)>;

/// Parse what `produce` reads. `produce` runs on this thread (repository handles stay on one
/// thread) and hands batches of blobs to its `submit` argument; `threads - 1` worker threads
/// parse them. The queue is short: when the workers are behind, this thread parses the batch
/// itself, so at most a few batches of file text are held at once. After `produce` returns,
/// this thread helps with whatever is still queued. Returns one part per thread.
fn parse_in_pool(
    threads: usize,
    produce: impl FnOnce(&mut dyn FnMut(Batch)) -> Result<()>,
) -> Result<Vec<ParsedPart>> {
    let parse_batch = |batch: Batch, out: &mut ParsedPart| {
        for (i, path, bytes) in batch {
            out.push((i, parse_blob(&path, &bytes)));
        }
    };
    let (tx, rx) = mpsc::sync_channel::<Batch>(threads);
    let rx = Mutex::new(rx);
    let next = || rx.lock().ok().and_then(|r| r.recv().ok());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    while let Some(batch) = next() {
                        parse_batch(batch, &mut out);
                    }
                    out
                })
            })
            .collect();
        let mut out = Vec::new();
        let produced = produce(&mut |batch| {
            if let Err(mpsc::TrySendError::Full(b) | mpsc::TrySendError::Disconnected(b)) =
                tx.try_send(batch)
            {
                parse_batch(b, &mut out);
            }
        });
        drop(tx);
        while let Some(b) = next() {
            parse_batch(b, &mut out);
        }
        let mut parts = vec![out];
        for w in workers {
            match w.join() {
                Ok(part) => parts.push(part),
                Err(_) => {
                    return Err(crate::error::Error::internal("a parser thread panicked"));
                }
            }
        }
        produced.map(|()| parts)
    })
}

/// Walk `root` on this thread, reading each ticket blob as it is found and handing batches
/// to `threads - 1` worker threads; after the walk this thread parses too.
fn walk_and_parse(
    store: &Store,
    root: Oid,
    trees: &mut Trees,
    order: &mut Vec<Oid>,
    entries: &mut Vec<WorkEntry>,
    threads: usize,
) -> Result<Vec<ParsedPart>> {
    parse_in_pool(threads, |submit| {
        let mut batch: Batch = Vec::with_capacity(PARSE_BATCH);
        walk(
            store,
            root,
            crate::model::config::WORK_DIR,
            trees,
            order,
            entries,
            &mut |i, e| {
                if e.is_ticket_file() {
                    batch.push((i, e.path.clone(), store.read_blob(e.oid)?));
                    if batch.len() == PARSE_BATCH {
                        submit(std::mem::replace(
                            &mut batch,
                            Vec::with_capacity(PARSE_BATCH),
                        ));
                    }
                }
                Ok(())
            },
        )?;
        if !batch.is_empty() {
            submit(batch);
        }
        Ok(())
    })
}

/// Blobs per batch handed to a parser thread.
const PARSE_BATCH: usize = 64;

/// Read and parse `entries[i]` for each i in `todo`. With many files, this thread reads
/// the blobs (repository handles stay on one thread) in batches that worker threads parse; when it
/// has read everything it parses the remaining batches too.
fn parse_all(store: &Store, entries: &[WorkEntry], todo: &[usize]) -> Result<Vec<(usize, Parsed)>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    if todo.len() < PARALLEL_MIN || threads < 2 {
        let mut out = Vec::with_capacity(todo.len());
        for &i in todo {
            let bytes = store.read_blob(entries[i].oid)?;
            out.push((i, parse_blob(&entries[i].path, &bytes)));
        }
        return Ok(out);
    }
    let parts = parse_in_pool(threads, |submit| {
        for chunk in todo.chunks(PARSE_BATCH) {
            let mut batch = Vec::with_capacity(chunk.len());
            for &i in chunk {
                batch.push((i, entries[i].path.clone(), store.read_blob(entries[i].oid)?));
            }
            submit(batch);
        }
        Ok(())
    })?;
    let mut out = Vec::with_capacity(todo.len());
    for part in parts {
        out.extend(part);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Whole results

/// Results of whole commands, by `.work` tree id: `results/<hash of key>.bin`.
const RESULTS_DIR: &str = "results";
const RESULT_MAGIC: &[u8; 8] = b"wtres01\n";

fn result_path(store: &Store, key: &str) -> PathBuf {
    dir(store)
        .join(RESULTS_DIR)
        .join(format!("{:016x}.bin", xxh3_64(key.as_bytes())))
}

/// The bytes stored for `key` (a command and its arguments) on the `.work` tree
/// `work_tree`, if the file is this build's, intact, and for this tree and key: the file's
/// bytes and where in them the stored bytes start (not copied out: they can be large).
pub fn result(store: &Store, work_tree: Oid, key: &str) -> Option<(FileBytes, usize)> {
    let schema = enabled().then(schema_fingerprint).flatten()?;
    let tree = raw(work_tree)?;
    let bytes = read(&result_path(store, key), RESULT_MAGIC, schema).ok()?;
    let payload = &bytes[HEADER_LEN..];
    let key_len = usize::try_from(u64_at(payload, 20)?).ok()?;
    let data_at = 28usize.checked_add(key_len)?;
    if payload.get(..20)? != tree || payload.get(28..data_at)? != key.as_bytes() {
        return None;
    }
    with_stats(|s| s.state = "result");
    Some((bytes, HEADER_LEN + data_at))
}

/// Store `data` as the result of `key` on the `.work` tree `work_tree` (replacing the
/// result of the same key on an older tree). Failures only cost speed.
pub fn put_result(store: &Store, work_tree: Oid, key: &str, data: &[u8]) {
    let (Some(schema), Some(tree)) = (enabled().then(schema_fingerprint).flatten(), raw(work_tree))
    else {
        return;
    };
    let mut payload = Vec::with_capacity(28 + key.len() + data.len());
    payload.extend_from_slice(&tree);
    payload.extend_from_slice(&(key.len() as u64).to_le_bytes());
    payload.extend_from_slice(key.as_bytes());
    payload.extend_from_slice(data);
    write(&result_path(store, key), RESULT_MAGIC, schema, &payload);
}
