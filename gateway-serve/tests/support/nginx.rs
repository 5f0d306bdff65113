//! A real nginx in the foreground for tests: its whole configuration, logs, pid and
//! temp files in a temp dir, listening on a free loopback port, stopped on drop.

// Each test file uses a different part of it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long nginx may take to start listening.
const START_WAIT: Duration = Duration::from_secs(10);
/// How long nginx may take to stop after SIGTERM before it is killed.
const STOP_WAIT: Duration = Duration::from_secs(5);
/// Starts tried when the free port picked was taken before nginx could bind it.
const PORT_TRIES: usize = 5;

/// The proxy headers of the shipped site, so a test sees what production sends.
pub const PROXY_HEADERS: &str = "\
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;";

/// The upstream settings of a keep-alive pool: HTTP/1.1 without `Connection: close`.
pub const KEEPALIVE_PROXY: &str = "\
    proxy_http_version 1.1;
    proxy_set_header Connection \"\";";

/// The nginx binary: the first `nginx` on PATH, else Debian's `/usr/sbin/nginx`
/// (not on a normal user's PATH).
///
/// # Panics
///
/// When there is none, saying how to install it: these tests never pass without it.
pub fn binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("nginx"))
            .find(|candidate| candidate.is_file())
    });
    let found = on_path.or_else(|| {
        let debian = PathBuf::from("/usr/sbin/nginx");
        debian.is_file().then_some(debian)
    });
    found.unwrap_or_else(|| {
        panic!(
            "these tests run gateway-serve behind a real nginx, and no nginx is installed \
             (not on PATH, no /usr/sbin/nginx): install Debian's nginx-light \
             (`apt-get install nginx-light`), as .ci/run does"
        )
    })
}

/// The main configuration around `http`: one process in the foreground, every
/// file nginx writes under `prefix`, so the system's configuration, logs and port
/// 80 are never touched.
pub fn main_config(prefix: &Path, http: &str) -> String {
    let p = prefix.display();
    format!(
        "daemon off;
master_process off;
pid {p}/nginx.pid;
error_log {p}/error.log info;
events {{
    worker_connections 128;
}}
http {{
    log_format upstream '$remote_addr \"$request\" $status up=$upstream_addr';
    access_log {p}/access.log upstream;
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
{http}
}}
"
    )
}

/// Runs `nginx -t` on `config` (a whole main configuration) with `prefix` as its
/// prefix; whether it passed, and its output.
pub fn test_config(prefix: &Path, config: &str) -> (bool, String) {
    let path = prefix.join("nginx.conf");
    std::fs::write(&path, config).expect("write nginx.conf");
    let output = nginx_command(prefix, &path)
        .arg("-t")
        .stdin(Stdio::null())
        .output()
        .expect("run nginx -t");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn nginx_command(prefix: &Path, config: &Path) -> Command {
    let mut command = Command::new(binary());
    // -e: the error log before the configuration is read, else nginx opens the
    // system's /var/log/nginx/error.log first.
    command
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(config)
        .arg("-e")
        .arg(prefix.join("error.log"));
    command
}

/// A running nginx; killed (with the whole temp dir removed) on drop.
pub struct Nginx {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    prefix: tempfile::TempDir,
}

impl Nginx {
    /// Starts nginx with `upstreams` (`upstream` blocks) and a server whose body
    /// is `server` (locations and settings), listening on a free 127.0.0.1 port.
    ///
    /// # Panics
    ///
    /// When nginx is missing, refuses the configuration, or does not listen within
    /// [`START_WAIT`].
    pub fn start(upstreams: &str, server: &str) -> Self {
        let mut last_error = String::new();
        for _ in 0..PORT_TRIES {
            let port = free_port();
            let http = format!(
                "{upstreams}
    server {{
        listen 127.0.0.1:{port};
        server_name _;
{server}
    }}"
            );
            match Self::try_start(&http, port) {
                Ok(nginx) => return nginx,
                // Another process took the port between its release and nginx's bind.
                Err(log) if log.contains("Address already in use") => last_error = log,
                Err(log) => panic!("nginx did not start; its error log:\n{log}"),
            }
        }
        panic!("nginx found no free port in {PORT_TRIES} tries; the last error log:\n{last_error}")
    }

    fn try_start(http: &str, port: u16) -> Result<Self, String> {
        let prefix = tempfile::tempdir().expect("a temp dir for nginx");
        let config = prefix.path().join("nginx.conf");
        std::fs::write(&config, main_config(prefix.path(), http)).expect("write nginx.conf");
        let child = nginx_command(prefix.path(), &config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            prefix,
        };
        let deadline = Instant::now() + START_WAIT;
        loop {
            if let Some(status) = nginx.child.try_wait().expect("poll nginx") {
                return Err(format!("(exit {status})\n{}", nginx.error_log()));
            }
            if TcpStream::connect(nginx.addr).is_ok() {
                return Ok(nginx);
            }
            if Instant::now() > deadline {
                panic!(
                    "nginx did not listen on {} within {START_WAIT:?}; its error log:\n{}",
                    nginx.addr,
                    nginx.error_log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("error.log")).unwrap_or_default()
    }

    /// nginx's access log so far: `$remote_addr "$request" $status up=$upstream_addr`.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.prefix.path().join("access.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM is nginx's fast stop; a kill after a bounded wait.
            if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let deadline = Instant::now() + STOP_WAIT;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port that was free a moment ago: nginx cannot listen on port 0, so one is
/// bound on 127.0.0.1 and released for it ([`Nginx::start`] retries a collision).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("the bound address").port()
}
