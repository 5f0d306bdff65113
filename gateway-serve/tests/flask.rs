//! The tutorial's Flask app (`examples/flask/app.py`) on the built
//! `gateway-serve --wsgi`: hello, the form, and uploads stored byte-identical.

mod support;

use std::path::{Path, PathBuf};

use support::{curl, exe, flask_app, Served, Signal};

fn ten_mib_file(dir: &Path) -> PathBuf {
    let path = dir.join("big.bin");
    let mut data = Vec::with_capacity(10 << 20);
    let mut x: u32 = 12345;
    while data.len() < 10 << 20 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        data.push((x >> 16) as u8);
    }
    std::fs::write(&path, data).unwrap();
    path
}

#[test]
fn hello_the_form_and_a_10_mib_upload_plain_and_chunked_are_stored_byte_identical() {
    let uploads = tempfile::tempdir().unwrap();
    let source = tempfile::tempdir().unwrap();
    let big = ten_mib_file(source.path());
    let mut served = Served::start_with_env(
        &exe(),
        &["--processes", "1", "--wsgi", &flask_app()],
        &[("UPLOAD_DIR", uploads.path().to_str().unwrap())],
    );
    let base = format!("http://{}", served.addr);
    assert_eq!(curl(&[&base]), "Hello, World!");
    assert!(curl(&[&format!("{base}/upload")]).contains(r#"enctype="multipart/form-data""#));
    let field = format!("file=@{}", big.display());
    let answer = curl(&["-F", &field, &format!("{base}/upload")]);
    assert!(answer.contains(r#""status":"ok""#), "{answer}");
    let stored = std::fs::read(uploads.path().join("big.bin")).unwrap();
    assert!(
        stored == std::fs::read(&big).unwrap(),
        "the plain upload differs"
    );
    std::fs::remove_file(uploads.path().join("big.bin")).unwrap();
    let answer = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-F",
        &field,
        &format!("{base}/upload"),
    ]);
    assert!(answer.contains(r#""status":"ok""#), "{answer}");
    let stored = std::fs::read(uploads.path().join("big.bin")).unwrap();
    assert!(
        stored == std::fs::read(&big).unwrap(),
        "the chunked upload differs"
    );
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}
