//! Reading Linux's table: `/proc/net/tcp{,6}` for every socket, and the
//! socket-diagnostics interface for each listening socket's limit.
//!
//! The socket-diagnostics interface alone could give every fact (it is what
//! `ss` reads), but the table stays the files: a learner can `cat
//! /proc/net/tcp` and see the very text that peek reads, column by column,
//! as chapter 1 does. The interface adds only what the files do not print,
//! the limit. Each fact comes from one of the two, never from both.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::protocols::NETLINK_SOCK_DIAG;

use super::proc_net::{parse_table, TABLES};
use super::{TcpRow, TcpState};

/// Every TCP socket of this network namespace, IPv4 and IPv6.
///
/// Fails if `/proc/net/tcp` cannot be read; a missing `/proc/net/tcp6`
/// (IPv6 disabled) only means no IPv6 rows. The limits are added where the
/// socket-diagnostics interface answers, and left unknown where it does not.
pub(super) fn read_rows() -> io::Result<Vec<TcpRow>> {
    let mut rows = parse_table(&std::fs::read_to_string(TABLES[0])?)?;
    match std::fs::read_to_string(TABLES[1]) {
        Ok(text) => rows.extend(parse_table(&text)?),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    if rows.iter().any(|row| row.state == TcpState::Listen)
        && let Ok(limits) = listen_limits()
    {
        for row in rows.iter_mut().filter(|row| row.state == TcpState::Listen) {
            if let Some(queue) = row.queue.as_mut() {
                queue.limit = limits.get(&row.local).copied();
            }
        }
    }
    Ok(rows)
}

/// Each listening socket's accept-queue limit, by local address: the
/// backlog given to `listen()`, capped by `net.core.somaxconn`, as the
/// kernel applies it. `/proc/net/tcp` does not print it; the kernel's
/// socket-diagnostics interface does (it is `ss -ltn`'s Send-Q column).
fn listen_limits() -> io::Result<HashMap<SocketAddr, u32>> {
    let mut socket = netlink_sys::Socket::new(NETLINK_SOCK_DIAG)?;
    socket.bind_auto()?;
    socket.connect(&netlink_sys::SocketAddr::new(0, 0))?;
    let mut limits = HashMap::new();
    for (family, any) in [(AF_INET, SocketId::new_v4()), (AF_INET6, SocketId::new_v6())] {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        let request = SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::LISTEN,
            socket_id: any,
        });
        let mut message = NetlinkMessage::new(header, request.into());
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        socket.send(&bytes, 0)?;
        // The answer comes in datagrams of several messages each, until Done.
        'dump: loop {
            let (datagram, _) = socket.recv_from_full()?;
            let mut rest = &datagram[..];
            while !rest.is_empty() {
                let reply = NetlinkMessage::<SockDiagMessage>::deserialize(rest)
                    .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.to_string()))?;
                let length = reply.header.length as usize;
                match reply.payload {
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                        let id = &response.header.socket_id;
                        let local = SocketAddr::new(id.source_address, id.source_port);
                        // For a listening socket, the send queue's field
                        // carries the limit. (The receive queue's carries
                        // the queue's length, which is taken from /proc
                        // only, as the learner can read it there.)
                        limits.insert(local, response.header.send_queue);
                    }
                    NetlinkPayload::Done(_) => break 'dump,
                    NetlinkPayload::Error(error) => return Err(io::Error::other(error.to_string())),
                    _ => {}
                }
                if length == 0 || length > rest.len() {
                    break;
                }
                rest = &rest[length..];
            }
        }
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_reports_a_listening_sockets_backlog() {
        let address: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.bind(&address.into()).unwrap();
        socket.listen(7).unwrap();
        let local = socket.local_addr().unwrap().as_socket().unwrap();
        assert_eq!(listen_limits().unwrap().get(&local), Some(&7));
    }
}
