//! `fixture-server`: the conformance fixture app served through
//! `gateway_serve::main`, with every flag, log and signal of `gateway-serve`.

use std::process::ExitCode;

fn main() -> ExitCode {
    gateway_serve::main(fixtures::FixtureApp::new())
}
