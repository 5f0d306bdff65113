//! Interop with the `http` crate: an [`Environ`] from an `http::Request` whose body
//! is `Read`. (The other direction is [`TestResponse::into_http`](crate::testing::TestResponse::into_http).)

use std::io::{BufReader, Read};

use http::header::{CONTENT_LENGTH, HOST};

use crate::start_response::parse_digits;
use crate::target::TargetError;
use crate::{Environ, Input};

impl Environ {
    /// Builds the environ of `request`, whose body reader must end exactly at the end
    /// of the body (INPUT-1). Host, or the URI's authority, sets `SERVER_NAME` and
    /// `SERVER_PORT`; a valid Content-Length sets `CONTENT_LENGTH`.
    ///
    /// ```
    /// use std::io::Read;
    /// use gateway_spec::Environ;
    ///
    /// let request = http::Request::post("http://example.test:8080/upload?x=1")
    ///     .header("content-length", "5")
    ///     .body(std::io::Cursor::new(b"hello".to_vec()))
    ///     .unwrap();
    /// let mut environ = Environ::from_request(request).unwrap();
    /// assert_eq!(environ.path_info, b"/upload");
    /// assert_eq!(environ.query_string, "x=1");
    /// assert_eq!((environ.server_name.as_str(), environ.server_port), ("example.test", 8080));
    /// assert_eq!(environ.content_length, Some(5));
    /// let mut body = String::new();
    /// environ.input.read_to_string(&mut body).unwrap();
    /// assert_eq!(body, "hello");
    /// ```
    pub fn from_request<R>(request: http::Request<R>) -> Result<Self, TargetError>
    where
        R: Read + Send + 'static,
    {
        let (parts, body) = request.into_parts();
        let mut environ = Environ::new(parts.method, &parts.uri.to_string())?;
        environ.version = parts.version;
        environ.headers = parts.headers;
        environ.extensions = parts.extensions;
        if parts.uri.authority().is_none() {
            if let Some(host) = environ.headers.get(HOST).and_then(|h| h.to_str().ok()) {
                let host = host.to_owned();
                environ.set_server_from_host(&host);
            }
        }
        environ.content_length = environ
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| parse_digits(v.as_bytes()));
        environ.input = Input::new(BufReader::new(body));
        Ok(environ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_sets_server_for_origin_form() {
        let request = http::Request::get("/x")
            .header("host", "api.example.test:81")
            .body(std::io::empty())
            .unwrap();
        let environ = Environ::from_request(request).unwrap();
        assert_eq!(environ.server_name, "api.example.test");
        assert_eq!(environ.server_port, 81);
        assert_eq!(environ.content_length, None);
    }

    #[test]
    fn invalid_content_length_is_not_trusted() {
        let request = http::Request::post("/x")
            .header("content-length", "+5")
            .body(std::io::empty())
            .unwrap();
        assert_eq!(Environ::from_request(request).unwrap().content_length, None);
    }
}
