//! `Mount` against SPEC's URL rules (URL-4, ENV-4..7, SRV-9): whole-segment
//! prefixes, `%2F`, empty remainders, the longest prefix, and 404 outside.

use std::sync::{Arc, Mutex};

use gateway_kit::Mount;
use gateway_spec::testing::TestClient;
use gateway_spec::validate::Validator;
use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::StatusCode;

/// What a mounted app saw: its name, SCRIPT_NAME and PATH_INFO octets.
type Seen = Arc<Mutex<Vec<(&'static str, Vec<u8>, Vec<u8>)>>>;

fn recorder(name: &'static str, seen: &Seen) -> impl App {
    let seen = Arc::clone(seen);
    move |environ: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        let entry = (name, environ.script_name.clone(), environ.path_info.clone());
        seen.lock().unwrap().push(entry);
        Ok(start_response.text(StatusCode::OK, name)?)
    }
}

fn mount(seen: &Seen) -> Mount {
    Mount::new()
        .at("/api", recorder("api", seen))
        .at("/api/v2", recorder("v2", seen))
        .at("/static/", recorder("static", seen))
}

/// Sends `target` and returns the status and what the app saw, if it was called.
fn route(target: &str) -> (StatusCode, Option<(&'static str, String, String)>) {
    let seen = Seen::default();
    let response = TestClient::new(mount(&seen)).get(target).send();
    assert_eq!(response.outcome.failure, None, "{target}");
    let seen = seen.lock().unwrap().pop().map(|(name, script, path)| {
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (name, text(script), text(path))
    });
    (response.status, seen)
}

fn routed(name: &'static str, script: &str, path: &str) -> Option<(&'static str, String, String)> {
    Some((name, script.to_owned(), path.to_owned()))
}

#[test]
fn a_prefix_moves_from_path_info_to_script_name() {
    assert_eq!(
        route("/api/items"),
        (StatusCode::OK, routed("api", "/api", "/items"))
    );
    assert_eq!(
        route("/api/items/"),
        (StatusCode::OK, routed("api", "/api", "/items/"))
    );
}

#[test]
fn an_exact_match_leaves_path_info_empty_and_a_trailing_slash_keeps_it() {
    assert_eq!(route("/api"), (StatusCode::OK, routed("api", "/api", "")));
    assert_eq!(route("/api/"), (StatusCode::OK, routed("api", "/api", "/")));
    assert_eq!(
        route("/static"),
        (StatusCode::OK, routed("static", "/static", ""))
    );
}

#[test]
fn prefixes_match_whole_segments_only() {
    for target in ["/apix", "/ap", "/api2/x", "/", "/staticfile"] {
        assert_eq!(route(target), (StatusCode::NOT_FOUND, None), "{target}");
    }
}

#[test]
fn the_longest_prefix_wins_whatever_the_order_of_mounting() {
    assert_eq!(
        route("/api/v2/x"),
        (StatusCode::OK, routed("v2", "/api/v2", "/x"))
    );
    assert_eq!(
        route("/api/v20"),
        (StatusCode::OK, routed("api", "/api", "/v20"))
    );
}

#[test]
fn a_decoded_slash_is_a_slash() {
    assert_eq!(
        route("/api%2Fitems"),
        (StatusCode::OK, routed("api", "/api", "/items"))
    );
    assert_eq!(
        route("/api%2fv2%2Fx"),
        (StatusCode::OK, routed("v2", "/api/v2", "/x"))
    );
}

#[test]
fn prefixes_are_matched_on_decoded_octets_and_the_query_is_untouched() {
    let seen = Seen::default();
    let app = Mount::new().at("/café", recorder("cafe", &seen));
    let response = TestClient::new(app).get("/caf%C3%A9/menu?x=%2F").send();
    assert_eq!(response.status, StatusCode::OK);
    let (_, script, path) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(script, "/café".as_bytes());
    assert_eq!(path, b"/menu");
}

#[test]
fn mounts_nest_and_script_name_grows() {
    let seen = Seen::default();
    let inner = Mount::new().at("/v1", recorder("inner", &seen));
    let outer = Mount::new().at("/api", inner);
    TestClient::new(outer).get("/api/v1/users").send();
    let (_, script, path) = seen.lock().unwrap().pop().unwrap();
    assert_eq!(
        (script.as_slice(), path.as_slice()),
        (&b"/api/v1"[..], &b"/users"[..])
    );
}

#[test]
fn script_name_and_path_info_still_spell_the_decoded_path() {
    let targets = [
        "/api",
        "/api/",
        "/api//x",
        "/api/v2",
        "/api/v2/",
        "/static/a/b.css",
        "/api/%00",
    ];
    for target in targets {
        let seen = Seen::default();
        TestClient::new(mount(&seen)).get(target).send();
        let (_, script, path) = seen.lock().unwrap().pop().expect(target);
        let decoded = gateway_spec::target::percent_decode(target.as_bytes());
        assert_eq!([script.clone(), path.clone()].concat(), decoded, "{target}");
        assert!(!script.ends_with(b"/"), "ENV-4: {target}");
        assert!(path.is_empty() || path.starts_with(b"/"), "ENV-5: {target}");
    }
}

#[test]
fn a_root_mount_takes_what_no_prefix_matched_and_the_asterisk_form() {
    let seen = Seen::default();
    let app = Mount::new()
        .at("/api", recorder("api", &seen))
        .at("/", recorder("root", &seen));
    let client = TestClient::new(app);
    client.get("/apix").send();
    assert_eq!(
        seen.lock().unwrap().pop(),
        Some(("root", vec![], b"/apix".to_vec()))
    );
    client.request(http::Method::OPTIONS, "*").send();
    assert_eq!(
        seen.lock().unwrap().pop(),
        Some(("root", vec![], b"*".to_vec()))
    );
}

#[test]
fn the_validator_finds_nothing_wrong_with_the_mounted_environ() {
    let seen = Seen::default();
    let validator = Validator::new(mount(&seen));
    let report = validator.report();
    let client = TestClient::new(validator);
    for target in ["/api/x", "/api", "/nowhere", "/api/v2/%2F"] {
        assert_eq!(client.get(target).send().outcome.failure, None);
    }
    assert!(report.is_clean(), "{:?}", report.violations());
}

#[test]
fn a_mount_inside_a_validator_hands_the_inner_app_a_valid_environ() {
    let seen = Seen::default();
    let inner = Validator::new(recorder("inner", &seen));
    let report = inner.report();
    let client = TestClient::new(Mount::new().at("/api/", inner));
    for target in ["/api", "/api/", "/api/a%2Fb"] {
        assert_eq!(client.get(target).send().status, StatusCode::OK);
    }
    assert!(report.is_clean(), "{:?}", report.violations());
    assert_eq!(seen.lock().unwrap().len(), 3);
}
