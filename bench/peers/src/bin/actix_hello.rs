//! `actix-hello`: the benchmark routes on actix-web 4, configured as its docs
//! recommend for a benchmark: one worker per core (2 here), keep-alive on.
//!
//! `actix-hello --bind 127.0.0.1:PORT` prints `listening on http://ADDR` once bound.
//! actix-web sets TCP_NODELAY on every accepted connection itself, and it answers
//! pipelined requests in one write per batch already.

use actix_web::http::header::ContentType;
use actix_web::web::{self, Bytes, PayloadConfig};
use actix_web::{App, HttpResponse, HttpServer};
use peers::{bind_addr, HELLO, STREAM_CHUNK, STREAM_CHUNKS};

/// The largest echo body the routes take (the 1 MiB echo, with room).
const ECHO_LIMIT: usize = 4 << 20;

async fn hello() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(HELLO)
}

async fn echo(body: Bytes) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(body)
}

async fn stream() -> HttpResponse {
    let chunks = futures_util::stream::iter(
        (0..STREAM_CHUNKS)
            .map(|_| Ok::<_, std::convert::Infallible>(Bytes::from_static(&STREAM_CHUNK))),
    );
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .streaming(chunks)
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type(ContentType::plaintext())
        .body("Not Found")
}

fn main() -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async {
        let server = HttpServer::new(|| {
            App::new()
                .app_data(PayloadConfig::new(ECHO_LIMIT))
                .route("/", web::get().to(hello))
                .route("/echo", web::post().to(echo))
                .route("/stream", web::get().to(stream))
                .default_service(web::to(not_found))
        })
        .workers(2)
        .bind(bind_addr())?;
        for addr in server.addrs() {
            println!("listening on http://{addr}");
        }
        server.run().await
    })
}
