//! Property tests of the head parser: any split of the input gives the same verdict, and no input panics.
//! It checks consistency, not the verdicts themselves; `head_table` pins those down.

use proptest::prelude::*;

use crate::http1::split_checks::assert_prefixes_agree;
use crate::http1::{parse_request_head, HeadLimits};

fn limits() -> impl Strategy<Value = HeadLimits> {
    prop_oneof![
        Just(HeadLimits::default()),
        (4usize..48, 0usize..6, 8usize..240).prop_map(|(line, fields, bytes)| HeadLimits {
            max_request_line: line,
            max_headers: fields,
            max_head_bytes: bytes,
        }),
    ]
}

fn pick(options: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    prop::sample::select(options)
}

const METHODS: &[&str] = &["GET", "POST", "OPTIONS", "PURGE", "CONNECT", "G\0T", ""];
const TARGETS: &[&str] = &[
    "/",
    "/a?b=c",
    "*",
    "http://a/b",
    "a.com:80",
    "/\u{e9}",
    "/\x7f",
];
const VERSIONS: &[&str] = &[
    "HTTP/1.1",
    "HTTP/1.0",
    "HTTP/2.0",
    "http/1.1",
    "HTTP/1.10",
    "",
];
const FIELDS: &[&str] = &[
    "Host: a",
    "Host: a b",
    "Content-Length: 5",
    "Content-Length: +5",
    "Content-Length: 5, 6",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: gzip, chunked",
    "Transfer-Encoding: chunked, gzip",
    "Connection: close",
    "Connection: keep-alive",
    "Expect: 100-continue",
    "Expect: x",
    "X-A: 1",
    "X-A: \t v \t",
    "X : a",
    " folded",
    ": empty",
    "X: a\0b",
    "X: a\rb",
];
const LINE_ENDS: &[&str] = &["\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r"];

/// Heads assembled from pieces that are mostly valid and sometimes not.
fn head_like() -> impl Strategy<Value = Vec<u8>> {
    (
        0usize..6,
        pick(METHODS),
        pick(TARGETS),
        pick(VERSIONS),
        prop::collection::vec((pick(FIELDS), pick(LINE_ENDS)), 0..8),
        pick(LINE_ENDS),
        prop::collection::vec(any::<u8>(), 0..8),
    )
        .prop_map(
            |(empty_lines, method, target, version, fields, end, body)| {
                let mut head = "\r\n".repeat(empty_lines);
                head += &format!("{method} {target} {version}\r\n");
                for (field, line_end) in fields {
                    head += field;
                    head += line_end;
                }
                head += end;
                let mut bytes = head.into_bytes();
                bytes.extend(body);
                bytes
            },
        )
}

/// Valid heads with fields of any token name and any admissible value bytes
/// (visible ASCII, tab, obs-text), with optional whitespace around values.
fn valid_head() -> impl Strategy<Value = Vec<u8>> {
    let name = "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}";
    let value = prop::collection::vec(
        prop_oneof![0x21u8..=0x7e, Just(b' '), Just(b'\t'), 0x80u8..=0xff],
        0..30,
    );
    let ows = || pick(&["", " ", "\t", "  "]);
    let field = (name, ows(), value, ows());
    (
        pick(&["GET", "POST", "PURGE"]),
        pick(&["/", "/a?b=c", "http://a/b"]),
        pick(&["HTTP/1.1", "HTTP/1.0"]),
        prop::collection::vec(field, 0..12),
    )
        .prop_map(|(method, target, version, fields)| {
            let mut head = format!("{method} {target} {version}\r\nHost: a\r\n").into_bytes();
            for (name, before, value, after) in fields {
                // Names the server interprets could make the head invalid; keep them out.
                let name = format!("x-{name}");
                head.extend_from_slice(name.as_bytes());
                head.push(b':');
                head.extend_from_slice(before.as_bytes());
                // Whitespace at the ends of a value is not part of it.
                let trimmed =
                    value
                        .iter()
                        .position(|&b| b != b' ' && b != b'\t')
                        .map_or(&[][..], |start| {
                            let end = value
                                .iter()
                                .rposition(|&b| b != b' ' && b != b'\t')
                                .unwrap_or(start);
                            &value[start..=end]
                        });
                head.extend_from_slice(trimmed);
                head.extend_from_slice(after.as_bytes());
                head.extend_from_slice(b"\r\n");
            }
            head.extend_from_slice(b"\r\n");
            head
        })
}

/// Bytes drawn mostly from the ones the grammar cares about.
fn head_bytes() -> impl Strategy<Value = Vec<u8>> {
    let interesting = prop::sample::select(b"GET / HTTP/1.1\r\n:Host ab\t\0,;\x7f\xff".to_vec());
    prop::collection::vec(prop_oneof![interesting, any::<u8>()], 0..200)
}

proptest! {
    #[test]
    fn any_split_of_a_head_like_input_gives_the_same_verdict(input in head_like(), limits in limits()) {
        let _verdict = assert_prefixes_agree(&input, &(0..input.len()).collect::<Vec<_>>(), &limits);
    }

    #[test]
    fn any_split_of_arbitrary_bytes_gives_the_same_verdict(input in head_bytes(), limits in limits()) {
        let _verdict = assert_prefixes_agree(&input, &(0..input.len()).collect::<Vec<_>>(), &limits);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..600), limits in limits()) {
        let _ = parse_request_head(&input, &limits);
    }
}

proptest! {
    /// Every field of an accepted head reaches the header map whole: the spans
    /// point at exactly the bytes httparse saw, and `http` accepts all of them.
    #[test]
    fn every_field_of_an_accepted_head_reaches_the_header_map(input in valid_head()) {
        let parsed = parse_request_head(&input, &HeadLimits::default());
        prop_assert!(matches!(parsed, Ok(crate::http1::Parsed::Complete { .. })), "{:?}", parsed);
        if let Ok(crate::http1::Parsed::Complete { head, len }) = parsed {
            let mut slots = vec![httparse::EMPTY_HEADER; head.spans.len()];
            let mut request = httparse::Request::new(&mut slots);
            let start = input.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(0);
            prop_assert!(request.parse(&input[start..len]).is_ok());
            let expected: Vec<(&[u8], &[u8])> =
                request.headers.iter().map(|h| (h.name.as_bytes(), h.value)).collect();
            prop_assert_eq!(head.fields(&input).collect::<Vec<_>>(), expected);
            let map = head.header_map(&bytes::Bytes::copy_from_slice(&input));
            prop_assert_eq!(map.len(), head.spans.len());
        }
    }
}

proptest! {
    /// The fast path for whole valid heads accepts only what the line-by-line scan
    /// accepts, with the same result.
    #[test]
    fn the_fast_path_agrees_with_the_scan(
        input in prop_oneof![head_like(), head_bytes(), valid_head()],
        limits in limits(),
    ) {
        use crate::http1::request_head::{parse_by_scan, parse_whole_valid_head};
        if let Some(fast) = parse_whole_valid_head(&input, &limits) {
            prop_assert_eq!(parse_by_scan(&input, &limits), Ok(fast));
        }
    }
}
