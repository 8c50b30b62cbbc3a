//! Linux's table of TCP sockets, as the kernel prints it in `/proc/net/tcp`
//! and `/proc/net/tcp6`.
//!
//! What a row means, for the lesson:
//! - a `LISTEN` row's `rx_queue` is the length of its accept queue: finished
//!   handshakes waiting for `accept()`;
//! - any other row's `rx_queue` is the number of bytes received and not yet
//!   read by the application, and `tx_queue` the bytes written and not yet
//!   acknowledged. Both count sequence numbers, and a FIN takes one:
//!   `rx_queue` counts the peer's FIN (`CLOSE_WAIT` and after) until a read
//!   passes it, `tx_queue` this side's own (`FIN_WAIT1`, `CLOSING`,
//!   `LAST_ACK`) until it is acknowledged. The rows here count data only,
//!   and the state says where a FIN is;
//! - `inode` 0 means no process holds a socket for the row: a connection
//!   still waiting in the accept queue, or one whose program has closed it
//!   while the kernel finishes the goodbye (`TIME_WAIT`, `FIN_WAIT2`, ...).
//!
//! The parser is plain text handling, compiled on every system; only
//! reading the files is Linux's (see `kernel::read_table`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{AcceptQueue, Source, TcpRow, TcpState};

/// Linux's table: everything the lesson needs is there, the queue's limit
/// through the socket-diagnostics interface.
pub const SOURCE: Source = Source {
    system: "Linux",
    read_from: "/proc/net/tcp, /proc/net/tcp6",
    not_reported: "",
    reports_queues: true,
    reports_accepted: true,
    command: "ss -tan 'sport = :{port}'",
};

/// The files Linux prints the table in, IPv4 then IPv6.
pub const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// Parses the text of `/proc/net/tcp` or `/proc/net/tcp6` (the header line
/// and then one socket a line).
///
/// ```
/// use socket_lesson::kernel::{proc_net::parse_table, TcpState};
///
/// let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
///    0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000        0 41716 1 0000000000000000 100 0 0 10 0
///    1: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1
/// ";
/// let rows = parse_table(text)?;
/// assert_eq!(rows[0].state, TcpState::Listen);
/// assert_eq!(rows[0].local.to_string(), "127.0.0.1:12345");
/// assert_eq!(rows[0].queue.unwrap().waiting, Some(1)); // one finished handshake waits for accept()
/// assert_eq!(rows[1].remote.port(), 60000);
/// assert_eq!((rows[1].held, rows[1].unread), (Some(false), Some(7))); // not accepted, 7 bytes unread
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
    let (tx_queue, rx_queue) = (
        u32::from_str_radix(tx_queue, 16).ok()?,
        u32::from_str_radix(rx_queue, 16).ok()?,
    );
    let state = state_of(u8::from_str_radix(fields.get(3)?, 16).ok()?);
    // The kernel counts rcv_nxt - copied_seq, and the peer's FIN moved
    // rcv_nxt by one: a read takes it with the last bytes before it, so a
    // queue of N after the FIN is N - 1 bytes of data and the FIN, and 0 is
    // none of either. Likewise write_seq - snd_una counts this side's FIN
    // until it is acknowledged.
    let unread = if state.peer_has_closed() {
        rx_queue.saturating_sub(1)
    } else {
        rx_queue
    };
    let unacknowledged = if state.own_fin_unacknowledged() {
        tx_queue.saturating_sub(1)
    } else {
        tx_queue
    };
    let inode: u64 = fields.get(9)?.parse().ok()?;
    let listening = state == TcpState::Listen;
    Some(TcpRow {
        local: parse_address(fields.get(1)?)?,
        remote: parse_address(fields.get(2)?)?,
        state,
        unread: (!listening).then_some(unread),
        unacknowledged: (!listening).then_some(unacknowledged),
        // The limit is not in this file; `linux::read_rows` adds it.
        queue: listening.then_some(AcceptQueue {
            waiting: Some(rx_queue),
            in_progress: None,
            limit: None,
        }),
        held: Some(inode != 0),
    })
}

/// A state as Linux numbers them (`include/net/tcp_states.h`).
fn state_of(code: u8) -> TcpState {
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
        other => Other(other.into()),
    }
}

/// `0100007F:3039` is 127.0.0.1:12345: the address is printed as the
/// kernel's 32-bit words in the machine's byte order, the port in plain hex.
fn parse_address(field: &str) -> Option<SocketAddr> {
    let (address, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut words = Vec::with_capacity(16);
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernel::Table;

    /// Captured from a machine with server-v2 on port 12345 serving a client
    /// on port 50000, while a client on port 60000 waits in the accept queue
    /// with one 7-byte frame unread.
    pub(crate) const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
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
        let table = Table::new(parse_table(TCP).unwrap());
        assert_eq!(table.rows.len(), 5);
        let listening = table.listener(12345).unwrap();
        assert_eq!(listening.queue.unwrap().waiting, Some(1));
        assert_eq!(listening.unread, None);
        assert_eq!(listening.remote, "0.0.0.0:0".parse().unwrap());

        let served = table.server_side(12345, 50000).unwrap();
        assert_eq!(
            (served.state, served.held, served.unread),
            (TcpState::Established, Some(true), Some(0))
        );

        let waiting = table.server_side(12345, 60000).unwrap();
        assert_eq!((waiting.held, waiting.unread), (Some(false), Some(7)));
        assert_eq!(waiting.local, "127.0.0.1:12345".parse().unwrap());
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
    fn a_fin_in_a_queue_is_not_a_byte_of_data() {
        let text = "header
   0: 0100007F:3039 0100007F:C350 08 00000000:00000008 00:00000000 00000000     0        0 12 1
   1: 0100007F:3039 0100007F:C351 08 00000000:00000000 00:00000000 00000000     0        0 13 1
   2: 0100007F:3039 0100007F:C352 04 0039B601:00000000 00:00000000 00000000     0        0 0 1
   3: 0100007F:3039 0100007F:C353 01 0039B600:00000007 00:00000000 00000000     0        0 14 1
";
        let rows = parse_table(text).unwrap();
        // CLOSE_WAIT: 7 bytes and the client's FIN; then one whose FIN a read passed.
        assert_eq!((rows[0].unread, rows[0].unacknowledged), (Some(7), Some(0)));
        assert_eq!(rows[1].unread, Some(0));
        // FIN_WAIT1: 3,782,144 bytes and this side's FIN not yet acknowledged.
        assert_eq!(rows[2].unacknowledged, Some(3_782_144));
        // ESTABLISHED: every byte counted is data.
        assert_eq!(
            (rows[3].unread, rows[3].unacknowledged),
            (Some(7), Some(3_782_144))
        );
    }

    #[test]
    fn refuses_a_line_it_does_not_understand() {
        let text = "header\n   0: nonsense\n";
        let error = parse_table(text).unwrap_err();
        assert!(error.to_string().contains("nonsense"), "{error}");
    }
}
