//! The application side of the contract: the [`App`] trait, implemented for closures,
//! so middleware is simply an `App` that wraps an `App`.

use std::sync::Arc;

use crate::{Body, Environ, StartResponse};

/// An error an app returns; the server answers 500, or aborts the response if the
/// headers already went out (FAIL-1, FAIL-4).
pub type AppError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A web application: called once per request with the [`Environ`] and a
/// [`StartResponse`], it returns the response [`Body`] (APP-1).
///
/// Servers call it from many threads at once, hence `Send + Sync` (APP-2). Any
/// `Fn(Environ, StartResponse) -> Result<Body, AppError>` closure is an `App`.
///
/// ```
/// use gateway_spec::{App, AppError, Body, Environ, StartResponse};
/// use http::{HeaderMap, StatusCode};
///
/// /// Middleware: adds a header to every response of the app it wraps.
/// struct PoweredBy<A>(A);
///
/// impl<A: App> App for PoweredBy<A> {
///     fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
///         let inner = start_response.clone();
///         let wrapped = StartResponse::new(std::sync::Arc::new(AddHeader(inner)));
///         self.0.call(environ, wrapped)
///     }
/// }
///
/// struct AddHeader(StartResponse);
/// impl gateway_spec::StartResponseSink for AddHeader {
///     fn start(
///         &self,
///         mut head: gateway_spec::ResponseHead,
///         error: Option<&(dyn std::error::Error + 'static)>,
///     ) -> Result<(), gateway_spec::StartResponseError> {
///         head.headers.insert("x-powered-by", "gateway".parse().unwrap());
///         self.0.start(head, error).map(|_| ())
///     }
///     fn write(&self, data: &[u8]) -> std::io::Result<()> {
///         use std::io::Write;
///         self.0.write_handle().write_all(data)
///     }
/// }
///
/// let hello = |_: Environ, start: StartResponse| {
///     start.call(StatusCode::OK, HeaderMap::new())?;
///     Ok(Body::from("hi"))
/// };
/// let response = gateway_spec::testing::TestClient::new(PoweredBy(hello)).get("/").send();
/// assert_eq!(response.headers["x-powered-by"], "gateway");
/// ```
pub trait App: Send + Sync + 'static {
    /// Handles one request.
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError>;
}

impl<F> App for F
where
    F: Fn(Environ, StartResponse) -> Result<Body, AppError> + Send + Sync + 'static,
{
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        self(environ, start_response)
    }
}

impl<A: App + ?Sized> App for Arc<A> {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        (**self).call(environ, start_response)
    }
}

/// A boxed app, so that a program can choose its app at run time.
impl App for Box<dyn App> {
    fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
        (**self).call(environ, start_response)
    }
}
