//! The kit demo's app: a small JSON API under `/api` and a static folder under
//! `/static`, in one [`Mount`]. No storage: the items are a fixed list.

use std::path::Path;

use gateway_kit::{Files, FilesError, Mount};
use gateway_spec::{AppError, Body, Environ, StartResponse};
use http::{Method, StatusCode};
use serde_json::json;

/// The largest form body `/api/echo` reads.
pub const MAX_FORM: u64 = 16 * 1024;

const ITEMS: [(u32, &str); 3] = [(1, "kettle"), (2, "teapot"), (3, "cup")];

/// The whole demo: the API at `/api`, `static_dir` at `/static`, and `/` sending
/// browsers to the static index.
pub fn app(static_dir: &Path) -> Result<Mount, FilesError> {
    Ok(Mount::new()
        .at("/api", api)
        .at("/static", Files::new(static_dir)?)
        .at("/", home))
}

fn home(environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    if environ.path_info != b"/" {
        return json_error(&start_response, StatusCode::NOT_FOUND, "no such page");
    }
    let location = format!("{}static/", environ.application_uri());
    Ok(start_response.redirect(StatusCode::FOUND, &location)?)
}

/// `GET /hello?name=…`, `GET /items`, `GET /items/<id>` and `POST /echo` (a form).
pub fn api(mut environ: Environ, start_response: StartResponse) -> Result<Body, AppError> {
    let method = environ.method.clone();
    let segment = environ.shift_path_info();
    match (method, segment.as_deref(), environ.path_info.as_slice()) {
        (Method::GET, Some(b"hello"), b"") => {
            let name = environ
                .query_value("name")
                .unwrap_or_else(|| "World".into());
            json_ok(
                &start_response,
                &json!({ "greeting": format!("Hello, {name}!") }),
            )
        }
        (Method::GET, Some(b"items"), b"" | b"/") => {
            let items: Vec<_> = ITEMS
                .iter()
                .map(|(id, name)| json!({ "id": id, "name": name }))
                .collect();
            json_ok(&start_response, &json!(items))
        }
        (Method::GET, Some(b"items"), _) => {
            let id = environ.shift_path_info();
            let found = id
                .as_deref()
                .and_then(|id| std::str::from_utf8(id).ok())
                .and_then(|id| id.parse::<u32>().ok())
                .and_then(|id| ITEMS.iter().find(|(item, _)| *item == id));
            match (found, environ.path_info.as_slice()) {
                (Some((id, name)), b"") => {
                    json_ok(&start_response, &json!({ "id": id, "name": name }))
                }
                _ => json_error(&start_response, StatusCode::NOT_FOUND, "no such item"),
            }
        }
        (Method::POST, Some(b"echo"), b"") => match environ.read_form(MAX_FORM) {
            Ok(pairs) => {
                let fields: serde_json::Map<_, _> = pairs
                    .into_iter()
                    .map(|(name, value)| (name, serde_json::Value::String(value)))
                    .collect();
                json_ok(&start_response, &serde_json::Value::Object(fields))
            }
            Err(e @ gateway_spec::form::FormError::Read(_)) => Err(e.into()),
            Err(e) => json_error(&start_response, StatusCode::BAD_REQUEST, &e.to_string()),
        },
        _ => json_error(&start_response, StatusCode::NOT_FOUND, "no such endpoint"),
    }
}

fn json_ok(start_response: &StartResponse, value: &serde_json::Value) -> Result<Body, AppError> {
    Ok(start_response.json(StatusCode::OK, serde_json::to_vec(value)?)?)
}

fn json_error(
    start_response: &StartResponse,
    status: StatusCode,
    message: &str,
) -> Result<Body, AppError> {
    let body = serde_json::to_vec(&json!({ "error": message }))?;
    Ok(start_response.json(status, body)?)
}
