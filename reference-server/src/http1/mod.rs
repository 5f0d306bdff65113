//! HTTP/1.1 wire protocol (RFC 9112) as pure functions over byte slices: request heads and chunked bodies.
//! It owns no socket, no buffer and no timer; the connection layer reads bytes and hands them in.
//!
//! The split follows the path of a request: [`request_head`] turns the bytes of a
//! head into a [`RequestHead`] (method, target, version, fields, and how the body
//! is framed), and [`chunked`] decodes a `Transfer-Encoding: chunked` body
//! incrementally. Both reject rather than repair anything ambiguous, because an
//! ambiguity a front proxy reads differently is a request-smuggling hole.

pub mod chunked;
mod head_error;
mod head_fields;
pub mod request_head;

pub use chunked::{ChunkedDecoder, ChunkedError, ChunkedLimits, Step};
pub use head_error::HeadError;
pub use request_head::{parse_request_head, BodyFraming, HeadLimits, Parsed, RequestHead};

#[cfg(test)]
mod tests;
