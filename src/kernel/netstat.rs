//! macOS's table of TCP sockets, as its `netstat` prints it.
//!
//! Two runs of netstat make the table:
//! - `netstat -anl -p tcp` lists every TCP socket with its state and, for a
//!   connection, the bytes received and not yet read (`Recv-Q`) and the
//!   bytes sent and not yet acknowledged (`Send-Q`). It does not say whether
//!   a connection has been accepted.
//! - `netstat -Lanl -p tcp` lists each listening socket's accept queue as
//!   `qlen/incqlen/maxqlen`: finished handshakes waiting for `accept()`,
//!   handshakes in progress, and the queue's limit.
//!
//! [`attach_queues`] puts the second list's queues on the first list's
//! listening sockets, where the match is certain.
//!
//! netstat prints an address as `host.port` (`127.0.0.1.12345`,
//! `::1.12345`), with `*` for the unspecified address or for no port. `-n`
//! prints hosts and ports as numbers, not names; `-l` prints IPv6
//! addresses whole (without it netstat cuts them to 16 characters, which
//! would give wrong addresses).
//!
//! The parsers are plain text handling, compiled and tested on every
//! system; only running netstat is macOS's (`kernel::macos`).
//!
//! *Checked here only by type and by unit tests on sample output written
//! from netstat's documented format: nothing in this project's CI runs on a
//! Mac.*

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::{AcceptQueue, Source, TcpRow, TcpState};

/// macOS's table: netstat reports queues and unread bytes, but not which
/// connections have been accepted.
pub const SOURCE: Source = Source {
    system: "macOS",
    read_from: "netstat -anl -p tcp, netstat -Lanl -p tcp",
    not_reported: "macOS's netstat does not say which connections have been accepted, \
                   only how many still wait in the listening socket's queue",
    reports_queues: true,
    reports_accepted: false,
    command: "netstat -an -p tcp | grep '\\.{port} '",
};

/// Parses the output of `netstat -an -p tcp` (or `-anl`): a title, a
/// header, then one socket a line.
///
/// Each row's columns are read from the left (`Proto`, `Recv-Q`, `Send-Q`,
/// local address, foreign address, state); columns after the state, which
/// flags such as `-v` add, are ignored. Lines that are not `tcp4`, `tcp6` or
/// `tcp46` rows (the title, the header, a note that sockets came or went
/// while netstat read them) are skipped. A listening socket's queue is left
/// unknown here: it comes from `netstat -L` (see [`attach_queues`]).
///
/// ```
/// use socket_lesson::kernel::{netstat::parse_connections, TcpState};
///
/// let text = "Active Internet connections (including servers)
/// Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)
/// tcp4       7      0  127.0.0.1.12345        127.0.0.1.60000        ESTABLISHED
/// tcp4       0      0  127.0.0.1.12345        *.*                    LISTEN
/// ";
/// let rows = parse_connections(text)?;
/// assert_eq!(rows[0].remote.to_string(), "127.0.0.1:60000");
/// assert_eq!(rows[0].unread, Some(7)); // 7 bytes no one has read
/// assert_eq!(rows[0].held, None); // accepted or still queued: netstat does not say
/// assert_eq!(rows[1].state, TcpState::Listen);
/// assert_eq!(rows[1].remote.to_string(), "0.0.0.0:0");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn parse_connections(text: &str) -> io::Result<Vec<TcpRow>> {
    text.lines()
        .filter_map(|line| parse_connection(line).transpose())
        .collect()
}

/// One line of `netstat -an -p tcp`: `Ok(None)` if it is not a socket's row.
fn parse_connection(line: &str) -> io::Result<Option<TcpRow>> {
    let columns: Vec<&str> = line.split_whitespace().collect();
    // `*` stands for the unspecified address of the row's family. A
    // dual-stack socket (`tcp46`) is an IPv6 socket that also takes IPv4.
    let unspecified: IpAddr = match columns.first() {
        Some(&"tcp4") => Ipv4Addr::UNSPECIFIED.into(),
        Some(&"tcp6" | &"tcp46") => Ipv6Addr::UNSPECIFIED.into(),
        _ => return Ok(None),
    };
    let &[_, recv_q, send_q, local, foreign, state, ..] = columns.as_slice() else {
        return Err(unexpected_line(line, "fewer than six columns"));
    };
    let count = |column: &str, name: &str| {
        column
            .parse::<u32>()
            .map_err(|_| unexpected_line(line, format!("{name} {column:?} is not a count")))
    };
    let address = |column: &str, name: &str| {
        let (host, port) = parse_host_port(column)
            .ok_or_else(|| unexpected_line(line, format!("{name} {column:?} is not host.port")))?;
        Ok::<_, io::Error>(SocketAddr::new(host.unwrap_or(unspecified), port))
    };
    let state =
        parse_state(state).ok_or_else(|| unexpected_line(line, format!("unknown TCP state {state:?}")))?;
    // Recv-Q and Send-Q are the bytes in the socket's buffers (`sb_cc`):
    // data only, a FIN is not counted in them.
    let (unread, unacknowledged) = (count(recv_q, "Recv-Q")?, count(send_q, "Send-Q")?);
    // A listening socket's Recv-Q counts no connection's bytes, and unlike a
    // LISTEN row's on Linux it is not the queue's length: it is left out.
    let listening = state == TcpState::Listen;
    Ok(Some(TcpRow {
        local: address(local, "local address")?,
        remote: address(foreign, "foreign address")?,
        state,
        unread: (!listening).then_some(unread),
        unacknowledged: (!listening).then_some(unacknowledged),
        queue: listening.then(AcceptQueue::default),
        held: None,
    }))
}

/// A state as BSD's netstat names it (`tcpstates` in `netinet/tcp_fsm.h`).
/// netstat prints a state it has no name for as its number, which is kept
/// as [`TcpState::Other`]; any other word is not a state.
fn parse_state(name: &str) -> Option<TcpState> {
    use TcpState::*;
    Some(match name {
        "CLOSED" => Close,
        "LISTEN" => Listen,
        "SYN_SENT" => SynSent,
        "SYN_RCVD" => SynRecv,
        "ESTABLISHED" => Established,
        "CLOSE_WAIT" => CloseWait,
        "FIN_WAIT_1" => FinWait1,
        "CLOSING" => Closing,
        "LAST_ACK" => LastAck,
        "FIN_WAIT_2" => FinWait2,
        "TIME_WAIT" => TimeWait,
        number => Other(number.parse().ok()?),
    })
}

/// Splits netstat's `host.port` at the last dot, since an IPv4 address has
/// dots of its own: `127.0.0.1.12345`, `::1.12345`, `fe80::1%lo0.49152`.
/// The host is `None` for `*`, the unspecified address, whose family only
/// the caller can know; a port of `*` is none, 0.
fn parse_host_port(text: &str) -> Option<(Option<IpAddr>, u16)> {
    let (host, port) = text.rsplit_once('.')?;
    let port = match port {
        "*" => 0,
        port => port.parse().ok()?,
    };
    let host = match host {
        "*" => None,
        // A link-local IPv6 address names its interface after a `%`
        // (`fe80::1%lo0`). `SocketAddr` can hold an interface's number but
        // not its name, so the name is dropped.
        host => Some(
            host.split_once('%')
                .map_or(host, |(address, _zone)| address)
                .parse()
                .ok()?,
        ),
    };
    Some((host, port))
}

/// The address of a listening socket as `netstat -L` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenAddress {
    /// A specific address, e.g. `127.0.0.1.12345` or `::1.12345`.
    Specific(SocketAddr),
    /// `*.12345`: the unspecified address on `port`, of a family that
    /// netstat does not say: `0.0.0.0` (IPv4), or `::` (IPv6 or dual-stack).
    Wildcard {
        /// The port listened on.
        port: u16,
    },
}

impl ListenAddress {
    /// Whether a listening socket bound to `local` prints as this address:
    /// the same address, or for [`ListenAddress::Wildcard`] the unspecified
    /// address of either family on the same port.
    ///
    /// ```
    /// use socket_lesson::kernel::netstat::ListenAddress;
    ///
    /// let wildcard = ListenAddress::Wildcard { port: 12345 };
    /// assert!(wildcard.matches("0.0.0.0:12345".parse().unwrap()));
    /// assert!(wildcard.matches("[::]:12345".parse().unwrap()));
    /// assert!(!wildcard.matches("127.0.0.1:12345".parse().unwrap()));
    /// ```
    pub fn matches(&self, local: SocketAddr) -> bool {
        match *self {
            ListenAddress::Specific(address) => address == local,
            ListenAddress::Wildcard { port } => local.port() == port && local.ip().is_unspecified(),
        }
    }
}

/// One row of `netstat -L`: a listening socket's address and its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenQueue {
    /// The address the socket listens on, as far as `netstat -L` tells it.
    pub local: ListenAddress,
    /// Its queue: netstat's qlen is `waiting`, incqlen `in_progress`, and
    /// maxqlen `limit`.
    pub queue: AcceptQueue,
}

/// Parses the output of `netstat -Lan -p tcp` (or `-Lanl`): a title, a
/// header, then one listening socket a line, its queue's
/// `qlen/incqlen/maxqlen` and its local address.
///
/// netstat prints the unspecified address of every family as `*`, so a
/// wildcard stays a [`ListenAddress::Wildcard`], family unknown; see
/// [`attach_queues`] for what that means.
///
/// ```
/// use socket_lesson::kernel::netstat::{parse_listen_queues, ListenAddress};
///
/// let text = "Current listen queue sizes (qlen/incqlen/maxqlen)
/// Listen         Local Address
/// 1/0/128        127.0.0.1.12345
/// 0/0/128        *.8080
/// ";
/// let queues = parse_listen_queues(text)?;
/// assert_eq!(queues[0].local, ListenAddress::Specific("127.0.0.1:12345".parse().unwrap()));
/// assert_eq!(queues[0].queue.waiting, Some(1)); // one finished handshake waits for accept()
/// assert_eq!(queues[0].queue.limit, Some(128));
/// assert_eq!(queues[1].local, ListenAddress::Wildcard { port: 8080 }); // 0.0.0.0 or ::
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn parse_listen_queues(text: &str) -> io::Result<Vec<ListenQueue>> {
    text.lines()
        .filter_map(|line| parse_listen_queue(line).transpose())
        .collect()
}

/// One line of `netstat -L`: `Ok(None)` if it is not a listening socket's row.
fn parse_listen_queue(line: &str) -> io::Result<Option<ListenQueue>> {
    let columns: Vec<&str> = line.split_whitespace().collect();
    // A row begins with its counts; the title, the header and notes with words.
    let row = columns
        .first()
        .is_some_and(|first| first.starts_with(|c: char| c.is_ascii_digit()));
    if !row {
        return Ok(None);
    }
    let &[counts, local, ..] = columns.as_slice() else {
        return Err(unexpected_line(line, "no local address"));
    };
    let queue = parse_counts(counts)
        .ok_or_else(|| unexpected_line(line, format!("{counts:?} is not qlen/incqlen/maxqlen")))?;
    let (host, port) = parse_host_port(local)
        .ok_or_else(|| unexpected_line(line, format!("local address {local:?} is not host.port")))?;
    let local = match host {
        Some(ip) => ListenAddress::Specific(SocketAddr::new(ip, port)),
        None => ListenAddress::Wildcard { port },
    };
    Ok(Some(ListenQueue { local, queue }))
}

/// The width of `netstat -L`'s first column, which cuts off what is longer.
const COUNTS_WIDTH: usize = 14;

/// `1/0/128`: finished handshakes, handshakes in progress, the limit.
fn parse_counts(field: &str) -> Option<AcceptQueue> {
    let mut counts = field.split('/');
    let (waiting, in_progress, limit) = (counts.next()?, counts.next()?, counts.next()?);
    if counts.next().is_some() {
        return None;
    }
    // The first two counts end at a slash, so they are whole; but a field
    // that fills its column may have lost the limit's last digits: then the
    // limit is unknown rather than wrong.
    let limit = if field.len() < COUNTS_WIDTH {
        Some(limit.parse().ok()?)
    } else {
        None
    };
    Some(AcceptQueue {
        waiting: Some(waiting.parse().ok()?),
        in_progress: Some(in_progress.parse().ok()?),
        limit,
    })
}

/// Gives each `LISTEN` row of `rows` its queue from `queues` (what
/// [`parse_listen_queues`] read), matched by local address; other rows are
/// returned as they are.
///
/// A row gets a queue only when the match is one to one: the row matches
/// exactly one entry of `queues`, and that entry exactly one `LISTEN` row.
/// Otherwise its queue's facts stay `None`, unknown, and are never guessed:
/// - `netstat -L` prints the unspecified address of every family as `*`, so
///   listeners on `0.0.0.0:12345` and `[::]:12345` both print as
///   `*.12345`, and which queue is whose cannot be told;
/// - two sockets listening on one address (`SO_REUSEPORT`) print alike too;
/// - a listening socket may be missing from `queues`: netstat's two runs
///   are moments apart, and sockets come and go between them (and
///   `netstat -L` skips a socket whose queue limit is 0).
///
/// For the same reason, a queue's counts may be a moment newer than the
/// rows.
///
/// ```
/// use socket_lesson::kernel::netstat::{attach_queues, parse_connections, parse_listen_queues};
///
/// let rows = parse_connections("tcp4  0  0  127.0.0.1.12345  *.*  LISTEN")?;
/// let queues = parse_listen_queues("1/0/128  127.0.0.1.12345")?;
/// let rows = attach_queues(rows, &queues);
/// assert_eq!(rows[0].queue.unwrap().waiting, Some(1));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn attach_queues(mut rows: Vec<TcpRow>, queues: &[ListenQueue]) -> Vec<TcpRow> {
    let listening: Vec<SocketAddr> = rows
        .iter()
        .filter(|row| row.state == TcpState::Listen)
        .map(|row| row.local)
        .collect();
    let rows_matching = |entry: &ListenQueue| {
        listening
            .iter()
            .filter(|&&local| entry.local.matches(local))
            .count()
    };
    for row in rows.iter_mut().filter(|row| row.state == TcpState::Listen) {
        let mut entries = queues.iter().filter(|entry| entry.local.matches(row.local));
        row.queue = Some(match (entries.next(), entries.next()) {
            (Some(entry), None) if rows_matching(entry) == 1 => entry.queue,
            _ => AcceptQueue::default(), // no entry, or more than one socket it could be
        });
    }
    rows
}

/// The error for a line of netstat's output that does not read as expected.
fn unexpected_line(line: &str, problem: impl fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected line in netstat's output ({problem}): {line:?}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{PortView, Stage, Table};

    /// `netstat -anl -p tcp` with server-v2 on 127.0.0.1:12345 serving a
    /// client on port 50000, while a client on port 60000 waits in the
    /// accept queue with one 7-byte frame unread; macOS lists the newest
    /// sockets first. (Port 5000 is the system's AirPlay receiver.)
    const LESSON: &str = "Active Internet connections (including servers)
Proto Recv-Q Send-Q  Local Address                                 Foreign Address                               (state)
tcp4       0      0  127.0.0.1.60000                               127.0.0.1.12345                               ESTABLISHED
tcp4       7      0  127.0.0.1.12345                               127.0.0.1.60000                               ESTABLISHED
tcp4       0      0  127.0.0.1.50000                               127.0.0.1.12345                               ESTABLISHED
tcp4       0      0  127.0.0.1.12345                               127.0.0.1.50000                               ESTABLISHED
tcp4       0      0  127.0.0.1.12345                               *.*                                           LISTEN
tcp46      0      0  *.5000                                        *.*                                           LISTEN
";

    /// `netstat -Lanl -p tcp` at the same moment.
    const LESSON_QUEUES: &str = "Current listen queue sizes (qlen/incqlen/maxqlen)
Listen         Local Address
1/0/128        127.0.0.1.12345
0/0/128        *.5000
";

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    fn listener<'a>(rows: &'a [TcpRow], local: &str) -> &'a TcpRow {
        rows.iter()
            .find(|row| row.state == TcpState::Listen && row.local == address(local))
            .unwrap_or_else(|| panic!("no listener on {local} in {rows:#?}"))
    }

    #[test]
    fn reads_the_lesson_picture() {
        let rows = parse_connections(LESSON).unwrap();
        assert_eq!(rows.len(), 6);

        let waiting = &rows[1];
        assert_eq!(
            (waiting.local, waiting.remote),
            (address("127.0.0.1:12345"), address("127.0.0.1:60000"))
        );
        assert_eq!(waiting.state, TcpState::Established);
        assert_eq!(waiting.unread, Some(7));
        assert_eq!((waiting.queue, waiting.held), (None, None));

        let listening = listener(&rows, "127.0.0.1:12345");
        assert_eq!(listening.remote, address("0.0.0.0:0"));
        assert_eq!(listening.unread, None);
        assert_eq!(listening.queue, Some(AcceptQueue::default()));
    }

    #[test]
    fn reads_the_lesson_queues() {
        let queues = parse_listen_queues(LESSON_QUEUES).unwrap();
        assert_eq!(
            queues,
            [
                ListenQueue {
                    local: ListenAddress::Specific(address("127.0.0.1:12345")),
                    queue: AcceptQueue {
                        waiting: Some(1),
                        in_progress: Some(0),
                        limit: Some(128)
                    },
                },
                ListenQueue {
                    local: ListenAddress::Wildcard { port: 5000 },
                    queue: AcceptQueue {
                        waiting: Some(0),
                        in_progress: Some(0),
                        limit: Some(128)
                    },
                },
            ]
        );
    }

    #[test]
    fn the_lesson_picture_as_peek_shows_it() {
        let rows = attach_queues(
            parse_connections(LESSON).unwrap(),
            &parse_listen_queues(LESSON_QUEUES).unwrap(),
        );
        let view = PortView::of(&Table::new(rows), 12345, &SOURCE);
        assert_eq!(view.listeners.len(), 1);
        let listener = &view.listeners[0];
        assert_eq!(listener.address, address("127.0.0.1:12345"));
        assert_eq!(listener.queue.waiting, Some(1));
        assert_eq!(listener.queue.in_progress, Some(0));
        assert_eq!(listener.queue.limit, Some(128));

        let ports: Vec<u16> = listener.connections.iter().map(|c| c.client_port).collect();
        assert_eq!(ports, [50000, 60000]);
        for connection in &listener.connections {
            assert_eq!(connection.stage, Stage::QueuedOrAccepted, "{connection:?}");
            assert!(connection.client_here);
        }
        let waiting = view.connection(60000).unwrap();
        assert_eq!((waiting.server_unread, waiting.client_unread), (Some(7), Some(0)));
        assert!(view.is_consistent());

        let text = view.to_string();
        assert!(
            text.starts_with(
                "port 12345: listening on 127.0.0.1:12345; 1 finished handshake waits for accept() \
                 (limit 128)\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(&format!("? = not reported: {}\n", SOURCE.not_reported)),
            "{text}"
        );
    }

    #[test]
    fn reads_ipv6_and_link_local_addresses() {
        let text = "Active Internet connections (including servers)
Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)
tcp6       0      0  fe80::1%lo0.49152      fe80::1%lo0.12345      ESTABLISHED
tcp6       0     12  ::1.12345              ::1.50000              CLOSE_WAIT
tcp6       0      0  ::1.12345              *.*                    LISTEN
tcp4       0      0  127.0.0.1.12345        127.0.0.1.50001        TIME_WAIT
";
        let rows = parse_connections(text).unwrap();
        // The interface's name (`%lo0`) is dropped.
        assert_eq!(rows[0].local, address("[fe80::1]:49152"));
        assert_eq!(rows[0].remote, address("[fe80::1]:12345"));
        assert_eq!((rows[1].state, rows[1].unread), (TcpState::CloseWait, Some(0)));
        assert_eq!(rows[2].local, address("[::1]:12345"));
        assert_eq!(rows[2].remote, address("[::]:0"));
        assert_eq!(rows[3].state, TcpState::TimeWait);
    }

    #[test]
    fn a_dual_stack_listener_is_on_the_ipv6_wildcard() {
        let rows =
            parse_connections("tcp46      0      0  *.12345                *.*                    LISTEN")
                .unwrap();
        assert_eq!(
            (rows[0].local, rows[0].remote),
            (address("[::]:12345"), address("[::]:0"))
        );
        // Alone on its port, the wildcard of `netstat -L` can only be it.
        let rows = attach_queues(rows, &parse_listen_queues("3/1/128        *.12345").unwrap());
        let queue = rows[0].queue.unwrap();
        assert_eq!(
            (queue.waiting, queue.in_progress, queue.limit),
            (Some(3), Some(1), Some(128))
        );
    }

    #[test]
    fn two_listeners_on_one_port_get_their_own_queues() {
        let rows = parse_connections(
            "tcp6       0      0  ::1.12345              *.*                    LISTEN
tcp4       0      0  127.0.0.1.12345        *.*                    LISTEN
tcp4       0      0  *.12345                *.*                    LISTEN
",
        )
        .unwrap();
        let queues = parse_listen_queues(
            "Current listen queue sizes (qlen/incqlen/maxqlen)
Listen         Local Address
0/0/5          ::1.12345
1/0/128        127.0.0.1.12345
2/0/16         *.12345
",
        )
        .unwrap();
        let rows = attach_queues(rows, &queues);
        let waiting = |local: &str| listener(&rows, local).queue.unwrap();
        assert_eq!(
            (waiting("[::1]:12345").waiting, waiting("[::1]:12345").limit),
            (Some(0), Some(5))
        );
        assert_eq!(waiting("127.0.0.1:12345").waiting, Some(1));
        // The only wildcard listener on the port: `*.12345` is certainly it.
        assert_eq!(
            (waiting("0.0.0.0:12345").waiting, waiting("0.0.0.0:12345").limit),
            (Some(2), Some(16))
        );
    }

    #[test]
    fn ipv4_and_ipv6_wildcards_on_one_port_are_not_guessed() {
        let rows = parse_connections(
            "tcp6       0      0  *.12345                *.*                    LISTEN
tcp4       0      0  *.12345                *.*                    LISTEN
tcp4       0      0  127.0.0.1.8080         *.*                    LISTEN
",
        )
        .unwrap();
        // Both wildcards print as `*.12345`: which is 2 and which is 0?
        let queues = parse_listen_queues(
            "2/0/128        *.12345
0/0/128        *.12345
1/0/128        127.0.0.1.8080
",
        )
        .unwrap();
        let rows = attach_queues(rows, &queues);
        for local in ["[::]:12345", "0.0.0.0:12345"] {
            assert_eq!(
                listener(&rows, local).queue,
                Some(AcceptQueue::default()),
                "{local}"
            );
        }
        // The unambiguous listener still gets its queue.
        assert_eq!(listener(&rows, "127.0.0.1:8080").queue.unwrap().waiting, Some(1));
    }

    #[test]
    fn a_listener_missing_from_the_queues_keeps_them_unknown() {
        // netstat -L ran after this listener closed and another opened.
        let rows =
            parse_connections("tcp4       0      0  127.0.0.1.12345        *.*                    LISTEN")
                .unwrap();
        let queues = parse_listen_queues("0/0/128        127.0.0.1.23456").unwrap();
        let rows = attach_queues(rows, &queues);
        assert_eq!(rows[0].queue, Some(AcceptQueue::default()));
        // And nothing listening at all: netstat -L prints nothing.
        assert_eq!(parse_listen_queues("").unwrap(), []);
    }

    #[test]
    fn ignores_extra_columns_and_notes() {
        // `-v` adds columns after the state; a note says sockets came or
        // went while netstat read them.
        let text = "Active Internet connections (including servers)
Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)      rhiwat  shiwat    pid   epid
tcp4       0      0  127.0.0.1.12345        127.0.0.1.50000        ESTABLISHED  408300  146988   4242      0

Some tcp sockets may have been created.
";
        let rows = parse_connections(text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].state, rows[0].unread), (TcpState::Established, Some(0)));
    }

    #[test]
    fn refuses_an_unknown_state() {
        let line = "tcp4       0      0  127.0.0.1.12345        127.0.0.1.50000        SLEEPING";
        let error = parse_connections(line).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let message = error.to_string();
        assert!(message.contains("unknown TCP state \"SLEEPING\""), "{message}");
        assert!(message.contains(line), "{message}");
    }

    #[test]
    fn keeps_a_state_netstat_prints_as_a_number() {
        // netstat prints the number of a state it has no name for.
        let rows = parse_connections("tcp4       0      0  127.0.0.1.12345        127.0.0.1.50000        11")
            .unwrap();
        assert_eq!(rows[0].state, TcpState::Other(11));
    }

    #[test]
    fn refuses_a_malformed_line() {
        let malformed_connections = [
            "tcp4       0      0  127.0.0.1.12345        127.0.0.1.50000",
            "tcp4       x      0  127.0.0.1.12345        127.0.0.1.50000        ESTABLISHED",
            "tcp4       0      0  127.0.0.1              127.0.0.1.50000        ESTABLISHED",
            "tcp4       0      0  127.0.0.1.123456       127.0.0.1.50000        ESTABLISHED",
            "tcp6       0      0  fe80::1%lo0.49152      nowhere.12345          ESTABLISHED",
        ];
        for line in malformed_connections {
            let error = parse_connections(line).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert!(error.to_string().contains(line), "{error}");
        }
        let malformed_queues = [
            "1/0           127.0.0.1.12345",
            "1/0/128/4      *.12345",
            "1/0/128",
            "1/0/x *.1",
        ];
        for line in malformed_queues {
            let error = parse_listen_queues(line).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert!(error.to_string().contains(line), "{error}");
        }
    }

    #[test]
    fn a_queue_column_cut_short_has_no_limit() {
        // The counts fill netstat's 14-character column: the limit, last,
        // may have lost digits, so it is not reported.
        let queues = parse_listen_queues("12345/12345/12 127.0.0.1.12345").unwrap();
        let queue = queues[0].queue;
        assert_eq!(
            (queue.waiting, queue.in_progress, queue.limit),
            (Some(12345), Some(12345), None)
        );
    }
}
