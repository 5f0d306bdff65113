//! One server on several listening sockets at once: TCP and Unix-domain, each
//! serving the same app, and what the environ says of a Unix socket's client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{HeaderMap, StatusCode};
use reference_server::{BindAddr, BindOptions, ListenAddr, Server};

/// Answers with what the environ says of the client and the server.
fn who(environ: Environ, start: StartResponse) -> Result<Body, AppError> {
    start.call(StatusCode::OK, HeaderMap::new())?;
    Ok(Body::from(format!(
        "remote={:?} server={}:{}",
        environ.remote_addr, environ.server_name, environ.server_port
    )))
}

/// Sends one HTTP/1.0 request without Host and reads the whole response.
fn ask(mut stream: impl Read + Write) -> String {
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn tcp_and_unix_listeners_serve_the_same_app() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let addrs = [
        BindAddr::Tcp("127.0.0.1:0".into()),
        BindAddr::Unix(path.clone()),
        BindAddr::Tcp("127.0.0.1:0".into()),
    ];
    let server = Server::bind_all(&addrs, &BindOptions::default())
        .unwrap()
        .spawn(who)
        .unwrap();
    let listening = server.listen_addrs().to_vec();
    assert_eq!(listening.len(), 3);
    assert_eq!(listening[1], ListenAddr::Unix(Some(path.clone())));

    for addr in &listening {
        let response = match addr {
            ListenAddr::Tcp(addr) => {
                let stream = TcpStream::connect(addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let response = ask(stream);
                assert!(
                    response.contains(&format!("server=127.0.0.1:{}", addr.port())),
                    "{response}"
                );
                response
            }
            ListenAddr::Unix(_) => {
                let stream = UnixStream::connect(&path).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let response = ask(stream);
                // No address to report: no REMOTE_ADDR, the server's own name.
                assert!(
                    response.contains("remote=None server=localhost:80"),
                    "{response}"
                );
                response
            }
        };
        assert!(response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"));
    }
    assert_eq!(server.stop().aborted, 0);
    assert!(!path.exists(), "the server removes the socket file it made");
    assert!(UnixStream::connect(&path).is_err());
}

#[test]
fn a_second_server_on_a_live_unix_socket_is_refused_and_leaves_it_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let addr = [BindAddr::Unix(path.clone())];
    let first = Server::bind_all(&addr, &BindOptions::default())
        .unwrap()
        .spawn(who)
        .unwrap();
    let second = Server::bind_all(&addr, &BindOptions::default());
    let error = second.err().expect("the path is in use").to_string();
    assert!(error.contains("already in use"), "{error}");
    let stream = UnixStream::connect(&path).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert!(ask(stream).contains("remote=None"));
    assert_eq!(first.stop().aborted, 0);
}
