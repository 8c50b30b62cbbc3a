//! Opening sockets: the server's listening socket and a client's connection.
//!
//! Both turn the operating system's terse errors into a sentence that says
//! what to do, because a learner's first run often meets one of them: a
//! server already on the port, or no server at all.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};

use anyhow::{anyhow, Context, Result};
use socket2::{Domain, Socket, Type};

/// The lesson's port, every server's and client's default: the Java
/// course's.
///
/// ```
/// assert_eq!(client::net::DEFAULT_PORT, 12345);
/// ```
pub const DEFAULT_PORT: u16 = 12345;

/// Binds `host:port` and starts listening: from this call on, the kernel
/// completes clients' handshakes by itself and queues them for `accept()`.
///
/// Port 0 asks the kernel for a free port; read it back with
/// [`TcpListener::local_addr`]. `backlog` sets how many finished handshakes
/// the kernel queues before it drops new ones; `None` keeps what Rust's
/// standard library asks for (128), as the Java lesson keeps Java's (50).
///
/// ```
/// let listener = client::net::listen("127.0.0.1", 0, None)?;
/// assert_ne!(listener.local_addr()?.port(), 0);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn listen(host: &str, port: u16, backlog: Option<i32>) -> Result<TcpListener> {
    let address = resolve(host, port)?;
    let bound = match backlog {
        None => TcpListener::bind(address),
        Some(backlog) => listen_with_backlog(address, backlog),
    };
    bound.map_err(|error| {
        let advice = match error.kind() {
            io::ErrorKind::AddrInUse => {
                "another program is listening there: stop it, or pass --port 0 for a free port"
            }
            io::ErrorKind::AddrNotAvailable => "that is not an address of this machine: try --host 127.0.0.1",
            io::ErrorKind::PermissionDenied => "ports below 1024 need privileges: use a higher --port",
            _ => "check --host and --port",
        };
        anyhow!("cannot listen on {address}: {error}; {advice}")
    })
}

/// What `TcpListener::bind` does, with the backlog chosen by the caller.
fn listen_with_backlog(address: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    // As the standard library does on Unix: a restarted server may rebind at
    // once, even while the last run's connections linger in TIME_WAIT. Not on
    // Windows, where SO_REUSEADDR would let another program take the port
    // (and where TIME_WAIT does not block a listening socket's bind).
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Connects to the server at `host:port`, from `local_port` if one is given
/// (otherwise the kernel picks an ephemeral port).
///
/// A fixed local port binds the loopback address when the server is on
/// loopback (the unspecified address otherwise), of the server's family. A
/// port used a moment ago may still be held by that connection's TIME_WAIT:
/// the error then names what may hold it (TIME_WAIT among them, and how long
/// that lasts) and what to do. A fixed local
/// port that is the server's own port on this machine is refused before any
/// socket is made: TCP would connect the client to itself.
///
/// ```no_run
/// let socket = client::net::connect("127.0.0.1", 12345, Some(50000))?;
/// assert_eq!(socket.local_addr()?.port(), 50000);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn connect(host: &str, port: u16, local_port: Option<u16>) -> Result<TcpStream> {
    connect_within(host, port, local_port, None)
}

/// [`connect`], giving up when the server has not answered the handshake
/// within `timeout`; `None` waits as long as the system does (about two
/// minutes on Linux).
pub fn connect_within(
    host: &str,
    port: u16,
    local_port: Option<u16>,
    timeout: Option<std::time::Duration>,
) -> Result<TcpStream> {
    let server = resolve(host, port)?;
    if local_port == Some(server.port()) && is_this_machine(server.ip()) {
        return Err(connected_to_itself(server, local_port));
    }
    let connected = match (local_port, timeout) {
        (None, None) => TcpStream::connect(server).map_err(Failed::Connect),
        (None, Some(timeout)) => TcpStream::connect_timeout(&server, timeout).map_err(Failed::Connect),
        (Some(local_port), timeout) => connect_from(server, local_port, timeout),
    };
    let socket = connected.map_err(|failed| explain(failed, server, local_port, timeout))?;
    // The check above cannot know every address of this machine; this one
    // sees the result. It also catches the kernel picking, for a client with
    // no --local-port, the very port of a server that is not running.
    if socket.local_addr()? == socket.peer_addr()? {
        return Err(connected_to_itself(server, local_port));
    }
    Ok(socket)
}

/// Which step of opening a connection failed.
enum Failed {
    /// Making the socket and binding the fixed local port.
    Bind(io::Error),
    /// The handshake with the server.
    Connect(io::Error),
}

/// Binds `local_port` and connects from it, saying which of the two failed.
fn connect_from(
    server: SocketAddr,
    local_port: u16,
    timeout: Option<std::time::Duration>,
) -> Result<TcpStream, Failed> {
    let local_ip = match (server.ip().is_loopback(), server) {
        (true, SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (true, SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        (false, SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (false, SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let socket = Socket::new(Domain::for_address(server), Type::STREAM, None).map_err(Failed::Bind)?;
    // On Unix, SO_REUSEADDR lets the bind succeed while an earlier connection
    // from this port (to any server) lingers in TIME_WAIT, as the lesson's
    // fixed ports 50000 and 60000 often do: they lie in the kernel's
    // ephemeral range, where any program's connection may have left one.
    // `connect` below may still refuse the very same pair of addresses (see
    // `pair_in_use`). Not on Windows: there SO_REUSEADDR
    // would let this socket take a port another program has bound, even one
    // it listens on; without it, a port in TIME_WAIT refuses the bind itself.
    #[cfg(unix)]
    socket.set_reuse_address(true).map_err(Failed::Bind)?;
    socket
        .bind(&SocketAddr::new(local_ip, local_port).into())
        .map_err(Failed::Bind)?;
    match timeout {
        None => socket.connect(&server.into()),
        Some(timeout) => socket.connect_timeout(&server.into(), timeout),
    }
    .map_err(Failed::Connect)?;
    Ok(socket.into())
}

/// Whether `ip` surely names this machine, without asking the system for its
/// addresses: loopback, or the unspecified address (which connects to this
/// machine), also as an IPv4-mapped IPv6 address.
fn is_this_machine(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ip.is_loopback() || ip.is_unspecified()
}

/// Why a client was not left connected to itself. A client whose local port
/// is the port it connects to, on the same address, meets itself: both ends
/// send a SYN, and TCP's "simultaneous open" joins them into one connection
/// whose every message comes back to its sender, as if it were the reply.
fn connected_to_itself(server: SocketAddr, local_port: Option<u16>) -> anyhow::Error {
    match local_port {
        Some(port) => anyhow!(
            "cannot connect to {server} from local port {port}: that is the server's own port on this \
             machine, so TCP would connect the client to itself and it would receive its own message as \
             the reply; pick another --local-port, or leave it out"
        ),
        None => anyhow!(
            "cannot connect to {server}: no server listens there, and the kernel gave this client that very \
             port, so TCP connected the client to itself; start the server first"
        ),
    }
}

/// The operating system's error, and what to do about it.
fn explain(
    failed: Failed,
    server: SocketAddr,
    local_port: Option<u16>,
    timeout: Option<std::time::Duration>,
) -> anyhow::Error {
    use io::ErrorKind::{AddrInUse, AddrNotAvailable, ConnectionRefused, TimedOut};
    let advice = match (&failed, local_port) {
        (Failed::Bind(error), Some(port)) if error.kind() == AddrInUse => port_in_use(port),
        (Failed::Connect(error), Some(port)) if matches!(error.kind(), AddrInUse | AddrNotAvailable) => {
            pair_in_use(port)
        }
        (Failed::Connect(error), _) if error.kind() == ConnectionRefused => no_server(server.port()),
        (Failed::Connect(error), _) if error.kind() == TimedOut => {
            let waited =
                timeout.map_or_else(String::new, |timeout| format!(" within {timeout:?} (--timeout)"));
            format!(
                "the server did not answer the handshake{waited}: a server whose accept queue is full drops \
                 new handshakes, and so does a firewall"
            )
        }
        _ => "check --host and --port".to_string(),
    };
    let (Failed::Bind(error) | Failed::Connect(error)) = failed;
    let from = local_port.map_or_else(String::new, |port| format!(" from local port {port}"));
    anyhow!("cannot connect to {server}{from}: {error}; {advice}")
}

/// What to do when nothing listens on `port`: start a server there.
fn no_server(port: u16) -> String {
    let flags = if port == DEFAULT_PORT {
        String::new()
    } else {
        format!(" -- --port {port}")
    };
    format!(
        "nothing listens on port {port}: start a server there first (e.g. `cargo run -p server-v3{flags}`), \
         or give the --port of the one that runs"
    )
}

/// The bind of a fixed local port was refused: another socket holds it.
///
/// On Unix, with SO_REUSEADDR, that is a program listening on the port or a
/// socket that did not allow sharing it (on macOS also a connection from
/// it). On Windows, where this client does not set SO_REUSEADDR, a
/// connection from the port in TIME_WAIT refuses the bind too.
fn port_in_use(port: u16) -> String {
    if cfg!(windows) {
        format!(
            "another socket holds local port {port}: a program listening on it, a connection from it, or \
             one that ended and is in TIME_WAIT, which lasts {TIME_WAIT_LASTS}; wait, pick another \
             --local-port, or leave it out"
        )
    } else {
        format!(
            "another socket holds local port {port} (a program listening on it, or a connection from it); \
             pick another --local-port, or leave it out"
        )
    }
}

/// The bind succeeded but the kernel refused the pair of addresses (Linux:
/// `EADDRNOTAVAIL`; macOS: `EADDRINUSE`): a connection between this local
/// port and this server still exists.
///
/// It is the previous run's when a client is rerun at once: still closing,
/// or in TIME_WAIT, the state that the side that closed first keeps for
/// twice the segment lifetime so that the old connection's stray segments
/// die before the pair is used again. (Linux reuses a TIME_WAIT pair for a
/// new connection at once when both ends use TCP timestamps, as they do by
/// default, but not while the old connection is still closing.) Or another
/// client from that port is still connected.
fn pair_in_use(port: u16) -> String {
    format!(
        "a connection between local port {port} and this server still exists: the previous one from that \
         port, still closing or in TIME_WAIT (which lasts {TIME_WAIT_LASTS}), or another client's; wait, \
         pick another --local-port, or leave it out"
    )
}

/// How long a connection stays in TIME_WAIT on this system.
#[cfg(target_os = "linux")]
const TIME_WAIT_LASTS: &str = "60 s on Linux";
#[cfg(target_os = "macos")]
const TIME_WAIT_LASTS: &str = "30 s on macOS by default: twice net.inet.tcp.msl";
#[cfg(windows)]
const TIME_WAIT_LASTS: &str = "120 s on Windows by default: TcpTimedWaitDelay";
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
const TIME_WAIT_LASTS: &str = "twice the maximum segment lifetime, up to 4 minutes";

/// The first address `host` names, with `port`.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve host {host:?}: try --host 127.0.0.1"))?
        .next()
        .with_context(|| format!("host {host:?} has no address: try --host 127.0.0.1"))
}

/// Raises this process's open-file limit to the most it may have (the hard
/// limit), and returns the limit now in force; `None` where the system has
/// no such limit.
///
/// Every connection is an open file. On Unix a shell's usual soft limit,
/// 1024 (256 on macOS), would stop a server or a crowd near a thousand
/// clients while the system allows far more; `ulimit -Hn` shows the ceiling,
/// which only root can lift. Windows has no per-process limit on sockets:
/// they are handles, bounded by memory.
///
/// ```
/// if let Some(limit) = client::net::raise_open_file_limit() {
///     assert!(limit >= 64);
/// }
/// ```
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        Some(rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|_| open_file_limit().unwrap_or(0)))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Whether a read failed because the socket's read time-out passed:
/// `WouldBlock` on Unix, `TimedOut` on Windows.
///
/// ```
/// use std::io::{Error, ErrorKind};
///
/// assert!(client::net::is_time_out(&Error::from(ErrorKind::WouldBlock)));
/// assert!(!client::net::is_time_out(&Error::from(ErrorKind::ConnectionReset)));
/// ```
pub fn is_time_out(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// A macOS sysctl whose value is a C int, such as `kern.num_taskthreads`
/// (a process's most threads) or `net.inet.ip.portrange.first`; `None` if
/// it cannot be read.
#[cfg(target_os = "macos")]
pub fn sysctl_int(name: &std::ffi::CStr) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut size = std::mem::size_of::<libc::c_int>();
    // SAFETY: the name is a NUL-terminated string; `value` and `size`
    // describe a writable c_int, and no new value is set (null, 0).
    let status = unsafe {
        libc::sysctlbyname(
            name.as_ptr(),
            (&mut value as *mut libc::c_int).cast(),
            &mut size,
            std::ptr::null_mut(),
            0,
        )
    };
    (status == 0).then_some(value)
}

/// The open-file limit in force (the soft limit); `None` where the system
/// has no such limit (Windows).
pub fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _hard)| soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
