//! The catalogue of conformance checks, grouped by SPEC.md section. Each check names
//! the rules it observes; `ALL` is what `cargo test` and `conformance run` execute.

use crate::check::Check;

pub mod client_errors;
pub mod connections;
pub mod environ;
pub mod failures;
pub mod input;
pub mod requests;
pub mod response;

/// Every check, by section.
pub fn all() -> Vec<&'static Check> {
    [
        environ::CHECKS,
        input::CHECKS,
        response::CHECKS,
        failures::CHECKS,
        client_errors::CHECKS,
        connections::CHECKS,
        requests::CHECKS,
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The check named `name`.
pub fn by_name(name: &str) -> Option<&'static Check> {
    all().into_iter().find(|c| c.name == name)
}
