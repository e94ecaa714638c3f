//! Pure data and text: the ticket model, IDs, configuration, leases, the journal sections
//! (progress, amendments), markdown and byte-exact frontmatter edits. No I/O, no git.

pub mod clock;
pub mod config;
pub mod criteria;
pub mod frontmatter;
pub mod id;
pub mod import_from;
pub mod item;
pub mod journal;
pub mod lease;
pub mod markdown;
pub mod merge;
pub mod templates;
pub mod text;
pub mod ticket;
pub mod ticket_file;
