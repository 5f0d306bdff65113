//! `gateway-serve`: serves the demo app (or another built-in app) on the reference
//! server, with graceful shutdown on SIGTERM and SIGINT. Flags are in `cli.rs`.

use std::process::ExitCode;

mod cli;

use clap::Parser;
use cli::{AppChoice, Cli};
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, StatusCode};
use reference_server::demo::DemoApp;
use reference_server::{AccessLog, Server};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Exit code when the graceful timeout cut in-flight requests.
const EXIT_ABORTED: u8 = 3;
/// Exit code after a second signal stopped the server at once.
const EXIT_FORCED: i32 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    env_logger::Builder::new()
        .filter_level(cli.log_level)
        .format_target(false)
        .init();
    // An app's panic is caught, answered and logged by the server; the default
    // hook would also print it, with a backtrace when RUST_BACKTRACE is set, and
    // symbolising one holds a worker for a long time.
    std::panic::set_hook(Box::new(|info| {
        log::debug!("panic: {info}");
    }));
    match run(&cli) {
        Ok(code) => code,
        Err(message) => {
            log::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<ExitCode, String> {
    let access_log = match cli.access_log.as_str() {
        "off" => AccessLog::Off,
        "stdout" | "-" => AccessLog::Stdout,
        path => AccessLog::file(path.as_ref())
            .map_err(|e| format!("cannot open the access log {path}: {e}"))?,
    };
    let server = Server::bind(cli.bind.as_str())
        .map_err(|e| e.to_string())?
        .config(cli.config())
        .access_log(access_log);
    let handle = match cli.app {
        AppChoice::Demo => server.spawn(DemoApp::new(cli.upload_dir.clone(), cli.max_upload_size)),
        AppChoice::Hello => server.spawn(hello),
        AppChoice::Fixture => server.spawn(fixtures::FixtureApp::new()),
    }
    .map_err(|e| e.to_string())?;
    let mut signals =
        Signals::new([SIGTERM, SIGINT]).map_err(|e| format!("cannot handle signals: {e}"))?;
    let stopper = handle.stopper();
    std::thread::spawn(move || {
        let mut signals = signals.forever();
        if let Some(signal) = signals.next() {
            log::info!("signal {signal}: stopping gracefully (again to stop at once)");
            stopper.shutdown();
        }
        if signals.next().is_some() {
            log::warn!("second signal: stopping at once");
            std::process::exit(EXIT_FORCED);
        }
    });

    // Announced only once everything, signal handling included, is running.
    log::info!(
        "serving the {:?} app on http://{} (Ctrl-C to stop)",
        cli.app,
        handle.local_addr()
    );

    let report = handle.join();
    if report.aborted > 0 {
        log::warn!(
            "the graceful timeout cut {} in-flight request(s)",
            report.aborted
        );
        return Ok(ExitCode::from(EXIT_ABORTED));
    }
    log::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The benchmark app: 13 bytes of hello world.
fn hello(_: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    start_response.call(StatusCode::OK, headers)?;
    Ok(Body::from("Hello, World!"))
}
