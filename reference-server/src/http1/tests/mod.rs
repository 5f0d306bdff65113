//! Tests of the HTTP/1.1 parsers: tables of raw inputs with their verdicts, and property tests.
//! Nothing here opens a socket or measures time; wire-level tests live under `reference-server/tests/`.

mod chunked_props;
mod chunked_table;
mod head_props;
mod head_table;
mod mutations;
