//! `Files` over the test client: content types, conditional GET (304, 412), ranges
//! (206, 416, refused multiple ranges), HEAD, directories, traversal and symlinks.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use gateway_kit::Files;
use gateway_spec::testing::{TestClient, TestResponse};
use gateway_spec::validate::{Report, Validator};
use gateway_spec::{App, AppError, Body, Environ, StartResponse};
use http::StatusCode;
use tempfile::TempDir;

const SECRET: &str = "the secret outside the served directory";
const TEXT: &str = "0123456789abcdef";

/// A temporary tree: `secret.txt` beside the served `public/`, which holds
/// `file.txt`, `style.css`, `blob`, `data.unknownext`, `.hidden`, `sub/index.html`,
/// `sub/page.txt` and an `empty/` directory.
struct Tree {
    dir: TempDir,
}

impl Tree {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let public = dir.path().join("public");
        fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
        fs::create_dir_all(public.join("sub")).unwrap();
        fs::create_dir_all(public.join("empty")).unwrap();
        fs::write(public.join("file.txt"), TEXT).unwrap();
        fs::write(public.join("style.css"), "p { }").unwrap();
        fs::write(public.join("blob"), [0u8, 1, 2]).unwrap();
        fs::write(public.join("data.unknownext"), "?").unwrap();
        fs::write(public.join(".hidden"), "hidden").unwrap();
        fs::write(public.join("sub/index.html"), "<p>index</p>").unwrap();
        fs::write(public.join("sub/page.txt"), "page").unwrap();
        Self { dir }
    }

    fn public(&self) -> std::path::PathBuf {
        self.dir.path().join("public")
    }

    /// A client for `Files` on `public/`, behind a validator whose report is kept.
    fn client(&self) -> (TestClient<Validator<Files>>, Report) {
        let validator = Validator::new(Files::new(self.public()).unwrap());
        let report = validator.report();
        (TestClient::new(validator), report)
    }
}

/// Asserts a response came out of a clean exchange.
fn clean(response: &TestResponse) {
    assert_eq!(response.outcome.failure, None, "{}", response.text());
}

fn assert_report_clean(report: &Report) {
    assert!(report.is_clean(), "{:?}", report.violations());
}

#[test]
fn a_file_is_served_with_its_type_validators_and_length() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let response = client.get("/file.txt").send();
    clean(&response);
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, TEXT);
    assert_eq!(response.headers["content-type"], "text/plain");
    assert_eq!(response.headers["content-length"], "16");
    assert_eq!(response.headers["accept-ranges"], "bytes");
    let etag = response.headers["etag"].to_str().unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let modified = response.headers["last-modified"].to_str().unwrap();
    assert!(httpdate::parse_http_date(modified).is_ok(), "{modified}");
    assert_report_clean(&report);
}

#[test]
fn content_type_comes_from_the_file_name() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    for (target, expected) in [
        ("/style.css", "text/css"),
        ("/sub/index.html", "text/html"),
        ("/blob", "application/octet-stream"),
        ("/data.unknownext", "application/octet-stream"),
    ] {
        let response = client.get(target).send();
        clean(&response);
        assert_eq!(response.headers["content-type"], expected, "{target}");
    }
    assert_report_clean(&report);
}

#[test]
fn the_body_is_the_file_fast_path() {
    let tree = Tree::new();
    let files = Files::new(tree.public()).unwrap();
    // For each response: whether the body was a file body, and its length.
    type Seen = Arc<Mutex<Vec<(bool, Option<u64>)>>>;
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let app = move |environ: Environ, start_response: StartResponse| -> Result<Body, AppError> {
        let body = files.call(environ, start_response)?;
        record.lock().unwrap().push((body.is_file(), body.len()));
        Ok(body)
    };
    let client = TestClient::new(app);
    clean(&client.get("/file.txt").send());
    clean(&client.get("/file.txt").header("range", "bytes=1-2").send());
    assert_eq!(*seen.lock().unwrap(), [(true, Some(16)), (true, Some(2))]);
}

#[test]
fn head_has_the_headers_of_get_and_no_body() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let get = client.get("/file.txt").send();
    let head = client.head("/file.txt").send();
    clean(&head);
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    for name in ["content-type", "content-length", "etag", "last-modified"] {
        assert_eq!(head.headers[name], get.headers[name], "{name}");
    }
    let ranged = client.head("/file.txt").header("range", "bytes=0-1").send();
    assert_eq!(ranged.status, StatusCode::OK, "Range applies to GET only");
    assert_report_clean(&report);
}

#[test]
fn a_matching_if_none_match_or_if_modified_since_gives_304() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let first = client.get("/file.txt").send();
    let etag = first.headers["etag"].to_str().unwrap();
    let modified = first.headers["last-modified"].to_str().unwrap();

    let by_tag = client.get("/file.txt").header("if-none-match", etag).send();
    clean(&by_tag);
    assert_eq!(by_tag.status, StatusCode::NOT_MODIFIED);
    assert!(by_tag.body.is_empty());
    assert_eq!(by_tag.headers["etag"], etag);

    let by_date = client
        .get("/file.txt")
        .header("if-modified-since", modified)
        .send();
    assert_eq!(by_date.status, StatusCode::NOT_MODIFIED);
    let head = client
        .head("/file.txt")
        .header("if-none-match", etag)
        .send();
    assert_eq!(head.status, StatusCode::NOT_MODIFIED);

    let other = client
        .get("/file.txt")
        .header("if-none-match", "\"other\"")
        .send();
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body, TEXT);
    let old = client
        .get("/file.txt")
        .header("if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT")
        .send();
    assert_eq!(old.status, StatusCode::OK);
    assert_report_clean(&report);
}

#[test]
fn a_failed_if_match_or_if_unmodified_since_gives_412() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let etag = client.get("/file.txt").send().headers["etag"].clone();
    let failed = client
        .get("/file.txt")
        .header("if-match", "\"other\"")
        .send();
    clean(&failed);
    assert_eq!(failed.status, StatusCode::PRECONDITION_FAILED);
    let passed = client
        .get("/file.txt")
        .header("if-match", etag.to_str().unwrap())
        .send();
    assert_eq!(passed.status, StatusCode::OK);
    let old = client
        .get("/file.txt")
        .header("if-unmodified-since", "Thu, 01 Jan 1970 00:00:00 GMT")
        .send();
    assert_eq!(old.status, StatusCode::PRECONDITION_FAILED);
    assert_report_clean(&report);
}

#[test]
fn one_range_gives_206_with_content_range() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    for (range, body, content_range) in [
        ("bytes=2-4", "234", "bytes 2-4/16"),
        ("bytes=10-", "abcdef", "bytes 10-15/16"),
        ("bytes=-3", "def", "bytes 13-15/16"),
        ("bytes=14-999", "ef", "bytes 14-15/16"),
        ("bytes=0-0", "0", "bytes 0-0/16"),
    ] {
        let response = client.get("/file.txt").header("range", range).send();
        clean(&response);
        assert_eq!(response.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(response.body, body, "{range}");
        assert_eq!(response.headers["content-range"], content_range, "{range}");
        assert_eq!(
            response.headers["content-length"],
            body.len().to_string().as_str()
        );
        assert_eq!(response.headers["content-type"], "text/plain");
    }
    assert_report_clean(&report);
}

#[test]
fn a_range_past_the_end_gives_416_with_the_length() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    for range in ["bytes=16-", "bytes=100-200", "bytes=-0"] {
        let response = client.get("/file.txt").header("range", range).send();
        clean(&response);
        assert_eq!(
            response.status,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{range}"
        );
        assert_eq!(response.headers["content-range"], "bytes */16");
    }
    assert_report_clean(&report);
}

#[test]
fn several_ranges_or_a_malformed_range_give_the_whole_file() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    for range in ["bytes=0-1,4-5", "bytes=5-2", "lines=1-2", "bytes=x-"] {
        let response = client.get("/file.txt").header("range", range).send();
        clean(&response);
        assert_eq!(response.status, StatusCode::OK, "{range}");
        assert_eq!(response.body, TEXT, "{range}");
        assert!(!response.headers.contains_key("content-range"));
    }
    assert_report_clean(&report);
}

#[test]
fn if_range_honours_the_range_only_for_the_current_file() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let first = client.get("/file.txt").send();
    let etag = first.headers["etag"].to_str().unwrap();
    let current = client
        .get("/file.txt")
        .header("range", "bytes=0-1")
        .header("if-range", etag)
        .send();
    assert_eq!(current.status, StatusCode::PARTIAL_CONTENT);
    let stale = client
        .get("/file.txt")
        .header("range", "bytes=0-1")
        .header("if-range", "\"stale\"")
        .send();
    clean(&stale);
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body, TEXT);
    assert_report_clean(&report);
}

#[test]
fn a_directory_is_its_index_with_the_slash_and_a_redirect_without() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let index = client.get("/sub/").send();
    clean(&index);
    assert_eq!(index.status, StatusCode::OK);
    assert_eq!(index.body, "<p>index</p>");
    let redirect = client.get("/sub?x=1").send();
    assert_eq!(redirect.status, StatusCode::MOVED_PERMANENTLY);
    assert_eq!(redirect.headers["location"], "http://localhost/sub/");
    assert_eq!(
        client.get("/").send().status,
        StatusCode::NOT_FOUND,
        "no index.html at the root"
    );
    assert_eq!(client.get("/empty/").send().status, StatusCode::NOT_FOUND);
    assert_eq!(
        client.get("/file.txt/").send().status,
        StatusCode::NOT_FOUND
    );
    assert_report_clean(&report);
}

#[test]
fn methods_other_than_get_and_head_get_405_with_allow() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    for response in [
        client.post("/file.txt").body("x").send(),
        client.delete("/file.txt").send(),
    ] {
        clean(&response);
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers["allow"], "GET, HEAD");
    }
    assert_report_clean(&report);
}

#[test]
fn no_path_leads_out_of_the_directory_or_to_hidden_files() {
    let tree = Tree::new();
    let (client, report) = tree.client();
    let targets = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/sub/..%2F..%2Fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "/..%5Csecret.txt",
        "/%5C..%5Csecret.txt",
        "/.hidden",
        "/%2ehidden",
        "/sub/./page.txt",
        "/sub//page.txt",
        "//etc/passwd",
        "/file.txt%00.css",
        "/C:%5Cwindows",
        &format!("/{}", tree.dir.path().join("secret.txt").display()),
    ];
    for target in targets {
        let response = client.get(target).send();
        clean(&response);
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{target}");
        assert!(!response.text().contains(SECRET), "{target}");
    }
    assert_report_clean(&report);
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_only_while_they_stay_inside() {
    use std::os::unix::fs::symlink;
    let tree = Tree::new();
    let public = tree.public();
    symlink(tree.dir.path().join("secret.txt"), public.join("out.txt")).unwrap();
    symlink(tree.dir.path(), public.join("up")).unwrap();
    symlink(public.join("file.txt"), public.join("in.txt")).unwrap();
    symlink(public.join("sub"), public.join("alias")).unwrap();
    let (client, report) = tree.client();
    for target in ["/out.txt", "/up/secret.txt"] {
        let response = client.get(target).send();
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{target}");
        assert!(!response.text().contains(SECRET));
    }
    assert_eq!(client.get("/in.txt").send().body, TEXT);
    assert_eq!(client.get("/alias/page.txt").send().body, "page");
    // The rule is where the file really is: a detour out and back in is fine.
    assert_eq!(client.get("/up/public/file.txt").send().body, TEXT);
    assert_report_clean(&report);
}

#[test]
fn a_root_that_is_missing_or_a_file_is_refused_with_a_message() {
    let tree = Tree::new();
    let missing = Files::new(tree.dir.path().join("nope")).err().unwrap();
    assert!(missing.to_string().contains("nope"), "{missing}");
    let file = Files::new(tree.public().join("file.txt")).err().unwrap();
    assert!(file.to_string().contains("not a directory"), "{file}");
    assert!(Files::new(Path::new(&tree.public())).is_ok());
}
