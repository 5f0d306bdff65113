//! A complete app served in one line: `fn main() -> ExitCode { gateway_serve::main(app) }`.
//! `GET /` greets; `GET /slow?ms=N` answers after N milliseconds (for shutdown tests).
//!
//! ```sh
//! cargo run -p gateway-serve --example greeting -- --bind 127.0.0.1:8000
//! curl http://127.0.0.1:8000/
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, StatusCode};

fn greeting(environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    if environ.path_info == b"/slow" {
        // Said on the errors stream, so that a test knows the request is in flight.
        writeln!(environ.errors.clone(), "slow request started")?;
        let ms = environ
            .query_string
            .strip_prefix("ms=")
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(500);
        std::thread::sleep(Duration::from_millis(ms));
    }
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain"));
    start.call(StatusCode::OK, headers)?;
    Ok(Body::from("Hello from an app of your own!\n"))
}

fn main() -> ExitCode {
    gateway_serve::main(greeting)
}
