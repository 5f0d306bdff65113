//! The `Range` request header (RFC 9110 §14.2) for one representation length: one
//! byte range or none. Several ranges are not served (no multipart/byteranges).

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: the header is absent, malformed, names another unit or
    /// several ranges. The whole representation is sent with 200, which RFC 9110
    /// §14.2 allows ("a server MAY ignore the Range header field").
    Whole,
    /// One satisfiable range: bytes `start ..= end`, `end` within the length.
    Part {
        /// The first byte.
        start: u64,
        /// The last byte, inclusive.
        end: u64,
    },
    /// One well-formed range that selects no byte of the representation: 416.
    Unsatisfiable,
}

/// Parses a `Range` value against a representation of `len` bytes.
///
/// ```
/// use gateway_kit::range::{parse_range, RangeRequest};
///
/// assert_eq!(parse_range("bytes=0-3", 10), RangeRequest::Part { start: 0, end: 3 });
/// assert_eq!(parse_range("bytes=7-", 10), RangeRequest::Part { start: 7, end: 9 });
/// assert_eq!(parse_range("bytes=-2", 10), RangeRequest::Part { start: 8, end: 9 });
/// assert_eq!(parse_range("bytes=5-100", 10), RangeRequest::Part { start: 5, end: 9 });
/// assert_eq!(parse_range("bytes=10-", 10), RangeRequest::Unsatisfiable);
/// assert_eq!(parse_range("bytes=0-1,4-5", 10), RangeRequest::Whole);
/// assert_eq!(parse_range("items=0-1", 10), RangeRequest::Whole);
/// ```
pub fn parse_range(value: &str, len: u64) -> RangeRequest {
    let Some((unit, set)) = value.split_once('=') else {
        return RangeRequest::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeRequest::Whole;
    }
    let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return RangeRequest::Whole;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // A suffix range: the last `n` bytes.
        return match digits(last) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            None => RangeRequest::Whole,
        };
    }
    let Some(start) = digits(first) else {
        return RangeRequest::Whole;
    };
    let end = if last.is_empty() {
        None
    } else {
        match digits(last) {
            Some(end) if end >= start => Some(end),
            _ => return RangeRequest::Whole,
        }
    };
    if start >= len {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Part {
        start,
        end: end.map_or(len - 1, |end| end.min(len - 1)),
    }
}

fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Past u64::MAX is still a valid range: it means "to the end".
    Some(text.parse().unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeRequest::{Part, Unsatisfiable, Whole};

    #[test]
    fn a_table_of_range_values() {
        let cases: &[(&str, u64, RangeRequest)] = &[
            ("bytes=0-0", 1, Part { start: 0, end: 0 }),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-1", 0, Unsatisfiable),
            ("bytes=-0", 5, Unsatisfiable),
            ("bytes=-10", 5, Part { start: 0, end: 4 }),
            ("Bytes = 1-2 ", 5, Part { start: 1, end: 2 }),
            ("bytes=1-2,", 5, Part { start: 1, end: 2 }),
            ("bytes=3-1", 5, Whole),
            ("bytes=a-1", 5, Whole),
            ("bytes=+1-2", 5, Whole),
            ("bytes=1", 5, Whole),
            ("bytes=", 5, Whole),
            ("bytes", 5, Whole),
            ("bytes=1-2,3-4", 5, Whole),
            ("bytes=99999999999999999999999-", 5, Unsatisfiable),
            (
                "bytes=0-99999999999999999999999",
                5,
                Part { start: 0, end: 4 },
            ),
        ];
        for (value, len, expected) in cases {
            assert_eq!(parse_range(value, *len), *expected, "{value:?} of {len}");
        }
    }
}
