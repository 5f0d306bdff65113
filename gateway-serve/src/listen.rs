//! Where the command listens: each `--bind` (host:port, `unix:PATH`, `fd://N`) and
//! the sockets a service manager passed (systemd socket activation), in order.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use clap::Args;
use listenfd::ListenFd;
use reference_server::{BindAddr, BindOptions, Listener, DEFAULT_BACKLOG};

/// Where to listen when no `--bind` is given and no socket was passed.
pub const DEFAULT_BIND: &str = "127.0.0.1:8000";

/// The first descriptor of the socket-activation protocol (`SD_LISTEN_FDS_START`).
const FIRST_PASSED_FD: u32 = 3;

/// One `--bind` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindTarget {
    /// An address to bind: `host:port` or `unix:PATH`.
    Addr(BindAddr),
    /// `fd://N`: descriptor N, passed by a service manager under the
    /// socket-activation protocol (`LISTEN_FDS`; N from 3).
    Fd(u32),
}

impl FromStr for BindTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if let Some(number) = text.strip_prefix("fd://") {
            return match number.parse::<u32>() {
                Ok(fd) if fd >= FIRST_PASSED_FD && number.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Self::Fd(fd))
                }
                _ => Err(format!(
                    "{text:?} is not fd://N with N a passed descriptor (3 or more, as systemd passes them)"
                )),
            };
        }
        text.parse().map(Self::Addr).map_err(|e| e.to_string())
    }
}

impl fmt::Display for BindTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr(addr) => addr.fmt(f),
            Self::Fd(fd) => write!(f, "fd://{fd}"),
        }
    }
}

/// The listening flags.
#[derive(Debug, Clone, Args)]
pub struct ListenArgs {
    /// Where to listen; repeat it (or separate with commas in the variable) for
    /// several: host:port (an IPv6 host in brackets, `[::1]:8000`), unix:PATH, or
    /// fd://N (a socket passed by systemd). [default: the sockets systemd passed
    /// (LISTEN_FDS), else 127.0.0.1:8000]
    #[arg(long, env = "GATEWAY_BIND", value_delimiter = ',', value_parser = BindTarget::from_str)]
    pub bind: Vec<BindTarget>,

    /// Length of the queue of connections the kernel completed and the server has
    /// not taken yet (capped by net.core.somaxconn).
    #[arg(long, env = "GATEWAY_BACKLOG", default_value_t = DEFAULT_BACKLOG,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub backlog: u32,

    /// Set SO_REUSEPORT on TCP sockets, so that several independent servers can
    /// bind the same port and the kernel spreads connections among them.
    #[arg(long, env = "GATEWAY_REUSE_PORT")]
    pub reuse_port: bool,

    /// Permission bits of the Unix socket files this server creates, in octal
    /// (such as 660); unset, the umask decides.
    #[arg(long, env = "GATEWAY_UNIX_SOCKET_MODE", value_parser = parse_mode)]
    pub unix_socket_mode: Option<u32>,
}

fn parse_mode(text: &str) -> Result<u32, String> {
    match u32::from_str_radix(text.trim_start_matches("0o"), 8) {
        Ok(mode) if mode <= 0o777 => Ok(mode),
        _ => Err(format!(
            "{text:?} is not a mode: write octal permission bits, such as 660 or 600"
        )),
    }
}

/// The sockets a service manager passed this process, taken from the environment
/// once (before any thread starts: taking them unsets `LISTEN_FDS`).
static PASSED: Mutex<Option<Passed>> = Mutex::new(None);

struct Passed {
    fds: ListenFd,
    names: Vec<String>,
}

/// Takes the passed sockets out of the environment; call it first thing in `main`,
/// before threads start. Later calls do nothing.
pub(crate) fn take_passed_sockets() {
    let mut passed = PASSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if passed.is_none() {
        let names = std::env::var("LISTEN_FDNAMES")
            .map(|names| names.split(':').map(str::to_owned).collect())
            .unwrap_or_default();
        *passed = Some(Passed {
            fds: ListenFd::from_env(),
            names,
        });
    }
}

impl ListenArgs {
    /// How sockets are bound.
    pub fn options(&self) -> BindOptions {
        BindOptions {
            backlog: self.backlog,
            reuse_port: self.reuse_port,
            unix_mode: self.unix_socket_mode,
        }
    }

    /// Binds or adopts every listener: the `--bind` values in order, or without
    /// any, the passed sockets, else [`DEFAULT_BIND`]; each with the name the log
    /// shows (as bound, so an ephemeral port shows its number; a passed socket with
    /// its descriptor and name). A passed socket no `--bind` names is closed.
    pub(crate) fn open(&self) -> Result<Vec<(Listener, String)>, String> {
        take_passed_sockets();
        let mut guard = PASSED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let passed = guard.as_mut().expect("taken just above");
        let options = self.options();
        let count = passed.fds.len();
        let targets: Vec<BindTarget> = if !self.bind.is_empty() {
            self.bind.clone()
        } else if count > 0 {
            (0..count)
                .map(|i| BindTarget::Fd(FIRST_PASSED_FD + i as u32))
                .collect()
        } else {
            vec![BindTarget::Addr(
                DEFAULT_BIND.parse().expect("the default is an address"),
            )]
        };
        let mut listeners = Vec::new();
        for target in &targets {
            let (listener, passed_as) = match target {
                BindTarget::Addr(addr) => (
                    Listener::bind(addr, &options).map_err(|e| e.to_string())?,
                    None,
                ),
                BindTarget::Fd(fd) => {
                    let index = (fd - FIRST_PASSED_FD) as usize;
                    let name = match passed.names.get(index).filter(|n| !n.is_empty()) {
                        Some(name) => format!("fd://{fd} ({name})"),
                        None => format!("fd://{fd}"),
                    };
                    (adopt(&mut passed.fds, index, *fd)?, Some(name))
                }
            };
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            let shown = match passed_as {
                Some(name) => format!("{bound} ({name})"),
                None => bound.to_string(),
            };
            listeners.push((listener, shown));
        }
        for index in 0..count {
            // Taking it closes it as it drops (one already taken gives nothing): a
            // socket nobody serves must not hold clients in its backlog.
            let closed = matches!(passed.fds.take_tcp_listener(index), Ok(Some(_)))
                || matches!(passed.fds.take_unix_listener(index), Ok(Some(_)));
            if closed {
                let fd = FIRST_PASSED_FD as usize + index;
                log::warn!("fd://{fd} was passed but no --bind names it; it is closed");
            }
        }
        Ok(listeners)
    }
}

/// Adopts every passed socket, in order, whatever `--bind` says: what a worker
/// under `--processes` serves (its supervisor bound the `--bind` values).
pub(crate) fn open_passed() -> Result<Vec<(Listener, String)>, String> {
    take_passed_sockets();
    let mut guard = PASSED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let passed = guard.as_mut().expect("taken just above");
    if passed.fds.len() == 0 {
        return Err("this worker process got no sockets from its supervisor (LISTEN_FDS)".into());
    }
    (0..passed.fds.len())
        .map(|index| {
            let fd = FIRST_PASSED_FD + index as u32;
            let listener = adopt(&mut passed.fds, index, fd)?;
            let shown = listener
                .local_addr()
                .map_err(|e| e.to_string())?
                .to_string();
            Ok((listener, shown))
        })
        .collect()
}

/// The passed socket at `index` (descriptor `fd`), TCP or Unix.
fn adopt(fds: &mut ListenFd, index: usize, fd: u32) -> Result<Listener, String> {
    if index >= fds.len() {
        return Err(match fds.len() {
            0 => format!(
                "--bind fd://{fd}: no sockets were passed (LISTEN_FDS is unset, or LISTEN_PID names another process); start it from a systemd socket unit, or bind an address"
            ),
            n => format!(
                "--bind fd://{fd}: only {n} socket(s) were passed, fd://3 to fd://{}",
                FIRST_PASSED_FD as usize + n - 1
            ),
        });
    }
    if let Ok(Some(listener)) = fds.take_tcp_listener(index) {
        return Ok(Listener::from(listener));
    }
    match fds.take_unix_listener(index) {
        Ok(Some(listener)) => Ok(Listener::from(listener)),
        Ok(None) => Err(format!("--bind fd://{fd} is named twice")),
        Err(e) => Err(format!(
            "--bind fd://{fd}: the passed descriptor is not a listening TCP or Unix stream socket ({e})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_targets_parse_or_say_what_to_write() {
        assert_eq!("fd://3".parse(), Ok(BindTarget::Fd(3)));
        assert_eq!(
            "unix:/run/a.sock".parse(),
            Ok(BindTarget::Addr(BindAddr::Unix("/run/a.sock".into())))
        );
        assert_eq!(
            "[::1]:8000".parse(),
            Ok(BindTarget::Addr(BindAddr::Tcp("[::1]:8000".into())))
        );
        for bad in ["fd://0", "fd://2", "fd://x", "fd://+4", "fd://"] {
            let error = bad.parse::<BindTarget>().unwrap_err();
            assert!(error.contains("fd://N"), "{bad}: {error}");
        }
        let error = "localhost".parse::<BindTarget>().unwrap_err();
        assert!(error.contains("host:port"), "{error}");
    }

    #[test]
    fn modes_are_octal_permission_bits() {
        assert_eq!(parse_mode("660"), Ok(0o660));
        assert_eq!(parse_mode("0o600"), Ok(0o600));
        assert_eq!(parse_mode("0777"), Ok(0o777));
        for bad in ["888", "1777", "rw", ""] {
            assert!(parse_mode(bad).unwrap_err().contains("octal"), "{bad}");
        }
    }
}
