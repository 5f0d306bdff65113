//! The reference server of Gateway Interface 1.0: a thread-pool HTTP/1.1 server
//! for any `gateway_spec::App`. (Being built; see SPEC.md.)
