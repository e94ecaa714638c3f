//! Reads whose answer is a function of the `.work` tree and a key alone, answered from the
//! cache when this tree was asked the same before (`wt ready` in an agent's loop).

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{finished_with, Snapshot, Workspace};
use crate::error::Result;
use crate::model::config::WORK_DIR;

impl Workspace {
    /// A read whose answer is a function of the `.work` tree at the state branch's tip and
    /// `key` alone (`key` names the read and every argument it depends on).
    ///
    /// `f` computes the answer from the snapshot and says whether the answer read no clock
    /// (`true`: it would be the same at any time). Only such answers are kept: the next read
    /// of the same tree and key returns the kept answer without loading the snapshot. Keeping
    /// is best effort; a missing or unreadable entry only costs speed.
    pub fn read_pure<R: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        f: impl FnOnce(&Snapshot) -> Result<(R, bool)>,
    ) -> Result<R> {
        self.read_pure_as(key, f, |r| r)
    }

    /// [`Workspace::read_pure`] whose kept answer is `shape(answer)` rather than the answer
    /// itself: e.g. the document a command prints, so that a repeated read costs neither
    /// decoding the report nor rendering it again. `key` must also name everything `shape`
    /// depends on (such as the output format).
    pub fn read_pure_as<R, D: Serialize + DeserializeOwned>(
        &self,
        key: &str,
        f: impl FnOnce(&Snapshot) -> Result<(R, bool)>,
        shape: impl FnOnce(R) -> D,
    ) -> Result<D> {
        let tip = self.tip()?;
        let tree = match tip {
            Some(tip) => self.store.work_tree(tip, WORK_DIR)?,
            None => None,
        };
        if let Some(tree) = tree {
            let kept = crate::derived::cache::result(&self.store, tree, key)
                .and_then(|(b, at)| postcard::from_bytes::<D>(&b[at..]).ok());
            if let Some(r) = kept {
                return Ok(r);
            }
        }
        // The snapshot of the same tip whose tree names the answer.
        let snap = self.snapshot_at(tip)?;
        let (answer, timeless) = f(&snap)?;
        finished_with(snap);
        let answer = shape(answer);
        if let (Some(tree), true) = (tree, timeless) {
            if let Ok(bytes) = postcard::to_stdvec(&answer) {
                crate::derived::cache::put_result(&self.store, tree, key, &bytes);
            }
        }
        Ok(answer)
    }
}
