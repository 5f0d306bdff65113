//! Middleware that edits the status or headers of the app it wraps without a hand-written
//! sink ([`map_head`], [`StartResponse::map_head`]); it never touches the body.

use std::error::Error;
use std::io::{self, Write};
use std::sync::Arc;

use crate::start_response::{ResponseHead, StartResponseError, StartResponseSink};
use crate::{App, AppError, Body, Environ, StartResponse};

type HeadFn = dyn Fn(&mut ResponseHead) + Send + Sync;

/// The sink behind [`StartResponse::map_head`]: applies the function to every head,
/// the first one and any replacement with error information, and forwards writes.
struct MapHeadSink {
    inner: StartResponse,
    change: Arc<HeadFn>,
}

impl StartResponseSink for MapHeadSink {
    fn start(
        &self,
        mut head: ResponseHead,
        error: Option<&(dyn Error + 'static)>,
    ) -> Result<(), StartResponseError> {
        (self.change)(&mut head);
        self.inner.start(head, error).map(|_| ())
    }

    fn write(&self, data: &[u8]) -> io::Result<()> {
        self.inner.write_handle().write_all(data)
    }
}

impl StartResponse {
    /// A `start_response` that passes every head through `change` before this one
    /// sees it; writes are forwarded unchanged. The building block of
    /// [`map_head`], for middleware that also looks at the environ.
    ///
    /// ```
    /// use gateway_spec::testing::TestClient;
    /// use gateway_spec::{AppError, Body, Environ, StartResponse};
    /// use http::{HeaderValue, StatusCode};
    ///
    /// let app = |environ: Environ, start_response: StartResponse| -> Result<Body, AppError> {
    ///     let secure = environ.url_scheme == gateway_spec::Scheme::Https;
    ///     let start_response = start_response.map_head(move |head| {
    ///         if secure {
    ///             head.headers.insert("strict-transport-security", HeaderValue::from_static("max-age=600"));
    ///         }
    ///     });
    ///     Ok(start_response.text(StatusCode::OK, "hi")?)
    /// };
    /// let client = TestClient::new(app);
    /// assert!(client.get("/").https().send().headers.contains_key("strict-transport-security"));
    /// assert!(!client.get("/").send().headers.contains_key("strict-transport-security"));
    /// ```
    pub fn map_head(
        &self,
        change: impl Fn(&mut ResponseHead) + Send + Sync + 'static,
    ) -> StartResponse {
        StartResponse::new(Arc::new(MapHeadSink {
            inner: self.clone(),
            change: Arc::new(change),
        }))
    }
}

/// The app returned by [`map_head`].
pub struct MapHead<A> {
    app: A,
    change: Arc<HeadFn>,
}

/// Wraps `app` so that `change` edits the status and headers of each of its
/// responses (Rack's three-line middleware). `change` runs for every call of
/// `start_response`, including a replacement with error information.
///
/// ```
/// use gateway_spec::map_head::map_head;
/// use gateway_spec::testing::TestClient;
/// use gateway_spec::{AppError, Body, Environ, StartResponse};
/// use http::{HeaderValue, StatusCode};
///
/// let hello = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
///     Ok(start_response.text(StatusCode::OK, "hi")?)
/// };
/// let app = map_head(hello, |head| {
///     head.headers.insert("x-powered-by", HeaderValue::from_static("gateway"));
/// });
/// let response = TestClient::new(app).get("/").send();
/// assert_eq!(response.headers["x-powered-by"], "gateway");
/// assert_eq!(response.body, "hi");
/// ```
pub fn map_head<A: App>(
    app: A,
    change: impl Fn(&mut ResponseHead) + Send + Sync + 'static,
) -> MapHead<A> {
    MapHead {
        app,
        change: Arc::new(change),
    }
}

impl<A: App> App for MapHead<A> {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        let change = Arc::clone(&self.change);
        let wrapped = StartResponse::new(Arc::new(MapHeadSink {
            inner: start_response,
            change,
        }));
        self.app.call(environ, wrapped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestClient;
    use http::StatusCode;

    #[test]
    fn the_status_can_be_changed_and_writes_are_forwarded() {
        let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
            let mut write =
                start_response.respond(StatusCode::OK, [("content-type", "text/plain")])?;
            write.write_all(b"pushed ")?;
            Ok(Body::from("returned"))
        };
        let app = map_head(app, |head| head.status = StatusCode::ACCEPTED);
        let response = TestClient::new(app).get("/").send();
        assert_eq!(response.outcome.failure, None);
        assert_eq!(response.status, StatusCode::ACCEPTED);
        assert_eq!(response.body, "pushed returned");
    }

    #[test]
    fn a_replacement_head_with_error_information_is_changed_too() {
        let app = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
            start_response.respond(StatusCode::OK, ())?;
            let error = io::Error::other("late failure");
            start_response.call_with_error(
                StatusCode::BAD_GATEWAY,
                http::HeaderMap::new(),
                &error,
            )?;
            Ok(Body::from("replaced"))
        };
        let app = map_head(app, |head| {
            head.headers
                .insert("x-seen", http::HeaderValue::from_static("1"));
        });
        let response = TestClient::new(app).get("/").send();
        assert_eq!(response.outcome.failure, None);
        assert_eq!(response.status, StatusCode::BAD_GATEWAY);
        assert_eq!(response.headers["x-seen"], "1");
    }
}
