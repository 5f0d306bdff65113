//! Checks of the environ (SPEC.md section 5), observed through the echo: what the
//! app saw for methods, paths, queries, targets, versions and headers.

use serde_json::Value;

use crate::check::{ensure, expect_status, Check, Outcome};
use crate::target::{json_of, Target};

/// Sends raw bytes and returns the echo's JSON.
fn echo(target: &Target, request: &str) -> Result<Value, String> {
    let response = target.exchange(request.as_bytes());
    expect_status(&response, 200)?;
    json_of(&response)
}

fn field_is(echo: &Value, key: &str, expected: Value) -> Outcome {
    ensure(echo[key] == expected, || {
        format!("echo field {key} is {}, expected {expected}", echo[key])
    })
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: conformance.test\r\n\r\n")
}

fn method_is_passed_as_received(target: &Target) -> Outcome {
    for method in ["PATCH", "FROBNICATE", "Get"] {
        let e = echo(
            target,
            &format!("{method} /env/method HTTP/1.1\r\nHost: c\r\n\r\n"),
        )?;
        field_is(&e, "method", method.into())?;
    }
    Ok(())
}

fn path_is_percent_decoded_octet_for_octet(target: &Target) -> Outcome {
    let e = echo(target, &get("/env/a%2Fb%2fc%00d%zz%4%C3%A9%FF+x%"))?;
    let expected = "/env/a/b/c\u{0}d%zz%4\u{c3}\u{a9}\u{ff}+x%";
    field_is(&e, "path_info", expected.into())?;
    field_is(&e, "script_name", "".into())
}

fn path_is_not_normalised(target: &Target) -> Outcome {
    let e = echo(target, &get("/env/./a/../b//c/"))?;
    field_is(&e, "path_info", "/env/./a/../b//c/".into())
}

fn options_asterisk_has_a_star_path(target: &Target) -> Outcome {
    let e = echo(target, "OPTIONS * HTTP/1.1\r\nHost: c\r\n\r\n")?;
    field_is(&e, "path_info", "*".into())?;
    field_is(&e, "script_name", "".into())?;
    field_is(&e, "query_string", "".into())?;
    field_is(&e, "request_uri", "*".into())
}

fn absolute_form_gives_path_and_query(target: &Target) -> Outcome {
    let e = echo(
        target,
        "GET http://abs.example:8080/env/abs%20x?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n",
    )?;
    field_is(&e, "path_info", "/env/abs x".into())?;
    field_is(&e, "query_string", "q=1".into())?;
    let e = echo(
        target,
        "GET http://abs.example HTTP/1.1\r\nHost: abs.example\r\n\r\n",
    )?;
    field_is(&e, "path_info", "/".into())
}

fn absolute_form_request_uri_is_the_whole_target(target: &Target) -> Outcome {
    let e = echo(
        target,
        "GET http://abs.example:8080/env/abs%20x?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n",
    )?;
    field_is(
        &e,
        "request_uri",
        "http://abs.example:8080/env/abs%20x?q=1".into(),
    )
}

fn absolute_form_authority_replaces_host(target: &Target) -> Outcome {
    let e = echo(
        target,
        "GET http://abs.example:8080/env/abs HTTP/1.1\r\nHost: other.example\r\n\r\n",
    )?;
    ensure(e["headers"]["HTTP_HOST"] == "abs.example:8080", || {
        format!(
            "HTTP_HOST is {}, expected the target's authority",
            e["headers"]["HTTP_HOST"]
        )
    })
}

fn query_string_is_raw(target: &Target) -> Outcome {
    let e = echo(target, &get("/env/q?a=1+2&b=%20&c=%zz?d"))?;
    field_is(&e, "query_string", "a=1+2&b=%20&c=%zz?d".into())?;
    field_is(&e, "request_uri", "/env/q?a=1+2&b=%20&c=%zz?d".into())?;
    let e = echo(target, &get("/env/q?"))?;
    field_is(&e, "query_string", "".into())?;
    let e = echo(target, &get("/env/q"))?;
    field_is(&e, "query_string", "".into())
}

fn protocol_is_the_requests(target: &Target) -> Outcome {
    let e = echo(target, "GET /env/v HTTP/1.0\r\n\r\n")?;
    field_is(&e, "server_protocol", "HTTP/1.0".into())?;
    let e = echo(target, &get("/env/v"))?;
    field_is(&e, "server_protocol", "HTTP/1.1".into())
}

fn headers_arrive_as_received_in_the_cgi_view(target: &Target) -> Outcome {
    let request = b"POST /env/h HTTP/1.1\r\nHost: c\r\nX-Multi: one\r\nX-Multi: two\r\n\
        X-Spaces:   padded value  \r\nX-Latin: caf\xe9\r\nContent-Type: text/x-test\r\n\
        Content-Length: 3\r\n\r\nabc";
    let response = target.exchange(request);
    expect_status(&response, 200)?;
    let e = json_of(&response)?;
    let headers = &e["headers"];
    let expect = |name: &str, value: &str| {
        ensure(headers[name] == value, || {
            format!("{name} is {}, expected {value:?}", headers[name])
        })
    };
    expect("HTTP_X_MULTI", "one,two")?;
    expect("HTTP_X_SPACES", "padded value")?;
    expect("HTTP_X_LATIN", "caf\u{e9}")?;
    expect("HTTP_HOST", "c")?;
    ensure(headers.get("HTTP_CONTENT_TYPE").is_none(), || {
        "HTTP_CONTENT_TYPE must not exist".into()
    })?;
    ensure(headers.get("HTTP_CONTENT_LENGTH").is_none(), || {
        "HTTP_CONTENT_LENGTH must not exist".into()
    })?;
    field_is(&e, "content_type", "text/x-test".into())?;
    field_is(&e, "content_length", "3".into())
}

fn underscored_header_names_are_dropped(target: &Target) -> Outcome {
    let e = echo(
        target,
        "GET /env/u HTTP/1.1\r\nHost: c\r\nX_Forwarded_For: 6.6.6.6\r\nX-Real: 1\r\n\r\n",
    )?;
    let headers = e["headers"].as_object().cloned().unwrap_or_default();
    ensure(headers.get("HTTP_X_FORWARDED_FOR").is_none(), || {
        format!("a header named with '_' reached the app: {headers:?}")
    })?;
    ensure(headers.get("HTTP_X_REAL").is_some(), || {
        "X-Real is missing".into()
    })
}

fn content_length_only_when_sent(target: &Target) -> Outcome {
    let e = echo(
        target,
        "POST /env/cl HTTP/1.1\r\nHost: c\r\nContent-Length: 2\r\n\r\nhi",
    )?;
    field_is(&e, "content_length", "2".into())?;
    let e = echo(
        target,
        "POST /env/cl HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    )?;
    field_is(&e, "content_length", Value::Null)?;
    field_is(&e, "body_length", 2.into())?;
    let e = echo(target, &get("/env/cl"))?;
    field_is(&e, "content_length", Value::Null)?;
    field_is(&e, "content_type", Value::Null)
}

fn forwarded_headers_do_not_change_the_scheme(target: &Target) -> Outcome {
    let e = echo(
        target,
        "GET /env/s HTTP/1.1\r\nHost: c\r\nX-Forwarded-Proto: https\r\nForwarded: proto=https\r\n\r\n",
    )?;
    field_is(&e, "url_scheme", "http".into())
}

fn untrusted_forwarding_headers_are_removed(target: &Target) -> Outcome {
    let e = echo(
        target,
        "GET /env/f HTTP/1.1\r\nHost: c\r\nX-Forwarded-For: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n\
         X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Real: 1\r\n\r\n",
    )?;
    let headers = e["headers"].as_object().cloned().unwrap_or_default();
    let forwarded: Vec<&String> = headers
        .keys()
        .filter(|k| *k == "HTTP_FORWARDED" || k.starts_with("HTTP_X_FORWARDED_"))
        .collect();
    ensure(forwarded.is_empty(), || {
        format!("forwarding headers from a peer that is no trusted proxy reached the app: {forwarded:?}")
    })?;
    ensure(headers.get("HTTP_X_REAL").is_some(), || {
        "X-Real is missing".into()
    })
}

/// The environ checks.
pub const CHECKS: &[Check] = &[
    Check {
        name: "method_is_passed_as_received",
        rules: &["ENV-3"],
        run: method_is_passed_as_received,
    },
    Check {
        name: "path_is_percent_decoded_octet_for_octet",
        rules: &["ENV-5", "ENV-6", "ENV-7", "ENV-8", "ENV-9", "ENV-10"],
        run: path_is_percent_decoded_octet_for_octet,
    },
    Check {
        name: "path_is_not_normalised",
        rules: &["ENV-11"],
        run: path_is_not_normalised,
    },
    Check {
        name: "options_asterisk_has_a_star_path",
        rules: &["ENV-12", "REQ-14"],
        run: options_asterisk_has_a_star_path,
    },
    Check {
        name: "absolute_form_gives_path_and_query",
        rules: &["ENV-13", "REQ-13"],
        run: absolute_form_gives_path_and_query,
    },
    Check {
        name: "absolute_form_request_uri_is_the_whole_target",
        rules: &["ENV-15"],
        run: absolute_form_request_uri_is_the_whole_target,
    },
    Check {
        name: "absolute_form_authority_replaces_host",
        rules: &["ENV-19"],
        run: absolute_form_authority_replaces_host,
    },
    Check {
        name: "query_string_is_raw",
        rules: &["ENV-14", "ENV-15"],
        run: query_string_is_raw,
    },
    Check {
        name: "protocol_is_the_requests",
        rules: &["ENV-16"],
        run: protocol_is_the_requests,
    },
    Check {
        name: "headers_arrive_as_received_in_the_cgi_view",
        rules: &["ENV-17", "ENV-31", "ENV-32", "ENV-33", "REQ-20"],
        run: headers_arrive_as_received_in_the_cgi_view,
    },
    Check {
        name: "underscored_header_names_are_dropped",
        rules: &["ENV-18"],
        run: underscored_header_names_are_dropped,
    },
    Check {
        name: "content_length_only_when_sent",
        rules: &["ENV-20", "ENV-33"],
        run: content_length_only_when_sent,
    },
    Check {
        name: "forwarded_headers_do_not_change_the_scheme",
        rules: &["ENV-25", "ENV-26"],
        run: forwarded_headers_do_not_change_the_scheme,
    },
    Check {
        name: "untrusted_forwarding_headers_are_removed",
        rules: &["PROXY-5"],
        run: untrusted_forwarding_headers_are_removed,
    },
];
