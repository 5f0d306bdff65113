//! Inputs of the micro-benchmarks in `benches/hot_paths.rs`: realistic request
//! heads, a chunked body, and the app used to drive a response through
//! `gateway_spec::exchange::run`. Kept here so that the tests below check that every
//! input is accepted before any timing is trusted.

use bytes::Bytes;
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, HeaderValue, StatusCode};

/// A `curl` GET: the smallest head a server commonly sees.
pub const CURL_HEAD: &[u8] = b"GET /index.html HTTP/1.1\r\n\
Host: localhost:8000\r\n\
User-Agent: curl/8.5.0\r\n\
Accept: */*\r\n\r\n";

/// A browser navigation with cookies, about 700 bytes.
pub const BROWSER_HEAD: &[u8] = b"GET /articles/2024/how-to-benchmark?utm_source=newsletter&page=2 HTTP/1.1\r\n\
Host: www.example.com\r\n\
Connection: keep-alive\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Upgrade-Insecure-Requests: 1\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: navigate\r\n\
Sec-Fetch-Dest: document\r\n\
Referer: https://www.example.com/articles/2024\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-GB,en;q=0.9,fr;q=0.8\r\n\
Cookie: session=4f2a9c81d0e34b7a; theme=dark; _ga=GA1.1.123456789.1700000000\r\n\r\n";

/// A JSON POST with its body headers (the body itself is not part of the head).
pub const POST_HEAD: &[u8] = b"POST /api/v1/orders?dry_run=false HTTP/1.1\r\n\
Host: api.example.com\r\n\
User-Agent: python-requests/2.31.0\r\n\
Accept-Encoding: gzip, deflate\r\n\
Accept: application/json\r\n\
Connection: keep-alive\r\n\
Content-Type: application/json; charset=utf-8\r\n\
Content-Length: 4096\r\n\
Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl\r\n\
X-Request-Id: 9b2f6c1e-7d4a-4c2b-8e1f-0a5b3c7d9e11\r\n\r\n";

/// The three heads with their names, for benchmark groups.
pub const HEADS: [(&str, &[u8]); 3] = [
    ("curl", CURL_HEAD),
    ("browser", BROWSER_HEAD),
    ("post", POST_HEAD),
];

/// `body_len` bytes framed as `Transfer-Encoding: chunked` in chunks of `chunk_len`,
/// with the final chunk and an empty trailer.
pub fn chunked_body(body_len: usize, chunk_len: usize) -> Vec<u8> {
    let mut wire = Vec::with_capacity(body_len + body_len / chunk_len * 8 + 8);
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk_len);
        wire.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        wire.extend(std::iter::repeat_n(b'a', n));
        wire.extend_from_slice(b"\r\n");
        left -= n;
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

/// A hello app that sets three headers, like a typical small response.
pub fn hello_app(_: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-request-id",
        HeaderValue::from_static("9b2f6c1e-7d4a-4c2b"),
    );
    start_response.call(StatusCode::OK, headers)?;
    Ok(Body::from_bytes(Bytes::from_static(b"Hello, World!")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_spec::exchange::{run, MemoryOutput};
    use http::Method;
    use reference_server::http1::{parse_request_head, ChunkedDecoder, HeadLimits, Parsed};

    #[test]
    fn every_head_parses_whole_with_both_parsers() {
        for (name, head) in HEADS {
            let parsed = parse_request_head(head, &HeadLimits::default()).unwrap();
            assert!(
                matches!(parsed, Parsed::Complete { len, .. } if len == head.len()),
                "{name}"
            );
            let mut fields = [httparse::EMPTY_HEADER; 100];
            let status = httparse::Request::new(&mut fields).parse(head).unwrap();
            assert_eq!(status, httparse::Status::Complete(head.len()), "{name}");
        }
        assert!((600..800).contains(&BROWSER_HEAD.len()));
    }

    #[test]
    fn the_chunked_body_decodes_to_its_length() {
        let wire = chunked_body(64 * 1024, 4 * 1024);
        let mut decoder = ChunkedDecoder::new(Default::default());
        let (mut pos, mut data) = (0, 0);
        while !decoder.is_done() {
            let step = decoder.decode(&wire[pos..]).unwrap();
            data += step.data.len();
            pos += step.consumed;
        }
        assert_eq!((pos, data), (wire.len(), 64 * 1024));
    }

    #[test]
    fn the_hello_app_sends_its_head() {
        let environ = Environ::new(Method::GET, "/").unwrap();
        let (output, outcome) = run(&hello_app, environ, MemoryOutput::default());
        assert!(outcome.complete);
        assert_eq!(output.head.unwrap().0.status, StatusCode::OK);
    }
}
