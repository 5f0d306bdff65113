//! HTTP/1.1 wire protocol (RFC 9112) as pure functions over byte slices: request heads, chunked bodies, response heads.
//! It owns no socket, no buffer and no timer; the connection layer reads bytes and hands them in.
//!
//! The split follows the path of a request: [`request_head`] turns the bytes of a
//! head into a [`RequestHead`] (method, target, version, fields, and how the body
//! is framed), and [`chunked`] decodes a `Transfer-Encoding: chunked` body
//! incrementally. Both reject rather than repair anything ambiguous, because an
//! ambiguity a front proxy reads differently is a request-smuggling hole. On the
//! way back, [`response_head`] writes the status line and field lines.
//! `split_checks` (tests and the `fuzzing` feature) asserts the invariants the crate's tests and the fuzz targets
//! share: the same verdict however the bytes are split.

pub mod chunked;
mod head_error;
mod head_fields;
pub mod request_head;
pub mod response_head;
#[cfg(any(test, feature = "fuzzing"))]
pub mod split_checks;

pub use chunked::{ChunkedDecoder, ChunkedError, ChunkedLimits, Step};
pub use head_error::HeadError;
pub use request_head::{parse_request_head, BodyFraming, HeadLimits, Parsed, RequestHead};
pub use response_head::{encode_response_head, DefaultHeaders};

#[cfg(test)]
mod tests;
