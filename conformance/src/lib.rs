//! The conformance kit of Gateway Interface 1.0: black-box checks that judge any
//! server hosting the fixture app, traced to the rules of SPEC.md.
//!
//! A target is a base URL. `cargo test -p conformance` runs every check against the
//! reference server (started on an ephemeral loopback port), or against
//! `CONFORMANCE_TARGET=http://127.0.0.1:PORT` when set. `conformance run --target
//! URL` prints a per-rule report (pass, fail, warn, skip) and can write it as JSON;
//! `conformance serve --bind ADDR` hosts the fixture app on the reference server.
//!
//! The kit itself is portable: only the default feature `local` (the in-process
//! reference server as the default target, and `serve`) needs Linux. Build it with
//! `--no-default-features` to judge a server from any machine.
//!
//! ```no_run
//! use conformance::{checks, report::Report, target::Target};
//!
//! let target = Target::from_url("http://127.0.0.1:8000").unwrap();
//! let results = checks::all().into_iter().map(|c| (c, c.judge(&target))).collect();
//! let report = Report::new(&target.base, results);
//! println!("{}", report.text());
//! ```

pub mod check;
pub mod checks;
pub mod report;
pub mod spec;
pub mod target;
