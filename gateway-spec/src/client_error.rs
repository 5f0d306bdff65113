//! Body reads that failed through the client's fault (a framing error, a body cut
//! short, a client too slow, a body over the limit), and the status each earns.
//! Servers raise them from their body readers; `Input` and the exchange recognise them.

use std::fmt;
use std::io;

use http::StatusCode;

/// Why the client, not the app, made a body read fail (INPUT-12).
///
/// ```
/// use gateway_spec::client_error::ClientFault;
/// use http::StatusCode;
///
/// assert_eq!(ClientFault::Malformed.status(), StatusCode::BAD_REQUEST);
/// assert_eq!(ClientFault::TooSlow.status(), StatusCode::REQUEST_TIMEOUT);
/// assert_eq!(ClientFault::TooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientFault {
    /// The body's framing is invalid, such as a malformed chunk (INPUT-6): 400.
    Malformed,
    /// The body ended before its declared length or its last chunk (INPUT-5): 400.
    CutShort,
    /// The client sent no body bytes for the body inactivity timeout (INPUT-7): 408.
    TooSlow,
    /// The body grew beyond the server's body limit (LIMIT-5): 413.
    TooLarge,
}

impl ClientFault {
    /// The status the server answers when the app fails after this fault (FAIL-10):
    /// 400 for invalid framing and a body cut short (RFC 9110 §15.5.1), 408 for a
    /// client too slow (§15.5.9), 413 for a body over the limit (§15.5.14).
    pub fn status(self) -> StatusCode {
        match self {
            ClientFault::Malformed | ClientFault::CutShort => StatusCode::BAD_REQUEST,
            ClientFault::TooSlow => StatusCode::REQUEST_TIMEOUT,
            ClientFault::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }

    /// The `io::ErrorKind` a read reports for this fault: `InvalidData` for framing
    /// and the limit, `UnexpectedEof` for a body cut short, `TimedOut` for a slow
    /// client (INPUT-5, INPUT-6, INPUT-7, LIMIT-5).
    pub fn io_kind(self) -> io::ErrorKind {
        match self {
            ClientFault::Malformed | ClientFault::TooLarge => io::ErrorKind::InvalidData,
            ClientFault::CutShort => io::ErrorKind::UnexpectedEof,
            ClientFault::TooSlow => io::ErrorKind::TimedOut,
        }
    }
}

impl fmt::Display for ClientFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClientFault::Malformed => "the request body is malformed",
            ClientFault::CutShort => "the request body was cut short",
            ClientFault::TooSlow => "the client sent the request body too slowly",
            ClientFault::TooLarge => "the request body is larger than the server allows",
        })
    }
}

/// A body read error caused by the client: what a server's body reader returns,
/// inside an `io::Error`, so that [`Input`](crate::Input) and the exchange know the
/// fault was the client's (INPUT-12).
///
/// ```
/// use std::io;
/// use gateway_spec::client_error::{BodyError, ClientFault};
///
/// let error: io::Error = BodyError::new(ClientFault::CutShort, "the client closed early").into();
/// assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
/// assert_eq!(BodyError::find(&error).map(BodyError::fault), Some(ClientFault::CutShort));
/// assert!(BodyError::find(&io::Error::other("disk full")).is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BodyError {
    fault: ClientFault,
    message: String,
}

impl BodyError {
    /// A client fault with a message that says what the client did wrong.
    pub fn new(fault: ClientFault, message: impl Into<String>) -> Self {
        Self {
            fault,
            message: message.into(),
        }
    }

    /// What kind of fault it is.
    pub fn fault(&self) -> ClientFault {
        self.fault
    }

    /// What the client did wrong, in words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `BodyError` an `io::Error` carries, if it carries one.
    pub fn find(error: &io::Error) -> Option<&BodyError> {
        error.get_ref()?.downcast_ref::<BodyError>()
    }
}

impl From<BodyError> for io::Error {
    fn from(error: BodyError) -> Self {
        io::Error::new(error.fault.io_kind(), error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_keeps_its_kind_and_message_through_io_error() {
        for fault in [
            ClientFault::Malformed,
            ClientFault::CutShort,
            ClientFault::TooSlow,
            ClientFault::TooLarge,
        ] {
            let error: io::Error = BodyError::new(fault, "why").into();
            assert_eq!(error.kind(), fault.io_kind());
            assert_eq!(error.to_string(), "why");
            let found = BodyError::find(&error).expect("the body error is inside");
            assert_eq!(found.fault(), fault);
            assert!(fault.status().is_client_error());
        }
    }

    #[test]
    fn an_io_error_of_the_same_kind_is_not_a_client_fault() {
        let error = io::Error::new(io::ErrorKind::InvalidData, "bad bytes from disk");
        assert!(BodyError::find(&error).is_none());
    }
}
