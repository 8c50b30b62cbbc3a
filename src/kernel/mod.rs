//! The kernel's table of TCP sockets, read the way each system reports it.
//!
//! The lesson's key facts happen here, where no program's variables can show
//! them: a connection whose handshake is done but which `accept()` has not
//! taken yet, and bytes that arrived but that no one has read. Each system
//! reports a different part of them, so every fact below is an `Option`:
//! `None` means *this system does not say*, never zero.
//!
//! | fact | Linux | macOS | Windows |
//! |---|---|---|---|
//! | each connection and its TCP state | yes | yes | yes |
//! | bytes unread | yes | yes | no |
//! | bytes not yet acknowledged | yes | yes | no |
//! | finished handshakes waiting for `accept()` | yes | yes | no |
//! | handshakes in progress | no | yes | no |
//! | the queue's limit | yes | yes | no |
//! | whether a process holds the socket (accepted) | yes | no | no |
//!
//! Where each comes from:
//! - **Linux** ([`proc_net`]): the files `/proc/net/tcp` and `/proc/net/tcp6`,
//!   and each listening socket's limit, which they do not print, from the
//!   kernel's socket-diagnostics interface (`NETLINK_SOCK_DIAG`, which `ss`
//!   also reads). Each fact comes from one of the two, never both.
//! - **macOS** ([`netstat`]): the system's `netstat -anl -p tcp` and
//!   `netstat -Lanl -p tcp`. *Checked here only by type and by unit tests on
//!   sample output written from netstat's documented format: nothing in this
//!   project's CI runs on a Mac.*
//! - **Windows** ([`tcp_table`]): the `GetExtendedTcpTable` API.
//!
//! The backend is chosen when the program is compiled (`cfg(target_os)`),
//! never by looking at run time for a file such as `/proc/net/tcp`. The
//! parsers themselves are compiled and tested on every system.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub mod netstat;
pub mod proc_net;
pub mod tcp_table;
mod view;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "macos")]
mod macos;

pub use view::{ConnectionView, ListenerView, PortView, Stage};

/// One socket of the kernel's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRow {
    /// This side's address and port.
    pub local: SocketAddr,
    /// The other side's address and port (`0.0.0.0:0` or `[::]:0` for a
    /// listening socket).
    pub remote: SocketAddr,
    /// The TCP state.
    pub state: TcpState,
    /// For a connection: bytes of data received and not yet read by any
    /// program. Linux's receive queue also counts the peer's FIN as one, until
    /// a read passes it; this does not (see [`TcpState::peer_has_closed`]).
    /// `None` for a listening socket, or where the system does not report it.
    pub unread: Option<u32>,
    /// For a connection: bytes of data this side's program wrote that the
    /// other side has not acknowledged yet, sent or still waiting to be sent
    /// (`ss`'s Send-Q; `tx_queue` in `/proc/net/tcp`, less the FIN Linux counts
    /// there until it is acknowledged). `None` for a listening socket, or
    /// where the system does not report it.
    pub unacknowledged: Option<u32>,
    /// For a listening socket: its accept queue. `None` for a connection.
    pub queue: Option<AcceptQueue>,
    /// Whether a process holds a descriptor for this socket: `false` for a
    /// connection still in the accept queue (or one its program has closed).
    /// `None` where the system does not report it.
    pub held: Option<bool>,
}

/// A listening socket's accept queue (the lesson's *backlog queue*), as far
/// as the system reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AcceptQueue {
    /// Finished handshakes waiting for `accept()`.
    pub waiting: Option<u32>,
    /// Handshakes the kernel has begun and not finished.
    pub in_progress: Option<u32>,
    /// The queue's limit, as the kernel applies it: the `listen()` backlog,
    /// capped by the system's maximum.
    pub limit: Option<u32>,
}

/// A TCP state. The names are Linux's (`ss`, `/proc`); each backend maps its
/// system's names and numbers onto them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
    /// Windows only: the connection's control block is being deleted.
    DeleteTcb,
    /// A state this module does not know, as the system numbered it.
    Other(u32),
}

impl TcpState {
    /// Whether the connection has begun closing or is closed: neither side
    /// can use it for a new conversation any more.
    pub fn is_closing(self) -> bool {
        use TcpState::*;
        matches!(
            self,
            FinWait1 | FinWait2 | TimeWait | Close | LastAck | Closing | DeleteTcb
        )
    }

    /// Whether the other side's FIN has arrived: it has closed its sending
    /// side, and once the bytes before the FIN are read, a read returns the
    /// end of the stream (0 bytes).
    pub fn peer_has_closed(self) -> bool {
        use TcpState::*;
        matches!(self, CloseWait | LastAck | Closing | TimeWait)
    }

    /// Whether this side's FIN is queued or sent and not yet acknowledged.
    pub fn own_fin_unacknowledged(self) -> bool {
        use TcpState::*;
        matches!(self, FinWait1 | Closing | LastAck)
    }

    /// Whether the kernel is still in the middle of the handshake.
    pub fn is_handshake(self) -> bool {
        matches!(self, TcpState::SynRecv | TcpState::NewSynRecv | TcpState::SynSent)
    }
}

impl fmt::Display for TcpState {
    /// The name `ss` and Linux's `netstat` print, e.g. `ESTABLISHED`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TcpState::*;
        let name = match self {
            Established => "ESTABLISHED",
            SynSent => "SYN_SENT",
            SynRecv => "SYN_RECV",
            FinWait1 => "FIN_WAIT1",
            FinWait2 => "FIN_WAIT2",
            TimeWait => "TIME_WAIT",
            Close => "CLOSE",
            CloseWait => "CLOSE_WAIT",
            LastAck => "LAST_ACK",
            Listen => "LISTEN",
            Closing => "CLOSING",
            NewSynRecv => "NEW_SYN_RECV",
            DeleteTcb => "DELETE_TCB",
            Other(code) => return write!(f, "STATE_{code:02X}"),
        };
        f.write_str(name)
    }
}

impl serde::Serialize for TcpState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Where a system's table comes from, and what it leaves out.
#[derive(Debug, PartialEq, Eq)]
pub struct Source {
    /// The system, e.g. `Linux`.
    pub system: &'static str,
    /// Where the facts are read, e.g. `/proc/net/tcp`.
    pub read_from: &'static str,
    /// One line on what the system does not report, for the lesson; empty if
    /// nothing the lesson needs is missing.
    pub not_reported: &'static str,
    /// Whether the system reports queue lengths and unread bytes.
    pub reports_queues: bool,
    /// Whether the system says which connections have been accepted.
    pub reports_accepted: bool,
    /// A command a learner can type on this system to see the same table
    /// for a port; `{port}` stands for the port.
    pub(crate) command: &'static str,
}

impl Source {
    /// The command that shows this system's table for `port`.
    ///
    /// ```
    /// let command = socket_lesson::kernel::proc_net::SOURCE.command_for(12345);
    /// assert!(command.contains("12345"));
    /// ```
    pub fn command_for(&self, port: u16) -> String {
        self.command.replace("{port}", &port.to_string())
    }
}

/// The table of the system this program was compiled for.
#[cfg(target_os = "linux")]
pub const SOURCE: &Source = &proc_net::SOURCE;
/// The table of the system this program was compiled for.
#[cfg(target_os = "macos")]
pub const SOURCE: &Source = &netstat::SOURCE;
/// The table of the system this program was compiled for.
#[cfg(windows)]
pub const SOURCE: &Source = &tcp_table::SOURCE;
/// The table of the system this program was compiled for: none is read here.
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub const SOURCE: &Source = &Source {
    system: std::env::consts::OS,
    read_from: "nothing: this system's socket table is not supported",
    not_reported: "this program cannot read this system's socket table",
    reports_queues: false,
    reports_accepted: false,
    command: "netstat -an | grep {port}",
};

/// Every TCP socket the system reports, IPv4 and IPv6, listening or
/// connected, with each connection once.
///
/// The error names the system's source when it cannot be read.
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// let table = socket_lesson::kernel::read_table()?;
/// assert!(table.listener(port).is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_table() -> io::Result<Table> {
    let rows = read_rows().map_err(|error| {
        io::Error::new(
            error.kind(),
            format!(
                "cannot read the kernel's socket table ({}): {error}",
                SOURCE.read_from
            ),
        )
    })?;
    Ok(Table::new(rows))
}

#[cfg(target_os = "linux")]
fn read_rows() -> io::Result<Vec<TcpRow>> {
    linux::read_rows()
}

#[cfg(target_os = "macos")]
fn read_rows() -> io::Result<Vec<TcpRow>> {
    macos::read_rows()
}

#[cfg(windows)]
fn read_rows() -> io::Result<Vec<TcpRow>> {
    tcp_table::read_rows()
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn read_rows() -> io::Result<Vec<TcpRow>> {
    Err(io::Error::new(io::ErrorKind::Unsupported, SOURCE.not_reported))
}

/// A snapshot of the kernel's table, each connection once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// The sockets, in the order the system listed them.
    pub rows: Vec<TcpRow>,
}

impl Table {
    /// A table of `rows`, keeping one row per socket.
    ///
    /// A system may list a socket twice in one reading: Linux writes
    /// `/proc/net/tcp` a page at a time while connections come and go, so a
    /// connection can be seen again in the next page. A listening socket is
    /// one per local address, a connection one per pair of addresses; the
    /// later row is kept, being the more recent.
    pub fn new(rows: Vec<TcpRow>) -> Table {
        let mut kept: Vec<TcpRow> = Vec::with_capacity(rows.len());
        let mut index = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            let key = (row.state == TcpState::Listen, row.local, row.remote);
            match index.get(&key) {
                Some(&at) => kept[at] = row,
                None => {
                    index.insert(key, kept.len());
                    kept.push(row);
                }
            }
        }
        Table { rows: kept }
    }

    /// The (first) listening socket on `port`.
    pub fn listener(&self, port: u16) -> Option<&TcpRow> {
        self.rows
            .iter()
            .find(|row| row.state == TcpState::Listen && row.local.port() == port)
    }

    /// The server side of the connection between `server_port` and a client
    /// on `client_port`.
    pub fn server_side(&self, server_port: u16, client_port: u16) -> Option<&TcpRow> {
        self.rows.iter().find(|row| {
            row.state != TcpState::Listen
                && row.local.port() == server_port
                && row.remote.port() == client_port
        })
    }

    /// Every row whose local port is `port` (listening or connected).
    pub fn on_port(&self, port: u16) -> impl Iterator<Item = &TcpRow> {
        self.rows.iter().filter(move |row| row.local.port() == port)
    }
}

/// The view of one port, as [`PortView::of`] makes it from [`read_table`].
///
/// A table read while connections come and go can show a queue's length
/// from one moment and its connections from another (Linux prints
/// `/proc/net/tcp` a page at a time), and then disagree with itself: "the
/// accept queue is empty" beside a connection waiting in it. This reads
/// again until they agree, a few times at most; a view that never does says
/// so when shown.
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// let view = socket_lesson::kernel::read_port(port)?;
/// assert!(view.listening());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_port(port: u16) -> io::Result<PortView> {
    const READINGS: usize = 20;
    let mut view = PortView::of(&read_table()?, port, SOURCE);
    for _ in 1..READINGS {
        if view.is_consistent() {
            break;
        }
        view = PortView::of(&read_table()?, port, SOURCE);
    }
    Ok(view)
}

/// Reads the table again and again until `question` finds its answer in it,
/// for at most `patience`. Returns `Ok(None)` if it never does.
///
/// The table changes on the kernel's own time (a handshake finishes, bytes
/// arrive), so a program that wants to show a state waits for it here.
///
/// ```
/// use std::time::Duration;
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let port = listener.local_addr()?.port();
/// let found = socket_lesson::kernel::wait_for(Duration::from_secs(5), |table| {
///     table.listener(port).map(|row| row.state)
/// })?;
/// assert_eq!(found, Some(socket_lesson::kernel::TcpState::Listen));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wait_for<T>(patience: Duration, question: impl Fn(&Table) -> Option<T>) -> io::Result<Option<T>> {
    let deadline = Instant::now() + patience;
    loop {
        if let Some(answer) = question(&read_table()?) {
            return Ok(Some(answer));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(local: &str, remote: &str, state: TcpState, unread: u32) -> TcpRow {
        TcpRow {
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            state,
            unread: Some(unread),
            unacknowledged: Some(0),
            queue: None,
            held: Some(true),
        }
    }

    #[test]
    fn a_socket_listed_twice_is_kept_once_with_its_later_row() {
        let table = Table::new(vec![
            row("127.0.0.1:12345", "127.0.0.1:50000", TcpState::Established, 0),
            row("127.0.0.1:12345", "127.0.0.1:60000", TcpState::Established, 0),
            row("127.0.0.1:12345", "127.0.0.1:50000", TcpState::Established, 7),
        ]);
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.server_side(12345, 50000).unwrap().unread, Some(7));
    }

    #[test]
    fn reads_this_machines_table() {
        // Our own listening socket must be in the table.
        let listener_socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener_socket.local_addr().unwrap().port();
        let table = read_table().unwrap();
        let row = table.listener(port).expect("our own listening socket");
        assert_eq!(row.local, listener_socket.local_addr().unwrap());
    }
}
