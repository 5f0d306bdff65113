//! A real browser (headless Chromium) submits the upload form of the Flask app and
//! of the Rust demo, each on the built `gateway-serve`; needs chromium and chromedriver.

mod support;
#[path = "support/webdriver.rs"]
mod webdriver;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use support::{exe, flask_app, Served, Signal};
use webdriver::{Browser, Page};

/// A file name with a space and non-ASCII letters (NFC, as typed).
const ACCENTED_NAME: &str = "résumé café.bin";

/// `len` pseudo-random bytes (xorshift64*), the same on every run.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    let mut data = Vec::with_capacity(len + 8);
    while data.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        data.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    data.truncate(len);
    data
}

/// The two files the browser uploads: a few MiB of random bytes, and a small one
/// under [`ACCENTED_NAME`].
struct Sources {
    _dir: tempfile::TempDir,
    big: PathBuf,
    accented: PathBuf,
}

fn sources() -> Sources {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("random.bin");
    // Not a multiple of any buffer size, so a lost or doubled tail shows.
    std::fs::write(
        &big,
        random_bytes((4 << 20) + 12_345, 0x9e37_79b9_7f4a_7c15),
    )
    .unwrap();
    let accented = dir.path().join(ACCENTED_NAME);
    std::fs::write(&accented, random_bytes(70_001, 42)).unwrap();
    Sources {
        _dir: dir,
        big,
        accented,
    }
}

/// Every file in `dir`, by name, with its contents.
fn stored(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().expect("a UTF-8 name");
            (name, std::fs::read(entry.path()).unwrap())
        })
        .collect()
}

/// Submits each file through the form at `url`, one page load each.
fn upload_in_browser(url: &str, files: &[&Path]) -> Vec<Page> {
    let browser = Browser::start();
    files
        .iter()
        .map(|file| browser.submit_file(url, file))
        .collect()
}

fn assert_uploaded(pages: &[Page]) {
    for page in pages {
        assert_eq!(page.status, Some(200), "{page:?}");
        assert_eq!(page.content_type, "application/json", "{page:?}");
        assert!(page.text.contains(r#""status":"ok""#), "{page:?}");
    }
}

#[test]
fn the_demo_stores_what_a_browser_submits_byte_identical_under_the_names_it_sent() {
    let sources = sources();
    let uploads = tempfile::tempdir().unwrap();
    let mut served = Served::start(
        &exe(),
        &[
            "--app",
            "demo",
            "--upload-dir",
            uploads.path().to_str().unwrap(),
        ],
    );
    let url = format!("http://{}/upload", served.addr);
    let pages = upload_in_browser(&url, &[&sources.big, &sources.accented]);
    assert_uploaded(&pages);
    // The demo keeps the client's name as sent, only trimmed of surrounding spaces
    // (demo/src/upload.rs, "Naming policy"): the space and the accents stay.
    let files = stored(uploads.path());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(names, ["random.bin", ACCENTED_NAME]);
    assert!(files["random.bin"] == std::fs::read(&sources.big).unwrap());
    assert!(files[ACCENTED_NAME] == std::fs::read(&sources.accented).unwrap());
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

#[test]
fn flask_stores_what_a_browser_submits_byte_identical_under_secure_filename_names() {
    let sources = sources();
    let uploads = tempfile::tempdir().unwrap();
    let mut served = Served::start_with_env(
        &exe(),
        &["--processes", "1", "--wsgi", &flask_app()],
        &[("UPLOAD_DIR", uploads.path().to_str().unwrap())],
    );
    let url = format!("http://{}/upload", served.addr);
    let pages = upload_in_browser(&url, &[&sources.big, &sources.accented]);
    assert_uploaded(&pages);
    // The app saves under werkzeug's secure_filename, which is ASCII only: it
    // NFKD-decomposes and drops non-ASCII (é becomes e) and joins words with `_`.
    let flask_name = "resume_cafe.bin";
    let files = stored(uploads.path());
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(names, ["random.bin", flask_name]);
    assert!(files["random.bin"] == std::fs::read(&sources.big).unwrap());
    assert!(files[flask_name] == std::fs::read(&sources.accented).unwrap());
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}
