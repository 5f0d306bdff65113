//! Criterion micro-benchmarks of the reference server's hot paths (`cargo bench` in
//! `bench/micro`):
//!
//! - `head_parse/{curl,browser,post}/{strict,httparse}`: the strict wrapper
//!   `reference_server::http1::parse_request_head` against plain `httparse` (100
//!   header slots, the server's default limit) on the same bytes. The wrapper also
//!   checks line endings, limits, target forms and the framing fields, and records
//!   where each field lies (it copies none), so the difference is the price of
//!   strictness.
//! - `chunked_decode/64KiB_in_4KiB_chunks`: `ChunkedDecoder` over a whole body.
//! - `response_head/encode`: `reference_server::http1::encode_response_head` on the
//!   hello app's head, with Date and Server.
//! - `response_head/run_hello_app`: a hello app through `gateway_spec::exchange::run`
//!   into a `MemoryOutput`: `start_response`, header checks and the framing plan,
//!   without the bytes of the status line. It is the per-request cost of the
//!   exchange around the encoding, not the encoding itself.
//! - `environ/new_plus_headers`: what the worker does with a parsed head: one copy
//!   of its bytes, the header map whose values share it, and the environ.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gateway_spec::exchange::{run, MemoryOutput};
use gateway_spec::Environ;
use http::Method;
use http::Version;
use micro::{chunked_body, hello_app, BROWSER_HEAD, HEADS};
use reference_server::http1::{
    encode_response_head, parse_request_head, ChunkedDecoder, DefaultHeaders, HeadLimits, Parsed,
};

fn head_parse(c: &mut Criterion) {
    let limits = HeadLimits::default();
    let mut group = c.benchmark_group("head_parse");
    for (name, head) in HEADS {
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_with_input(BenchmarkId::new("strict", name), head, |b, head| {
            b.iter(|| match parse_request_head(black_box(head), &limits) {
                Ok(Parsed::Complete { head, len }) => black_box((head, len)),
                other => panic!("{other:?}"),
            })
        });
        group.bench_with_input(BenchmarkId::new("httparse", name), head, |b, head| {
            b.iter(|| {
                let mut fields = [httparse::EMPTY_HEADER; 100];
                let mut request = httparse::Request::new(&mut fields);
                let status = request.parse(black_box(head)).expect("a valid head");
                black_box((status, request.method, request.path, request.headers.len()));
            })
        });
    }
    group.finish();
}

fn chunked_decode(c: &mut Criterion) {
    let wire = chunked_body(64 * 1024, 4 * 1024);
    let mut group = c.benchmark_group("chunked_decode");
    group.throughput(Throughput::Bytes(64 * 1024));
    group.bench_function("64KiB_in_4KiB_chunks", |b| {
        b.iter(|| {
            let mut decoder = ChunkedDecoder::new(Default::default());
            let (mut pos, mut data) = (0, 0);
            while !decoder.is_done() {
                let step = decoder.decode(black_box(&wire[pos..])).expect("valid");
                data += step.data.len();
                pos += step.consumed;
            }
            black_box(data)
        })
    });
    group.finish();
}

fn response_head_encode(c: &mut Criterion) {
    // The hello app's head as the framing plan leaves it, with Date and Server.
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", http::HeaderValue::from_static("text/plain"));
    headers.insert("content-length", http::HeaderValue::from_static("13"));
    let head = gateway_spec::ResponseHead::new(http::StatusCode::OK, headers);
    let mut out = Vec::with_capacity(512);
    c.bench_function("response_head/encode", |b| {
        b.iter(|| {
            out.clear();
            let defaults = DefaultHeaders {
                date: Some(b"Fri, 27 Nov 2026 01:20:00 GMT"),
                server: Some(b"gateway-reference/0.1.0"),
            };
            encode_response_head(&mut out, Version::HTTP_11, black_box(&head), defaults);
            black_box(out.len())
        })
    });
}

fn response_head(c: &mut Criterion) {
    c.bench_function("response_head/run_hello_app", |b| {
        b.iter_batched(
            || Environ::new(Method::GET, "/").expect("a valid target"),
            |environ| black_box(run(&hello_app, environ, MemoryOutput::default())),
            criterion::BatchSize::SmallInput,
        )
    });
}

fn environ(c: &mut Criterion) {
    // What the worker does with a parsed head: one copy of the head bytes, the
    // header map whose values share it, and the environ.
    let Ok(Parsed::Complete { head, len }) =
        parse_request_head(BROWSER_HEAD, &HeadLimits::default())
    else {
        panic!("the browser head parses");
    };
    c.bench_function("environ/new_plus_headers", |b| {
        b.iter(|| {
            let bytes = Bytes::copy_from_slice(&black_box(BROWSER_HEAD)[..len]);
            let mut environ = Environ::new(Method::GET, head.target(&bytes)).expect("valid");
            environ.headers = head.header_map(&bytes);
            environ.set_server_from_host("www.example.com");
            black_box(environ)
        })
    });
}

criterion_group!(
    benches,
    head_parse,
    chunked_decode,
    response_head_encode,
    response_head,
    environ
);
criterion_main!(benches);
