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
/// Middleware is an `App` that wraps an `App`. One that only edits the status or
/// headers is [`map_head`](crate::map_head::map_head); one that needs more holds the
/// inner app and wraps the `start_response` it passes on:
///
/// ```
/// use gateway_spec::{App, AppError, Body, Environ, StartResponse};
/// use http::{HeaderValue, StatusCode};
///
/// /// Middleware: adds a header to every response of the app it wraps.
/// struct PoweredBy<A>(A);
///
/// impl<A: App> App for PoweredBy<A> {
///     fn call(&self, environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
///         let start_response = start_response.map_head(|head| {
///             head.headers.insert("x-powered-by", HeaderValue::from_static("gateway"));
///         });
///         self.0.call(environ, start_response)
///     }
/// }
///
/// let hello = |_: Environ, start_response: StartResponse| -> Result<Body, AppError> {
///     Ok(start_response.text(StatusCode::OK, "hi")?)
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
