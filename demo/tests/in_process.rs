//! Tests of the demo app (hello world and file upload) through the in-process test
//! client, wrapped in the contract validator, as any server would call it.

use std::fs;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use gateway_demo::multipart::{self, Multipart};
use gateway_demo::DemoApp;
use gateway_spec::exchange::{run, Failure, MemoryOutput, Outcome};
use gateway_spec::testing::{TestClient, TestRequest, TestResponse};
use gateway_spec::validate::{Report, Validator};
use gateway_spec::Input;
use http::StatusCode;

const BOUNDARY: &str = "----DemoBoundary7MA4YWxk";
const OK_JSON: &str = r#"{"status":"ok","message":"file uploaded"}"#;
const TWENTY_MIB: u64 = 20 * 1024 * 1024;

/// The app under test in a validator, saving to `<root>/uploads` (not created up
/// front, so every upload also checks that the directory is created).
struct Harness {
    root: tempfile::TempDir,
    dir: PathBuf,
    app: Arc<DemoApp>,
    client: TestClient<Validator<Arc<DemoApp>>>,
    report: Report,
}

impl Harness {
    fn new(test: &str, max_upload_bytes: u64) -> Self {
        let root = tempfile::Builder::new()
            .prefix(&format!("demo-{test}-"))
            .tempdir()
            .unwrap();
        let dir = root.path().join("uploads");
        let app = Arc::new(DemoApp::new(dir.clone(), max_upload_bytes));
        let validator = Validator::new(Arc::clone(&app));
        let report = validator.report();
        Self {
            root,
            dir,
            app,
            client: TestClient::new(validator),
            report,
        }
    }

    fn upload(&self, body: impl Into<bytes::Bytes>) -> TestResponse {
        self.client
            .post("/upload")
            .header("content-type", &content_type())
            .body(body)
            .send()
    }

    /// A chunked upload request (no CONTENT_LENGTH) whose body is `input`, read
    /// lazily, instead of an in-memory one.
    fn upload_from(&self, input: impl Read + Send + 'static) -> (MemoryOutput, Outcome) {
        let request = self
            .client
            .post("/upload")
            .header("content-type", &content_type())
            .chunked();
        self.send_with_input(request, input)
    }

    fn send_with_input(
        &self,
        request: TestRequest<'_, Validator<Arc<DemoApp>>>,
        input: impl Read + Send + 'static,
    ) -> (MemoryOutput, Outcome) {
        let (mut environ, _errors) = request.environ();
        environ.input = Input::new(BufReader::new(input));
        run(self.client.app(), environ, MemoryOutput::default())
    }

    fn assert_clean(&self) {
        assert!(self.report.is_clean(), "{:#?}", self.report.violations());
    }

    /// Every name in the upload directory, hidden temp files included, sorted.
    fn files(&self) -> Vec<String> {
        files_in(&self.dir)
    }
}

/// Every name in `dir`, sorted; none when `dir` does not exist. Any other error
/// fails the test: an unreadable directory must not pass for an empty one.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    names.sort();
    names
}

fn content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// The bytes that open one part: its delimiter line and headers.
fn part_head(name: &str, filename: Option<&[u8]>) -> Vec<u8> {
    let mut head =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").into_bytes();
    if let Some(filename) = filename {
        head.extend_from_slice(b"; filename=\"");
        head.extend_from_slice(filename);
        head.extend_from_slice(b"\"");
    }
    head.extend_from_slice(b"\r\nContent-Type: application/octet-stream\r\n\r\n");
    head
}

/// One part of a form: field name, file name, content.
type Part<'a> = (&'a str, Option<&'a [u8]>, &'a [u8]);

/// A whole form of parts.
fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content) in parts {
        body.extend(part_head(name, *filename));
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn file_form(filename: &str, content: &[u8]) -> Vec<u8> {
    form(&[("file", Some(filename.as_bytes()), content)])
}

/// The upload was answered 200 with the success JSON, and the exchange saw no failure.
fn assert_upload_accepted(output: &MemoryOutput, outcome: &Outcome) {
    assert_eq!(
        outcome.status,
        Some(StatusCode::OK),
        "{:?}",
        outcome.failure
    );
    assert_eq!(output.body, OK_JSON.as_bytes());
    assert_no_failure(outcome);
}

/// Asserts the exchange saw no failure: the app answered for itself, and did not
/// fail after its bytes went out.
fn assert_no_failure(outcome: &Outcome) {
    assert_eq!(outcome.failure, None, "status {:?}", outcome.status);
}

/// Asserts a JSON error with `status` whose message contains `needle`.
fn assert_error(
    status: StatusCode,
    content_type: &str,
    body: &[u8],
    expected: StatusCode,
    needle: &str,
) {
    assert_eq!(status, expected, "{}", String::from_utf8_lossy(body));
    assert_eq!(content_type, "application/json");
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(value["status"], "error");
    let message = value["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} should mention {needle:?}"
    );
}

/// Asserts the app's own JSON error (not a failure the exchange answered).
fn assert_response_error(response: &TestResponse, expected: StatusCode, needle: &str) {
    assert_no_failure(&response.outcome);
    let content_type = response.headers["content-type"].to_str().unwrap();
    assert_error(
        response.status,
        content_type,
        &response.body,
        expected,
        needle,
    );
}

fn assert_output_error(output: &MemoryOutput, expected: StatusCode, needle: &str) {
    let (head, _) = output.head.as_ref().expect("a response head");
    let content_type = head.headers["content-type"].to_str().unwrap();
    assert_error(head.status, content_type, &output.body, expected, needle);
}

/// Bytes that look like the delimiter without being it: CRLF and dashes, the
/// boundary without a CRLF before it, and `CRLF--` with the boundary cut one byte
/// short. Its odd length moves them to every offset of the parser's buffer.
fn tricky_pattern() -> Vec<u8> {
    let cut = &BOUNDARY[..BOUNDARY.len() - 1];
    let mut pattern = Vec::new();
    pattern.extend_from_slice(b"\r\n--\r\n-\r\r\n\n--");
    pattern.extend_from_slice(format!("--{BOUNDARY}").as_bytes());
    pattern.extend_from_slice(format!("\r\n--{cut}").as_bytes());
    pattern.extend_from_slice(format!("\r\n-{BOUNDARY}").as_bytes());
    pattern.extend((0..=255u8).rev());
    pattern.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    pattern.extend_from_slice(b"\r\n");
    if pattern.len() % 2 == 0 {
        pattern.push(0);
    }
    pattern
}

/// A multipart body for one file of `file_len` bytes of [`tricky_pattern`], made on
/// the fly, so a test can send 20 MiB without holding them.
///
/// It returns at most `max_read` bytes per read, as a network does; it can fail after
/// `fail_after` file bytes, as a client that goes away does; and it can note whether
/// a temp file sat in a directory while the file was being received.
struct GeneratedUpload {
    head: Vec<u8>,
    pattern: Vec<u8>,
    file_len: u64,
    tail: Vec<u8>,
    pos: u64,
    max_read: usize,
    fail_after: Option<u64>,
    watch: Option<(PathBuf, Arc<AtomicBool>)>,
}

impl GeneratedUpload {
    fn new(filename: &str, file_len: u64) -> Self {
        Self {
            head: part_head("file", Some(filename.as_bytes())),
            pattern: tricky_pattern(),
            file_len,
            tail: format!("\r\n--{BOUNDARY}--\r\n").into_bytes(),
            pos: 0,
            max_read: 16 * 1024,
            fail_after: None,
            watch: None,
        }
    }

    fn total_len(&self) -> u64 {
        self.head.len() as u64 + self.file_len + self.tail.len() as u64
    }

    /// The flag that records whether a temp file was in `dir` mid-upload.
    fn watch_temp_files(&mut self, dir: &Path) -> Arc<AtomicBool> {
        let seen = Arc::new(AtomicBool::new(false));
        self.watch = Some((dir.to_owned(), Arc::clone(&seen)));
        seen
    }
}

impl Read for GeneratedUpload {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let head_len = self.head.len() as u64;
        let file_end = head_len + self.file_len;
        if let Some((dir, seen)) = &self.watch {
            if self.pos > head_len + 1024 && files_in(dir).iter().any(|n| n.ends_with(".part")) {
                seen.store(true, Ordering::SeqCst);
            }
        }
        if self.fail_after.is_some_and(|n| self.pos >= head_len + n) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "client went away",
            ));
        }
        let want = buf.len().min(self.max_read);
        let n = if self.pos < head_len {
            let from = self.pos as usize;
            let n = want.min(self.head.len() - from);
            buf[..n].copy_from_slice(&self.head[from..from + n]);
            n
        } else if self.pos < file_end {
            let offset = ((self.pos - head_len) % self.pattern.len() as u64) as usize;
            let n = want
                .min(self.pattern.len() - offset)
                .min((file_end - self.pos) as usize);
            buf[..n].copy_from_slice(&self.pattern[offset..offset + n]);
            n
        } else {
            let from = (self.pos - file_end) as usize;
            let n = want.min(self.tail.len().saturating_sub(from));
            buf[..n].copy_from_slice(&self.tail[from..from + n]);
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

/// Checks, chunk by chunk, that `path` holds exactly `len` bytes of
/// [`tricky_pattern`].
fn assert_file_is_pattern(path: &Path, len: u64) {
    let pattern = tricky_pattern();
    let mut file = fs::File::open(path).unwrap();
    assert_eq!(file.metadata().unwrap().len(), len);
    let mut buf = vec![0; 64 * 1024];
    let mut offset = 0u64;
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        let mut checked = 0;
        while checked < n {
            let at = ((offset + checked as u64) % pattern.len() as u64) as usize;
            let run = (pattern.len() - at).min(n - checked);
            assert!(
                buf[checked..checked + run] == pattern[at..at + run],
                "bytes from {} of {} differ",
                offset + checked as u64,
                path.display()
            );
            checked += run;
        }
        offset += n as u64;
    }
    assert_eq!(offset, len);
}

#[test]
fn hello_world_at_the_root() {
    let h = Harness::new("hello", 1024);
    let response = h.client.get("/").send();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.headers["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(response.body, "Hello, World!");
    assert_eq!(response.headers["content-length"], "13");
    assert_no_failure(&response.outcome);
    let head = h.client.head("/").send();
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_no_failure(&head.outcome);
    h.assert_clean();
}

#[test]
fn upload_form_is_served() {
    let h = Harness::new("form", 1024);
    let response = h.client.get("/upload").send();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "text/html; charset=utf-8");
    let html = response.text();
    assert!(html.contains(r#"<form method="post" enctype="multipart/form-data" action="/upload">"#));
    assert!(html.contains(r#"<input type="file" name="file""#));
    assert!(html.contains(r#"<button type="submit">"#));
    assert_no_failure(&response.outcome);
    h.assert_clean();
}

#[test]
fn other_methods_and_paths() {
    let h = Harness::new("routes", 1024);
    let put = h.client.put("/upload").body("x").send();
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.headers["allow"], "GET, POST");
    assert_no_failure(&put.outcome);
    let delete = h.client.delete("/upload").send();
    assert_eq!(delete.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(delete.headers["allow"], "GET, POST");
    assert_no_failure(&delete.outcome);
    let post_root = h.client.post("/").body("x").send();
    assert_eq!(post_root.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post_root.headers["allow"], "GET");
    assert_no_failure(&post_root.outcome);
    for path in ["/missing", "/upload/x", "/upload/"] {
        let missing = h.client.get(path).send();
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(missing.headers["content-type"], "text/plain; charset=utf-8");
        assert_no_failure(&missing.outcome);
    }
    h.assert_clean();
}

#[test]
fn small_text_upload_is_saved_and_the_directory_created() {
    let h = Harness::new("small", 1 << 20);
    assert!(!h.dir.exists());
    let response = h.upload(file_form("hello.txt", b"Hello, upload!\n"));
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.headers["content-type"], "application/json");
    assert_eq!(response.body, OK_JSON);
    assert_no_failure(&response.outcome);
    assert_eq!(h.files(), ["hello.txt"]);
    assert_eq!(
        fs::read(h.dir.join("hello.txt")).unwrap(),
        b"Hello, upload!\n"
    );
    h.assert_clean();
}

#[test]
fn binary_upload_with_boundary_lookalikes_is_saved_byte_for_byte() {
    let h = Harness::new("binary", 1 << 20);
    let mut content = tricky_pattern();
    content.extend(tricky_pattern());
    content.extend_from_slice(b"\r\n--"); // the file ends as a delimiter begins
                                          // Fields around the file are read and ignored.
    let body = form(&[
        ("note", None, b"before"),
        ("file", Some(b"data.bin"), &content),
        ("note2", None, b"after\r\n--"),
    ]);
    // Chunked: no CONTENT_LENGTH, so the size is checked while streaming.
    let response = h
        .client
        .post("/upload")
        .header("content-type", &content_type())
        .chunked()
        .body(body)
        .send();
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, OK_JSON);
    assert_no_failure(&response.outcome);
    assert_eq!(h.files(), ["data.bin"]);
    assert!(fs::read(h.dir.join("data.bin")).unwrap() == content);
    h.assert_clean();
}

#[test]
fn upload_fed_in_tiny_reads_is_saved_byte_for_byte() {
    let h = Harness::new("trickle", 1 << 20);
    let mut upload = GeneratedUpload::new("trickle.bin", 100_003);
    upload.max_read = 7; // every delimiter lookalike straddles reads somewhere
    let (output, outcome) = h.upload_from(upload);
    assert_upload_accepted(&output, &outcome);
    assert_file_is_pattern(&h.dir.join("trickle.bin"), 100_003);
    h.assert_clean();
}

#[test]
fn path_traversal_and_unsafe_names_are_refused() {
    let h = Harness::new("names", 1 << 20);
    let cases: [(&[u8], &str); 11] = [
        (b"../x", "path separator"),
        (b"/etc/passwd", "path separator"),
        (b"..\\x", "path separator"),
        (b"uploads/../../x", "path separator"),
        (b"C:x", "path separator"),
        (b"a\0b", "control character"),
        (b"a\x01b", "control character"),
        (b"", "empty"),
        (b".", "names a directory"),
        (b"..", "names a directory"),
        (b"\xff\xfe", "UTF-8"),
    ];
    for (name, needle) in cases {
        let response = h.upload(form(&[("file", Some(name), b"evil")]));
        assert_response_error(&response, StatusCode::BAD_REQUEST, needle);
    }
    // Nothing was written, in the upload directory or around it.
    assert!(h.files().is_empty(), "{:?}", h.files());
    assert_eq!(files_in(h.root.path()), Vec::<String>::new());
    h.assert_clean();
}

#[test]
fn too_large_by_content_length_is_refused_without_reading() {
    let h = Harness::new("large-cl", 1000);
    struct MustNotRead(Arc<AtomicBool>);
    impl Read for MustNotRead {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            self.0.store(true, Ordering::SeqCst);
            Ok(0)
        }
    }
    let read = Arc::new(AtomicBool::new(false));
    let (mut environ, _errors) = h
        .client
        .post("/upload")
        .header("content-type", &content_type())
        .environ();
    environ.content_length = Some(1001);
    environ
        .headers
        .insert(http::header::CONTENT_LENGTH, 1001u64.into());
    environ.input = Input::new(BufReader::new(MustNotRead(Arc::clone(&read))));
    let (output, outcome) = run(h.client.app(), environ, MemoryOutput::default());
    assert_output_error(&output, StatusCode::PAYLOAD_TOO_LARGE, "1000-byte limit");
    assert_no_failure(&outcome);
    assert!(!read.load(Ordering::SeqCst), "the body was read");

    // The same through an ordinary request with a Content-Length.
    let response = h.upload(file_form("big.bin", &[7; 2000]));
    assert_response_error(&response, StatusCode::PAYLOAD_TOO_LARGE, "limit");
    assert!(h.files().is_empty(), "{:?}", h.files());
    h.assert_clean();
}

#[test]
fn too_large_while_streaming_is_refused_and_the_partial_file_removed() {
    let h = Harness::new("large-stream", 200_000);
    let mut upload = GeneratedUpload::new("big.bin", 1_000_000);
    upload.max_read = 4096;
    let temp_seen = upload.watch_temp_files(&h.dir);
    let (output, outcome) = h.upload_from(upload);
    assert_output_error(
        &output,
        StatusCode::PAYLOAD_TOO_LARGE,
        "exceeds 200000 bytes",
    );
    assert_no_failure(&outcome);
    assert!(
        temp_seen.load(Ordering::SeqCst),
        "no partial file was ever written"
    );
    assert!(h.files().is_empty(), "{:?}", h.files());
    h.assert_clean();
}

#[test]
fn client_going_away_mid_upload_removes_the_temp_file_and_fails() {
    let h = Harness::new("gone", 1 << 30);
    let mut upload = GeneratedUpload::new("gone.bin", 1_000_000);
    upload.max_read = 4096;
    upload.fail_after = Some(300_000);
    let temp_seen = upload.watch_temp_files(&h.dir);
    let (_, outcome) = h.upload_from(upload);
    assert!(
        temp_seen.load(Ordering::SeqCst),
        "no partial file was ever written"
    );
    match outcome.failure {
        Some(Failure::AppError(message)) => {
            assert!(message.contains("client went away"), "{message}")
        }
        other => panic!("expected the app to return an error, got {other:?}"),
    }
    assert_eq!(outcome.status, Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert!(h.files().is_empty(), "{:?}", h.files());
}

#[test]
fn malformed_multipart_is_refused() {
    let h = Harness::new("malformed", 1 << 20);
    let head = String::from_utf8(part_head("file", Some(b"a.txt"))).unwrap();
    let disposition = "Content-Disposition: form-data; name=\"file\"";
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{head}partial content"),
            "before its closing boundary",
        ),
        ("just some bytes".to_owned(), "no boundary delimiter"),
        (format!("--{BOUNDARY}junk\r\n\r\n"), "followed by bytes"),
        (
            format!("--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--"),
            "no Content-Disposition",
        ),
        (
            format!("--{BOUNDARY}\r\nContent-Disposition form-data\r\n\r\nx\r\n--{BOUNDARY}--"),
            "no `:`",
        ),
        (
            format!("--{BOUNDARY}\r\n{disposition}; filename=\"a\r\n\r\nx\r\n--{BOUNDARY}--"),
            "not closed",
        ),
        (
            format!(
                "--{BOUNDARY}\r\n{disposition}; filename=a; filename=b\r\n\r\nx\r\n--{BOUNDARY}--"
            ),
            "appears twice",
        ),
        (
            format!("--{BOUNDARY}\r\n{disposition}"),
            "inside the headers",
        ),
        (
            format!("--{BOUNDARY}\r\nX-Pad: {}", "a".repeat(20_000)),
            "exceed",
        ),
    ];
    for (body, needle) in cases {
        let response = h.upload(body);
        assert_response_error(&response, StatusCode::BAD_REQUEST, needle);
    }
    assert!(h.files().is_empty(), "{:?}", h.files());
    h.assert_clean();
}

#[test]
fn missing_or_invalid_content_type_and_missing_file_part_are_refused() {
    let h = Harness::new("content-type", 1 << 20);
    let body = file_form("a.txt", b"x");
    let none = h.client.post("/upload").body(body.clone()).send();
    assert_response_error(&none, StatusCode::BAD_REQUEST, "no Content-Type");
    let cases = [
        (
            "application/x-www-form-urlencoded",
            "not multipart/form-data",
        ),
        ("multipart/form-data", "no boundary"),
        (
            "multipart/form-data; boundary=\"unclosed",
            "malformed parameters",
        ),
        ("multipart/form-data; boundary=", "is invalid"),
        ("multipart/form-data; boundary=a{b", "is invalid"),
    ];
    for (value, needle) in cases {
        let response = h
            .client
            .post("/upload")
            .header("content-type", value)
            .body(body.clone())
            .send();
        assert_response_error(&response, StatusCode::BAD_REQUEST, needle);
    }
    let no_file = h.upload(form(&[("note", None, b"hello")]));
    assert_response_error(&no_file, StatusCode::BAD_REQUEST, "no part named \"file\"");
    let not_a_file = h.upload(form(&[("file", None, b"hello")]));
    assert_response_error(&not_a_file, StatusCode::BAD_REQUEST, "no filename");
    let empty = h
        .client
        .post("/upload")
        .header("content-type", &content_type())
        .send();
    assert_response_error(&empty, StatusCode::BAD_REQUEST, "no boundary delimiter");
    assert!(h.files().is_empty(), "{:?}", h.files());
    h.assert_clean();
}

#[test]
fn duplicate_names_get_a_numeric_suffix() {
    let h = Harness::new("duplicate", 1 << 20);
    let names = ["report.txt", "report.txt", "report.txt", "README", "README"];
    for (i, name) in names.iter().enumerate() {
        let response = h.upload(file_form(name, format!("version {i}").as_bytes()));
        assert_eq!(response.body, OK_JSON);
        assert_no_failure(&response.outcome);
    }
    assert_eq!(
        h.files(),
        [
            "README",
            "README (1)",
            "report (1).txt",
            "report (2).txt",
            "report.txt"
        ]
    );
    let read = |name: &str| fs::read_to_string(h.dir.join(name)).unwrap();
    assert_eq!(read("report.txt"), "version 0");
    assert_eq!(read("report (1).txt"), "version 1");
    assert_eq!(read("report (2).txt"), "version 2");
    assert_eq!(read("README"), "version 3");
    assert_eq!(read("README (1)"), "version 4");
    h.assert_clean();
}

#[test]
fn parallel_uploads_of_one_name_never_overwrite_each_other() {
    let h = Harness::new("parallel", 1 << 20);
    std::thread::scope(|scope| {
        for i in 0..8 {
            let h = &h;
            scope.spawn(move || {
                // A panic here fails the test when the scope joins this thread.
                let response = h.upload(file_form("same.txt", format!("upload {i}").as_bytes()));
                assert_eq!(response.body, OK_JSON);
                assert_no_failure(&response.outcome);
            });
        }
    });
    let files = h.files();
    assert_eq!(files.len(), 8, "{files:?}");
    let mut contents: Vec<String> = files
        .iter()
        .map(|name| fs::read_to_string(h.dir.join(name)).unwrap())
        .collect();
    contents.sort();
    let expected: Vec<String> = (0..8).map(|i| format!("upload {i}")).collect();
    assert_eq!(contents, expected);
    assert!(files.contains(&"same.txt".to_owned()) && files.contains(&"same (7).txt".to_owned()));
    h.assert_clean();
}

#[test]
fn twenty_mib_upload_streams_through_a_bounded_buffer() {
    let h = Harness::new("twenty", 64 * 1024 * 1024);
    let (output, outcome) = h.upload_from(GeneratedUpload::new("big.bin", TWENTY_MIB));
    assert_upload_accepted(&output, &outcome);
    assert_eq!(h.files(), ["big.bin"]);
    assert_file_is_pattern(&h.dir.join("big.bin"), TWENTY_MIB);
    // The parser's one fixed buffer is all it held, whatever the file size.
    let largest = h.app.largest_parser_buffer();
    assert!(
        largest > 0 && largest <= multipart::BUFFER_BYTES,
        "{largest}"
    );
    h.assert_clean();
}

#[test]
fn parser_buffer_never_grows_while_streaming_twenty_mib() {
    let upload = GeneratedUpload::new("big.bin", TWENTY_MIB);
    let total = upload.total_len();
    let mut parser = Multipart::new(upload, BOUNDARY);
    let part = parser.next_part().unwrap().unwrap();
    assert_eq!(part.name, "file");
    assert_eq!(part.filename.as_deref(), Some(&b"big.bin"[..]));
    let mut received = 0u64;
    let mut largest_chunk = 0;
    while let Some(chunk) = parser.part_chunk().unwrap() {
        received += chunk.len() as u64;
        largest_chunk = largest_chunk.max(chunk.len());
        assert!(parser.buffer_capacity() <= multipart::BUFFER_BYTES);
    }
    assert_eq!(received, TWENTY_MIB);
    assert!(largest_chunk <= multipart::BUFFER_BYTES);
    assert!(parser.next_part().unwrap().is_none());
    assert_eq!(parser.bytes_read(), total);
    assert!(parser.buffer_capacity() <= multipart::BUFFER_BYTES);
}
