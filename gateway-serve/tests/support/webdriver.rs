//! A headless Chromium driven by chromedriver (W3C WebDriver, JSON over HTTP on
//! loopback), enough to fill and submit a form; not a general WebDriver client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long chromedriver may take to listen, and Chromium to open a session.
const START_WAIT: Duration = Duration::from_secs(60);
/// How long one WebDriver command may take (a page load included).
const COMMAND_WAIT: Duration = Duration::from_secs(60);
/// How long a submitted form may take to show the next page.
const PAGE_WAIT: Duration = Duration::from_secs(60);
/// How long the session's shutdown may take before the processes are killed.
const QUIT_WAIT: Duration = Duration::from_secs(5);

/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The flags these machines need: no GPU, no sandbox (tests often run as root),
/// nothing that talks to the network on its own, and shared memory in /tmp
/// (containers often have a small /dev/shm, and Debian's launcher script may
/// fail to check its size).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
];

/// The page a form submission led to, as the browser saw it.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP status of the navigation (Navigation Timing's `responseStatus`).
    pub status: Option<u16>,
    /// The document's content type (`document.contentType`).
    pub content_type: String,
    /// The text the page shows (`document.body.innerText`).
    pub text: String,
}

/// A Chromium session; the driver and the browser are killed on drop.
pub struct Browser {
    driver: Child,
    driver_addr: SocketAddr,
    session: String,
    profile: tempfile::TempDir,
}

/// Chromium and chromedriver, installed from Debian's packages the first time
/// they are missing (as Django is installed into a virtualenv from PyPI), so that
/// `cargo test --workspace` needs nothing installed by hand on a Debian machine.
fn installed() -> &'static Result<(PathBuf, PathBuf), String> {
    static INSTALLED: OnceLock<Result<(PathBuf, PathBuf), String>> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let found = || Some((on_path("chromium")?, on_path("chromedriver")?));
        if let Some(both) = found() {
            return Ok(both);
        }
        let root = rustix::process::geteuid().is_root();
        let apt = |args: &[&str]| {
            let mut command = Command::new("timeout");
            command.arg("900");
            if !root {
                // Only when sudo needs no password: a test never prompts.
                command.args(["sudo", "-n"]);
            }
            command
                .args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-qq"])
                .args(args)
                .stdin(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        let _ = apt(&["update"]);
        let done = apt(&[
            "install",
            "-y",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
        ]);
        found().ok_or_else(|| {
            format!(
                "the browser tests need Chromium and chromedriver, which are not on PATH, \
                 and installing them failed (apt-get install {}): install them with \
                 `apt-get install chromium chromium-driver` as root",
                if done {
                    "succeeded, yet they are not on PATH"
                } else {
                    "failed"
                }
            )
        })
    })
}

/// The first `name` on PATH, as `command -v` finds it.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

impl Browser {
    /// Starts chromedriver on an ephemeral loopback port and opens a headless
    /// Chromium session with a fresh profile.
    ///
    /// # Panics
    ///
    /// When chromium or chromedriver is missing and cannot be installed (saying
    /// how to install them), or the browser does not start within a minute.
    pub fn start() -> Self {
        let (chromium, chromedriver) = installed().as_ref().unwrap_or_else(|why| panic!("{why}"));
        let profile = tempfile::tempdir().expect("a temporary Chromium profile");
        let mut driver = Command::new(chromedriver)
            .arg("--port=0")
            // Chromium keeps crash reports and dconf state under HOME whatever
            // --user-data-dir says: keep them in the throwaway profile too. (Its
            // crash handlers leave the process group, and exit with the browser.)
            .env("HOME", profile.path())
            .env("XDG_CONFIG_HOME", profile.path().join(".config"))
            .env("XDG_CACHE_HOME", profile.path().join(".cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, so that drop kills Chromium with it even when
            // the session cannot be closed politely.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let stdout = driver.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // Keep draining after the port line, so the driver never blocks on
                // a full pipe.
                let _ = tx.send(line);
            }
        });
        let mut browser = Self {
            driver,
            driver_addr: "127.0.0.1:0".parse().unwrap(),
            session: String::new(),
            profile,
        };
        browser.driver_addr = wait_for_port(&lines);
        let user_data_dir = format!("--user-data-dir={}", browser.profile.path().display());
        let mut args: Vec<&str> = CHROMIUM_ARGS.to_vec();
        args.push(&user_data_dir);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"pageLoad": 30_000, "script": 10_000, "implicit": 0},
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let session = browser
            .command("POST", "/session", Some(capabilities), START_WAIT)
            .unwrap_or_else(|e| panic!("open a Chromium session: {e}"));
        browser.session = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        browser
    }

    /// Opens `url`, puts `file` in the page's file input, clicks its submit
    /// button, and returns the page that follows.
    ///
    /// # Panics
    ///
    /// When a WebDriver command fails or no new page shows within a minute.
    pub fn submit_file(&self, url: &str, file: &Path) -> Page {
        self.session_command("POST", "/url", json!({ "url": url }));
        // The next page is the first document without this mark.
        self.session_command(
            "POST",
            "/execute/sync",
            json!({"script": "window.__formPage = true;", "args": []}),
        );
        let input = self.find("input[type=file]");
        let path = file.to_str().expect("a UTF-8 path");
        self.session_command(
            "POST",
            &format!("/element/{input}/value"),
            json!({ "text": path }),
        );
        let submit = self.find("[type=submit]");
        self.session_command("POST", &format!("/element/{submit}/click"), json!({}));
        self.wait_for_next_page()
    }

    fn wait_for_next_page(&self) -> Page {
        const NEXT_PAGE: &str = "if (window.__formPage || document.readyState !== 'complete') \
            return null; \
            const nav = performance.getEntriesByType('navigation')[0]; \
            return {status: nav ? nav.responseStatus : null, \
                    contentType: document.contentType, \
                    text: document.body ? document.body.innerText : ''};";
        let deadline = Instant::now() + PAGE_WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            let path = format!("/session/{}/execute/sync", self.session);
            let body = json!({"script": NEXT_PAGE, "args": []});
            match self.command("POST", &path, Some(body), COMMAND_WAIT) {
                Ok(Value::Null) => last = "the form page is still shown".into(),
                Ok(page) => {
                    return Page {
                        status: page["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
                        content_type: page["contentType"].as_str().unwrap_or("").to_owned(),
                        text: page["text"].as_str().unwrap_or("").to_owned(),
                    }
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no page followed the form submission within {PAGE_WAIT:?}: {last}");
    }

    fn find(&self, css: &str) -> String {
        let found = self.session_command(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        found[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("no element reference for {css:?}: {found}"))
            .to_owned()
    }

    fn session_command(&self, method: &str, path: &str, body: Value) -> Value {
        let full = format!("/session/{}{path}", self.session);
        self.command(method, &full, Some(body), COMMAND_WAIT)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// One WebDriver command: its `value`, or the error it reported.
    fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        wait: Duration,
    ) -> Result<Value, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, answer) = http(self.driver_addr, method, path, &body, wait)
            .map_err(|e| format!("talking to chromedriver failed: {e}"))?;
        let answer: Value = serde_json::from_slice(&answer).map_err(|e| {
            format!(
                "status {status}, not JSON ({e}): {}",
                String::from_utf8_lossy(&answer)
            )
        })?;
        let value = answer["value"].clone();
        match status {
            200 => Ok(value),
            _ => Err(format!(
                "status {status}: {} ({})",
                value["error"],
                value["message"].as_str().unwrap_or("")
            )),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = http(self.driver_addr, "DELETE", &path, "", QUIT_WAIT);
        }
        // The group holds chromedriver and every Chromium process it started.
        if let Some(group) = rustix::process::Pid::from_raw(self.driver.id() as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Reads chromedriver's "started successfully on port N" from its stdout.
fn wait_for_port(lines: &mpsc::Receiver<String>) -> SocketAddr {
    let deadline = Instant::now() + START_WAIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let port = line
                    .split("started successfully on port ")
                    .nth(1)
                    .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
                if let Some(port) = port {
                    return SocketAddr::from(([127, 0, 0, 1], port));
                }
                seen.push(line);
            }
            Err(_) => panic!(
                "chromedriver did not report its port within {START_WAIT:?}; its output:\n{}",
                seen.join("\n")
            ),
        }
    }
}

/// One HTTP/1.1 exchange on a new connection: the status and the body. Every
/// read and write is bounded by `wait`, and the whole exchange by twice that.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    wait: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let deadline = Instant::now() + 2 * wait;
    let mut stream = TcpStream::connect_timeout(&addr, wait)?;
    stream.set_read_timeout(Some(wait))?;
    stream.set_write_timeout(Some(wait))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let broken = |why: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_owned());
    let (head_end, status, length) = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or_else(|| broken("a malformed status line"))?;
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            break (end + 4, status, length);
        }
        if Instant::now() > deadline {
            return Err(broken("the response head took too long"));
        }
        match stream.read(&mut chunk)? {
            0 => return Err(broken("the connection closed before the response head")),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    };
    // Without a Content-Length the body ends with the connection (Connection: close).
    while length.is_none_or(|len| buf.len() < head_end + len) {
        if Instant::now() > deadline {
            return Err(broken("the response body took too long"));
        }
        match stream.read(&mut chunk)? {
            0 if length.is_none() => break,
            0 => return Err(broken("the connection closed mid-body")),
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Ok((status, buf.split_off(head_end)))
}
