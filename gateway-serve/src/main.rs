//! The `gateway-serve` command: serves the tutorial's demo app, the 13-byte hello
//! app for benchmarks, or a Python WSGI app (`--wsgi`), through
//! [`gateway_serve::main_with`], like any app would.

#[cfg(feature = "wsgi")]
mod wsgi_flags;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use gateway_demo::DemoApp;
use gateway_serve::Hosted;
use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, StatusCode};

/// The flags of the built-in apps.
#[derive(Debug, Args)]
struct BuiltIn {
    /// Which built-in app to serve.
    #[arg(long, env = "GATEWAY_APP", value_enum, default_value_t = AppChoice::Demo)]
    app: AppChoice,

    /// Where the demo app saves uploaded files.
    #[arg(long, env = "GATEWAY_UPLOAD_DIR", default_value = "uploads")]
    upload_dir: PathBuf,

    /// Largest file the demo app accepts.
    #[arg(long, env = "GATEWAY_MAX_UPLOAD_SIZE", default_value = "100MiB",
          value_parser = parse_upload_size)]
    max_upload_size: u64,

    #[cfg(feature = "wsgi")]
    #[command(flatten)]
    python: wsgi_flags::WsgiFlags,
}

/// The apps the command can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AppChoice {
    /// Hello world at / and the upload form at /upload.
    Demo,
    /// Hello world only, 13 bytes, for benchmarks.
    Hello,
}

fn main() -> ExitCode {
    #[cfg(feature = "wsgi")]
    static PYTHON: std::sync::OnceLock<gateway_wsgi::WsgiApp> = std::sync::OnceLock::new();
    let code = gateway_serve::main_hosted(default_processes, |flags: &BuiltIn, server| {
        #[cfg(feature = "wsgi")]
        if let Some(target) = &flags.python.wsgi {
            let threads = match flags.python.threads(server.workers) {
                Ok(threads) => threads,
                Err(e) => {
                    // Exit 4, as for an app that cannot load: this runs in a worker
                    // process, whose supervisor respawns on any other code.
                    log::error!("{e}");
                    std::process::exit(i32::from(gateway_serve::EXIT_APP_LOAD));
                }
            };
            let multiprocess = gateway_serve::process_count() > 1;
            let python = flags.python.load(target, multiprocess, threads);
            let _ = PYTHON.set(python.clone());
            let app: Box<dyn App> = Box::new(python);
            // The app runs on the server's workers, each attached for life.
            let hosted = Hosted::new(app)
                .workers(threads)
                .worker_wrapper(wsgi_flags::attached_workers())
                .liveness(gateway_wsgi::wait_for_interpreter);
            return Ok::<_, std::convert::Infallible>(hosted);
        }
        let _ = server;
        let app: Box<dyn App> = match flags.app {
            AppChoice::Demo => Box::new(DemoApp::new(
                flags.upload_dir.clone(),
                flags.max_upload_size,
            )),
            AppChoice::Hello => Box::new(hello),
        };
        log::info!("the {:?} app", flags.app);
        Ok::<_, std::convert::Infallible>(Hosted::new(app))
    });
    // The embedded interpreter is never finalized: run the app's atexit handlers.
    #[cfg(feature = "wsgi")]
    if let Some(python) = PYTHON.get() {
        python.shutdown();
    }
    code
}

/// One process for a Rust app (its threads use every core); one per core for a
/// Python app, whose GIL lets one process use about one core.
fn default_processes(flags: &BuiltIn) -> usize {
    #[cfg(feature = "wsgi")]
    if flags.python.wsgi.is_some() {
        return std::thread::available_parallelism().map_or(1, |n| n.get());
    }
    let _ = flags;
    1
}

fn parse_upload_size(text: &str) -> Result<u64, String> {
    match gateway_serve::parse_size(text)? {
        0 => Err("0 is not allowed here: write a size of at least 1 byte".into()),
        n => Ok(n),
    }
}

/// The benchmark app: 13 bytes of hello world.
fn hello(_: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    start_response.call(StatusCode::OK, headers)?;
    Ok(Body::from("Hello, World!"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        built_in: BuiltIn,
    }

    #[test]
    fn the_demo_is_the_default_and_an_upload_limit_of_zero_is_refused() {
        let command = Command::parse_from(["gateway-serve"]);
        assert_eq!(command.built_in.app, AppChoice::Demo);
        assert_eq!(command.built_in.max_upload_size, 100 << 20);
        let error =
            Command::try_parse_from(["gateway-serve", "--max-upload-size", "0"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(
            error.to_string().contains("0 is not allowed here"),
            "{error}"
        );
    }
}
