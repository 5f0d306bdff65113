//! The reference server of Gateway Interface 1.0: a thread-pool HTTP/1.1 server
//! for any `gateway_spec::App`. (Being built; see SPEC.md.)
//!
//! The wire protocol lives in [`http1`]: strict, socket-free parsers for request
//! heads and chunked bodies that the connection layer feeds with bytes.

pub mod http1;
