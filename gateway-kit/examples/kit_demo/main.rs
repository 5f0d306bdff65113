//! The gateway-kit demo: a JSON API at `/api` and a static folder at `/static`
//! under one `Mount`, served by `gateway_serve::main` (every flag of gateway-serve).
//!
//! ```sh
//! cargo run -p gateway-kit --example kit_demo -- --bind 127.0.0.1:8000
//! curl 'http://127.0.0.1:8000/api/hello?name=Ada'
//! curl -r 0-99 http://127.0.0.1:8000/static/index.html
//! ```
//!
//! `KIT_DEMO_STATIC` names another folder to serve.

mod app;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let static_dir = std::env::var_os("KIT_DEMO_STATIC").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/kit_demo/static"),
        PathBuf::from,
    );
    match app::app(&static_dir) {
        Ok(app) => gateway_serve::main(app),
        Err(e) => {
            eprintln!("kit_demo: {e} (set KIT_DEMO_STATIC to the folder to serve)");
            ExitCode::from(2)
        }
    }
}
