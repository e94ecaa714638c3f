//! One ticket to create, as `wt import` reads it from JSON and `wt plan import` builds it
//! from a plan document.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::ticket::{Kind, Status};

/// One ticket to import. `parent` and `depends_on` name other items' keys (or existing IDs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub key: String,
    pub kind: Kind,
    pub title: String,
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default)]
    pub priority: Option<u8>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// None (left out): the template's. Likewise `artifacts`, `labels`, `priority`, `status`.
    #[serde(default)]
    pub files: Option<Vec<String>>,
    #[serde(default)]
    pub artifacts: Option<Vec<String>>,
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// More frontmatter fields to set (used by `wt plan import`; not read from JSON).
    #[serde(skip)]
    pub extra: Vec<(String, crate::model::frontmatter::Value)>,
    /// Frontmatter fields wt does not know, each as its verbatim text (key, text): set after
    /// everything else (used by `wt plan import` of an exported plan; not read from JSON).
    #[serde(skip)]
    pub raw_fields: Vec<(String, String)>,
    /// What the item is in the tracker it comes from (`beads:bd-a3f8`): the ticket's
    /// `source` field, by which a later import finds it again (`wt import --from`).
    #[serde(skip)]
    pub source: Option<String>,
    /// Other names that find the ticket (the item's ID in its tracker).
    #[serde(skip)]
    pub aliases: Vec<String>,
    /// Relations that do not block: (type, a key in the batch or an ID that is neither).
    #[serde(skip)]
    pub links: Vec<(String, String)>,
    /// Dependencies on items the source does not have: kept as written, so they block
    /// (fail closed) and `wt check` names them.
    #[serde(skip)]
    pub dangling: Vec<String>,
    /// Creation and last change in the source (RFC 3339, UTC).
    #[serde(skip)]
    pub created: Option<String>,
    #[serde(skip)]
    pub updated: Option<String>,
    /// Who holds the item when it is in progress in the source (the import claims it).
    #[serde(skip)]
    pub claimant: Option<String>,
}

impl Item {
    /// A digest of everything an import writes from the item (16 hex digits): equal digests
    /// write equal tickets, so a ticket whose digest did not change is left alone.
    pub fn digest(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let mut put = |field: &str, value: &str| {
            // Length-prefixed, so no two different items write the same string.
            let _ = write!(s, "{field}:{}:{value};", value.len());
        };
        put("kind", self.kind.as_str());
        put("title", &self.title);
        put("status", self.status.map(|x| x.as_str()).unwrap_or(""));
        put(
            "priority",
            &self.priority.map(|p| p.to_string()).unwrap_or_default(),
        );
        put("parent", self.parent.as_deref().unwrap_or(""));
        for d in &self.depends_on {
            put("dep", d);
        }
        for d in &self.dangling {
            put("dangling", d);
        }
        for (k, v) in &self.links {
            put("link", &format!("{k}:{v}"));
        }
        for (name, list) in [
            ("file", self.files.as_deref().unwrap_or_default()),
            ("artifact", self.artifacts.as_deref().unwrap_or_default()),
            ("label", self.labels.as_deref().unwrap_or_default()),
            ("alias", self.aliases.as_slice()),
        ] {
            for x in list {
                put(name, x);
            }
        }
        put("body", self.body.as_deref().unwrap_or(""));
        put("description", self.description.as_deref().unwrap_or(""));
        put("source", self.source.as_deref().unwrap_or(""));
        put("created", self.created.as_deref().unwrap_or(""));
        put("updated", self.updated.as_deref().unwrap_or(""));
        put("claimant", self.claimant.as_deref().unwrap_or(""));
        // Only when there are any, so the digests of items without them stay as they were.
        for (k, v) in &self.extra {
            put("extra", &format!("{k}={v:?}"));
        }
        for (k, v) in &self.raw_fields {
            put("raw", &format!("{k}={v}"));
        }
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(s.as_bytes()))
    }
}

/// Parse the JSON input; errors name line and column.
pub fn parse_items(text: &str, source: &str) -> Result<Vec<Item>> {
    serde_json::from_str(text).map_err(|e| {
        Error::invalid(format!("{source}:{}:{}: {e}", e.line(), e.column())).with_hint(
            "expected a JSON array of {key, kind, title, status?, priority?, parent?, depends_on?, files?, artifacts?, labels?, body?, description?}",
        )
    })
}
