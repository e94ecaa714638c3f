use std::path::PathBuf;

use clap::CommandFactory;

use crate::app::onboarding::ManReport;
use crate::app::report::SchemaVersion;
use crate::cli::{Ctx, Out};

/// Write the manual pages: wt(1) and one page per verb (`wt-claim.1`, `wt-plan-import.1`, …).
///
/// With DIR, every page is written there (e.g. `wt man ~/.local/share/man/man1`); without,
/// the wt(1) page is printed (`wt man | man -l -`).
#[derive(clap::Args)]
pub struct Args {
    /// The folder to write the pages to (created if missing).
    #[arg(value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Every page: (file name, roff), wt.1 first.
pub fn pages() -> Result<Vec<(String, Vec<u8>)>, crate::Error> {
    fn walk(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let subs: Vec<clap::Command> = cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set())
            .cloned()
            .collect();
        let man = clap_mangen::Man::new(cmd);
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        out.push((man.get_filename(), roff));
        for s in subs {
            walk(s, out)?;
        }
        Ok(())
    }
    let mut cmd = crate::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(cmd, &mut out)?;
    Ok(out)
}

pub fn run(args: Args, ctx: &Ctx) -> Result<Out, crate::Error> {
    let pages = pages()?;
    match args.out_dir {
        Some(d) => {
            let r = crate::app::onboarding::write_pages(&ctx.cwd.join(d), &pages)?;
            Ok(Out::new(r, |r: &ManReport| {
                format!(
                    "wrote {} to {}",
                    crate::model::plural(r.pages.len(), "page"),
                    r.dir.as_deref().unwrap_or("")
                )
            }))
        }
        None => {
            let page = pages
                .first()
                .map(|(_, roff)| String::from_utf8_lossy(roff).into_owned())
                .unwrap_or_default();
            let r = ManReport {
                schema_version: SchemaVersion,
                dir: None,
                pages: pages.iter().map(|(n, _)| n.clone()).collect(),
                page: Some(page),
            };
            Ok(Out::new(r, |r: &ManReport| r.page.clone().unwrap_or_default()).exact())
        }
    }
}
