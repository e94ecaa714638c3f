use crate::app::read::{TreeNode, TreeReport};
use crate::cli::{Ctx, Out};

/// Show the plan as a tree: phase-specs, their jobs, their tasks, with statuses.
#[derive(clap::Args)]
pub struct Args {
    /// Start at this ticket instead of the whole plan.
    pub id: Option<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let r = crate::app::read::tree(&ctx.workspace()?, args.id.as_deref())?;
    Ok(Out::reported(r, render_text))
}

fn render_text(r: &TreeReport) -> String {
    fn node(n: &TreeNode, depth: usize, text: &mut String) {
        let t = &n.ticket;
        text.push_str(&format!(
            "{}{} [{}] {}{}{}\n",
            "  ".repeat(depth),
            t.id,
            t.status,
            t.title,
            t.claimed_by
                .as_ref()
                .map(|b| format!(" ({})", crate::model::text::one_line(b)))
                .unwrap_or_default(),
            if n.ready { " *ready*" } else { "" }
        ));
        for c in &n.children {
            node(c, depth + 1, text);
        }
    }
    let mut text = String::new();
    for n in &r.roots {
        node(n, 0, &mut text);
    }
    text
}
