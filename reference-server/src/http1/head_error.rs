//! Why a request head was refused, and which status code tells the client so.
//! It does not write the response; its `Display` text is short enough to send as a text/plain body.

use http::StatusCode;

/// A request head the server refuses to process.
///
/// Each variant names what was wrong; [`HeadError::status`] gives the status code
/// to answer with. After any of these the connection must be closed, because the
/// server can no longer tell where the next request starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// A line ended with a bare LF, or a CR was not followed by LF.
    #[error("lines of a request head must end with CRLF")]
    BareLineEnding,
    /// Too many empty lines came before the request line.
    #[error("too many empty lines before the request line")]
    TooManyEmptyLines,
    /// The request line is longer than the configured limit.
    #[error("request line is longer than {limit} bytes")]
    RequestLineTooLong {
        /// The configured limit, in bytes, without the CRLF.
        limit: usize,
    },
    /// The head did not end within the configured number of bytes.
    #[error("request head is larger than {limit} bytes")]
    HeadTooLarge {
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The head carries more field lines than the configured limit.
    #[error("request has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// The method is empty or holds a byte that is not a token character.
    #[error("invalid method")]
    InvalidMethod,
    /// The request-target is empty, holds a byte outside visible ASCII or outside the
    /// URI grammar (RFC 3986: `"`, `{`, `|`, `[` in a path...), a `#`, or has no known form.
    #[error("invalid request-target")]
    InvalidTarget,
    /// An absolute-form request-target with userinfo (`http://user@host/`), which
    /// senders must not generate (RFC 9110 §4.2.4).
    #[error("userinfo is not allowed in the request-target")]
    UserInfoInTarget,
    /// The request-target `*` was sent with a method other than OPTIONS.
    #[error("request-target * is only allowed with OPTIONS")]
    AsteriskFormNotAllowed,
    /// The request line is malformed in a way no narrower variant describes.
    #[error("malformed request line")]
    MalformedRequestLine,
    /// The HTTP version is missing or not of the form `HTTP/<digit>.<digit>`.
    #[error("malformed HTTP version")]
    MalformedVersion,
    /// A well-formed HTTP version other than HTTP/1.0 and HTTP/1.1.
    #[error("HTTP version not supported")]
    UnsupportedVersion,
    /// The CONNECT method, which this server does not implement.
    #[error("CONNECT is not supported")]
    ConnectNotSupported,
    /// A field name is empty, holds a non-token byte, or is followed by whitespace before the colon.
    #[error("invalid header field name")]
    InvalidFieldName,
    /// A field line starts with whitespace (obsolete line folding, RFC 9112 §5.2).
    #[error("obsolete line folding is not allowed")]
    ObsoleteLineFolding,
    /// A field value holds a control byte other than HTAB.
    #[error("invalid header field value")]
    InvalidFieldValue,
    /// An HTTP/1.1 request without a Host field.
    #[error("missing Host header")]
    MissingHost,
    /// More than one Host field.
    #[error("more than one Host header")]
    DuplicateHost,
    /// The Host value is not a host with an optional port.
    #[error("invalid Host header")]
    InvalidHost,
    /// A Content-Length value (or list element) that is not plain decimal digits.
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Content-Length values that disagree.
    #[error("conflicting Content-Length values")]
    ConflictingContentLength,
    /// A Content-Length that does not fit in 64 bits.
    #[error("Content-Length is too large")]
    ContentLengthTooLarge,
    /// Transfer-Encoding in an HTTP/1.0 request, which cannot carry it.
    #[error("Transfer-Encoding is not allowed in HTTP/1.0")]
    TransferEncodingInHttp10,
    /// Both Transfer-Encoding and Content-Length.
    #[error("Transfer-Encoding and Content-Length must not both be sent")]
    TransferEncodingWithContentLength,
    /// A Transfer-Encoding list that is empty or has an empty or malformed element.
    #[error("invalid Transfer-Encoding")]
    InvalidTransferEncoding,
    /// `chunked` is missing from the end of Transfer-Encoding, or appears more than once.
    #[error("Transfer-Encoding must end with chunked, applied once")]
    ChunkedNotFinal,
    /// A transfer coding other than `chunked`.
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// An Expect value other than `100-continue`.
    #[error("unsupported expectation")]
    UnsupportedExpectation,
}

impl HeadError {
    /// The status code to answer this error with.
    ///
    /// ```
    /// use reference_server::http1::HeadError;
    /// assert_eq!(HeadError::UnsupportedVersion.status().as_u16(), 505);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::RequestLineTooLong { .. } => StatusCode::URI_TOO_LONG,
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::UnsupportedVersion => StatusCode::HTTP_VERSION_NOT_SUPPORTED,
            Self::ConnectNotSupported | Self::UnsupportedTransferCoding => {
                StatusCode::NOT_IMPLEMENTED
            }
            Self::UnsupportedExpectation => StatusCode::EXPECTATION_FAILED,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}
