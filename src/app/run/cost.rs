//! What a ticket costs: tokens, dollars, seconds, iterations. Each iteration adds to the
//! ticket's `spent:` frontmatter field in the commit that logs it, so `wt show`, `wt list
//! --json` and `git log -p` tell what each ticket cost; budgets are checked against it.
//!
//! Dollars are the agent CLI's own figure where it reports one (Claude Code's
//! `total_cost_usd`, opencode's summed `cost`, aider's cost line); where it reports tokens
//! only, a profile's `price` table gives an estimate, marked as estimated; otherwise there is
//! no dollar figure at all, never a made-up one.

use serde::Deserialize;

use crate::model::agent::Price;
use crate::model::agent_output::Tokens;
use crate::model::frontmatter::{self, Value};

/// A ticket's running totals (`spent:` in its frontmatter).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct Spent {
    /// Dollars, where known.
    pub usd: Option<f64>,
    /// Whether any part of `usd` is an estimate from a price table.
    pub usd_estimated: bool,
    pub tokens: u64,
    pub seconds: u64,
    pub iterations: u32,
}

impl Spent {
    /// Add one iteration.
    pub fn add(&mut self, cost: Option<(f64, bool)>, tokens: Option<&Tokens>, ms: u64) {
        if let Some((usd, estimated)) = cost {
            *self.usd.get_or_insert(0.0) += usd;
            self.usd_estimated |= estimated;
        }
        if let Some(t) = tokens {
            self.tokens += total_tokens(t);
        }
        self.seconds += ms.div_ceil(1000);
        self.iterations += 1;
    }

    /// The frontmatter value: `{usd: 0.4000, tokens: 1200, seconds: 62, iterations: 2}`.
    pub fn value(&self) -> Value {
        let mut pairs = Vec::new();
        if let Some(u) = self.usd {
            pairs.push(("usd".to_string(), format!("{u:.4}")));
            if self.usd_estimated {
                pairs.push(("usd_estimated".to_string(), "true".to_string()));
            }
        }
        pairs.push(("tokens".to_string(), self.tokens.to_string()));
        pairs.push(("seconds".to_string(), self.seconds.to_string()));
        pairs.push(("iterations".to_string(), self.iterations.to_string()));
        Value::Flow(pairs)
    }
}

/// Every token an iteration used.
pub fn total_tokens(t: &Tokens) -> u64 {
    t.input + t.output + t.cache_read + t.cache_write
}

/// The iteration's dollars: reported, else estimated from `price`; with whether estimated.
pub fn cost_of(
    reported: Option<f64>,
    tokens: Option<&Tokens>,
    price: Option<&Price>,
) -> Option<(f64, bool)> {
    if let Some(c) = reported {
        return Some((c, false));
    }
    let (t, p) = (tokens?, price?);
    let per = |n: u64, usd_per_mtok: f64| n as f64 * usd_per_mtok / 1_000_000.0;
    Some((
        per(t.input, p.input)
            + per(t.output, p.output)
            + per(t.cache_read, p.cache_read.unwrap_or(p.input))
            + per(t.cache_write, p.cache_write.unwrap_or(p.input)),
        true,
    ))
}

/// The run-related fields a ticket's frontmatter may carry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TicketRunFields {
    /// The agent profile this ticket wants.
    pub agent: Option<String>,
    pub spent: Option<Spent>,
    /// This ticket's budget in dollars.
    pub max_usd: Option<f64>,
    /// This ticket's budget in minutes of agent time.
    pub max_minutes: Option<f64>,
    /// Attempts that vote (issue 15's votes; read here, used by the run).
    pub vote: Option<u32>,
}

/// Read the run fields of a ticket file (missing or unreadable ones are absent).
pub fn run_fields(text: &str) -> TicketRunFields {
    let Ok(split) = frontmatter::split(text) else {
        return TicketRunFields::default();
    };
    let yaml = &text[..split.body_offset];
    let yaml = yaml
        .trim_start_matches('\u{feff}')
        .trim_start_matches("---")
        .trim_end();
    let yaml = yaml.strip_suffix("---").unwrap_or(yaml);
    serde_saphyr::from_str::<TicketRunFields>(yaml).unwrap_or_default()
}

/// Why a ticket is over its own budget, if it is.
pub fn over_budget(f: &TicketRunFields) -> Option<String> {
    let spent = f.spent.as_ref()?;
    if let (Some(max), Some(usd)) = (f.max_usd, spent.usd) {
        if usd >= max {
            return Some(format!(
                "it is over its budget: ${usd:.2} spent of max_usd {max:.2}"
            ));
        }
    }
    if let Some(max) = f.max_minutes {
        let minutes = spent.seconds as f64 / 60.0;
        if minutes >= max {
            return Some(format!(
                "it is over its budget: {minutes:.1} minutes spent of max_minutes {max}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_round_trips_through_the_frontmatter() {
        let mut s = Spent::default();
        s.add(Some((0.4, false)), None, 1500);
        s.add(Some((0.4, false)), None, 500);
        let text =
            frontmatter::set_field("---\nid: J-1\n---\nbody\n", "spent", &s.value()).expect("set");
        assert!(
            text.contains("spent: {usd: 0.8000, tokens: 0, seconds: 3, iterations: 2}"),
            "{text}"
        );
        let f = run_fields(&text);
        assert_eq!(f.spent.expect("spent").iterations, 2);
    }

    #[test]
    fn an_estimate_needs_tokens_and_a_price_and_says_so() {
        let t = Tokens {
            input: 1_000_000,
            output: 100_000,
            ..Default::default()
        };
        let p = Price {
            input: 3.0,
            output: 15.0,
            cache_read: None,
            cache_write: None,
        };
        assert_eq!(cost_of(None, Some(&t), Some(&p)), Some((4.5, true)));
        assert_eq!(cost_of(None, Some(&t), None), None);
        assert_eq!(cost_of(Some(0.1), Some(&t), Some(&p)), Some((0.1, false)));
    }

    #[test]
    fn a_ticket_over_its_dollar_budget_says_by_how_much() {
        let f = run_fields("---\nid: J-1\nmax_usd: 0.5\nspent: {usd: 0.8, tokens: 1, seconds: 1, iterations: 2}\n---\n");
        let why = over_budget(&f).expect("over");
        assert!(why.contains("$0.80 spent of max_usd 0.50"), "{why}");
    }
}
