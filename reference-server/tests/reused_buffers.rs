//! The per-connection space a keep-alive request reuses (the copy of its head that
//! header values share, its body's state) never changes what an app kept of an
//! earlier request, whatever it keeps and however the requests arrive.

mod support;

use std::io::Read;
use std::sync::{Arc, Mutex};

use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use support::{connect, start, Reader};

/// Keeps every request's headers, and the whole environ of each `/keep` request,
/// after answering it; `/echo` answers with the body it read.
#[derive(Clone, Default)]
struct KeepingApp {
    headers: Arc<Mutex<Vec<HeaderMap>>>,
    environs: Arc<Mutex<Vec<Environ>>>,
}

impl gateway_spec::App for KeepingApp {
    fn call(&self, mut environ: Environ, start: StartResponse) -> Result<Body, AppError> {
        let mut body = Vec::new();
        environ.input.read_to_end(&mut body)?;
        self.headers.lock().unwrap().push(environ.headers.clone());
        start.call(StatusCode::OK, HeaderMap::new())?;
        if environ.path_info == b"/keep" {
            self.environs.lock().unwrap().push(environ);
        }
        Ok(Body::from(body))
    }
}

/// A request with an `X-Id` of `id` and a `X-Pad` whose length changes with it, so
/// that heads grow past the space kept for them and shrink again.
fn request(id: usize, path: &str, body: &str) -> Vec<u8> {
    let pad = "p".repeat((id * 97) % 1500);
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nX-Id: {id}\r\nX-Pad: {pad}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn body_of(id: usize) -> String {
    format!("body {id} ").repeat(id % 7 + 1)
}

#[test]
fn what_an_app_keeps_of_a_request_survives_the_next_ones() {
    let app = KeepingApp::default();
    let server = start(app.clone());
    let mut client = Reader::new(connect(server.local_addr()));
    const ONE_BY_ONE: usize = 40;
    const PIPELINED: usize = 40;
    let mut answers = Vec::new();
    for id in 0..ONE_BY_ONE {
        let path = if id % 3 == 0 { "/keep" } else { "/echo" };
        client.send(&request(id, path, &body_of(id)));
        answers.push(client.response("POST").expect("an answer"));
    }
    // Then a batch in one write: each head is copied while the previous
    // request's values may still be alive.
    let batch: Vec<u8> = (ONE_BY_ONE..ONE_BY_ONE + PIPELINED)
        .flat_map(|id| {
            request(
                id,
                if id % 2 == 0 { "/keep" } else { "/echo" },
                &body_of(id),
            )
        })
        .collect();
    client.send(&batch);
    for _ in 0..PIPELINED {
        answers.push(client.response("POST").expect("an answer"));
    }
    server.stop();

    for (id, answer) in answers.iter().enumerate() {
        assert_eq!(answer.status, 200, "request {id}");
        assert_eq!(answer.text(), body_of(id), "the body of request {id}");
    }
    let kept = app.headers.lock().unwrap();
    assert_eq!(kept.len(), ONE_BY_ONE + PIPELINED);
    for (id, headers) in kept.iter().enumerate() {
        assert_eq!(headers["x-id"], id.to_string().as_str(), "request {id}");
        assert_eq!(headers["x-pad"].len(), (id * 97) % 1500, "request {id}");
        assert_eq!(headers["host"], "localhost");
    }
    let environs = app.environs.lock().unwrap();
    assert_eq!(environs.len(), ONE_BY_ONE.div_ceil(3) + PIPELINED / 2);
    for environ in environs.iter() {
        let id: usize = environ.headers["x-id"].to_str().unwrap().parse().unwrap();
        assert_eq!(environ.path_info, b"/keep");
        assert_eq!(environ.content_length, Some(body_of(id).len() as u64));
        assert_eq!(environ.server_name, "localhost");
    }
}
