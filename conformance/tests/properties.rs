//! Property tests against the target: valid requests of every shape produce exactly
//! the echo they imply, however their bytes are split and pipelined; a valid request
//! with one smuggling-family mutation gets a 4xx (never a 5xx) and a close, and the server
//! answers the next client normally. Cases: `PROPTEST_CASES` (default 32).

use std::fmt;
use std::io::Write;
use std::time::Duration;

use conformance::target::{json_of, Target};
use fixtures::raw_client::{connect, Reader};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    ProptestConfig {
        cases,
        // Each case talks to a server: shrinking stays bounded.
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    }
}

/// Raw bytes shown escaped, so a failing case prints the exact request.
#[derive(Clone)]
struct Wire(Vec<u8>);

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// One valid request and the echo fields it implies.
#[derive(Clone, Debug)]
struct ValidRequest {
    method: String,
    raw_path: String,
    decoded_path: Vec<u8>,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    chunks: Option<Vec<(usize, String)>>,
}

impl ValidRequest {
    fn bytes(&self) -> Vec<u8> {
        let target = if self.query.is_empty() {
            self.raw_path.clone()
        } else {
            format!("{}?{}", self.raw_path, self.query)
        };
        let mut out =
            format!("{} {target} HTTP/1.1\r\nHost: prop.test\r\n", self.method).into_bytes();
        for (name, value) in &self.headers {
            out.extend(format!("{name}: {value}\r\n").bytes());
        }
        match &self.chunks {
            None => {
                out.extend(format!("Content-Length: {}\r\n\r\n", self.body.len()).bytes());
                out.extend(&self.body);
            }
            Some(chunks) => {
                out.extend(b"Transfer-Encoding: chunked\r\n\r\n");
                let mut at = 0;
                for (size, ext) in chunks {
                    out.extend(format!("{size:x}{ext}\r\n").bytes());
                    out.extend(&self.body[at..at + size]);
                    out.extend(b"\r\n");
                    at += size;
                }
                out.extend(b"0\r\n\r\n");
            }
        }
        out
    }
}

fn segment() -> impl Strategy<Value = (String, Vec<u8>)> {
    let piece = prop_oneof![
        "[a-zA-Z0-9._~!$&'()*+,;=:@-]{1,6}".prop_map(|s| (s.clone(), s.into_bytes())),
        any::<u8>().prop_map(|b| (format!("%{b:02X}"), vec![b])),
    ];
    prop::collection::vec(piece, 1..4).prop_map(|pieces| {
        let raw = pieces.iter().map(|(r, _)| r.as_str()).collect::<String>();
        let decoded = pieces.into_iter().flat_map(|(_, d)| d).collect();
        (raw, decoded)
    })
}

fn valid_request() -> impl Strategy<Value = ValidRequest> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "REPORT"]),
        prop::collection::vec(segment(), 1..4),
        "[a-zA-Z0-9=&%+._~-]{0,20}",
        prop::collection::vec(("[a-z]{1,8}", "[!-~]([ -~]{0,20}[!-~])?"), 0..5),
        prop::collection::vec(any::<u8>(), 0..3000),
        any::<bool>(),
        prop::collection::vec(
            (
                1usize..700,
                prop::sample::select(vec!["", ";a", ";a=b", ";a=\"q d\""]),
            ),
            1..8,
        ),
    )
        .prop_map(
            |(method, segments, query, headers, body, chunked, chunk_plan)| {
                let mut raw_path = String::from("/prop");
                let mut decoded_path = b"/prop".to_vec();
                for (raw, decoded) in segments {
                    raw_path.push('/');
                    raw_path.push_str(&raw);
                    decoded_path.push(b'/');
                    decoded_path.extend(decoded);
                }
                let headers = headers
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, v))| (format!("x-p{i}-{n}"), v))
                    .collect();
                let chunks = chunked.then(|| {
                    let mut left = body.len();
                    let mut plan = Vec::new();
                    for (size, ext) in chunk_plan {
                        if left == 0 {
                            break;
                        }
                        let take = size.min(left);
                        plan.push((take, ext.to_owned()));
                        left -= take;
                    }
                    if left > 0 {
                        plan.push((left, String::new()));
                    }
                    plan
                });
                ValidRequest {
                    method: method.to_owned(),
                    raw_path,
                    decoded_path,
                    query,
                    headers,
                    body,
                    chunks,
                }
            },
        )
}

/// Sends `bytes` split at `cuts` (positions), pausing between writes so the server
/// sees separate reads.
fn send_split(reader: &mut Reader, bytes: &[u8], cuts: &[usize]) {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut from = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        if point > from {
            reader.stream.write_all(&bytes[from..point]).expect("write");
            reader.stream.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(1));
            from = point;
        }
    }
}

fn check_echo(request: &ValidRequest, body: &[u8]) -> Result<(), TestCaseError> {
    let echo: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
    let latin1: String = request
        .decoded_path
        .iter()
        .map(|&b| char::from(b))
        .collect();
    prop_assert_eq!(&echo["method"], &serde_json::json!(request.method));
    prop_assert_eq!(&echo["path_info"], &serde_json::json!(latin1));
    prop_assert_eq!(&echo["query_string"], &serde_json::json!(request.query));
    prop_assert_eq!(&echo["body_length"], &serde_json::json!(request.body.len()));
    let digest: String = Sha256::digest(&request.body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    prop_assert_eq!(&echo["body_sha256"], &serde_json::json!(digest));
    let expected_length = match request.chunks {
        None => serde_json::json!(request.body.len().to_string()),
        Some(_) => serde_json::Value::Null,
    };
    prop_assert_eq!(&echo["content_length"], &expected_length);
    for (name, value) in &request.headers {
        let var = format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"));
        prop_assert_eq!(
            &echo["headers"][&var],
            &serde_json::json!(value),
            "header {}",
            var
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn valid_requests_echo_exactly_what_they_imply(
        batch in prop::collection::vec(valid_request(), 1..4),
        cuts in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let target = Target::from_env().expect("a target");
        let bytes: Vec<u8> = batch.iter().flat_map(ValidRequest::bytes).collect();
        let mut reader = Reader::new(connect(target.addr));
        send_split(&mut reader, &bytes, &cuts);
        for request in &batch {
            let response = reader.response(&request.method).ok_or_else(|| {
                TestCaseError::fail(format!("no response; sent {:?}", Wire(bytes.clone())))
            })?;
            prop_assert_eq!(response.status, 200, "sent {:?}: {}", Wire(bytes.clone()), response.text());
            check_echo(request, &response.body)?;
        }
    }
}

/// The smuggling families, each a mutation of a valid POST with a 5-byte body.
const MUTATIONS: &[(&str, &str)] = &[
    (
        "cl and te",
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    ),
    (
        "te not chunked",
        "Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n",
    ),
    (
        "te chunked then identity",
        "Transfer-Encoding: chunked, identity\r\n",
    ),
    (
        "te with space before colon",
        "Transfer-Encoding : chunked\r\n",
    ),
    ("plus sign length", "Content-Length: +5\r\n"),
    ("hex length", "Content-Length: 0x5\r\n"),
    (
        "overflowing length",
        "Content-Length: 99999999999999999999999\r\n",
    ),
    (
        "differing lengths",
        "Content-Length: 5\r\nContent-Length: 6\r\n",
    ),
    ("bare lf", "Content-Length: 5\nX-Bare: lf\r\n"),
    ("nul in value", "Content-Length: 5\r\nX-Nul: a\0b\r\n"),
    ("obs fold", "Content-Length: 5\r\nX-Fold: a\r\n folded\r\n"),
    ("vertical tab in te", "Transfer-Encoding:\x0bchunked\r\n"),
    ("te on http/1.0", "Transfer-Encoding: chunked\r\n"),
    // The body `hello...` is then read as a chunk size: a body error, still a 400.
    ("body is not a chunk", "Transfer-Encoding: chunked\r\n"),
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn smuggling_mutations_are_refused_and_the_server_stays_healthy(
        which in 0..MUTATIONS.len(),
        path in "/prop/m[a-z]{0,8}",
        cuts in prop::collection::vec(any::<usize>(), 0..3),
    ) {
        let target = Target::from_env().expect("a target");
        let (family, headers) = MUTATIONS[which];
        let version = if family == "te on http/1.0" { "HTTP/1.0" } else { "HTTP/1.1" };
        let request = format!(
            "POST {path} {version}\r\nHost: prop.test\r\n{headers}\r\nhello\
             GET /prop/smuggled-after HTTP/1.1\r\nHost: prop.test\r\n\r\n"
        );
        let mut reader = Reader::new(connect(target.addr));
        send_split(&mut reader, request.as_bytes(), &cuts);
        let response = reader.response("POST").ok_or_else(|| {
            TestCaseError::fail(format!("{family}: no response to {:?}", Wire(request.clone().into_bytes())))
        })?;
        prop_assert!(
            (400..500).contains(&response.status),
            "{}: status {} for {:?}", family, response.status, Wire(request.clone().into_bytes())
        );
        prop_assert!(reader.is_closed(), "{}: the connection stayed open", family);
        // The next client is served normally.
        let next = target.get("/prop/next");
        prop_assert_eq!(next.status, 200);
        prop_assert!(json_of(&next).is_ok());
    }
}
