//! The snapshot's entry records, encoded by hand: a ticket has some thirty fields, most of
//! them empty, and decoding 10,000 of them through serde cost a visitor call per field and
//! a copy of each record on its way into place. Here an absent value is one byte, and a
//! record is decoded straight into the entry it becomes.
//!
//! Every struct is taken apart and put together field by field without `..`, so a new
//! field does not compile until it is encoded here; `schema_fingerprint` also checks a round
//! trip of full records, and any other build of wt ignores this file (build fingerprint).

use super::WorkEntry;
use crate::model::ticket::{Kind, Problem, Status, Ticket};
use crate::model::ticket_file::{EntryKind, Parsed};
use crate::store::Oid;

/// Append `v` as LEB128 (7 bits a byte, low first).
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// None as 0, a text as its length + 1 and its bytes.
fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            put_varint(out, s.len() as u64 + 1);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

fn put_strs(out: &mut Vec<u8>, v: &[String]) {
    put_varint(out, v.len() as u64);
    for s in v {
        put_str(out, s);
    }
}

/// None as 0, a number as itself + 1.
fn put_opt_num(out: &mut Vec<u8>, n: Option<u64>) {
    put_varint(out, n.map_or(0, |n| n + 1));
}

fn kind_byte(k: Kind) -> u8 {
    match k {
        Kind::PhaseSpec => 0,
        Kind::Job => 1,
        Kind::Task => 2,
    }
}

fn status_byte(s: Status) -> u8 {
    match s {
        Status::Open => 0,
        Status::InProgress => 1,
        Status::Review => 2,
        Status::Done => 3,
        Status::Escalated => 4,
    }
}

fn entry_kind_byte(k: EntryKind) -> u8 {
    match k {
        EntryKind::File => 0,
        EntryKind::Tree => 1,
        EntryKind::Symlink => 2,
        EntryKind::Gitlink => 3,
        EntryKind::NotUtf8 => 4,
        EntryKind::Other => 5,
    }
}

fn put_ticket(out: &mut Vec<u8>, t: &Ticket) {
    let Ticket {
        id,
        kind,
        title,
        status,
        priority,
        parent,
        depends_on,
        claimed_by,
        claimed_at,
        claim_expires,
        claim_token,
        claim_stolen_from,
        created,
        updated,
        files,
        artifacts,
        labels,
        attempts,
        implemented_by,
        gate,
        approved_by,
        approved_at,
        order,
        aliases,
        links,
        source,
        source_hash,
        path,
    } = t;
    put_str(out, id);
    out.push(kind_byte(*kind));
    put_str(out, title);
    out.push(status_byte(*status));
    out.push(*priority);
    put_opt_str(out, parent.as_deref());
    put_strs(out, depends_on);
    for s in [
        claimed_by,
        claimed_at,
        claim_expires,
        claim_token,
        claim_stolen_from,
        created,
        updated,
    ] {
        put_opt_str(out, s.as_deref());
    }
    put_strs(out, files);
    put_strs(out, artifacts);
    put_strs(out, labels);
    put_varint(out, u64::from(*attempts));
    for s in [implemented_by, gate, approved_by, approved_at] {
        put_opt_str(out, s.as_deref());
    }
    put_opt_num(out, order.map(u64::from));
    put_strs(out, aliases);
    put_strs(out, links);
    put_opt_str(out, source.as_deref());
    put_opt_str(out, source_hash.as_deref());
    put_str(out, path);
}

fn put_problem(out: &mut Vec<u8>, p: &Problem) {
    let Problem {
        path,
        line,
        column,
        message,
        hint,
    } = p;
    put_str(out, path);
    put_varint(out, *line as u64);
    put_opt_num(out, column.map(|c| c as u64));
    put_str(out, message);
    put_opt_str(out, hint.as_deref());
}

/// One entry: its path (None: the parsed record's), blob id, kind and parsed record.
pub(super) fn put_entry(
    out: &mut Vec<u8>,
    path: Option<&str>,
    oid: &[u8; 20],
    kind: EntryKind,
    parsed: Option<&Parsed>,
) {
    put_opt_str(out, path);
    out.extend_from_slice(oid);
    out.push(entry_kind_byte(kind));
    match parsed {
        None => out.push(0),
        Some(Parsed::Ticket {
            ticket,
            unknown_fields,
        }) => {
            out.push(1);
            put_ticket(out, ticket);
            put_varint(out, unknown_fields.len() as u64);
            for (k, line) in unknown_fields {
                put_str(out, k);
                put_varint(out, *line as u64);
            }
        }
        Some(Parsed::Problem(p)) => {
            out.push(2);
            put_problem(out, p);
        }
    }
}

/// Reads what the `put_` functions wrote; every read checks its bounds (None: corrupt).
pub(super) struct Reader<'a> {
    pub(super) rest: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    /// Nearly every number is below 128: one byte, read inline.
    #[inline(always)]
    pub(super) fn varint(&mut self) -> Option<u64> {
        match self.rest.split_first() {
            Some((&b, rest)) if b < 0x80 => {
                self.rest = rest;
                Some(u64::from(b))
            }
            _ => self.long_varint(),
        }
    }

    fn long_varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    #[inline(always)]
    fn usize(&mut self) -> Option<usize> {
        usize::try_from(self.varint()?).ok()
    }

    #[inline(always)]
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (b, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(b)
    }

    #[inline(always)]
    fn text(&mut self, n: usize) -> Option<String> {
        std::str::from_utf8(self.bytes(n)?).ok().map(str::to_owned)
    }

    #[inline(always)]
    fn str(&mut self) -> Option<String> {
        let n = self.usize()?;
        self.text(n)
    }

    #[inline(always)]
    fn opt_str(&mut self) -> Option<Option<String>> {
        match self.usize()? {
            0 => Some(None),
            n => self.text(n - 1).map(Some),
        }
    }

    #[inline(always)]
    fn strs(&mut self) -> Option<Vec<String>> {
        let n = self.usize()?;
        // Each text takes at least a byte: a larger count is corrupt.
        if n > self.rest.len() {
            return None;
        }
        let mut v = Vec::new();
        if n > 0 {
            v.reserve_exact(n);
            for _ in 0..n {
                v.push(self.str()?);
            }
        }
        Some(v)
    }

    fn opt_num(&mut self) -> Option<Option<u64>> {
        Some(self.varint()?.checked_sub(1))
    }

    #[inline(always)]
    fn ticket(&mut self) -> Option<Ticket> {
        Some(Ticket {
            id: self.str()?,
            kind: match self.byte()? {
                0 => Kind::PhaseSpec,
                1 => Kind::Job,
                2 => Kind::Task,
                _ => return None,
            },
            title: self.str()?,
            status: match self.byte()? {
                0 => Status::Open,
                1 => Status::InProgress,
                2 => Status::Review,
                3 => Status::Done,
                4 => Status::Escalated,
                _ => return None,
            },
            priority: self.byte()?,
            parent: self.opt_str()?,
            depends_on: self.strs()?,
            claimed_by: self.opt_str()?,
            claimed_at: self.opt_str()?,
            claim_expires: self.opt_str()?,
            claim_token: self.opt_str()?,
            claim_stolen_from: self.opt_str()?,
            created: self.opt_str()?,
            updated: self.opt_str()?,
            files: self.strs()?,
            artifacts: self.strs()?,
            labels: self.strs()?,
            attempts: u32::try_from(self.varint()?).ok()?,
            implemented_by: self.opt_str()?,
            gate: self.opt_str()?,
            approved_by: self.opt_str()?,
            approved_at: self.opt_str()?,
            order: match self.opt_num()? {
                None => None,
                Some(n) => Some(u32::try_from(n).ok()?),
            },
            aliases: self.strs()?,
            links: self.strs()?,
            source: self.opt_str()?,
            source_hash: self.opt_str()?,
            path: self.str()?,
        })
    }

    fn problem(&mut self) -> Option<Problem> {
        Some(Problem {
            path: self.str()?,
            line: self.usize()?,
            column: match self.opt_num()? {
                None => None,
                Some(n) => Some(usize::try_from(n).ok()?),
            },
            message: self.str()?,
            hint: self.opt_str()?,
        })
    }

    /// One entry as [`put_entry`] wrote it.
    pub(super) fn entry(&mut self) -> Option<WorkEntry> {
        let mut slot = std::mem::MaybeUninit::uninit();
        self.entry_into(&mut slot)?;
        #[allow(unsafe_code)]
        // SAFETY: entry_into returned Some, so it wrote the slot.
        let entry = unsafe { slot.assume_init() };
        Some(entry)
    }

    /// One entry as [`put_entry`] wrote it, written into `slot` (Some: written; None: the
    /// slot is left as it was). Built in place: an entry is large, and moving each of
    /// 10,000 through return values cost more than decoding it.
    #[inline]
    pub(super) fn entry_into(&mut self, slot: &mut std::mem::MaybeUninit<WorkEntry>) -> Option<()> {
        let path = self.opt_str()?;
        let oid = Oid::from_bytes(self.bytes(20)?).ok()?;
        let kind = match self.byte()? {
            0 => EntryKind::File,
            1 => EntryKind::Tree,
            2 => EntryKind::Symlink,
            3 => EntryKind::Gitlink,
            4 => EntryKind::NotUtf8,
            5 => EntryKind::Other,
            _ => return None,
        };
        match self.byte()? {
            0 => {
                slot.write(WorkEntry {
                    path: path?,
                    oid,
                    kind,
                    parsed: None,
                });
            }
            1 => {
                let ticket = self.ticket()?;
                let n = self.usize()?;
                if n > self.rest.len() {
                    return None;
                }
                let unknown_fields = (0..n)
                    .map(|_| Some((self.str()?, self.usize()?)))
                    .collect::<Option<Vec<_>>>()?;
                let path = path.unwrap_or_else(|| ticket.path.clone());
                slot.write(WorkEntry {
                    path,
                    oid,
                    kind,
                    parsed: Some(Parsed::Ticket {
                        ticket,
                        unknown_fields,
                    }),
                });
            }
            2 => {
                let problem = self.problem()?;
                let path = path.unwrap_or_else(|| problem.path.clone());
                slot.write(WorkEntry {
                    path,
                    oid,
                    kind,
                    parsed: Some(Parsed::Problem(problem)),
                });
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field distinct, so that two fields read in each other's place would show.
    fn full_ticket() -> Ticket {
        let s = |v: &str| Some(v.to_string());
        let l = |v: &str| vec![format!("{v}1"), format!("{v}2")];
        Ticket {
            id: "J-1".into(),
            kind: Kind::Task,
            title: "title".into(),
            status: Status::Escalated,
            priority: 3,
            parent: s("parent"),
            depends_on: l("dep"),
            claimed_by: s("by"),
            claimed_at: s("at"),
            claim_expires: s("expires"),
            claim_token: s("token"),
            claim_stolen_from: s("stolen"),
            created: s("created"),
            updated: s("updated"),
            files: l("file"),
            artifacts: l("artifact"),
            labels: l("label"),
            attempts: 300,
            implemented_by: s("implementer"),
            gate: s("gate"),
            approved_by: s("approver"),
            approved_at: s("approved"),
            order: Some(70000),
            aliases: l("alias"),
            links: l("link"),
            source: s("source"),
            source_hash: s("hash"),
            path: ".work/J-1.md".into(),
        }
    }

    fn round_trip(path: Option<&str>, kind: EntryKind, parsed: Option<&Parsed>) -> WorkEntry {
        let mut bytes = Vec::new();
        put_entry(&mut bytes, path, &[9; 20], kind, parsed);
        let mut r = Reader { rest: &bytes };
        let e = r.entry().expect("decodes");
        assert!(r.rest.is_empty());
        // Every proper prefix is refused, never misread.
        for cut in 0..bytes.len() {
            let mut r = Reader {
                rest: &bytes[..cut],
            };
            assert!(r.entry().is_none(), "prefix of {cut} bytes");
        }
        e
    }

    #[test]
    fn records_come_back_as_they_were_written() {
        let full = Parsed::Ticket {
            ticket: full_ticket(),
            unknown_fields: vec![("estimate".into(), 7), ("x".into(), 300)],
        };
        let e = round_trip(None, EntryKind::File, Some(&full));
        assert_eq!(e.parsed.as_ref(), Some(&full));
        assert_eq!(e.path, ".work/J-1.md");
        assert_eq!(e.oid.as_bytes(), &[9; 20]);
        let empty = Parsed::Ticket {
            ticket: Ticket::default(),
            unknown_fields: vec![],
        };
        assert_eq!(
            round_trip(Some("p"), EntryKind::File, Some(&empty)).parsed,
            Some(empty)
        );
        for column in [None, Some(0), Some(12)] {
            let p = Parsed::Problem(Problem {
                path: ".work/J-2.md".into(),
                line: 4,
                column,
                message: "bad".into(),
                hint: Some("fix".into()),
            });
            assert_eq!(round_trip(None, EntryKind::File, Some(&p)).parsed, Some(p));
        }
        for kind in [
            EntryKind::File,
            EntryKind::Tree,
            EntryKind::Symlink,
            EntryKind::Gitlink,
            EntryKind::NotUtf8,
            EntryKind::Other,
        ] {
            let e = round_trip(Some(".work/x"), kind, None);
            assert_eq!((e.path.as_str(), e.kind, e.parsed), (".work/x", kind, None));
        }
    }
}
