//! The sockets a server listens on: TCP or Unix-domain, bound here (backlog,
//! `SO_REUSEPORT`, a Unix socket's mode and stale file) or adopted from elsewhere.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use socket2::{Domain, Protocol, Socket, Type};

use crate::server::ServeError;

/// The listen backlog when none is asked for: the kernel caps it at
/// `net.core.somaxconn`.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// Where to listen, as an operator writes it: `host:port` (an IPv6 host in
/// brackets) or `unix:PATH`.
///
/// ```
/// use reference_server::BindAddr;
///
/// assert_eq!("unix:/run/app.sock".parse::<BindAddr>().unwrap(), BindAddr::Unix("/run/app.sock".into()));
/// assert_eq!("[::1]:8000".parse::<BindAddr>().unwrap(), BindAddr::Tcp("[::1]:8000".into()));
/// assert!("8000".parse::<BindAddr>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// A TCP address, `host:port`, resolved when bound.
    Tcp(String),
    /// A Unix-domain socket at this path.
    Unix(PathBuf),
}

/// Why a `--bind` value is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindAddrError {
    /// `unix:` with nothing after it.
    #[error("{0:?} names no socket path: write unix:/path/to/socket")]
    EmptyUnixPath(String),
    /// Not `host:port`.
    #[error("{0:?} is not host:port: write e.g. 127.0.0.1:8000, [::1]:8000 or unix:/run/app.sock")]
    NotHostPort(String),
}

impl FromStr for BindAddr {
    type Err = BindAddrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(BindAddrError::EmptyUnixPath(text.to_owned()));
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        let well_formed = text.rsplit_once(':').is_some_and(|(host, port)| {
            let bracketed = host.starts_with('[') && host.ends_with(']');
            // An IPv6 host goes in brackets, so that its port cannot be mistaken.
            let host_ok = !host.is_empty() && (bracketed || !host.contains([':', '[', ']']));
            host_ok
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok()
        });
        if !well_formed {
            return Err(BindAddrError::NotHostPort(text.to_owned()));
        }
        Ok(Self::Tcp(text.to_owned()))
    }
}

impl fmt::Display for BindAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => f.write_str(addr),
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// How to bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindOptions {
    /// The listen backlog (capped by the kernel's `net.core.somaxconn`).
    pub backlog: u32,
    /// `SO_REUSEPORT` on TCP sockets: several processes bind the same port and the
    /// kernel spreads connections among them.
    pub reuse_port: bool,
    /// The permission bits a Unix socket file gets (such as `0o660`); `None`
    /// leaves what the umask gave.
    pub unix_mode: Option<u32>,
}

impl Default for BindOptions {
    fn default() -> Self {
        Self {
            backlog: DEFAULT_BACKLOG,
            reuse_port: false,
            unix_mode: None,
        }
    }
}

/// A listening socket.
#[derive(Debug)]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix-domain.
    Unix {
        /// The socket.
        listener: UnixListener,
        /// The socket file this process created, removed with the listener (an
        /// adopted socket's file is left alone).
        owned: Option<SocketFile>,
    },
}

/// A Unix socket file this process created: removed when dropped.
#[derive(Debug)]
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What a listener listens on, as logs and handles show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A TCP address.
    Tcp(SocketAddr),
    /// A Unix socket's path (`None` for an unnamed or abstract one).
    Unix(Option<PathBuf>),
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "http://{addr}"),
            Self::Unix(Some(path)) => write!(f, "unix:{}", path.display()),
            Self::Unix(None) => f.write_str("an unnamed unix socket"),
        }
    }
}

impl From<TcpListener> for Listener {
    fn from(listener: TcpListener) -> Self {
        Self::Tcp(listener)
    }
}

impl From<UnixListener> for Listener {
    /// An adopted Unix listener: its socket file is not removed on drop.
    fn from(listener: UnixListener) -> Self {
        Self::Unix {
            listener,
            owned: None,
        }
    }
}

impl Listener {
    /// Binds `addr` with `options` (and `SO_REUSEADDR` on TCP). A Unix socket file
    /// left behind by a server that is gone is replaced; one a server still
    /// listens on, or a path that is not a socket, is an error.
    pub fn bind(addr: &BindAddr, options: &BindOptions) -> Result<Self, ServeError> {
        match addr {
            BindAddr::Tcp(text) => bind_tcp(resolve(text.as_str(), text)?, text, options),
            BindAddr::Unix(path) => bind_unix(path, options),
        }
    }

    /// What it listens on.
    pub fn local_addr(&self) -> io::Result<ListenAddr> {
        match self {
            Self::Tcp(listener) => listener.local_addr().map(ListenAddr::Tcp),
            Self::Unix { listener, .. } => Ok(ListenAddr::Unix(
                listener.local_addr()?.as_pathname().map(Path::to_path_buf),
            )),
        }
    }

    pub(crate) fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Self::Tcp(listener) => listener.set_nonblocking(nonblocking),
            Self::Unix { listener, .. } => listener.set_nonblocking(nonblocking),
        }
    }

    /// Accepts one connection: its socket, and the peer's and our own TCP
    /// addresses (none on a Unix socket).
    pub(crate) fn accept(&self) -> io::Result<Accepted> {
        match self {
            Self::Tcp(listener) => {
                let (stream, peer) = listener.accept()?;
                let local = stream.local_addr()?;
                stream.set_nodelay(true)?;
                Ok(Accepted {
                    socket: Socket::from(stream),
                    peer: Some(peer),
                    local: Some(local),
                })
            }
            Self::Unix { listener, .. } => {
                let (stream, _) = listener.accept()?;
                Ok(Accepted {
                    socket: Socket::from(stream),
                    peer: None,
                    local: None,
                })
            }
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Self::Tcp(listener) => listener.as_fd(),
            Self::Unix { listener, .. } => listener.as_fd(),
        }
    }
}

/// An accepted connection.
pub(crate) struct Accepted {
    pub(crate) socket: Socket,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) local: Option<SocketAddr>,
}

/// What a failed bind or socket call on `shown` becomes.
fn bind_error(shown: &str) -> impl Fn(io::Error) -> ServeError + '_ {
    move |source| match source.kind() {
        io::ErrorKind::AddrInUse => ServeError::AddrInUse {
            addr: shown.to_owned(),
        },
        _ => ServeError::Bind {
            addr: shown.to_owned(),
            source,
        },
    }
}

/// The first address `addr` (named `shown` in errors) resolves to.
pub(crate) fn resolve(addr: impl ToSocketAddrs, shown: &str) -> Result<SocketAddr, ServeError> {
    let resolve_error = |source| ServeError::Resolve {
        addr: shown.to_owned(),
        source,
    };
    addr.to_socket_addrs()
        .map_err(resolve_error)?
        .next()
        .ok_or_else(|| resolve_error(io::Error::other("the address resolves to nothing")))
}

/// Binds the TCP address `addr` (named `shown` in errors) with `options`.
pub(crate) fn bind_tcp(
    addr: SocketAddr,
    shown: &str,
    options: &BindOptions,
) -> Result<Listener, ServeError> {
    let bind_error = bind_error(shown);
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(&bind_error)?;
    socket.set_reuse_address(true).map_err(&bind_error)?;
    if options.reuse_port {
        socket.set_reuse_port(true).map_err(&bind_error)?;
    }
    if addr.is_ipv6() {
        // `[::]:8000` means IPv6 only, as it says; bind `0.0.0.0:8000` too for both.
        socket.set_only_v6(true).map_err(&bind_error)?;
    }
    socket.bind(&addr.into()).map_err(&bind_error)?;
    socket.listen(backlog(options)).map_err(&bind_error)?;
    Ok(Listener::Tcp(socket.into()))
}

fn backlog(options: &BindOptions) -> i32 {
    i32::try_from(options.backlog).unwrap_or(i32::MAX)
}

fn bind_unix(path: &Path, options: &BindOptions) -> Result<Listener, ServeError> {
    let shown = format!("unix:{}", path.display());
    let bind_error = bind_error(&shown);
    remove_stale_socket(path, &shown)?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(&bind_error)?;
    let address = socket2::SockAddr::unix(path).map_err(&bind_error)?;
    socket.bind(&address).map_err(&bind_error)?;
    // From here the file is ours: dropping it (on an error below, or with the
    // listener) removes it.
    let owned = SocketFile(path.to_path_buf());
    if let Some(mode) = options.unix_mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
            |source| ServeError::Bind {
                addr: format!("{shown} (setting its mode to {mode:o})"),
                source,
            },
        )?;
    }
    socket.listen(backlog(options)).map_err(&bind_error)?;
    Ok(Listener::Unix {
        listener: socket.into(),
        owned: Some(owned),
    })
}

/// Removes a socket file no server listens on any more (a crash leaves one behind);
/// refuses to touch a live one or anything that is not a socket.
fn remove_stale_socket(path: &Path, shown: &str) -> Result<(), ServeError> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(()); // nothing there
    };
    if !metadata.file_type().is_socket() {
        return Err(ServeError::PathTaken {
            addr: shown.to_owned(),
            why: "the path exists and is not a socket; remove it or choose another path".into(),
        });
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(ServeError::AddrInUse {
            addr: shown.to_owned(),
        }),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .map_err(|source| ServeError::Bind {
                addr: format!("{shown} (removing the stale socket file)"),
                source,
            }),
        Err(e) => Err(ServeError::PathTaken {
            addr: shown.to_owned(),
            why: format!("cannot tell whether a server still listens on it ({e})"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_addresses_parse_or_say_what_to_write() {
        for good in ["127.0.0.1:8000", "localhost:0", "[::1]:8000", "0.0.0.0:80"] {
            assert_eq!(good.parse(), Ok(BindAddr::Tcp(good.into())));
        }
        for bad in [
            "8000",
            ":8000",
            "localhost",
            "[::1]",
            "host:99999",
            "::1:80",
            "h:+80",
        ] {
            let error = bad.parse::<BindAddr>().unwrap_err();
            assert!(error.to_string().contains("host:port"), "{error}");
        }
        assert!(matches!(
            "unix:".parse::<BindAddr>(),
            Err(BindAddrError::EmptyUnixPath(_))
        ));
        let unix: BindAddr = "unix:/tmp/a b.sock".parse().unwrap();
        assert_eq!(unix.to_string(), "unix:/tmp/a b.sock");
    }

    #[test]
    fn a_unix_socket_gets_its_mode_and_its_file_goes_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let options = BindOptions {
            unix_mode: Some(0o600),
            ..BindOptions::default()
        };
        let listener = Listener::bind(&BindAddr::Unix(path.clone()), &options).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            listener.local_addr().unwrap(),
            ListenAddr::Unix(Some(path.clone()))
        );
        drop(listener);
        assert!(
            !path.exists(),
            "the socket file is removed with the listener"
        );
    }

    #[test]
    fn a_stale_socket_file_is_replaced_but_a_live_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        // A server that died: its file stays, nobody listens.
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let addr = BindAddr::Unix(path.clone());
        let live = Listener::bind(&addr, &BindOptions::default()).expect("stale file replaced");
        let error = Listener::bind(&addr, &BindOptions::default()).unwrap_err();
        assert!(matches!(error, ServeError::AddrInUse { .. }), "{error}");
        drop(live);
    }

    #[test]
    fn a_path_that_is_not_a_socket_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.txt");
        std::fs::write(&path, "precious").unwrap();
        let error =
            Listener::bind(&BindAddr::Unix(path.clone()), &BindOptions::default()).unwrap_err();
        assert!(error.to_string().contains("not a socket"), "{error}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    }

    #[test]
    fn reuse_port_lets_two_listeners_share_a_port() {
        let options = BindOptions {
            reuse_port: true,
            ..BindOptions::default()
        };
        let first = Listener::bind(&BindAddr::Tcp("127.0.0.1:0".into()), &options).unwrap();
        let ListenAddr::Tcp(addr) = first.local_addr().unwrap() else {
            panic!("a TCP listener");
        };
        let second = Listener::bind(&BindAddr::Tcp(addr.to_string()), &options);
        assert!(second.is_ok(), "{:?}", second.err());
        let plain = Listener::bind(&BindAddr::Tcp(addr.to_string()), &BindOptions::default());
        assert!(matches!(plain, Err(ServeError::AddrInUse { .. })));
    }
}
