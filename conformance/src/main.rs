//! `conformance`: judge a server against SPEC.md (`run`), or host the fixture app on
//! the reference server for other tools (`serve`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conformance::report::Report;
use conformance::target::Target;
use conformance::{check::Verdict, checks};

/// The Gateway Interface 1.0 conformance kit.
#[derive(Parser)]
#[command(name = "conformance", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every check against a server hosting the fixture app and print a per-rule
    /// report; exits 1 when a MUST rule fails.
    Run {
        /// The server's base URL, e.g. http://127.0.0.1:8000.
        #[arg(long, env = "CONFORMANCE_TARGET")]
        target: String,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Run only the checks whose name contains this text.
        #[arg(long)]
        only: Option<String>,
    },
    /// Serve the fixture app on the reference server until interrupted.
    #[cfg(feature = "local")]
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Run { target, json, only } => run(&target, json, only.as_deref()),
        #[cfg(feature = "local")]
        Command::Serve { bind } => serve(&bind),
    }
}

fn run(url: &str, json: Option<PathBuf>, only: Option<&str>) -> ExitCode {
    let target = match Target::from_url(url) {
        Ok(target) => target,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let results: Vec<_> = checks::all()
        .into_iter()
        .filter(|c| only.is_none_or(|o| c.name.contains(o)))
        .map(|check| {
            let verdict = check.judge(&target);
            let mark = match verdict {
                Verdict::Pass => "ok",
                Verdict::Fail(_) => "FAIL",
                Verdict::Skip(_) => "skip",
            };
            eprintln!("{mark:4} {}", check.name);
            (check, verdict)
        })
        .collect();
    let report = Report::new(&target.base, results);
    print!("{}", report.text());
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report.json()).expect("a report serialises");
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("conformance: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if report.conforms() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(feature = "local")]
fn serve(bind: &str) -> ExitCode {
    match reference_server::Server::bind(bind).and_then(|s| s.spawn(fixtures::FixtureApp::new())) {
        Ok(handle) => {
            eprintln!("serving the fixture app on http://{}", handle.local_addr());
            handle.join();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("conformance: {e}");
            ExitCode::from(2)
        }
    }
}
