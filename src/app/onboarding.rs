//! Onboarding: `wt prime` (what an agent needs to work on wt tickets), `wt setup` (a marked
//! block in AGENTS.md / CLAUDE.md pointing at it), and the reports of `wt completions` and
//! `wt man` (whose scripts and pages the CLI renders from its own definition).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::SchemaVersion;
use crate::error::{Error, Result};

/// The text `wt prime` prints (src/app/prime.md).
pub const PRIME: &str = include_str!("prime.md");
/// Raised whenever the prime text changes in substance (the text names it too).
pub const PRIME_VERSION: u32 = 1;
/// The prime text must stay this short: it goes into every agent's context.
pub const PRIME_MAX_BYTES: usize = 2048;

/// `wt prime`: the onboarding text for an agent.
#[derive(Debug, Clone, Serialize)]
pub struct PrimeReport {
    pub schema_version: SchemaVersion,
    /// The version of the text (also in its first line).
    pub prime_version: u32,
    /// Its size in bytes (at most 2,048).
    pub bytes: usize,
    /// The text, markdown.
    pub text: String,
}

pub fn prime() -> PrimeReport {
    PrimeReport {
        schema_version: SchemaVersion,
        prime_version: PRIME_VERSION,
        bytes: PRIME.len(),
        text: PRIME.to_string(),
    }
}

/// The first line of the block `wt setup` manages.
pub const BEGIN: &str =
    "<!-- wt:setup begin: written by `wt setup`, which replaces what is between these markers -->";
/// Its last line.
pub const END: &str = "<!-- wt:setup end -->";

/// The block `wt setup` writes, markers included, without a final line ending.
pub fn setup_block() -> String {
    format!(
        "{BEGIN}\n\
         ## Work tickets (wt)\n\
         \n\
         Work in this repository is tracked with wt. Before you start, run `wt prime` and\n\
         follow it: it tells the loop (ready, claim, context, work, progress, tick, commit,\n\
         done), what each exit code means, and the rules. `wt --help` lists every verb.\n\
         {END}"
    )
}

/// One file `wt setup` looked at.
#[derive(Debug, Clone, Serialize)]
pub struct SetupFile {
    /// The file, relative to the repository root.
    pub path: String,
    /// `created` (the file did not exist), `added` (the block was appended), `updated`
    /// (the block was replaced), `unchanged`, or `skipped` (see `note`).
    pub action: String,
    pub note: Option<String>,
}

/// `wt setup`: the agent instruction files and what was done to each.
#[derive(Debug, Clone, Serialize)]
pub struct SetupReport {
    pub schema_version: SchemaVersion,
    /// The repository's root.
    pub root: String,
    pub files: Vec<SetupFile>,
}

/// `text` with the managed block put in: replaced between the markers, else appended after
/// a blank line. Text outside the markers is kept byte for byte. Refuses a file whose
/// markers are not one begin line followed by one end line.
pub fn with_block(text: &str, block: &str, file: &str) -> Result<String> {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let block = block.replace('\n', eol);
    // Marker lines: (byte offset of the line, offset after its line ending, line number).
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    let mut at = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let content = line.trim_end_matches(['\n', '\r']).trim();
        if content.starts_with("<!-- wt:setup begin") {
            begins.push((at, at + line.len(), n + 1));
        } else if content.starts_with("<!-- wt:setup end") {
            ends.push((at, at + line.len(), n + 1));
        }
        at += line.len();
    }
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => {
            let mut out = text.to_string();
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push_str(eol);
                }
                if !out.ends_with(&format!("{eol}{eol}")) {
                    out.push_str(eol);
                }
            }
            out.push_str(&block);
            out.push_str(eol);
            Ok(out)
        }
        ([(b, _, _)], [(e, e_next, _)]) if b < e => {
            let end_line = &text[*e..*e_next];
            let ending = &end_line[end_line.trim_end_matches(['\n', '\r']).len()..];
            Ok(format!(
                "{}{block}{ending}{}",
                &text[..*b],
                &text[*e_next..]
            ))
        }
        _ => {
            let lines: Vec<String> = begins
                .iter()
                .map(|(_, _, l)| format!("begin at line {l}"))
                .chain(ends.iter().map(|(_, _, l)| format!("end at line {l}")))
                .collect();
            Err(Error::invalid(format!(
                "{file}: the wt:setup markers are not one begin line then one end line ({})",
                if lines.is_empty() {
                    "none".to_string()
                } else {
                    lines.join(", ")
                }
            ))
            .with_hint("remove the stray marker lines by hand, then run `wt setup` again"))
        }
    }
}

/// `wt setup` in the repository at `root`: the block in AGENTS.md (created if missing) and in
/// CLAUDE.md where it exists. A file is written only when its text changes.
pub fn setup(root: &Path) -> Result<SetupReport> {
    let block = setup_block();
    let canon_root = root.canonicalize()?;
    let mut files = Vec::new();
    let mut written: Vec<PathBuf> = Vec::new();
    for (name, create) in [("AGENTS.md", true), ("CLAUDE.md", false)] {
        let path = root.join(name);
        let exists = std::fs::symlink_metadata(&path).is_ok();
        if !exists && !create {
            continue;
        }
        let mut file = SetupFile {
            path: name.to_string(),
            action: String::new(),
            note: None,
        };
        // A link (CLAUDE.md → AGENTS.md is common) is followed, but only inside the repository.
        let target = if exists {
            match path.canonicalize() {
                Ok(t) if t.starts_with(&canon_root) => t,
                _ => {
                    file.action = "skipped".into();
                    file.note = Some("it points outside the repository".into());
                    files.push(file);
                    continue;
                }
            }
        } else {
            path.clone()
        };
        if written.contains(&target) {
            file.action = "unchanged".into();
            file.note = Some("the same file as one above".into());
            files.push(file);
            continue;
        }
        let old = if exists {
            let bytes = std::fs::read(&target)?;
            String::from_utf8(bytes)
                .map_err(|_| Error::invalid(format!("{name} is not UTF-8 text")))?
        } else {
            String::new()
        };
        let new = with_block(&old, &block, name)?;
        file.action = if !exists {
            "created"
        } else if new == old {
            "unchanged"
        } else if old
            .lines()
            .any(|l| l.trim().starts_with("<!-- wt:setup begin"))
        {
            "updated"
        } else {
            "added"
        }
        .into();
        if new != old {
            std::fs::write(&target, new.as_bytes())?;
        }
        written.push(target);
        files.push(file);
    }
    Ok(SetupReport {
        schema_version: SchemaVersion,
        root: root.display().to_string(),
        files,
    })
}

/// `wt setup` in the repository that holds `cwd` (its working tree's root).
pub fn setup_in(cwd: &Path) -> Result<SetupReport> {
    let store = crate::store::Store::discover(cwd)?;
    let root = store
        .workdir()
        .ok_or_else(|| Error::setup("this repository has no working tree to write AGENTS.md in"))?;
    setup(root)
}

/// `wt completions SHELL`: the completion script.
#[derive(Debug, Clone, Serialize)]
pub struct CompletionsReport {
    pub schema_version: SchemaVersion,
    /// bash, zsh, fish, powershell or elvish.
    pub shell: String,
    pub script: String,
}

/// `wt man`: the manual pages (roff), written to a folder or shown.
#[derive(Debug, Clone, Serialize)]
pub struct ManReport {
    pub schema_version: SchemaVersion,
    /// The folder written to; null when the page was printed instead.
    pub dir: Option<String>,
    /// The page file names (`wt.1`, `wt-claim.1`, …).
    pub pages: Vec<String>,
    /// Without a folder: the page for `wt` itself. Null with a folder.
    pub page: Option<String>,
}

/// Write `pages` (file name, roff) into `dir`, creating it.
pub fn write_pages(dir: &Path, pages: &[(String, Vec<u8>)]) -> Result<ManReport> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::invalid(format!("cannot create {}: {e}", dir.display())))?;
    for (name, roff) in pages {
        std::fs::write(dir.join(name), roff)?;
    }
    Ok(ManReport {
        schema_version: SchemaVersion,
        dir: Some(dir.display().to_string()),
        pages: pages.iter().map(|(n, _)| n.clone()).collect(),
        page: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prime_text_is_short_and_names_its_version() {
        assert!(PRIME.len() <= PRIME_MAX_BYTES, "{} bytes", PRIME.len());
        assert!(PRIME
            .lines()
            .next()
            .unwrap_or("")
            .contains(&format!("v{PRIME_VERSION}")));
    }

    #[test]
    fn the_block_is_replaced_between_its_markers_and_nothing_else_changes() {
        let block = setup_block();
        let once = with_block("# Agents\n\nBe nice.", &block, "AGENTS.md").unwrap();
        assert!(once.starts_with("# Agents\n\nBe nice.\n\n<!-- wt:setup begin"));
        assert_eq!(with_block(&once, &block, "AGENTS.md").unwrap(), once);
        let edited = once.replace("Work in this repository", "OLD") + "tail\n";
        let fixed = with_block(&edited, &block, "AGENTS.md").unwrap();
        assert_eq!(fixed, format!("{once}tail\n"));
        let crlf = "a\r\nb\r\n";
        let c = with_block(crlf, &block, "AGENTS.md").unwrap();
        assert!(c.starts_with("a\r\nb\r\n\r\n<!--") && !c.replace("\r\n", "").contains('\n'));
        assert!(with_block(&format!("{BEGIN}\n"), &block, "AGENTS.md").is_err());
        assert!(with_block(&format!("{END}\n{BEGIN}\n"), &block, "AGENTS.md").is_err());
    }
}
