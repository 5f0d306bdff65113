//! An in-process test client: builds a well-formed [`Environ`], calls an app through
//! the same [`exchange::run`](crate::exchange::run) a server uses, and returns what a
//! server would send. It does not touch sockets or encode bytes.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, Method, StatusCode, Version};

use std::io;

use crate::client_error::BodyError;
use crate::exchange::{run, MemoryOutput, Outcome};
use crate::framing::Framing;
use crate::{App, Environ, ErrorStream, Input, Scheme};

/// Calls an app in-process, as a server would.
///
/// ```
/// use gateway_spec::testing::TestClient;
/// use gateway_spec::{Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
///
/// let client = TestClient::new(|environ: Environ, start: StartResponse| {
///     start.call(StatusCode::OK, HeaderMap::new())?;
///     Ok(Body::from(environ.var("HTTP_X_NAME").unwrap_or_default().into_owned()))
/// });
/// let response = client.get("/").header("x-name", "Ada").send();
/// assert_eq!(response.body, "Ada");
/// // The exchange catches the app's panics and errors: check that it saw none.
/// assert_eq!(response.outcome.failure, None);
/// ```
pub struct TestClient<A> {
    app: A,
}

impl<A: App> TestClient<A> {
    /// A client for `app`.
    pub fn new(app: A) -> Self {
        Self { app }
    }

    /// The app under test.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// A request with `method` and a raw request-target (`/path?query`).
    pub fn request(&self, method: Method, target: &str) -> TestRequest<'_, A> {
        TestRequest {
            client: self,
            method,
            target: target.to_owned(),
            version: Version::HTTP_11,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            body_error: None,
            chunked: false,
            remote_addr: None,
            scheme: Scheme::Http,
        }
    }

    /// A GET request.
    pub fn get(&self, target: &str) -> TestRequest<'_, A> {
        self.request(Method::GET, target)
    }

    /// A HEAD request.
    pub fn head(&self, target: &str) -> TestRequest<'_, A> {
        self.request(Method::HEAD, target)
    }

    /// A POST request.
    pub fn post(&self, target: &str) -> TestRequest<'_, A> {
        self.request(Method::POST, target)
    }

    /// A PUT request.
    pub fn put(&self, target: &str) -> TestRequest<'_, A> {
        self.request(Method::PUT, target)
    }

    /// A DELETE request.
    pub fn delete(&self, target: &str) -> TestRequest<'_, A> {
        self.request(Method::DELETE, target)
    }
}

/// A request being built; [`TestRequest::send`] runs it.
pub struct TestRequest<'a, A> {
    client: &'a TestClient<A>,
    method: Method,
    target: String,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
    body_error: Option<BodyError>,
    chunked: bool,
    remote_addr: Option<SocketAddr>,
    scheme: Scheme,
}

/// A reader whose every read fails with the same client fault.
struct Failing(BodyError);

impl io::Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self.0.clone().into())
    }
}

impl<A: App> TestRequest<'_, A> {
    /// Adds a request header.
    ///
    /// # Panics
    ///
    /// When the name or value is not valid in HTTP: a test's own mistake.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("invalid test header name {name:?}: {e}"));
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|e| panic!("invalid test header value {value:?}: {e}"));
        self.headers.append(name, value);
        self
    }

    /// Sets the request body; it is sent with a Content-Length unless
    /// [`TestRequest::chunked`] is used.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Makes the input fail with `error` once the body set by [`TestRequest::body`]
    /// was read, as a server's reader fails when the client breaks the framing, cuts
    /// the body short, sends too slowly or sends too much. The exchange then answers
    /// as SPEC.md's FAIL-10 says.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{Body, BodyError, ClientFault, Environ, StartResponse};
    /// use http::{HeaderMap, StatusCode};
    ///
    /// let client = TestClient::new(|mut environ: Environ, start: StartResponse| {
    ///     let mut body = Vec::new();
    ///     environ.input.read_to_end(&mut body)?; // fails: the app propagates it
    ///     start.call(StatusCode::OK, HeaderMap::new())?;
    ///     Ok(Body::from(body))
    /// });
    /// let bad_size = BodyError::new(ClientFault::Malformed, "chunk size must be hexadecimal digits");
    /// let response = client.post("/").chunked().body("abc").body_then_error(bad_size).send();
    /// assert_eq!(response.status, StatusCode::BAD_REQUEST);
    /// assert_eq!(response.headers["connection"], "close");
    /// ```
    pub fn body_then_error(mut self, error: BodyError) -> Self {
        self.body_error = Some(error);
        self
    }

    /// Sends the body as a chunked one: no `CONTENT_LENGTH`, the input still ends at
    /// the end of the body.
    pub fn chunked(mut self) -> Self {
        self.chunked = true;
        self
    }

    /// Sets the HTTP version (HTTP/1.1 by default).
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Sets the client's address (`REMOTE_ADDR`, `REMOTE_PORT`); none by default.
    pub fn remote_addr(mut self, addr: SocketAddr) -> Self {
        self.remote_addr = Some(addr);
        self
    }

    /// Marks the request as received over HTTPS.
    pub fn https(mut self) -> Self {
        self.scheme = Scheme::Https;
        self
    }

    /// The environ a conforming server would build for this request.
    ///
    /// # Panics
    ///
    /// When the request-target is not one a server accepts.
    pub fn environ(self) -> (Environ, crate::error_stream::Captured) {
        let mut environ = Environ::new(self.method, &self.target)
            .unwrap_or_else(|e| panic!("invalid test request-target {:?}: {e}", self.target));
        environ.version = self.version;
        environ.url_scheme = self.scheme;
        environ.remote_addr = self.remote_addr;
        environ.headers = self.headers;
        if !environ.headers.contains_key(HOST) && self.version == Version::HTTP_11 {
            environ
                .headers
                .insert(HOST, HeaderValue::from_static("localhost"));
        }
        if let Some(host) = environ.headers.get(HOST).and_then(|h| h.to_str().ok()) {
            let host = host.to_owned();
            environ.set_server_from_host(&host);
        }
        if self.chunked {
            environ
                .headers
                .insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        } else if !self.body.is_empty() || environ.headers.contains_key(CONTENT_LENGTH) {
            let len = self.body.len() as u64;
            environ
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(len));
            environ.content_length = Some(len);
        }
        environ.input = match self.body_error {
            None => Input::from_bytes(self.body),
            Some(error) => {
                let then_fail = io::BufReader::new(Failing(error));
                Input::new(io::Read::chain(io::Cursor::new(self.body), then_fail))
            }
        };
        let (errors, captured) = ErrorStream::capture();
        environ.errors = errors;
        (environ, captured)
    }

    /// Calls the app and returns the response a server would send.
    pub fn send(self) -> TestResponse {
        let client = self.client;
        let (environ, captured) = self.environ();
        let (output, outcome) = run(&client.app, environ, MemoryOutput::default());
        TestResponse::from_output(output, outcome, captured.contents())
    }
}

/// The response to a test request, as a server would send it (body de-chunked).
#[derive(Debug)]
pub struct TestResponse {
    /// The status sent.
    pub status: StatusCode,
    /// The reason phrase sent.
    pub reason: String,
    /// The headers sent, including those the server adds for framing
    /// (`Content-Length`, `Transfer-Encoding: chunked`, `Connection: close`).
    pub headers: HeaderMap,
    /// The body bytes on the wire, after de-chunking; empty for HEAD, 204 and 304.
    pub body: Bytes,
    /// The framing chosen.
    pub framing: Framing,
    /// How the exchange ended (complete, aborted, failure).
    pub outcome: Outcome,
    /// What the app wrote to its errors stream.
    pub errors: String,
}

impl TestResponse {
    fn from_output(output: MemoryOutput, outcome: Outcome, errors: String) -> Self {
        let body = output.body_bytes();
        let close = output.close;
        let (head, framing) = output
            .head
            .expect("the exchange always sends a head: the app's, a 500 or a client error");
        let mut headers = head.headers.clone();
        if framing == Framing::Chunked {
            headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        }
        if close || framing == Framing::CloseDelimited {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Self {
            status: head.status,
            reason: head.reason_phrase().to_owned(),
            headers,
            body,
            framing,
            outcome,
            errors,
        }
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response went out whole, so that a real connection could carry
    /// another request.
    pub fn is_complete(&self) -> bool {
        self.outcome.complete
    }

    /// The response as an `http::Response`.
    pub fn into_http(self) -> http::Response<Bytes> {
        let mut response = http::Response::new(self.body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}
