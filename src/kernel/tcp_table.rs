//! Windows's table of TCP sockets, from the `GetExtendedTcpTable` API.
//!
//! Windows hands the table over as C structures, one table per IP version:
//! `MIB_TCPTABLE_OWNER_PID` (IPv4) and `MIB_TCP6TABLE_OWNER_PID` (IPv6), each
//! a count of rows followed by the rows. A row carries what the lesson can
//! use from Windows:
//! - the state, a `MIB_TCP_STATE` number ([`row`] names it);
//! - the two ends' addresses and ports, stored the way the network sends
//!   them (big-endian), inside fields typed as native integers
//!   ([`ipv4_address`] and [`ipv6_address`] take them apart);
//! - the process that owns the socket.
//!
//! And it leaves out what the lesson would like most: how many finished
//! handshakes wait in a listening socket's accept queue, how many bytes
//! wait unread, and whether `accept()` has taken a connection yet. Those
//! facts stay `None` here, and the kernel view shows them as `?`.
//!
//! The conversions are plain arithmetic, compiled and tested on every
//! system; only the call to Windows (`read_rows`) is Windows's.

#[cfg(windows)]
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::{AcceptQueue, Source, TcpRow, TcpState};

/// Windows's table: connections, their states and their processes, but no
/// queue lengths and no unread bytes.
pub const SOURCE: Source = Source {
    system: "Windows",
    read_from: "GetExtendedTcpTable",
    not_reported: "Windows reports no queue lengths, no unread or unacknowledged bytes, and \
                   not whether a connection was accepted: only each connection, its state and \
                   its process",
    reports_queues: false,
    reports_accepted: false,
    command: "netstat -ano -p TCP | findstr :{port}",
};

/// One row of Windows's TCP table as the kernel view's [`TcpRow`]: `state`
/// is the row's `dwState` (a `MIB_TCP_STATE` number), `local` and `remote`
/// its two ends (see [`ipv4_address`], [`ipv6_address`]). The row's owning
/// process (`dwOwningPid`) is not kept: nothing the lesson shows needs it.
///
/// Windows does not report unread or unacknowledged bytes, a listening socket's queue, or
/// whether a connection was accepted, so those are `None`: a listening
/// socket gets a queue whose every field is unknown, never a queue of zero.
///
/// A listening socket has no other end, and Windows documents its remote
/// fields as having no meaning; its `remote` is therefore always the
/// unspecified address of its own IP version, port 0 (`0.0.0.0:0` or
/// `[::]:0`), whatever was passed.
///
/// ```
/// use socket_lesson::kernel::{tcp_table, TcpState};
///
/// // 127.0.0.1:12345 and 127.0.0.1:60000 as an IPv4 row holds them: each
/// // address's bytes in network order, each port big-endian in the low 16 bits.
/// let localhost = u32::from_ne_bytes([127, 0, 0, 1]);
/// let local = tcp_table::ipv4_address(localhost, u32::from(12345u16.to_be()));
/// let remote = tcp_table::ipv4_address(localhost, u32::from(60000u16.to_be()));
///
/// let row = tcp_table::row(5, local, remote); // 5 = MIB_TCP_STATE_ESTAB
/// assert_eq!(row.state, TcpState::Established);
/// assert_eq!(row.local.to_string(), "127.0.0.1:12345");
/// assert_eq!(row.remote.port(), 60000);
/// assert_eq!((row.unread, row.held), (None, None)); // Windows does not say
///
/// let listening = tcp_table::row(2, local, remote); // 2 = MIB_TCP_STATE_LISTEN
/// assert_eq!(listening.remote.to_string(), "0.0.0.0:0");
/// assert_eq!(listening.queue.unwrap().waiting, None); // not zero: unknown
/// ```
pub fn row(state: u32, local: SocketAddr, remote: SocketAddr) -> TcpRow {
    let state = state_of(state);
    let listening = state == TcpState::Listen;
    let remote = if listening {
        match local {
            SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
        }
    } else {
        remote
    };
    TcpRow {
        local,
        remote,
        state,
        unread: None,
        unacknowledged: None,
        queue: listening.then(AcceptQueue::default),
        held: None,
    }
}

/// An address and port of an IPv4 row (`MIB_TCPROW_OWNER_PID`), from its
/// raw fields: `dwLocalAddr` and `dwLocalPort`, or `dwRemoteAddr` and
/// `dwRemotePort`.
///
/// The address field is typed as a number, but what Windows puts in it are
/// the address's four bytes in network order: read as a number on a
/// little-endian machine, 127.0.0.1 is `0x0100007F`. So its bytes are taken
/// as they lie in memory, not its value. The port sits in the field's low
/// 16 bits, big-endian as well.
///
/// ```
/// use socket_lesson::kernel::tcp_table::ipv4_address;
///
/// let address = ipv4_address(u32::from_ne_bytes([192, 168, 1, 20]), u32::from(443u16.to_be()));
/// assert_eq!(address.to_string(), "192.168.1.20:443");
/// ```
pub fn ipv4_address(address: u32, port: u32) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(
        Ipv4Addr::from(address.to_ne_bytes()),
        port_of(port),
    ))
}

/// An address and port of an IPv6 row (`MIB_TCP6ROW_OWNER_PID`), from its
/// raw fields: `ucLocalAddr`, `dwLocalScopeId` and `dwLocalPort`, or their
/// `Remote` counterparts.
///
/// The address is its sixteen bytes in network order, as written; the port
/// sits in the low 16 bits of its field, big-endian, as in an IPv4 row. The
/// scope ID says which network interface a link-local address such as
/// `fe80::1` belongs to, and is kept for those only: the table may give one
/// for other addresses too (Wine gives `::1` the loopback interface's,
/// 4096), where it means nothing, and `[::1%4096]` is not how anyone writes
/// the loopback address. It is taken as a plain number, as `sockaddr_in6`
/// carries it: that is how Wine fills the field and how Microsoft's own
/// samples compare it, although the structure's page says "network byte
/// order".
///
/// ```
/// use std::net::Ipv6Addr;
/// use socket_lesson::kernel::tcp_table::ipv6_address;
///
/// let port = u32::from(12345u16.to_be());
/// let address = ipv6_address(Ipv6Addr::LOCALHOST.octets(), 4096, port);
/// assert_eq!(address.to_string(), "[::1]:12345");
/// let link_local: Ipv6Addr = "fe80::1".parse().unwrap();
/// assert_eq!(ipv6_address(link_local.octets(), 3, port).to_string(), "[fe80::1%3]:12345");
/// ```
pub fn ipv6_address(address: [u8; 16], scope_id: u32, port: u32) -> SocketAddr {
    let address = Ipv6Addr::from(address);
    // Link-local unicast is fe80::/10 (`Ipv6Addr::is_unicast_link_local`,
    // newer than this workspace's oldest supported Rust).
    let link_local = address.segments()[0] & 0xffc0 == 0xfe80;
    let scope_id = if link_local { scope_id } else { 0 };
    SocketAddr::V6(SocketAddrV6::new(address, port_of(port), 0, scope_id))
}

/// A port from a row's port field: the low 16 bits hold the port as the
/// network sends it, big-endian. (The upper 16 bits are not part of it: the
/// cast keeps only the low ones, which is what is wanted.)
fn port_of(field: u32) -> u16 {
    u16::from_be(field as u16)
}

/// A state as Windows numbers them (`MIB_TCP_STATE`, in `tcpmib.h`), under
/// the model's names, which are Linux's.
fn state_of(code: u32) -> TcpState {
    use TcpState::*;
    match code {
        1 => Close,
        2 => Listen,
        3 => SynSent,
        4 => SynRecv,
        5 => Established,
        6 => FinWait1,
        7 => FinWait2,
        8 => CloseWait,
        9 => Closing,
        10 => LastAck,
        11 => TimeWait,
        12 => DeleteTcb,
        other => Other(other),
    }
}

/// Every TCP socket Windows reports, IPv4 then IPv6, with its process.
///
/// Fails, naming `GetExtendedTcpTable` and Windows's error, if a table
/// cannot be read; only an IPv6 table that Windows does not support
/// (`ERROR_NOT_SUPPORTED`, the answer of a system without IPv6) means no
/// IPv6 rows instead of an error.
#[cfg(windows)]
pub(super) fn read_rows() -> io::Result<Vec<TcpRow>> {
    use std::mem::offset_of;

    use windows_sys::Win32::Foundation::ERROR_NOT_SUPPORTED;
    use windows_sys::Win32::NetworkManagement::IpHelper::{
        MIB_TCP6ROW_OWNER_PID, MIB_TCP6TABLE_OWNER_PID, MIB_TCPROW_OWNER_PID, MIB_TCPTABLE_OWNER_PID,
    };
    use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6};

    let buffer = system::fetch(AF_INET).map_err(|code| system::error(code, "IPv4"))?;
    // SAFETY: `buffer` holds what GetExtendedTcpTable wrote for AF_INET and
    // TCP_TABLE_OWNER_PID_ALL, which is a MIB_TCPTABLE_OWNER_PID: its rows
    // are MIB_TCPROW_OWNER_PID and begin at its `table` field.
    let ipv4: &[MIB_TCPROW_OWNER_PID] =
        unsafe { system::entries(&buffer, offset_of!(MIB_TCPTABLE_OWNER_PID, table)) }?;
    let mut rows: Vec<TcpRow> = ipv4
        .iter()
        .map(|entry| {
            row(
                entry.dwState,
                ipv4_address(entry.dwLocalAddr, entry.dwLocalPort),
                ipv4_address(entry.dwRemoteAddr, entry.dwRemotePort),
            )
        })
        .collect();

    match system::fetch(AF_INET6) {
        Ok(buffer) => {
            // SAFETY: `buffer` holds what GetExtendedTcpTable wrote for
            // AF_INET6 and TCP_TABLE_OWNER_PID_ALL, which is a
            // MIB_TCP6TABLE_OWNER_PID: its rows are MIB_TCP6ROW_OWNER_PID and
            // begin at its `table` field.
            let ipv6: &[MIB_TCP6ROW_OWNER_PID] =
                unsafe { system::entries(&buffer, offset_of!(MIB_TCP6TABLE_OWNER_PID, table)) }?;
            rows.extend(ipv6.iter().map(|entry| {
                row(
                    entry.dwState,
                    ipv6_address(entry.ucLocalAddr, entry.dwLocalScopeId, entry.dwLocalPort),
                    ipv6_address(entry.ucRemoteAddr, entry.dwRemoteScopeId, entry.dwRemotePort),
                )
            }));
        }
        // No IPv6 on this machine: there are no IPv6 sockets to show.
        Err(ERROR_NOT_SUPPORTED) => {}
        Err(code) => return Err(system::error(code, "IPv6")),
    }
    Ok(rows)
}

/// The call to Windows and the reading of the memory it fills.
#[cfg(windows)]
mod system {
    use std::io;

    use windows_sys::Win32::Foundation::{ERROR_INSUFFICIENT_BUFFER, FALSE, NO_ERROR, WIN32_ERROR};
    use windows_sys::Win32::NetworkManagement::IpHelper::{GetExtendedTcpTable, TCP_TABLE_OWNER_PID_ALL};
    use windows_sys::Win32::Networking::WinSock::ADDRESS_FAMILY;

    /// How many times to ask: the table can grow between the call that
    /// learns its size and the call that reads it, and then the second call
    /// asks for more room. A table that outgrows the buffer this many times
    /// in a row is reported as an error rather than chased forever.
    const ATTEMPTS: usize = 8;

    /// The raw table of `family`'s TCP sockets, each with its owning
    /// process, as `GetExtendedTcpTable` writes it; the error is Windows's
    /// code.
    ///
    /// The usual two calls: the first, with no buffer, only learns the size
    /// the table needs (Windows answers `ERROR_INSUFFICIENT_BUFFER` and
    /// writes the size); the second passes a buffer of that size and gets
    /// the table. The buffer is made of `u32`s rather than bytes so that it
    /// starts at an address aligned for the table, whose fields are `u32`s
    /// and byte arrays (the rows are then read in place, see [`entries`]).
    pub(super) fn fetch(family: ADDRESS_FAMILY) -> Result<Vec<u32>, WIN32_ERROR> {
        let mut buffer: Vec<u32> = Vec::new();
        // Going in: how many bytes `table` may hold. Coming out, when they
        // are too few: how many the table needs.
        let mut size: u32 = 0;
        for _ in 0..ATTEMPTS {
            let table = if buffer.is_empty() {
                std::ptr::null_mut()
            } else {
                buffer.as_mut_ptr().cast()
            };
            // SAFETY: `size` is a live u32 the call may read and write.
            // `table` is either null, with `size` 0, which asks only for
            // the size, or points to `buffer`, which owns at least `size`
            // writable bytes: it was allocated from that very `size`, rounded
            // up to whole u32s, and neither has changed since. Windows writes
            // at most `size` bytes there and keeps no pointer after returning.
            let code = unsafe {
                GetExtendedTcpTable(
                    table,
                    &mut size,
                    FALSE,
                    u32::from(family),
                    TCP_TABLE_OWNER_PID_ALL,
                    0,
                )
            };
            match code {
                NO_ERROR => return Ok(buffer),
                // `size` now says how many bytes the table needs.
                ERROR_INSUFFICIENT_BUFFER => {
                    buffer = vec![0; (size as usize).div_ceil(size_of::<u32>())];
                }
                code => return Err(code),
            }
        }
        Err(ERROR_INSUFFICIENT_BUFFER)
    }

    /// Windows's error `code` as an `io::Error` that says which call failed,
    /// for which IP version (`family`), and what Windows said.
    pub(super) fn error(code: WIN32_ERROR, family: &str) -> io::Error {
        // Windows error codes are small positive numbers: the conversion to
        // the i32 std takes for an OS error keeps them as they are.
        let os_error = io::Error::from_raw_os_error(code as i32);
        io::Error::new(
            os_error.kind(),
            format!("GetExtendedTcpTable for {family}: {os_error}"),
        )
    }

    /// The rows of a table that `GetExtendedTcpTable` wrote into `buffer`,
    /// read in place: the table starts with its number of rows
    /// (`dwNumEntries`, a u32), and its rows, each a `Row`, start at byte
    /// `first_row`.
    ///
    /// Fails if that number claims more rows than the buffer holds, so that
    /// a bad count cannot make the slice reach past the buffer.
    ///
    /// # Safety
    ///
    /// `Row` must be the row structure of the table that `buffer` holds
    /// (`MIB_TCPROW_OWNER_PID` for an IPv4 table, `MIB_TCP6ROW_OWNER_PID` for
    /// IPv6), and `first_row` the offset of that table's `table` field.
    pub(super) unsafe fn entries<Row>(buffer: &[u32], first_row: usize) -> io::Result<&[Row]> {
        // Checked when the program is compiled: the rows are read where they
        // lie, in memory aligned for u32s, which must be enough for `Row`.
        const { assert!(align_of::<Row>() <= align_of::<u32>()) };
        // `dwNumEntries` is the table's first field: the buffer's first u32.
        // An empty buffer is a table Windows never had to write: no rows.
        let count = buffer.first().map_or(0, |&count| count as usize);
        if count == 0 {
            return Ok(&[]);
        }
        // The byte where the last row ends, if that is within the buffer.
        let end = count
            .checked_mul(size_of::<Row>())
            .and_then(|bytes| bytes.checked_add(first_row))
            .filter(|&end| end <= size_of_val(buffer));
        if end.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("GetExtendedTcpTable: the table counts {count} rows, more than its buffer holds"),
            ));
        }
        // SAFETY: the `count` rows lie inside `buffer`: they end at byte
        // `end`, checked above to be within it, and start at `first_row`,
        // past the count. They are aligned for `Row`: the buffer starts at
        // an address aligned for u32s, which is enough for `Row` (checked
        // when compiled), and `first_row`, the offset of a field made of
        // `Row`s, is a multiple of `Row`'s alignment. Every byte is
        // initialised: the buffer was zero-filled, then written by Windows.
        // The bytes are a valid `Row` whatever they are, since the caller
        // promises that `Row` is one of Windows's row structures, made of
        // integers and byte arrays only. The slice borrows `buffer`, so the
        // bytes can be neither changed nor freed while it lives.
        Ok(unsafe {
            std::slice::from_raw_parts(buffer.as_ptr().cast::<u8>().add(first_row).cast::<Row>(), count)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{PortView, Stage, Table};

    /// An IPv4 address and port, as `MIB_TCPROW_OWNER_PID`'s fields hold
    /// them.
    fn raw_ipv4(address: [u8; 4], port: u16) -> (u32, u32) {
        (u32::from_ne_bytes(address), u32::from(port.to_be()))
    }

    /// A row of an IPv4 table from its raw fields, as Windows fills them.
    fn ipv4_row(state: u32, local: ([u8; 4], u16), remote: ([u8; 4], u16)) -> TcpRow {
        let (local_address, local_port) = raw_ipv4(local.0, local.1);
        let (remote_address, remote_port) = raw_ipv4(remote.0, remote.1);
        row(
            state,
            ipv4_address(local_address, local_port),
            ipv4_address(remote_address, remote_port),
        )
    }

    const LOCALHOST: [u8; 4] = [127, 0, 0, 1];
    const ESTABLISHED: u32 = 5;
    const LISTEN: u32 = 2;

    #[test]
    fn each_state_has_its_name() {
        use TcpState::*;
        let states = [
            (1, Close, "CLOSE"),
            (2, Listen, "LISTEN"),
            (3, SynSent, "SYN_SENT"),
            (4, SynRecv, "SYN_RECV"),
            (5, Established, "ESTABLISHED"),
            (6, FinWait1, "FIN_WAIT1"),
            (7, FinWait2, "FIN_WAIT2"),
            (8, CloseWait, "CLOSE_WAIT"),
            (9, Closing, "CLOSING"),
            (10, LastAck, "LAST_ACK"),
            (11, TimeWait, "TIME_WAIT"),
            (12, DeleteTcb, "DELETE_TCB"),
            (0, Other(0), "STATE_00"),
            (13, Other(13), "STATE_0D"),
            (100, Other(100), "STATE_64"), // MIB_TCP_STATE_RESERVED
        ];
        for (code, state, name) in states {
            let converted = ipv4_row(code, (LOCALHOST, 12345), (LOCALHOST, 50000));
            assert_eq!(converted.state, state, "code {code}");
            assert_eq!(converted.state.to_string(), name, "code {code}");
        }
    }

    #[test]
    fn ipv4_fields_as_windows_fills_them() {
        let (address, port) = raw_ipv4(LOCALHOST, 12345);
        // What the fields hold on Windows (little-endian): the address's
        // bytes, and the port's two bytes swapped.
        if cfg!(target_endian = "little") {
            assert_eq!((address, port), (0x0100_007F, 0x3930));
        }
        assert_eq!(ipv4_address(address, port), "127.0.0.1:12345".parse().unwrap());
        let (address, port) = raw_ipv4([10, 1, 2, 3], 60000);
        assert_eq!(ipv4_address(address, port), "10.1.2.3:60000".parse().unwrap());
        assert_eq!(ipv4_address(0, 0), "0.0.0.0:0".parse().unwrap());
    }

    #[test]
    fn a_port_is_the_low_16_bits_of_its_field() {
        let port = u32::from(12345u16.to_be()) | 0xABCD_0000;
        assert_eq!(ipv4_address(0, port).port(), 12345);
    }

    #[test]
    fn ipv6_fields_as_windows_fills_them() {
        let port = u32::from(12345u16.to_be());
        assert_eq!(
            ipv6_address(Ipv6Addr::LOCALHOST.octets(), 0, port),
            "[::1]:12345".parse().unwrap()
        );
        // The loopback address belongs to no one interface: a scope ID given
        // with it (Wine gives 4096) is dropped.
        assert_eq!(
            ipv6_address(Ipv6Addr::LOCALHOST.octets(), 4096, port),
            "[::1]:12345".parse().unwrap()
        );
        let mapped = Ipv4Addr::LOCALHOST.to_ipv6_mapped().octets();
        assert_eq!(
            ipv6_address(mapped, 0, port),
            "[::ffff:127.0.0.1]:12345".parse().unwrap()
        );
        // A link-local address keeps the interface it belongs to.
        let link_local: Ipv6Addr = "fe80::1".parse().unwrap();
        let address = ipv6_address(link_local.octets(), 3, port);
        assert_eq!(
            address,
            SocketAddr::V6(SocketAddrV6::new(link_local, 12345, 0, 3))
        );
        assert_eq!(address.to_string(), "[fe80::1%3]:12345");
        assert_eq!(ipv6_address([0; 16], 0, 0), "[::]:0".parse().unwrap());
    }

    #[test]
    fn a_connection_reports_its_state_only() {
        let connection = ipv4_row(ESTABLISHED, (LOCALHOST, 12345), (LOCALHOST, 50000));
        assert_eq!(
            connection,
            TcpRow {
                local: "127.0.0.1:12345".parse().unwrap(),
                remote: "127.0.0.1:50000".parse().unwrap(),
                state: TcpState::Established,
                unread: None,
                unacknowledged: None,
                queue: None,
                held: None,
            }
        );
    }

    #[test]
    fn a_listening_socket_has_an_unknown_queue_and_no_other_end() {
        let listening = ipv4_row(LISTEN, (LOCALHOST, 12345), ([0; 4], 0));
        assert_eq!(listening.state, TcpState::Listen);
        assert_eq!(
            listening.queue,
            Some(AcceptQueue {
                waiting: None,
                in_progress: None,
                limit: None
            })
        );
        assert_eq!((listening.unread, listening.held), (None, None));
        assert_eq!(listening.remote, "0.0.0.0:0".parse().unwrap());

        // Whatever the remote fields hold, which Windows says mean nothing
        // for a listening socket.
        let port = u32::from(12345u16.to_be());
        let listening = row(
            LISTEN,
            ipv6_address(Ipv6Addr::UNSPECIFIED.octets(), 0, port),
            ipv6_address(Ipv6Addr::LOCALHOST.octets(), 0, 0x1234),
        );
        assert_eq!(listening.local, "[::]:12345".parse().unwrap());
        assert_eq!(listening.remote, "[::]:0".parse().unwrap());
    }

    #[test]
    fn the_lesson_picture_as_windows_reports_it() {
        // server-v2 on port 12345 serving a client on port 50000 while a
        // client on port 60000 waits in the accept queue: Windows lists the
        // two connections alike.
        let table = Table::new(vec![
            ipv4_row(LISTEN, (LOCALHOST, 12345), ([0; 4], 0)),
            ipv4_row(ESTABLISHED, (LOCALHOST, 12345), (LOCALHOST, 50000)),
            ipv4_row(ESTABLISHED, (LOCALHOST, 50000), (LOCALHOST, 12345)),
            ipv4_row(ESTABLISHED, (LOCALHOST, 12345), (LOCALHOST, 60000)),
            ipv4_row(ESTABLISHED, (LOCALHOST, 60000), (LOCALHOST, 12345)),
        ]);
        let view = PortView::of(&table, 12345, &SOURCE);
        assert_eq!(view.listeners.len(), 1);
        assert_eq!(view.listeners[0].queue, AcceptQueue::default());
        let ports: Vec<u16> = view.connections().map(|c| c.client_port).collect();
        assert_eq!(ports, [50000, 60000]);
        for connection in view.connections() {
            assert_eq!(connection.stage, Stage::QueuedOrAccepted, "{connection:?}");
            assert_eq!(connection.server_unread, None);
            assert!(connection.client_here);
            assert_eq!(connection.client_unread, None);
        }
        assert!(view.is_consistent());

        let text = view.to_string();
        assert!(
            text.starts_with(
                "port 12345: listening on 127.0.0.1:12345; Windows's table gives no length for its accept queue\n"
            ),
            "{text}"
        );
        // ACCEPTED, SERVER UNREAD and CLIENT UNREAD: all unknown.
        let waiting = "127.0.0.1:60000  ?                     ?              ?  ESTABLISHED\n";
        assert!(text.contains(waiting), "{text}");
        assert!(
            text.contains("= handshake done; waiting in the accept queue or accepted (not reported)"),
            "{text}"
        );
        let footnote = format!("? = not reported: {}\n", SOURCE.not_reported);
        assert!(text.ends_with(&footnote), "{text}");
    }

    /// On Windows itself (or Wine): our own sockets are in the table, and a
    /// connection's two ends are both found.
    #[cfg(windows)]
    #[test]
    fn reads_this_machines_table() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let client = std::net::TcpStream::connect(server).unwrap();
        let client_address = client.local_addr().unwrap();
        // Accepted, so that the server's side is a socket of this process:
        // Wine (since 9.17) lists only the sockets its programs hold, and a
        // connection still in the accept queue is not one yet.
        let (_accepted, _) = listener.accept().unwrap();

        let rows = read_rows().unwrap();
        let listening = rows
            .iter()
            .find(|row| row.state == TcpState::Listen && row.local == server)
            .expect("our own listening socket");
        assert_eq!(listening.queue, Some(AcceptQueue::default()));
        let server_side = rows
            .iter()
            .find(|row| row.local == server && row.remote == client_address)
            .expect("the server's side of our connection");
        assert_eq!(server_side.state, TcpState::Established);
        assert!(rows
            .iter()
            .any(|row| row.local == client_address && row.remote == server));
    }
}
