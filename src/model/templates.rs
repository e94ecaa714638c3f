//! Ticket templates: the built-in defaults (from `ticket-templates/`), which `wt init` copies
//! to `.work/templates/`, and filling a template into a new ticket file.

use std::collections::HashMap;

use regex::Regex;

use crate::error::{Error, Result};
use crate::model::config::TEMPLATES_DIR;
use crate::model::frontmatter::{self, Value};
use crate::model::ticket::{Kind, Ticket};

/// The built-in template for `kind`.
pub fn builtin(kind: Kind) -> &'static str {
    match kind {
        Kind::PhaseSpec => include_str!("../../ticket-templates/phase-spec.md"),
        Kind::Job => include_str!("../../ticket-templates/job.md"),
        Kind::Task => include_str!("../../ticket-templates/task.md"),
    }
}

/// Where the team's editable template for `kind` lives.
pub fn path(kind: Kind) -> String {
    format!("{TEMPLATES_DIR}/{}.md", kind.as_str())
}

/// Replace `{{name}}` placeholders in the body (never in the frontmatter) in one pass;
/// unknown placeholders are left as written.
pub fn fill_body(body: &str, vars: &HashMap<&str, String>) -> String {
    static_re()
        .replace_all(body, |c: &regex::Captures<'_>| {
            vars.get(&c[1]).cloned().unwrap_or_else(|| c[0].to_string())
        })
        .into_owned()
}

fn static_re() -> &'static Regex {
    use std::sync::OnceLock;
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{\{([a-z_]+)\}\}").expect("valid placeholder regex"))
}

/// Fill `template` into a ticket: set each frontmatter field (one line each, keeping the
/// template's layout), and either fill the body's placeholders or replace the body.
pub fn render(
    template: &str,
    fields: &[(&str, Value)],
    vars: &HashMap<&str, String>,
    body: Option<&str>,
) -> Result<String> {
    let split = frontmatter::split(template)
        .map_err(|e| Error::invalid(format!("bad ticket template: {e}")))?;
    let head = &template[..split.body_offset];
    let new_body = match body {
        Some(b) => {
            let mut b = b.to_string();
            if !b.is_empty() && !b.ends_with('\n') {
                b.push('\n');
            }
            b
        }
        None => fill_body(split.body, vars),
    };
    let text = format!("{head}{new_body}");
    frontmatter::set_fields(&text, fields)
        .map_err(|e| Error::invalid(format!("bad ticket template: {e}")))
}

/// What a template's frontmatter sets, read as a ticket: the defaults for every ticket made
/// from it (`priority`, `status`, `depends_on`, `files`, `artifacts`, `labels`, `gate`, …).
/// Fields the template leaves out have the usual defaults (priority 2, open, empty lists).
pub fn defaults(template: &str, kind: Kind) -> Result<Ticket> {
    let mut text = template.to_string();
    for (k, v) in [
        ("id", format!("{}-template", kind.prefix())),
        ("kind", kind.as_str().to_string()),
        ("title", "template".to_string()),
    ] {
        text = frontmatter::set_field(&text, k, &Value::Str(v))
            .map_err(|e| Error::invalid(format!("bad ticket template {}: {e}", path(kind))))?;
    }
    crate::model::ticket::parse(&path(kind), &text).map_err(|p| {
        Error::invalid(format!("bad ticket template: {p}")).with_hint(format!("fix {}", path(kind)))
    })
}
