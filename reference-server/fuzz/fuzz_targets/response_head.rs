//! Fuzz target: `check_head` and `framing::plan` on response heads built from arbitrary bytes.
//! Whatever `check_head` accepts, the server's encoder writes as whole `name: value\r\n` lines.
#![no_main]

use gateway_spec::framing::{has_no_body, plan, Framing};
use gateway_spec::start_response::check_head;
use gateway_spec::ResponseHead;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Version};
use libfuzzer_sys::fuzz_target;
use reference_server::http1::{encode_response_head, DefaultHeaders};
use reference_server_fuzz::timed;

/// Names an app might set, hop-by-hop ones included; picked by a byte so they are one mutation away.
const KNOWN_NAMES: &[&str] = &[
    "content-length",
    "content-type",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authenticate",
    "date",
    "server",
    "set-cookie",
];

/// Reads the input front to back; past its end every byte is zero.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        first
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Builds a head, the request it answers, and the body length the server knows.
fn build(data: &[u8]) -> (ResponseHead, Method, Version, Option<u64>) {
    let mut input = Bytes(data);
    let raw_status = u16::from_le_bytes([input.byte(), input.byte()]);
    let status = StatusCode::from_u16(100 + raw_status % 900).expect("100..=999 is valid");
    let flags = input.byte();
    let method = match flags & 3 {
        0 => Method::GET,
        1 => Method::HEAD,
        2 => Method::POST,
        _ => Method::from_bytes(b"PURGE").expect("a token"),
    };
    let version = if flags & 4 == 0 {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    };
    let body_len =
        (flags & 8 != 0).then(|| u64::from(u16::from_le_bytes([input.byte(), input.byte()])));
    let reason = (flags & 16 != 0).then(|| {
        let len = usize::from(input.byte());
        let bytes = input.take(len);
        if flags & 32 == 0 {
            // Latin-1: every byte one char, U+0000..=U+00FF.
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            // UTF-8: reaches chars above U+00FF, whose low byte may be CR or LF.
            String::from_utf8_lossy(bytes).into_owned()
        }
    });

    let mut headers = HeaderMap::new();
    while !input.is_empty() && headers.len() < 32 {
        let name_len = input.byte();
        let name = if name_len & 0x80 != 0 {
            let known = KNOWN_NAMES[usize::from(name_len & 0x7f) % KNOWN_NAMES.len()];
            HeaderName::from_static(known)
        } else {
            match HeaderName::from_bytes(input.take(usize::from(name_len))) {
                Ok(name) => name,
                Err(_) => continue,
            }
        };
        let value_len = usize::from(input.byte());
        if let Ok(value) = HeaderValue::from_bytes(input.take(value_len)) {
            headers.append(name, value);
        }
    }
    let head = ResponseHead {
        status,
        reason,
        headers,
    };
    (head, method, version, body_len)
}

/// Encodes `head` with the server's own encoder and checks the result is exactly the
/// lines intended: one CRLF per line (status line, each field, Date and Server), no
/// other CR or LF, and no NUL anywhere.
fn encode_checked(version: Version, head: &ResponseHead) {
    let mut out = Vec::new();
    let defaults = DefaultHeaders {
        date: Some(b"Sun, 06 Nov 1994 08:49:37 GMT"),
        server: Some(b"fuzz"),
    };
    encode_response_head(&mut out, version, head, defaults);
    let added = [http::header::DATE, http::header::SERVER]
        .iter()
        .filter(|name| !head.headers.contains_key(*name))
        .count();
    let line_ends = out.windows(2).filter(|w| w == b"\r\n").count();
    let cr_or_lf = out.iter().filter(|&&b| b == b'\r' || b == b'\n').count();
    assert_eq!(
        line_ends,
        1 + head.headers.len() + added,
        "{:?}",
        out.escape_ascii().to_string()
    );
    assert_eq!(
        cr_or_lf,
        2 * line_ends,
        "a bare CR or LF in {:?}",
        out.escape_ascii().to_string()
    );
    assert!(
        !out.contains(&0),
        "a NUL in {:?}",
        out.escape_ascii().to_string()
    );
    for line in out.split(|&b| b == b'\n').skip(1).filter(|l| !l.is_empty()) {
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .expect("a field line has a colon");
        assert!(
            colon > 0 && !line[..colon].iter().any(|&b| b <= b' '),
            "field name in {line:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| timed(data.len(), || check(data)));

/// Builds a head from `data` and checks what `check_head` and `plan` make of it.
fn check(data: &[u8]) {
    let (mut head, method, version, body_len) = build(data);
    if check_head(&head).is_err() {
        return;
    }
    encode_checked(version, &head);

    let status = head.status;
    let declared = head
        .content_length()
        .expect("check_head accepted the Content-Length");
    let framing =
        plan(&method, version, &mut head, body_len).expect("check_head accepted the head");
    assert_eq!(
        framing == Framing::NoBody,
        has_no_body(&method, status),
        "{framing:?}"
    );
    match framing {
        Framing::NoBody if status == StatusCode::NO_CONTENT => {
            assert!(!head.headers.contains_key(http::header::CONTENT_LENGTH))
        }
        Framing::NoBody => {}
        Framing::Length(n) => {
            assert_eq!(head.content_length(), Ok(Some(n)));
            assert_eq!(Some(n), declared.or(body_len));
        }
        Framing::Chunked => {
            assert_eq!(version, Version::HTTP_11);
            assert_eq!((declared, body_len), (None, None));
        }
        Framing::CloseDelimited => {
            assert_eq!(version, Version::HTTP_10);
            assert_eq!((declared, body_len), (None, None));
        }
    }
    // What plan added must pass the same check and encode as cleanly.
    assert_eq!(check_head(&head), Ok(()));
    encode_checked(version, &head);
}
