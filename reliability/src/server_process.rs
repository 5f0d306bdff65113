//! The server under test as a child process: `fixture-server` (the fixture app
//! through `gateway_serve::main`) on an ephemeral loopback port, its /proc figures,
//! and a stop by signal.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `fixture-server`.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

/// Figures read from /proc for the server process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    pub threads: u64,
    pub fds: u64,
    /// Open sockets (listener included): the descriptors clients can leak.
    pub sockets: u64,
    /// User plus system CPU time, in clock ticks (1/100 s on Linux).
    pub cpu_ticks: u64,
}

impl ServerProcess {
    /// Starts the server with `args` after the fixed ones; `nofile` lowers its open
    /// file limit through the shell's `ulimit -n`.
    pub fn start(server: &Path, args: &[&str], nofile: Option<u32>) -> Self {
        let mut command = match nofile {
            Some(limit) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(server);
                c
            }
            None => Command::new(server),
        };
        command
            .args(["--bind", "127.0.0.1:0", "--log-level", "info"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start the server under test");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("http://").nth(1) {
                        let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                    }
                    log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .ok()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("the server did not report its address within 10 s")
            });
        Self { child, addr, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU the server uses over `window` (slept through), in percent of one core.
    pub fn cpu_percent(&self, window: Duration) -> f64 {
        let before = self.stats().cpu_ticks;
        std::thread::sleep(window);
        let after = self.stats().cpu_ticks;
        (after - before) as f64 / window.as_secs_f64()
    }

    /// The current /proc figures.
    pub fn stats(&self) -> ProcStats {
        let pid = self.pid();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Fields after the command name, which is in parentheses and may hold spaces.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let numbers: Vec<u64> = after
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let cpu_ticks =
            numbers.get(11).copied().unwrap_or(0) + numbers.get(12).copied().unwrap_or(0);
        let links: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .map(|target| target.to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let fds = links.len() as u64;
        let sockets = links.iter().filter(|l| l.starts_with("socket:")).count() as u64;
        ProcStats {
            rss_kib: field("VmRSS:"),
            peak_rss_kib: field("VmHWM:"),
            threads: field("Threads:"),
            fds,
            sockets,
            cpu_ticks,
        }
    }

    /// Every line the server logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = i32::try_from(self.pid())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }

    /// Waits for the exit, at most `timeout`; kills it after that.
    pub fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server: SIGTERM, then SIGKILL after a grace period.
    pub fn stop(mut self) -> Option<ExitStatus> {
        self.terminate();
        self.wait(Duration::from_secs(10))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
