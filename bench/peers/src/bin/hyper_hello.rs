//! `hyper-hello`: the benchmark routes on hyper 1.x over a multi-threaded tokio
//! runtime with 2 worker threads, HTTP/1.1 only, keep-alive on, TCP_NODELAY, and
//! `pipeline_flush` (one write for the responses of a batch of pipelined requests,
//! as hyper's docs advise for pipelining clients; no cost without them).
//!
//! `hyper-hello --bind 127.0.0.1:PORT` prints `listening on http://ADDR` once bound.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use peers::{bind_addr, HELLO, STREAM_CHUNK, STREAM_CHUNKS};

/// A response body: whole bytes of known length, or the 1 MiB stream of unknown
/// length (hyper frames it chunked).
enum BenchBody {
    Full(Option<Bytes>),
    Stream { left: usize },
}

impl Body for BenchBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.get_mut() {
            BenchBody::Full(bytes) => bytes.take().map(Frame::data),
            BenchBody::Stream { left: 0 } => None,
            BenchBody::Stream { left } => {
                *left -= 1;
                Some(Frame::data(Bytes::from_static(&STREAM_CHUNK)))
            }
        };
        Poll::Ready(frame.map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, BenchBody::Full(None) | BenchBody::Stream { left: 0 })
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            BenchBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            BenchBody::Stream { .. } => SizeHint::default(),
        }
    }
}

fn text(status: StatusCode, body: Bytes) -> Response<BenchBody> {
    let mut response = Response::new(BenchBody::Full(Some(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

async fn route(request: Request<Incoming>) -> Result<Response<BenchBody>, hyper::Error> {
    Ok(match (request.method(), request.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, Bytes::from_static(HELLO)),
        (&Method::POST, "/echo") => {
            let body = request.into_body().collect().await?.to_bytes();
            text(StatusCode::OK, body)
        }
        (&Method::GET, "/stream") => {
            let mut response = text(StatusCode::OK, Bytes::new());
            *response.body_mut() = BenchBody::Stream {
                left: STREAM_CHUNKS,
            };
            response
        }
        _ => text(StatusCode::NOT_FOUND, Bytes::from_static(b"Not Found")),
    })
}

async fn serve(addr: String) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            // A client that goes away mid-request is normal under load.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .pipeline_flush(true)
                .serve_connection(TokioIo::new(stream), service_fn(route))
                .await;
        });
    }
}

fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .build()?
        .block_on(serve(bind_addr()))
}
