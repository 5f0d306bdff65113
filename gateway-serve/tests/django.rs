//! Django 5.2 on the built `gateway-serve --wsgi` (tests/apps/django_site.py): a
//! hello view, a CSRF-protected form post, a multipart upload, and a chunked post
//! with and without `--buffer-chunked`. Django comes from a virtualenv, made here
//! (from PyPI) when it is missing.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use support::{curl, exe, Served, Signal};

/// The virtualenv with Django 5.2: `$GATEWAY_TEST_VENV`, else `target/venv` of
/// the workspace, created with `pip install django==5.2.*` if it lacks Django.
fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = std::env::var_os("GATEWAY_TEST_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/venv"));
        let python = venv.join("bin/python");
        let has_django = || {
            Command::new(&python)
                .args(["-c", "import django; assert django.VERSION[:2] == (5, 2)"])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has_django() {
            let made = Command::new("timeout")
                .args(["300", "python3", "-m", "venv", "--system-site-packages"])
                .arg(&venv)
                .status()
                .expect("python3 runs");
            assert!(
                made.success(),
                "cannot create the virtualenv {}",
                venv.display()
            );
            let installed = Command::new("timeout")
                .arg("600")
                .arg(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "django==5.2.*",
                ])
                .status()
                .expect("pip runs");
            assert!(
                installed.success(),
                "pip could not install Django 5.2 into {}",
                venv.display()
            );
            assert!(
                has_django(),
                "Django 5.2 is still missing from {}",
                venv.display()
            );
        }
        venv
    })
}

fn start(extra: &[&str]) -> Served {
    let site = format!(
        "{}/tests/apps/django_site.py:application",
        env!("CARGO_MANIFEST_DIR")
    );
    let venv = venv().to_str().unwrap().to_owned();
    let mut args = vec!["--processes", "1", "--venv", &venv, "--wsgi", &site];
    args.extend_from_slice(extra);
    Served::start(&exe(), &args)
}

fn stop(mut served: Served) {
    served.signal(Signal::TERM);
    assert!(served.wait_exit().success());
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn data_file(dir: &Path, len: usize) -> PathBuf {
    let path = dir.join("data.bin");
    std::fs::write(
        &path,
        (0..len).map(|i| (i * 7 % 256) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    path
}

#[test]
fn django_says_hello_checks_csrf_and_takes_a_multipart_upload() {
    let served = start(&[]);
    let base = format!("http://{}", served.addr);
    assert_eq!(curl(&[&base]), "Hello from Django");

    let jar = tempfile::NamedTempFile::new().unwrap();
    let jar = jar.path().to_str().unwrap();
    let page = curl(&["-c", jar, &format!("{base}/form")]);
    let token = page
        .split("value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token");
    let referer = format!("Referer: {base}/form");
    let posted = curl(&[
        "-b",
        jar,
        "-H",
        &referer,
        "-d",
        &format!("csrfmiddlewaretoken={token}&name=Ada"),
        &format!("{base}/form"),
    ]);
    assert_eq!(posted, "thanks, Ada");
    let forged = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-d",
        "name=Eve",
        &format!("{base}/form"),
    ]);
    assert_eq!(forged, "403", "a post without the token must be refused");

    let dir = tempfile::tempdir().unwrap();
    let file = data_file(dir.path(), 3 << 20);
    let answer = curl(&[
        "-F",
        &format!("file=@{}", file.display()),
        &format!("{base}/upload"),
    ]);
    assert!(answer.contains(&sha256(&file)), "{answer}");
    assert!(answer.contains(r#""size": 3145728"#), "{answer}");
    stop(served);
}

#[test]
fn a_chunked_post_reaches_request_body_only_with_buffer_chunked() {
    let dir = tempfile::tempdir().unwrap();
    let file = data_file(dir.path(), 200_000);
    let post = |base: &str| {
        curl(&[
            "-H",
            "Transfer-Encoding: chunked",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", file.display()),
            &format!("{base}/body"),
        ])
    };
    // Django reads a body without CONTENT_LENGTH as empty: the documented default.
    let served = start(&[]);
    let answer = post(&format!("http://{}", served.addr));
    assert!(answer.contains(r#""length": 0"#), "{answer}");
    stop(served);
    let served = start(&["--buffer-chunked", "1MiB"]);
    let answer = post(&format!("http://{}", served.addr));
    assert!(answer.contains(r#""length": 200000"#), "{answer}");
    assert!(answer.contains(&sha256(&file)), "{answer}");
    stop(served);
}
