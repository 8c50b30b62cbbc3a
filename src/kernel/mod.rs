//! The kernel's table of TCP sockets, as Linux prints it in `/proc/net/tcp`
//! and `/proc/net/tcp6`.
//!
//! The lesson's key facts happen here, where no program's variables can show
//! them: a connection whose handshake is done but which `accept()` has not
//! taken yet, and bytes that arrived but that no one has read. This module
//! reads the table; `peek` and the tests ask it questions.
//!
//! What a row means, for the lesson:
//! - a `LISTEN` row's `rx_queue` is the length of its accept queue: finished
//!   handshakes waiting for `accept()`;
//! - any other row's `rx_queue` is the number of bytes received and not yet
//!   read by the application, and `tx_queue` the bytes sent and not yet
//!   acknowledged;
//! - `inode` 0 means no process holds a socket for the row: for a server-side
//!   connection, that `accept()` has not taken it yet.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One socket of the kernel's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRow {
    /// This side's address and port.
    pub local: SocketAddr,
    /// The other side's address and port (`0.0.0.0:0` for a listening socket).
    pub remote: SocketAddr,
    /// The TCP state.
    pub state: TcpState,
    /// Bytes sent but not yet acknowledged by the peer.
    pub tx_queue: u32,
    /// For `LISTEN`, the accept queue's length; otherwise bytes received but
    /// not yet read by the application.
    pub rx_queue: u32,
    /// The socket's inode; 0 when no process holds it (not yet accepted).
    pub inode: u64,
}

/// A TCP state, as the kernel numbers them in `/proc/net/tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// A number this module does not know.
    Other(u8),
}

impl TcpState {
    fn from_code(code: u8) -> TcpState {
        use TcpState::*;
        match code {
            0x01 => Established,
            0x02 => SynSent,
            0x03 => SynRecv,
            0x04 => FinWait1,
            0x05 => FinWait2,
            0x06 => TimeWait,
            0x07 => Close,
            0x08 => CloseWait,
            0x09 => LastAck,
            0x0A => Listen,
            0x0B => Closing,
            0x0C => NewSynRecv,
            other => Other(other),
        }
    }
}

impl fmt::Display for TcpState {
    /// The name `ss` and `netstat` print, e.g. `ESTABLISHED`.
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
            Other(code) => return write!(f, "STATE_{code:02X}"),
        };
        f.write_str(name)
    }
}

/// The files this module reads, IPv4 then IPv6.
pub const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// Reads every TCP socket of this network namespace, IPv4 and IPv6.
///
/// Fails if `/proc/net/tcp` cannot be read (not Linux, or no `/proc`); a
/// missing `/proc/net/tcp6` (IPv6 disabled) only means no IPv6 rows.
pub fn read_table() -> io::Result<Vec<TcpRow>> {
    let mut rows = parse_table(&std::fs::read_to_string(TABLES[0])?)?;
    match std::fs::read_to_string(TABLES[1]) {
        Ok(text) => rows.extend(parse_table(&text)?),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    Ok(rows)
}

/// Parses the text of `/proc/net/tcp` or `/proc/net/tcp6` (the header line
/// and then one socket a line).
///
/// ```
/// use socket_lesson::kernel::{parse_table, TcpState};
///
/// let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
///    0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000        0 41716 1 0000000000000000 100 0 0 10 0
///    1: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
/// ";
/// let rows = parse_table(text)?;
/// assert_eq!(rows[0].state, TcpState::Listen);
/// assert_eq!(rows[0].local.to_string(), "127.0.0.1:12345");
/// assert_eq!(rows[0].rx_queue, 1); // one finished handshake waits for accept()
/// assert_eq!(rows[1].remote.port(), 60000);
/// assert_eq!((rows[1].inode, rows[1].rx_queue), (0, 7)); // not accepted, 7 bytes unread
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn parse_table(text: &str) -> io::Result<Vec<TcpRow>> {
    text.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            parse_row(line).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected line in the TCP table: {line:?}"),
                )
            })
        })
        .collect()
}

fn parse_row(line: &str) -> Option<TcpRow> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    let (tx_queue, rx_queue) = fields.get(4)?.split_once(':')?;
    Some(TcpRow {
        local: parse_address(fields.get(1)?)?,
        remote: parse_address(fields.get(2)?)?,
        state: TcpState::from_code(u8::from_str_radix(fields.get(3)?, 16).ok()?),
        tx_queue: u32::from_str_radix(tx_queue, 16).ok()?,
        rx_queue: u32::from_str_radix(rx_queue, 16).ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// `0100007F:3039` is 127.0.0.1:12345: the address is printed as the
/// kernel's 32-bit words in the machine's byte order, the port in plain hex.
fn parse_address(field: &str) -> Option<SocketAddr> {
    let (address, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut words = Vec::with_capacity(4);
    for chunk in address.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        // The hex shows the word as a number; its bytes in memory, in network
        // order, are that number in the machine's own byte order.
        words.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match words.len() {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(words).ok()?)),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(words).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
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
/// let found = socket_lesson::kernel::wait_for(Duration::from_secs(5), |rows| {
///     socket_lesson::kernel::listener(rows, port).map(|row| row.rx_queue)
/// })?;
/// assert_eq!(found, Some(0)); // listening, nobody queued
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wait_for<T>(
    patience: std::time::Duration,
    question: impl Fn(&[TcpRow]) -> Option<T>,
) -> io::Result<Option<T>> {
    let deadline = std::time::Instant::now() + patience;
    loop {
        if let Some(answer) = question(&read_table()?) {
            return Ok(Some(answer));
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The listening socket on `port`, if there is one.
pub fn listener(rows: &[TcpRow], port: u16) -> Option<&TcpRow> {
    rows.iter()
        .find(|row| row.state == TcpState::Listen && row.local.port() == port)
}

/// The server side of the connection between `server_port` and a client on
/// `client_port`: the row whose inode is 0 until `accept()` takes it.
pub fn server_side(rows: &[TcpRow], server_port: u16, client_port: u16) -> Option<&TcpRow> {
    rows.iter().find(|row| {
        row.state != TcpState::Listen && row.local.port() == server_port && row.remote.port() == client_port
    })
}

/// The kernel's view of one server port: what `peek` shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortView {
    /// The server's port.
    pub port: u16,
    /// Whether a socket is listening on it.
    pub listening: bool,
    /// Finished handshakes waiting for `accept()`; `None` when nothing listens.
    pub accept_queue: Option<u32>,
    /// Every connection to the port, one per client, oldest port first.
    pub connections: Vec<ConnectionView>,
}

/// One client's connection to the server port, seen from both ends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionView {
    /// The client's port.
    pub client_port: u16,
    /// Whether a process holds the server side's socket: `false` until
    /// `accept()` takes the connection off the accept queue.
    pub accepted: bool,
    /// Bytes in the server side's receive buffer that no one has read yet.
    pub server_unread: u32,
    /// Bytes in the client side's receive buffer, when the client is on this
    /// machine; `None` when it is not.
    pub client_unread: Option<u32>,
    /// The server side's TCP state.
    #[serde(serialize_with = "serialize_state")]
    pub state: TcpState,
}

fn serialize_state<S: serde::Serializer>(state: &TcpState, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(state)
}

impl PortView {
    /// Gathers the rows about `port` from the kernel's table `rows`.
    ///
    /// ```
    /// use socket_lesson::kernel::{parse_table, PortView};
    ///
    /// let rows = parse_table("header
    ///    0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000  0 41716 1
    ///    1: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000  1000  0 0 1
    /// ")?;
    /// let view = PortView::of(&rows, 12345);
    /// assert_eq!(view.accept_queue, Some(1));
    /// assert_eq!(view.connections[0].client_port, 60000);
    /// assert!(!view.connections[0].accepted);
    /// assert_eq!(
    ///     view.connections[0].explain(),
    ///     "handshake done, waiting in the accept queue; 7 bytes unread in the server's receive buffer",
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn of(rows: &[TcpRow], port: u16) -> PortView {
        let listening = listener(rows, port);
        let mut connections: Vec<ConnectionView> = rows
            .iter()
            .filter(|row| row.state != TcpState::Listen && row.local.port() == port)
            .map(|server_side| {
                let client_side = rows
                    .iter()
                    .find(|row| row.local == server_side.remote && row.remote == server_side.local);
                ConnectionView {
                    client_port: server_side.remote.port(),
                    accepted: server_side.inode != 0,
                    server_unread: server_side.rx_queue,
                    client_unread: client_side.map(|row| row.rx_queue),
                    state: server_side.state,
                }
            })
            .collect();
        connections.sort_by_key(|connection| connection.client_port);
        PortView {
            port,
            listening: listening.is_some(),
            accept_queue: listening.map(|row| row.rx_queue),
            connections,
        }
    }
}

impl ConnectionView {
    /// What the row means, in the lesson's words.
    pub fn explain(&self) -> String {
        let mut words = match (self.state, self.accepted) {
            (TcpState::Established, false) => "handshake done, waiting in the accept queue".to_string(),
            (TcpState::Established, true) => "accepted: the server holds a socket for it".to_string(),
            (TcpState::CloseWait, false) => {
                "the client has closed; still waiting in the accept queue".to_string()
            }
            (TcpState::CloseWait, true) => {
                "the client has closed; the server has not closed its side yet".to_string()
            }
            (TcpState::SynRecv | TcpState::NewSynRecv, _) => "handshake under way".to_string(),
            (TcpState::TimeWait, _) => {
                "closed; the kernel keeps the pair of ports reserved for a while".to_string()
            }
            (TcpState::FinWait1 | TcpState::FinWait2 | TcpState::LastAck | TcpState::Closing, _) => {
                "closing".to_string()
            }
            (other, _) => format!("in state {other}"),
        };
        if self.server_unread > 0 {
            words += &format!(
                "; {} bytes unread in the server's receive buffer",
                self.server_unread
            );
        }
        if let Some(unread) = self.client_unread.filter(|&unread| unread > 0) {
            words += &format!("; {unread} bytes unread in the client's receive buffer");
        }
        words
    }
}

impl fmt::Display for PortView {
    /// A table, one line per connection, with the meaning of each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.accept_queue {
            Some(0) => writeln!(f, "port {}: listening; the accept queue is empty", self.port)?,
            Some(1) => writeln!(
                f,
                "port {}: listening; 1 finished handshake waits for accept()",
                self.port
            )?,
            Some(n) => writeln!(
                f,
                "port {}: listening; {n} finished handshakes wait for accept()",
                self.port
            )?,
            None => writeln!(f, "port {}: nothing is listening", self.port)?,
        }
        if self.connections.is_empty() {
            return writeln!(f, "no connections");
        }
        writeln!(f, "CLIENT  ACCEPTED  SERVER UNREAD  CLIENT UNREAD  STATE")?;
        for connection in &self.connections {
            let client_unread = connection
                .client_unread
                .map_or("-".to_string(), |unread| unread.to_string());
            writeln!(
                f,
                "{:>6}  {:<8}  {:>13}  {:>13}  {}",
                connection.client_port,
                if connection.accepted { "yes" } else { "no" },
                connection.server_unread,
                client_unread,
                connection.state,
            )?;
            writeln!(f, "        = {}", connection.explain())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from a machine with server-v2 on port 12345 serving a client
    /// on port 50000, while a client on port 60000 waits in the accept queue
    /// with one 7-byte frame unread.
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 1053307 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:3039 01 00000000:00000000 00:00000000 00000000     0        0 1057372 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:3039 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1057373 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:EA60 0100007F:3039 01 00000000:00000000 00:00000000 00000000     0        0 1057390 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:3039 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1062040 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:3039 0000000000000000FFFF00000100007F:C350 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
";

    #[test]
    fn reads_the_lesson_picture() {
        let rows = parse_table(TCP).unwrap();
        assert_eq!(rows.len(), 5);
        let listening = listener(&rows, 12345).unwrap();
        assert_eq!(listening.rx_queue, 1);
        assert_eq!(listening.remote, "0.0.0.0:0".parse().unwrap());

        let served = server_side(&rows, 12345, 50000).unwrap();
        assert_eq!(
            (served.state, served.inode, served.rx_queue),
            (TcpState::Established, 1057373, 0)
        );

        let waiting = server_side(&rows, 12345, 60000).unwrap();
        assert_eq!((waiting.inode, waiting.rx_queue), (0, 7));
        assert_eq!(waiting.local, "127.0.0.1:12345".parse().unwrap());
    }

    #[test]
    fn port_view_of_the_lesson_picture() {
        let rows = parse_table(TCP).unwrap();
        let view = PortView::of(&rows, 12345);
        assert!(view.listening);
        assert_eq!(view.accept_queue, Some(1));
        let ports: Vec<u16> = view.connections.iter().map(|c| c.client_port).collect();
        assert_eq!(ports, [50000, 60000]);
        let (served, waiting) = (&view.connections[0], &view.connections[1]);
        assert!(served.accepted && !waiting.accepted);
        assert_eq!((waiting.server_unread, waiting.client_unread), (7, Some(0)));
        assert_eq!(served.explain(), "accepted: the server holds a socket for it");

        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["accept_queue"], 1);
        assert_eq!(json["connections"][1]["state"], "ESTABLISHED");
        assert_eq!(json["connections"][1]["accepted"], false);

        let table = view.to_string();
        assert!(
            table.starts_with("port 12345: listening; 1 finished handshake waits for accept()\n"),
            "{table}"
        );
        let waiting_row =
            " 60000  no                    7              0  ESTABLISHED\n        = handshake done";
        assert!(table.contains(waiting_row), "{table}");
    }

    #[test]
    fn reads_ipv6_rows() {
        let rows = parse_table(TCP6).unwrap();
        assert_eq!(rows[0].local, "[::1]:12345".parse().unwrap());
        assert_eq!(rows[0].state, TcpState::Listen);
        assert_eq!(rows[1].local, "[::ffff:127.0.0.1]:12345".parse().unwrap());
        assert_eq!(rows[1].state, TcpState::TimeWait);
        assert_eq!(rows[1].state.to_string(), "TIME_WAIT");
    }

    #[test]
    fn refuses_a_line_it_does_not_understand() {
        let text = "header\n   0: nonsense\n";
        let error = parse_table(text).unwrap_err();
        assert!(error.to_string().contains("nonsense"), "{error}");
    }

    #[test]
    fn reads_this_machines_table() {
        // The listener we open must be in the table, with its inode.
        let listener_socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener_socket.local_addr().unwrap().port();
        let rows = read_table().unwrap();
        let row = listener(&rows, port).expect("our own listening socket");
        assert_ne!(row.inode, 0);
    }
}
