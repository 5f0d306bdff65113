//! Incremental decoder for the chunked transfer coding (RFC 9112 §7.1), as a state machine over byte slices.
//! It copies no body bytes and reads no socket: data comes back as ranges into the input; trailers are dropped.
//!
//! The decoder looks at every control byte exactly once and keeps its place in
//! `State`, so input may be split anywhere, down to one byte per call, and the
//! verdict stays the same. It is strict where lenient decoders were exploited:
//! hex digits only in sizes (no `+`, `0x`, spaces), at most 16 of them, CRLF
//! after the size line and after the data (CVE-2025-43859), extensions that
//! follow the grammar, and bounded size lines and trailers.

use std::ops::Range;

use http::StatusCode;

/// Bounds on the bytes a chunked body may spend on framing rather than data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkedLimits {
    /// Longest chunk-size line (size and extensions), in bytes, without its CRLF.
    pub max_chunk_line: usize,
    /// Largest trailer section, in bytes, its final CRLF included.
    pub max_trailer_bytes: usize,
}

impl Default for ChunkedLimits {
    /// 4 KiB per size line, 16 KiB of trailers.
    fn default() -> Self {
        Self {
            max_chunk_line: 4096,
            max_trailer_bytes: 16384,
        }
    }
}

/// What one call to [`ChunkedDecoder::decode`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// How many bytes at the start of the input were used; call again with the rest.
    pub consumed: usize,
    /// The body bytes decoded in this step, as a range into the input (may be empty).
    pub data: Range<usize>,
}

/// Why a chunked body was refused. Every variant maps to 400, and the connection must close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkedError {
    /// A chunk size that is empty or holds a byte other than a hex digit.
    #[error("chunk size must be hexadecimal digits")]
    InvalidChunkSize,
    /// A chunk size of more than 16 hex digits, or of 2^63 or more.
    #[error("chunk size is too large")]
    ChunkSizeTooLarge,
    /// A chunk extension that is not `;name` or `;name=value` with a token or quoted-string value.
    #[error("invalid chunk extension")]
    InvalidChunkExtension,
    /// A chunk-size line longer than the configured limit.
    #[error("chunk-size line is longer than {limit} bytes")]
    ChunkLineTooLong {
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// A chunk-size line ending in a bare LF, or a CR not followed by LF.
    #[error("chunk-size lines must end with CRLF")]
    BadLineEnding,
    /// Chunk data not followed by exactly CRLF.
    #[error("chunk data must be followed by CRLF")]
    MissingDataCrlf,
    /// A trailer line that is not `name: value`.
    #[error("invalid trailer field")]
    InvalidTrailer,
    /// A trailer line (or the final empty line) not ending in CRLF.
    #[error("trailer lines must end with CRLF")]
    BadTrailerLineEnding,
    /// A trailer section larger than the configured limit.
    #[error("trailer section is larger than {limit} bytes")]
    TrailersTooLarge {
        /// The configured limit, in bytes.
        limit: usize,
    },
    /// The input ended before the last chunk and the trailer section.
    #[error("chunked body ended before its last chunk")]
    Truncated,
}

impl ChunkedError {
    /// The status code to answer with: always 400.
    pub fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// Sizes at or above 2^63 are refused: no real body is that large, and it keeps
/// the classic overflow probe `ffffffffffffffff` out of anyone's arithmetic.
const MAX_CHUNK_SIZE: u64 = i64::MAX as u64;
const MAX_SIZE_DIGITS: u8 = 16;

/// Where the decoder is in the grammar; one variant per place a byte can land.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    SizeStart,
    Size,
    SizeBws,
    ExtNameStart,
    ExtName,
    ExtNameBws,
    ExtValueStart,
    ExtToken,
    ExtQuoted,
    ExtQuotedPair,
    ExtQuoteEnd,
    ExtBws,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerLineStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    EndLf,
    Done,
}

impl State {
    fn in_size_line(self) -> bool {
        matches!(
            self,
            Self::SizeStart
                | Self::Size
                | Self::SizeBws
                | Self::ExtNameStart
                | Self::ExtName
                | Self::ExtNameBws
                | Self::ExtValueStart
                | Self::ExtToken
                | Self::ExtQuoted
                | Self::ExtQuotedPair
                | Self::ExtQuoteEnd
                | Self::ExtBws
        )
    }

    fn in_trailers(self) -> bool {
        matches!(
            self,
            Self::TrailerLineStart
                | Self::TrailerName
                | Self::TrailerValue
                | Self::TrailerLf
                | Self::EndLf
        )
    }
}

/// Decodes one chunked body, fed in pieces of any size.
///
/// ```
/// use reference_server::http1::{ChunkedDecoder, ChunkedLimits};
///
/// let input = b"5;lang=en\r\nhello\r\n0\r\nChecksum: x\r\n\r\nNEXT";
/// let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
/// let (mut body, mut offset) = (Vec::new(), 0);
/// while !decoder.is_done() {
///     let step = decoder.decode(&input[offset..])?;
///     body.extend_from_slice(&input[offset..][step.data]);
///     offset += step.consumed;
/// }
/// assert_eq!(body, b"hello");
/// assert_eq!(&input[offset..], b"NEXT");
/// # Ok::<(), reference_server::http1::ChunkedError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    limits: ChunkedLimits,
    state: State,
    size: u64,
    size_digits: u8,
    remaining: u64,
    line_len: usize,
    trailer_len: usize,
    failed: Option<ChunkedError>,
}

impl ChunkedDecoder {
    /// A decoder positioned before the first chunk-size line.
    pub fn new(limits: ChunkedLimits) -> Self {
        Self {
            limits,
            state: State::SizeStart,
            size: 0,
            size_digits: 0,
            remaining: 0,
            line_len: 0,
            trailer_len: 0,
            failed: None,
        }
    }

    /// Consumes from `input` up to the end of the next run of body data (or of the input),
    /// and returns how much it consumed and where that data lies in `input`.
    ///
    /// Consumes at least one byte of a non-empty input unless the body is done;
    /// bytes after the body (the next request) are never consumed. After an error,
    /// every later call returns the same error.
    pub fn decode(&mut self, input: &[u8]) -> Result<Step, ChunkedError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let mut pos = 0;
        while pos < input.len() {
            match self.state {
                State::Done => break,
                State::Data => {
                    let available = input.len() - pos;
                    let take =
                        usize::try_from(self.remaining).map_or(available, |r| r.min(available));
                    self.remaining -= take as u64;
                    if self.remaining == 0 {
                        self.state = State::DataCr;
                    }
                    // Stop after each run of data so it is always one range.
                    return Ok(Step {
                        consumed: pos + take,
                        data: pos..pos + take,
                    });
                }
                _ => {
                    if let Err(error) = self.control_byte(input[pos]) {
                        self.failed = Some(error.clone());
                        return Err(error);
                    }
                    pos += 1;
                }
            }
        }
        Ok(Step {
            consumed: pos,
            data: pos..pos,
        })
    }

    /// Data bytes of the current chunk still to come (0 outside chunk data): lets a
    /// caller refuse a chunk that would exceed its body limit before reading it.
    pub fn chunk_remaining(&self) -> u64 {
        if self.state == State::Data {
            self.remaining
        } else {
            0
        }
    }

    /// Whether the final chunk and the trailer section have been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Call when the input has ended: an error unless the whole body was read,
    /// because a body cut short must not pass for a complete one.
    pub fn finish(&self) -> Result<(), ChunkedError> {
        match &self.failed {
            Some(error) => Err(error.clone()),
            None if self.is_done() => Ok(()),
            None => Err(ChunkedError::Truncated),
        }
    }

    fn control_byte(&mut self, b: u8) -> Result<(), ChunkedError> {
        use State::*;
        if self.state.in_size_line() {
            if b == b'\n' {
                return Err(ChunkedError::BadLineEnding);
            }
            if b != b'\r' {
                self.line_len += 1;
                if self.line_len > self.limits.max_chunk_line {
                    return Err(ChunkedError::ChunkLineTooLong {
                        limit: self.limits.max_chunk_line,
                    });
                }
            }
        } else if self.state.in_trailers() {
            self.trailer_len += 1;
            if self.trailer_len > self.limits.max_trailer_bytes {
                return Err(ChunkedError::TrailersTooLarge {
                    limit: self.limits.max_trailer_bytes,
                });
            }
        }

        self.state = match (self.state, b) {
            (SizeStart | Size, _) if b.is_ascii_hexdigit() => self.push_size_digit(b)?,
            (SizeStart, _) => return Err(ChunkedError::InvalidChunkSize),
            (Size, b'\r') => SizeLf,
            (Size | SizeBws, b' ' | b'\t') => SizeBws,
            (Size | SizeBws, b';') => ExtNameStart,
            (Size | SizeBws, _) => return Err(ChunkedError::InvalidChunkSize),

            (ExtNameStart, b' ' | b'\t') => ExtNameStart,
            (ExtNameStart | ExtName, _) if is_token(b) => ExtName,
            (ExtName | ExtNameBws, b' ' | b'\t') => ExtNameBws,
            (ExtName | ExtNameBws, b'=') => ExtValueStart,
            (ExtName | ExtNameBws, b';') => ExtNameStart,
            (ExtName, b'\r') => SizeLf,
            (ExtValueStart, b' ' | b'\t') => ExtValueStart,
            (ExtValueStart | ExtToken, _) if is_token(b) => ExtToken,
            (ExtValueStart, b'"') => ExtQuoted,
            (ExtToken | ExtQuoteEnd | ExtBws, b' ' | b'\t') => ExtBws,
            (ExtToken | ExtQuoteEnd | ExtBws, b';') => ExtNameStart,
            (ExtToken | ExtQuoteEnd, b'\r') => SizeLf,
            (ExtQuoted, b'"') => ExtQuoteEnd,
            (ExtQuoted, b'\\') => ExtQuotedPair,
            (ExtQuoted, _) if is_qdtext(b) => ExtQuoted,
            (ExtQuotedPair, _) if b == b'\t' || b == b' ' || is_vchar_or_obs(b) => ExtQuoted,
            (
                ExtNameStart | ExtName | ExtNameBws | ExtValueStart | ExtToken | ExtQuoted
                | ExtQuotedPair | ExtQuoteEnd | ExtBws,
                _,
            ) => return Err(ChunkedError::InvalidChunkExtension),

            (SizeLf, b'\n') => {
                self.line_len = 0;
                if self.size == 0 {
                    TrailerLineStart
                } else {
                    self.remaining = self.size;
                    Data
                }
            }
            (SizeLf, _) => return Err(ChunkedError::BadLineEnding),
            (DataCr, b'\r') => DataLf,
            (DataLf, b'\n') => {
                self.size = 0;
                self.size_digits = 0;
                SizeStart
            }
            (DataCr | DataLf, _) => return Err(ChunkedError::MissingDataCrlf),

            (TrailerLineStart, b'\r') => EndLf,
            (TrailerLineStart | TrailerName, _) if is_token(b) => TrailerName,
            (TrailerName, b':') => TrailerValue,
            (TrailerValue, _) if b == b'\t' || b == b' ' || is_vchar_or_obs(b) => TrailerValue,
            (TrailerValue, b'\r') => TrailerLf,
            (TrailerLf, b'\n') => TrailerLineStart,
            (EndLf, b'\n') => Done,
            (TrailerLineStart | TrailerValue | TrailerLf | EndLf, b'\r' | b'\n') => {
                return Err(ChunkedError::BadTrailerLineEnding)
            }
            (TrailerLf | EndLf, _) => return Err(ChunkedError::BadTrailerLineEnding),
            // Includes a line starting with whitespace (obsolete folding) and a name
            // followed by whitespace before the colon.
            (TrailerLineStart | TrailerName | TrailerValue, _) => {
                return Err(ChunkedError::InvalidTrailer)
            }

            // decode() never hands these states a control byte.
            (Data | Done, _) => self.state,
        };
        Ok(())
    }

    fn push_size_digit(&mut self, b: u8) -> Result<State, ChunkedError> {
        if self.size_digits == MAX_SIZE_DIGITS {
            return Err(ChunkedError::ChunkSizeTooLarge);
        }
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => b - b'A' + 10,
        };
        // 16 digits fit in a u64, so this cannot overflow; the cap is a policy.
        self.size = (self.size << 4) | u64::from(digit);
        self.size_digits += 1;
        if self.size > MAX_CHUNK_SIZE {
            return Err(ChunkedError::ChunkSizeTooLarge);
        }
        Ok(State::Size)
    }
}

fn is_token(b: u8) -> bool {
    super::head_fields::is_token(b)
}

fn is_vchar_or_obs(b: u8) -> bool {
    (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// RFC 9110 qdtext: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text.
fn is_qdtext(b: u8) -> bool {
    b == b'\t' || b == b' ' || (is_vchar_or_obs(b) && b != b'"' && b != b'\\')
}
