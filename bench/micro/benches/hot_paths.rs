//! Criterion micro-benchmarks of the reference server's hot paths (`cargo bench` in
//! `bench/micro`):
//!
//! - `head_parse/{curl,browser,post}/{strict,httparse}`: the strict wrapper
//!   `reference_server::http1::parse_request_head` against plain `httparse` (100
//!   header slots, the server's default limit) on the same bytes. The wrapper also
//!   validates and copies into an `http::HeaderMap`, so the difference is the price
//!   of strictness and ownership.
//! - `chunked_decode/64KiB_in_4KiB_chunks`: `ChunkedDecoder` over a whole body.
//! - `response_head/run_hello_app`: the response head is encoded by a crate-private
//!   function of reference-server, so this drives a hello app through
//!   `gateway_spec::server::run` into a `MemoryOutput`: `start_response`, header
//!   checks and the framing plan, without the bytes of the status line. It is the
//!   per-request cost of the exchange around the encoding, not the encoding itself.
//! - `environ/new_plus_headers`: `gateway_spec::Environ::new` plus the headers of
//!   the browser head, as the server builds each request's environ.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gateway_spec::server::{run, MemoryOutput};
use gateway_spec::Environ;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use micro::{chunked_body, hello_app, BROWSER_HEAD, HEADS};
use reference_server::http1::{parse_request_head, ChunkedDecoder, HeadLimits, Parsed};

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
    // The browser head's fields, as the parser hands them over.
    let mut fields = [httparse::EMPTY_HEADER; 100];
    let mut request = httparse::Request::new(&mut fields);
    request.parse(BROWSER_HEAD).expect("a valid head");
    let target = request.path.expect("a target").to_owned();
    let raw: Vec<(Vec<u8>, Vec<u8>)> = request
        .headers
        .iter()
        .map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec()))
        .collect();
    c.bench_function("environ/new_plus_headers", |b| {
        b.iter(|| {
            let mut environ = Environ::new(Method::GET, black_box(&target)).expect("valid");
            let mut headers = HeaderMap::with_capacity(raw.len());
            for (name, value) in &raw {
                headers.append(
                    HeaderName::from_bytes(name).expect("a valid name"),
                    HeaderValue::from_bytes(value).expect("a valid value"),
                );
            }
            environ.headers = headers;
            environ.set_server_from_host("www.example.com");
            black_box(environ)
        })
    });
}

criterion_group!(benches, head_parse, chunked_decode, response_head, environ);
criterion_main!(benches);
