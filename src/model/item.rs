//! One ticket to create, as `wt import` reads it from JSON and `wt plan import` builds it
//! from a plan document.

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::model::ticket::{Kind, Status};

/// One ticket to import. `parent` and `depends_on` name other items' keys (or existing IDs).
#[derive(Debug, Clone, Deserialize)]
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
}

/// Parse the JSON input; errors name line and column.
pub fn parse_items(text: &str, source: &str) -> Result<Vec<Item>> {
    serde_json::from_str(text).map_err(|e| {
        Error::invalid(format!("{source}:{}:{}: {e}", e.line(), e.column())).with_hint(
            "expected a JSON array of {key, kind, title, status?, priority?, parent?, depends_on?, files?, artifacts?, labels?, body?, description?}",
        )
    })
}
