//! A built program of this crate as a child process: started on an ephemeral
//! loopback port, its error log read line by line, signalled, and waited for.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[allow(unused_imports)]
pub use fixtures::raw_client::{connect, Reader, WAIT};
pub use rustix::process::Signal;

pub mod steady_load;

/// The built `gateway-serve` binary.
pub fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gateway-serve"))
}

/// The tutorial's Flask app as a `--wsgi` target.
pub fn flask_app() -> String {
    format!(
        "{}/../examples/flask/app.py:app",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The `greeting` example, which `cargo test` builds next to the test binaries.
pub fn greeting_example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    let example = profile.join("examples").join("greeting");
    assert!(
        example.exists(),
        "{} is not built: run `cargo test -p gateway-serve` (which builds the examples) \
         or `cargo build -p gateway-serve --examples` first",
        example.display()
    );
    example
}

/// A running program and the lines of its error log.
pub struct Served {
    pub child: Child,
    pub addr: SocketAddr,
    log: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Served {
    /// Starts `program` on 127.0.0.1:0 with `args` and reads its address from the log.
    pub fn start(program: &Path, args: &[&str]) -> Self {
        Self::start_with_env(program, args, &[])
    }

    /// Like [`Served::start`], with extra environment variables.
    pub fn start_with_env(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(program);
        command
            .args(["--bind", "127.0.0.1:0", "--log-level", "info"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        Self::from_command(command)
    }

    /// Starts `command` as it is (its standard error is piped here), waits for its
    /// "serving on" line and takes the first `http://` address in it, if any.
    pub fn from_command(mut command: Command) -> Self {
        let mut child = command
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut served = Self {
            child,
            addr: "127.0.0.1:0".parse().unwrap(),
            log,
            seen: Vec::new(),
        };
        // A supervisor says "supervising ... on", a single process "serving on".
        let line =
            served.wait_for_log_matching(|l| l.contains("serving on") || l.contains("supervising"));
        if let Some(addr) = line.split("http://").nth(1) {
            let addr = addr.split([' ', ',']).next().unwrap();
            served.addr = addr.parse().unwrap();
        }
        served
    }

    /// Waits (at most [`WAIT`]) for a log line containing `text` and returns it.
    pub fn wait_for_log(&mut self, text: &str) -> String {
        self.wait_for_log_matching(|line| line.contains(text))
    }

    /// Waits (at most [`WAIT`]) for a log line `wanted` accepts and returns it.
    pub fn wait_for_log_matching(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line looked for came within {WAIT:?}; the log so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Every log line read so far, and those that arrive within a moment.
    pub fn log(&mut self) -> Vec<String> {
        while let Ok(line) = self.log.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(line);
        }
        self.seen.clone()
    }

    /// Sends `signal` to the program.
    pub fn signal(&self, signal: Signal) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("a live pid");
        rustix::process::kill_process(pid, signal).expect("send the signal");
    }

    /// Waits (at most [`WAIT`]) for the program to exit; kills it after that.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the program did not exit within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the program still runs.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs curl (bounded by its own --max-time); its stdout, or a panic with stderr.
pub fn curl(args: &[&str]) -> String {
    let output = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl is installed");
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
