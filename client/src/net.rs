//! Opening sockets: the server's listening socket and a client's connection.
//!
//! Both turn the operating system's terse errors into a sentence that says
//! what to do, because a learner's first run often meets one of them: a
//! server already on the port, or no server at all.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};

use anyhow::{anyhow, Context, Result};
use socket2::{Domain, Socket, Type};

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
    // As the standard library does: a restarted server may rebind at once,
    // even while the last run's connections linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Connects to the server at `host:port`, from `local_port` if one is given
/// (otherwise the kernel picks an ephemeral port).
///
/// A fixed local port binds the loopback address when the server is on
/// loopback (the unspecified address otherwise), of the server's family, with
/// `SO_REUSEADDR` so that a rerun is not refused while the last run's
/// connection from that port is still in TIME_WAIT.
///
/// ```no_run
/// let socket = client::net::connect("127.0.0.1", 12345, Some(50000))?;
/// assert_eq!(socket.local_addr()?.port(), 50000);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn connect(host: &str, port: u16, local_port: Option<u16>) -> Result<TcpStream> {
    let server = resolve(host, port)?;
    let connected = match local_port {
        None => TcpStream::connect(server),
        Some(local_port) => connect_from(server, local_port),
    };
    connected.map_err(|error| {
        let advice = match (error.kind(), local_port) {
            (io::ErrorKind::ConnectionRefused, _) => {
                "is the server running? Start one first, e.g. `cargo run -p server-v2`".to_string()
            }
            (io::ErrorKind::AddrInUse | io::ErrorKind::AddrNotAvailable, Some(port)) => {
                format!("local port {port} is taken: pick another --local-port, or leave it out")
            }
            _ => "check --host and --port".to_string(),
        };
        anyhow!("cannot connect to {server}: {error}; {advice}")
    })
}

fn connect_from(server: SocketAddr, local_port: u16) -> io::Result<TcpStream> {
    let local_ip = match (server.ip().is_loopback(), server) {
        (true, SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (true, SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        (false, SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (false, SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let socket = Socket::new(Domain::for_address(server), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::new(local_ip, local_port).into())?;
    socket.connect(&server.into())?;
    Ok(socket.into())
}

/// The first address `host` names, with `port`.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve host {host:?}: try --host 127.0.0.1"))?
        .next()
        .with_context(|| format!("host {host:?} has no address: try --host 127.0.0.1"))
}

/// Raises this process's open-file limit to the most it may have (the hard
/// limit), and returns the limit now in force.
///
/// Every connection is an open file. A shell's usual soft limit, 1024, would
/// stop a server or a crowd near a thousand clients while the system allows
/// far more; `ulimit -Hn` shows the ceiling, which only root can lift.
///
/// ```
/// let limit = client::net::raise_open_file_limit();
/// assert!(limit >= 64);
/// ```
pub fn raise_open_file_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or_else(|_| open_file_limit())
}

/// The open-file limit in force (the soft limit).
pub fn open_file_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _hard)| soft)
}
