//! `reliability`: drives the built `fixture-server` over loopback through the
//! reliability scenarios (smuggling, slowloris, idle keep-alive, floods, memory,
//! shutdown, panics, disconnects, response validation, trickled bodies, slow
//! readers) and reports each one's figures and verdict. `--quick` is what CI runs;
//! the full run is one command (README).

mod load;
mod scenarios;
mod server_process;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use scenarios::{Ctx, ALL};

/// Run the reliability scenarios against a server binary hosting the fixture app.
#[derive(Parser)]
#[command(name = "reliability", version)]
struct Cli {
    /// The quick version of each scenario (a few minutes in all), as CI runs it.
    #[arg(long)]
    quick: bool,
    /// The server binary, which must take gateway-serve's flags and host the fixture
    /// app [default: fixture-server, next to this one].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Write a Markdown report of every scenario's figures here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Run only the scenarios whose name contains this text.
    #[arg(long)]
    only: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Scenarios catch the raw client's timeouts as panics and record them; the
    // default hook would print a backtrace for each.
    std::panic::set_hook(Box::new(|_| {}));
    let server = cli.server.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("fixture-server")))
            .unwrap_or_else(|| PathBuf::from("fixture-server"))
    });
    if !server.exists() {
        eprintln!(
            "reliability: {} does not exist; build it with `cargo build --release -p reliability` \
             or pass --server",
            server.display()
        );
        return ExitCode::from(2);
    }
    let ctx = Ctx {
        server,
        quick: cli.quick,
    };
    let mode = if ctx.quick { "quick" } else { "full" };
    let mut report = format!(
        "# Reliability report ({mode} run)\n\nServer: `{}`; {} cores; started {}.\n\n\
         | scenario | verdict | seconds | criterion |\n| --- | --- | --- | --- |\n",
        ctx.server.display(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        httpdate::fmt_http_date(std::time::SystemTime::now()),
    );
    let mut details = String::new();
    let mut failed = 0;
    for scenario in ALL
        .iter()
        .filter(|s| cli.only.as_deref().is_none_or(|o| s.name.contains(o)))
    {
        eprintln!("== {}", scenario.name);
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| (scenario.run)(&ctx)).unwrap_or_else(|panic| {
            let mut outcome = scenarios::Outcome::new("the scenario ran to its end");
            outcome.figure("panic", gateway_spec::exchange::panic_message(&*panic));
            outcome.check("completed", false);
            outcome
        });
        let seconds = started.elapsed().as_secs_f64();
        let verdict = if outcome.passed { "pass" } else { "FAIL" };
        failed += usize::from(!outcome.passed);
        eprintln!("   {verdict} in {seconds:.1} s");
        let _ = writeln!(
            report,
            "| {} | {verdict} | {seconds:.1} | {} |",
            scenario.name, outcome.criterion
        );
        let _ = writeln!(
            details,
            "\n## {}\n\n| figure | value |\n| --- | --- |",
            scenario.name
        );
        for (name, value) in &outcome.figures {
            eprintln!("   {name}: {value}");
            let _ = writeln!(details, "| {name} | {value} |");
        }
    }
    report.push_str(&details);
    println!("{report}");
    if let Some(path) = cli.report {
        if let Err(e) = std::fs::write(&path, &report) {
            eprintln!("reliability: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("reliability: {failed} scenario(s) failed");
        ExitCode::FAILURE
    }
}
