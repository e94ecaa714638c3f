//! One module per verb. Each has an Args struct (its doc comment is the help text; flags
//! several verbs share come from [`shared`]) and a `run` that makes one call into
//! [`crate::app`] and returns its report in an [`Out`], with the report's text rendering.

mod approve;
mod blocked;
mod check;
mod ci;
mod claim;
mod completions;
mod context;
mod demo;
mod dep;
mod doctor;
mod done;
mod fail;
mod fake_agent;
mod graph;
mod heartbeat;
mod hook;
mod import;
mod init;
mod list;
mod log;
mod man;
mod new;
mod pass;
mod plan;
mod prime;
mod progress;
mod ready;
mod release;
mod reopen;
mod run;
mod setup;
mod shared;
mod show;
mod status;
mod sync;
mod tick;
mod tree;

use clap::Subcommand;

use super::{Ctx, Out};

/// The verbs, declared once for two enums: [`Command`], the command line as help, errors,
/// completions and manual pages show it, and [`Deferred`], the same verbs with each one's
/// arguments defined only when it is the one invoked (`#[command(defer = true)]`). Parsing
/// tries [`Deferred`] first: building every verb's arguments is most of what clap does on
/// a warm `wt ready`. Anything it refuses is parsed again with [`Command`], so help and
/// error messages are those of the whole definition (see `crate::cli::parse`).
macro_rules! verbs {
    ($($(#[$meta:meta])* $verb:ident($args:ty),)*) => {
        #[derive(Subcommand)]
        pub enum Command {
            $($(#[$meta])* $verb($args),)*
        }

        #[derive(Subcommand)]
        #[command(defer = true)]
        pub enum Deferred {
            $($(#[$meta])* $verb($args),)*
        }

        impl From<Deferred> for Command {
            fn from(d: Deferred) -> Command {
                match d {
                    $(Deferred::$verb(a) => Command::$verb(a),)*
                }
            }
        }
    };
}

verbs! {
    Init(init::Args),
    New(new::Args),
    Show(show::Args),
    List(list::Args),
    Tree(tree::Args),
    Ready(ready::Args),
    Blocked(blocked::Args),
    Claim(claim::Args),
    Release(release::Args),
    Done(done::Args),
    Heartbeat(heartbeat::Args),
    #[command(subcommand)]
    Dep(dep::DepCommand),
    Check(check::Args),
    Doctor(doctor::Args),
    Ci(ci::Args),
    #[command(subcommand)]
    Hook(hook::HookCommand),
    Import(import::Args),
    Log(log::Args),
    Sync(sync::Args),
    Demo(demo::Args),
    Run(run::Args),
    #[command(hide = true)]
    FakeAgent(fake_agent::Args),
    Pass(pass::Args),
    Fail(fail::Args),
    Reopen(reopen::Args),
    Approve(approve::Args),
    Progress(progress::Args),
    Tick(tick::Args),
    Status(status::Args),
    Graph(graph::Args),
    #[command(subcommand)]
    Plan(plan::PlanCommand),
    Context(context::Args),
    Prime(prime::Args),
    Setup(setup::Args),
    Completions(completions::Args),
    Man(man::Args),
}

pub fn dispatch(cmd: Command, ctx: &Ctx) -> Result<Out, crate::Error> {
    match cmd {
        Command::Init(a) => init::run(a, ctx),
        Command::New(a) => new::run(a, ctx),
        Command::Show(a) => show::run(a, ctx),
        Command::List(a) => list::run(a, ctx),
        Command::Tree(a) => tree::run(a, ctx),
        Command::Ready(a) => ready::run(a, ctx),
        Command::Blocked(a) => blocked::run(a, ctx),
        Command::Claim(a) => claim::run(a, ctx),
        Command::Release(a) => release::run(a, ctx),
        Command::Done(a) => done::run(a, ctx),
        Command::Heartbeat(a) => heartbeat::run(a, ctx),
        Command::Dep(a) => dep::run(a, ctx),
        Command::Check(a) => check::run(a, ctx),
        Command::Doctor(a) => doctor::run(a, ctx),
        Command::Ci(a) => ci::run(a, ctx),
        Command::Hook(a) => hook::run(a, ctx),
        Command::Import(a) => import::run(a, ctx),
        Command::Log(a) => log::run(a, ctx),
        Command::Sync(a) => sync::run(a, ctx),
        Command::Demo(a) => demo::run(a, ctx),
        Command::Run(a) => run::run(a, ctx),
        Command::FakeAgent(a) => fake_agent::run(a, ctx),
        Command::Pass(a) => pass::run(a, ctx),
        Command::Fail(a) => fail::run(a, ctx),
        Command::Reopen(a) => reopen::run(a, ctx),
        Command::Approve(a) => approve::run(a, ctx),
        Command::Progress(a) => progress::run(a, ctx),
        Command::Tick(a) => tick::run(a, ctx),
        Command::Status(a) => status::run(a, ctx),
        Command::Graph(a) => graph::run(a, ctx),
        Command::Plan(a) => plan::run(a, ctx),
        Command::Context(a) => context::run(a, ctx),
        Command::Prime(a) => prime::run(a, ctx),
        Command::Setup(a) => setup::run(a, ctx),
        Command::Completions(a) => completions::run(a, ctx),
        Command::Man(a) => man::run(a, ctx),
    }
}

/// Read a file argument relative to the working directory (`-` reads standard input).
pub fn read_input(ctx: &Ctx, file: &str) -> Result<String, crate::Error> {
    if file == "-" {
        return Ok(std::io::read_to_string(std::io::stdin())?);
    }
    let p = ctx.cwd.join(file);
    std::fs::read_to_string(&p)
        .map_err(|e| crate::Error::not_found(format!("cannot read {}: {e}", p.display())))
}
