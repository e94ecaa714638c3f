//! Command-line front end: argument parsing, output (text or `--json`) and exit codes.
//! Each verb lives in `commands/<verb>.rs`: its arguments, one call into [`crate::app`], and
//! the text rendering of the report that call returns. `--json` prints the report itself.
//!
//! Ticket text is hostile: every text this module prints (reports, notes, errors) passes
//! through [`crate::model::text::escape_text`], so no control character from a ticket reaches
//! the terminal, and is escaped there only (once: text that reads like an escape is told
//! apart from one); renderers keep one-line fields on one line with
//! [`crate::model::text::one_line`]. `--json` documents stay exact.

mod commands;
mod output;

use std::io::{IsTerminal, Write};

use crate::model::text::escape_text;
use std::path::PathBuf;

use crate::{Error, ErrorKind};
use clap::{CommandFactory, FromArgMatches, Parser};
use serde::Serialize;

use crate::app::report::{ErrorBody, ErrorReport, Reported, SchemaVersion};

/// Exit codes, also listed in `wt --help`.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const INVALID: i32 = 2;
    pub const NOT_FOUND: i32 = 3;
    pub const ALREADY_CLAIMED: i32 = 4;
    pub const REFUSED: i32 = 5;
    pub const BUSY: i32 = 6;
    pub const SETUP: i32 = 7;
    /// Stopped by Ctrl-C / SIGTERM (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: i32 = 130;
}

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  error (git, I/O), or `wt check` found problems
  2  invalid input: bad arguments, ambiguous ID, a dependency cycle
  3  not found: no such ticket, or nothing is ready for `claim --next`
  4  already claimed by someone else (the holder is named)
  5  refused: a precondition does not hold (not the claimant, a superseded claim
     token, unchecked criteria, missing artifacts, CI red, uncommitted edits to a
     ticket file)
  6  busy: the state branch kept moving or a lock stayed held; retry
  7  not set up: not a git repository, or no .work/ (run `wt init`)
  130 `wt ci` or the pre-commit hook was interrupted (Ctrl-C, SIGTERM)

Every command takes --json and then prints one JSON document on stdout: an
object whose first field is \"schema_version\": 1 (errors too:
{\"schema_version\": 1, \"error\": {...}}).";

/// wt: work tickets for teams of coding agents, stored in git.
///
/// Phase-specs, jobs and tasks are markdown files with YAML frontmatter under .work/ on the
/// state branch. Every read comes from that branch's tip; every change is one git commit on
/// it, touching only .work/, made by compare-and-swap.
#[derive(Parser)]
#[command(name = "wt", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Run as if wt was started in this directory.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: commands::Command,
}

/// [`Cli`] with each verb's arguments defined only when it is the one invoked
/// ([`commands::Deferred`]): what [`parse`] tries first. Its help texts are never shown (a
/// command line it refuses, `--help` included, is parsed again with [`Cli`]), so they are
/// left out here; a test keeps the two definitions alike.
#[derive(Parser)]
#[command(name = "wt", version, propagate_version = true)]
pub struct Quick {
    #[arg(long, global = true)]
    pub json: bool,
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: commands::Deferred,
}

/// The command line `args` as [`Cli`] reads it. A valid one is read with [`Quick`], which
/// defines only the verb invoked; anything else (help, version, a mistake) is read again with
/// the whole definition, whose messages clap prints.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if let Ok(q) = Quick::try_parse_from(&args) {
        return Ok(Cli {
            json: q.json,
            dir: q.dir,
            command: q.command.into(),
        });
    }
    Cli::command()
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m))
}

/// What a command produced: its report (the document `--json` prints) and how to say it in
/// text, rendered from the same report only when text is asked for.
pub struct Out {
    doc: Box<dyn Document>,
    pub code: i32,
    /// Lines for stderr (warnings, skipped tickets), printed in both modes.
    pub notes: Vec<String>,
    /// Print the text exactly as rendered, without adding a final newline (`wt plan export`).
    pub exact: bool,
    /// The command printed its output as it went (`wt run`): print no document at the end.
    pub streamed: bool,
}

/// A report and its text rendering, behind one type: `Out` carries any report.
trait Document {
    fn json(&self) -> serde_json::Result<String>;
    fn text(&self) -> String;
}

struct Rendered<R, F> {
    report: R,
    render: F,
}

impl<R: Serialize, F: Fn(&R) -> String> Document for Rendered<R, F> {
    fn json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&self.report)
    }
    fn text(&self) -> String {
        (self.render)(&self.report)
    }
}

/// A document already rendered in the one format this run prints (see [`Out::printed`]).
/// Handed out once (it is printed once), without a copy.
struct Printed(std::cell::RefCell<String>);

impl Document for Printed {
    fn json(&self) -> serde_json::Result<String> {
        Ok(self.0.take())
    }
    fn text(&self) -> String {
        self.0.take()
    }
}

impl Out {
    /// Output already rendered in the format this run prints (`--json`: the document's
    /// JSON; else its text), e.g. kept from an earlier run on the same tree.
    pub fn printed(rendered: String) -> Out {
        Out {
            doc: Box::new(Printed(std::cell::RefCell::new(rendered))),
            code: exit::OK,
            notes: Vec::new(),
            exact: false,
            streamed: false,
        }
    }
    /// `report`, rendered as text by `render`.
    pub fn new<R: Serialize + 'static>(report: R, render: impl Fn(&R) -> String + 'static) -> Out {
        Out {
            doc: Box::new(Rendered { report, render }),
            code: exit::OK,
            notes: Vec::new(),
            exact: false,
            streamed: false,
        }
    }
    /// A report from the library with its notes for stderr.
    pub fn reported<R: Serialize + 'static>(
        r: Reported<R>,
        render: impl Fn(&R) -> String + 'static,
    ) -> Out {
        Out::new(r.report, render).notes(output::note_lines(&r.notes))
    }
    pub fn notes(mut self, notes: impl IntoIterator<Item = String>) -> Out {
        self.notes.extend(notes);
        self
    }
    pub fn code(mut self, code: i32) -> Out {
        self.code = code;
        self
    }
    /// The output was printed as it happened; nothing more at the end.
    pub fn streamed(mut self) -> Out {
        self.streamed = true;
        self
    }
    /// Print the text as it is, without a final newline added.
    pub fn exact(mut self) -> Out {
        self.exact = true;
        self
    }
}

/// Context shared by all commands.
pub struct Ctx {
    pub json: bool,
    pub cwd: PathBuf,
}

impl Ctx {
    /// The workspace, after repairing what killed processes left behind (unstaged edits an
    /// interrupted hook set aside, an interrupted wt write: see `app::leftovers`), saying so
    /// on stderr.
    pub fn workspace(&self) -> Result<crate::workspace::Workspace, Error> {
        let ws = self.workspace_as_is()?;
        static TIDIED: std::sync::Once = std::sync::Once::new();
        TIDIED.call_once(|| {
            for n in crate::app::leftovers::tidy(&ws) {
                eprintln!("warning: {n}");
            }
        });
        Ok(ws)
    }

    /// The workspace, leaving everything as it is (`wt doctor` reports first).
    pub fn workspace_as_is(&self) -> Result<crate::workspace::Workspace, Error> {
        let ws = crate::workspace::Workspace::open(&self.cwd)?;
        if let Some(n) = &ws.notice {
            eprintln!("{n}");
        }
        Ok(ws)
    }
}

pub fn exit_code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Internal => exit::ERROR,
        ErrorKind::Invalid => exit::INVALID,
        ErrorKind::NotFound => exit::NOT_FOUND,
        ErrorKind::AlreadyClaimed => exit::ALREADY_CLAIMED,
        ErrorKind::Refused => exit::REFUSED,
        ErrorKind::Busy => exit::BUSY,
        ErrorKind::Setup => exit::SETUP,
    }
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Internal => "error",
        ErrorKind::Invalid => "invalid",
        ErrorKind::NotFound => "not_found",
        ErrorKind::AlreadyClaimed => "already_claimed",
        ErrorKind::Refused => "refused",
        ErrorKind::Busy => "busy",
        ErrorKind::Setup => "not_set_up",
    }
}

/// Write to stdout; a closed pipe (`wt list | head`) is not an error.
pub fn emit(s: &str) -> bool {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(_) => false,
    }
}

/// Print `s` and a newline on stdout (without copying `s` to add the newline); false when
/// stdout is closed.
fn emit_line(s: &str) -> bool {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_all(s.as_bytes())
        .and_then(|_| out.write_all(b"\n"))
        .and_then(|_| out.flush());
    written.is_ok()
}

/// Whether the raw arguments ask for `--json` (before a `--`): read when clap itself refuses
/// the arguments, so that the error still comes as the JSON error document.
fn json_in_args() -> bool {
    std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

/// A clap parse error as a wt error: kind invalid (exit 2), the first line as the message,
/// the usage and the rest as the hint.
fn clap_error(e: &clap::Error) -> Error {
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("invalid arguments");
    let message = first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .trim()
        .to_string();
    let rest: Vec<&str> = lines.map(str::trim_end).filter(|l| !l.is_empty()).collect();
    let err = Error::invalid(message);
    if rest.is_empty() {
        err
    } else {
        err.with_hint(rest.join("\n"))
    }
}

pub fn run() -> i32 {
    let parsed = parse(std::env::args_os());
    let cli = match parsed {
        Ok(c) => c,
        // --help and --version: printed as clap prints them.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return exit::OK;
        }
        Err(e) => {
            if json_in_args() {
                return report_error(clap_error(&e), true);
            }
            let _ = e.print();
            return exit::INVALID;
        }
    };
    let cwd = match &cli.dir {
        Some(d) if !d.is_dir() => {
            let what = if d.exists() {
                "is not a directory"
            } else {
                "does not exist"
            };
            let e = Error::invalid(format!("-C {}: the directory {what}", d.display()))
                .with_hint("pass an existing directory inside the repository");
            return report_error(e, cli.json);
        }
        Some(d) => d.clone(),
        None => match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: cannot read the current directory: {e}");
                return exit::ERROR;
            }
        },
    };
    let ctx = Ctx {
        json: cli.json,
        cwd,
    };
    // wt exits after one command: big snapshots need not be freed piece by piece.
    crate::workspace::set_short_lived(true);
    let result = commands::dispatch(cli.command, &ctx);
    for line in crate::workspace::debug_lines() {
        eprintln!("{line}");
    }
    match result {
        Ok(out) => {
            for n in &out.notes {
                eprintln!("{}", escape_text(n));
            }
            if out.streamed {
            } else if ctx.json {
                let s = out.doc.json().unwrap_or_else(|_| "null".into());
                emit_line(&s);
            } else {
                let mut t = out.doc.text();
                if !t.is_empty() {
                    if !t.ends_with('\n') && !out.exact {
                        t.push('\n');
                    }
                    // A document printed exactly (`wt plan export`) goes to a file or a pipe
                    // byte for byte; on a terminal it is escaped like every other text.
                    if out.exact && !std::io::stdout().is_terminal() {
                        emit(&t);
                    } else {
                        emit(&escape_text(&t));
                    }
                }
            }
            let code = out.code;
            // wt exits after one command: a report of 10,000 tickets need not be freed.
            std::mem::forget(out);
            code
        }
        Err(e) => report_error(e, ctx.json),
    }
}

/// Say what went wrong on stderr (and, with `--json`, as the error document on stdout);
/// returns the exit code.
fn report_error(e: Error, json: bool) -> i32 {
    eprintln!("error: {}", escape_text(&e.message));
    if let Some(h) = &e.hint {
        eprintln!("hint: {}", escape_text(h));
    }
    let code = exit_code(e.kind);
    if json {
        let doc = ErrorReport {
            schema_version: SchemaVersion,
            error: ErrorBody {
                kind: kind_name(e.kind),
                code,
                message: e.message,
                hint: e.hint,
                detail: e.detail,
            },
        };
        let s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        emit(&format!("{s}\n"));
    }
    code
}
