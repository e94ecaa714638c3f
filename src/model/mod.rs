//! Pure data and text: the ticket model, IDs, configuration, leases, the journal sections
//! (progress, amendments), markdown and byte-exact frontmatter edits. No I/O, no git.

pub mod agent;
pub mod agent_output;
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

/// `1 task`, `2 tasks`, `0 phase-specs`, `1 criterion`, `3 criteria`: a count and its noun,
/// singular for exactly one.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let many = match noun {
        "criterion" => "criteria".to_string(),
        "entry" => "entries".to_string(),
        _ => format!("{noun}s"),
    };
    format!("{n} {many}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn plural_is_singular_for_exactly_one() {
        use super::plural;
        assert_eq!(plural(1, "task"), "1 task");
        assert_eq!(plural(0, "task"), "0 tasks");
        assert_eq!(plural(2, "phase-spec"), "2 phase-specs");
        assert_eq!(plural(3, "criterion"), "3 criteria");
    }
}
