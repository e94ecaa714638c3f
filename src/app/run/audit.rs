//! Audits by a second agent: the prompt an auditor gets and how its verdict is read.
//!
//! The verdict is the last line of the auditor's final text: `<pass/>`, or a block
//! `<fail>` … `</fail>` ending the text, whose content is the amendment the next attempt
//! reads. Anything else is no verdict.

use crate::app::context::{self, ContextOptions};
use crate::error::Result;
use crate::model::ticket::Ticket;
use crate::workspace::{Snapshot, Workspace};

/// The most diff an audit prompt carries.
const MAX_DIFF_BYTES: usize = 60_000;

/// An auditor's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The amendment.
    Fail(String),
    None,
}

/// Read the verdict at the end of `final_text`.
pub fn verdict(final_text: &str) -> Verdict {
    let text = final_text.trim_end();
    let last = text.lines().last().map(str::trim).unwrap_or("");
    if last == "<pass/>" || last == "<pass />" {
        return Verdict::Pass;
    }
    if let Some(before) = text.strip_suffix("</fail>") {
        if let Some(at) = before.rfind("<fail>") {
            let amendment = before[at + "<fail>".len()..].trim();
            if !amendment.is_empty() {
                return Verdict::Fail(amendment.to_string());
            }
        }
    }
    Verdict::None
}

/// The auditor's prompt: the ticket's bundle (criteria and amendments so far included), the
/// diff of its branch against the integration branch, and how to give the verdict.
pub fn prompt(
    ws: &Workspace,
    snap: &Snapshot,
    t: &Ticket,
    branch: &str,
    target: &str,
    diff: &str,
) -> Result<String> {
    let bundle = context::bundle(ws, snap, t, &ContextOptions::default())?;
    let mut p = format!(
        "You are auditing another agent's work on ticket {id}. You did not write it. Judge it \
         against the ticket below: every acceptance criterion must really hold in the code, \
         and the change must do what the description asks, nothing broken on the way. Read the \
         code in this worktree (branch `{branch}`) as you need; do not change it.\n\n---\n\n",
        id = t.id
    );
    p.push_str(&bundle.text);
    if !p.ends_with('\n') {
        p.push('\n');
    }
    p.push_str(&format!(
        "\n---\n\n## The change: `git diff {target}...{branch}` (code only)\n\n```diff\n{}```\n",
        if diff.is_empty() {
            "(no code change)\n"
        } else {
            diff
        }
    ));
    p.push_str(
        "\n## Your verdict\n\nEnd your final message with exactly one of these, and nothing \
         after it:\n\n<pass/>\n\nor, when anything must change, a block whose content tells the \
         next attempt precisely what to fix (it becomes the ticket's amendment):\n\n<fail>\n\
         what is wrong and what must change\n</fail>\n",
    );
    Ok(p)
}

/// The code diff of the ticket branch `tip` against where it forked from `target_tip`.
pub fn branch_diff(
    ws: &Workspace,
    target_tip: crate::store::Oid,
    tip: crate::store::Oid,
) -> Result<String> {
    let store = &ws.store;
    let base = store.merge_base(target_tip, tip)?.unwrap_or(target_tip);
    let a = crate::app::ci::tree::code_tree(store, store.commit_tree(base)?)?;
    let b = crate::app::ci::tree::code_tree(store, store.commit_tree(tip)?)?;
    store.tree_patch(a, b, MAX_DIFF_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_is_the_last_line_only() {
        assert_eq!(verdict("Looks right.\n<pass/>\n"), Verdict::Pass);
        assert_eq!(verdict("<pass/>\nbut wait, no"), Verdict::None);
        assert_eq!(verdict(""), Verdict::None);
    }

    #[test]
    fn a_fail_block_at_the_end_is_the_amendment() {
        assert_eq!(
            verdict("Checked.\n<fail>\nThe form does not post the password.\n</fail>\n"),
            Verdict::Fail("The form does not post the password.".into())
        );
        assert_eq!(verdict("<fail></fail>"), Verdict::None);
        assert_eq!(verdict("<fail>x</fail>\nmore"), Verdict::None);
    }
}
