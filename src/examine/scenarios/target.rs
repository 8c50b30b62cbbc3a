//! The server a scenario examines, and whether this machine lists it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::CONNECT_WITHIN;
use crate::kernel::{self, Table, TcpState};
use crate::peer::Peer;

/// A server to examine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where it listens.
    pub address: SocketAddr,
    /// Whether this machine's kernel lists its listening socket, so that the
    /// scenarios can show its queue and its unread bytes.
    pub here: bool,
}

impl Target {
    /// A server on this machine's loopback address, on `port`.
    ///
    /// ```
    /// let target = socket_lesson::examine::Target::local(12345);
    /// assert_eq!(target.address.to_string(), "127.0.0.1:12345");
    /// ```
    pub fn local(port: u16) -> Target {
        Target {
            address: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            here: true,
        }
    }

    /// A server at `address`, on this machine if the kernel lists a
    /// listening socket there (on that address, or on every address).
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let target = socket_lesson::examine::Target::at(listener.local_addr()?);
    /// assert!(target.here);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn at(address: SocketAddr) -> Target {
        let here = kernel::read_table().is_ok_and(|table| listens(&table, address));
        Target { address, here }
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// A new client of the server.
    pub fn connect(&self) -> io::Result<Peer> {
        Peer::connect_to(self.address, CONNECT_WITHIN)
    }

    /// Waits, at most `within`, for the server to stop listening: `Some`
    /// with how it was seen (the kernel's table, or a refused connection),
    /// `None` if it still listens.
    pub fn stopped_listening(&self, within: Duration) -> Option<String> {
        if self.here {
            let gone = kernel::wait_for(within, |table| (!listens(table, self.address)).then_some(()));
            return match gone {
                Ok(Some(())) => Some("the kernel lists no listening socket on the port any more".to_string()),
                Ok(None) => None,
                Err(error) => Some(format!("the kernel's table cannot be read: {error}")),
            };
        }
        // Not on this machine: a connection is the only way to ask.
        let deadline = Instant::now() + within;
        loop {
            match std::net::TcpStream::connect_timeout(&self.address, CONNECT_WITHIN) {
                Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                    return Some("a new connection is refused".to_string())
                }
                _ if Instant::now() >= deadline => return None,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// Whether `table` lists a socket listening on `address`: on its port, and
/// on its address or on every address.
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let table = socket_lesson::kernel::read_table()?;
/// assert!(socket_lesson::examine::scenarios::listens(&table, listener.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn listens(table: &Table, address: SocketAddr) -> bool {
    table.on_port(address.port()).any(|row| {
        let ip = row.local.ip().to_canonical();
        row.state == TcpState::Listen && (ip.is_unspecified() || ip == address.ip().to_canonical())
    })
}
