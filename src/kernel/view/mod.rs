//! One server port as the lesson talks about it: each listening socket with
//! its accept queue, the connections that belong to it and where each one
//! is (in the queue, accepted, closing), and the bytes no one has read.
//!
//! The rules, each one a way a table can mislead:
//! - A connection belongs to a listening socket when its local port is the
//!   listener's and its local address is the listener's, or one the
//!   listener's wildcard (`0.0.0.0`, `::`) covers. A client that happens to
//!   use the same port number, or a connection to another address, is not
//!   the listener's and is not shown.
//! - Two listening sockets on one port (`127.0.0.1` and `::1`, say) are two
//!   queues, shown apart.
//! - *Not accepted* is said only of a connection that is in a queue: one
//!   that no process holds **and** that is still open. A closed connection
//!   is not held by anyone either, and is shown as closed.
//! - An IPv4 address seen through an IPv6 socket (`::ffff:127.0.0.1`) is the
//!   same address as `127.0.0.1`, so the client's own row is found.

use std::net::{IpAddr, SocketAddr};

use super::{AcceptQueue, Source, Table, TcpRow, TcpState};

mod table;
#[cfg(test)]
mod tests;
mod words;

/// The kernel's view of one server port: what `peek` shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortView {
    /// The server's port.
    pub port: u16,
    /// The system the facts come from, e.g. `Linux`.
    pub system: &'static str,
    /// Each listening socket on the port, with its connections.
    pub listeners: Vec<ListenerView>,
    /// What this system does not report, in one line; empty if nothing the
    /// lesson needs is missing.
    pub not_reported: &'static str,
}

/// One listening socket and the connections that came through it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListenerView {
    /// The address it listens on, e.g. `127.0.0.1:12345`.
    pub address: SocketAddr,
    /// Its accept queue, as far as the system reports it.
    pub queue: AcceptQueue,
    /// Its connections, open ones first, each group by client address.
    pub connections: Vec<ConnectionView>,
    /// Clients on this machine whose `connect()` to it still waits for an
    /// answer (`SYN_SENT`) and that have no row on the server's side: the
    /// server's kernel has not taken their handshake. When the accept queue
    /// is full it drops their SYN, and each client's kernel sends it again
    /// later, waiting longer each time. By client address.
    pub unanswered: Vec<SocketAddr>,
}

/// One client's connection to the server port, seen from both ends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionView {
    /// The client's address and port.
    pub client: SocketAddr,
    /// The client's port (the lesson's 50000 and 60000).
    pub client_port: u16,
    /// Where the connection is, as far as the system says.
    pub stage: Stage,
    /// The server side's TCP state.
    pub state: TcpState,
    /// Bytes of data in the server side's receive buffer that no one has
    /// read yet (a FIN is not counted: see `fin_from_client`); `None` where
    /// the system does not report it.
    pub server_unread: Option<u32>,
    /// Whether the client's FIN has reached the server's side: the client
    /// has closed its sending side, and once the server has read the unread
    /// bytes, its next read returns the end of the stream. From the server
    /// side's state, which every system reports.
    pub fin_from_client: bool,
    /// Bytes the server wrote that the client has not acknowledged yet, sent
    /// or still to be sent (`ss`'s Send-Q); `None` where the system does not
    /// report it.
    pub server_unacknowledged: Option<u32>,
    /// Bytes of data in the client side's receive buffer, when the client's
    /// socket is on this machine and the system reports it.
    pub client_unread: Option<u32>,
    /// Whether the server's FIN has reached the client's side, when the
    /// client's socket is on this machine: once the client has read its
    /// unread bytes, its next read returns the end of the stream.
    pub fin_from_server: Option<bool>,
    /// Bytes the client wrote that the server has not acknowledged yet, when
    /// the client's socket is on this machine and the system reports it.
    pub client_unacknowledged: Option<u32>,
    /// Whether the client's own socket was found in the table (the client
    /// runs on this machine).
    pub client_here: bool,
    /// The client side's TCP state, when its socket is on this machine.
    pub client_state: Option<TcpState>,
    /// Whether a process holds the client's socket: `false` once the
    /// client's program has closed it while the kernel finishes the goodbye
    /// (`FIN_WAIT2`, `TIME_WAIT`, ...). `None` when the client is not on this
    /// machine or the system does not report it.
    pub client_held: Option<bool>,
}

/// Where a connection is, seen from the server's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The kernel is still in the middle of the handshake.
    Handshake,
    /// The handshake is done and the connection waits in the accept queue:
    /// the server's program has no socket for it yet.
    Queued,
    /// `accept()` has taken it: the server's program holds a socket for it.
    Accepted,
    /// Open, and either queued or accepted: the system does not say which.
    QueuedOrAccepted,
    /// Closing or closed (`FIN_WAIT`, `TIME_WAIT`, ...).
    Closed,
}

impl Stage {
    /// Where the server side of a connection is, from its row.
    fn of(row: &TcpRow) -> Stage {
        if row.state.is_handshake() {
            Stage::Handshake
        } else if row.state.is_closing() {
            Stage::Closed
        } else {
            match row.held {
                Some(true) => Stage::Accepted,
                Some(false) => Stage::Queued,
                None => Stage::QueuedOrAccepted,
            }
        }
    }
}

impl PortView {
    /// Gathers what `table` holds about `port`, as this system reports it.
    ///
    /// ```
    /// use socket_lesson::kernel::{proc_net, PortView, Stage, Table};
    ///
    /// let table = Table::new(proc_net::parse_table("header
    ///    0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000  0 41716 1
    ///    1: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000  1000  0 0 1
    /// ")?);
    /// let view = PortView::of(&table, 12345, &proc_net::SOURCE);
    /// let listener = &view.listeners[0];
    /// assert_eq!(listener.queue.waiting, Some(1));
    /// assert_eq!(listener.connections[0].client_port, 60000);
    /// assert_eq!(listener.connections[0].stage, Stage::Queued);
    /// assert_eq!(
    ///     listener.connections[0].explain(),
    ///     "handshake done, waiting in the accept queue; 7 bytes unread in the server's receive buffer",
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn of(table: &Table, port: u16, source: &Source) -> PortView {
        let listening: Vec<&TcpRow> = table
            .on_port(port)
            .filter(|row| row.state == TcpState::Listen)
            .collect();
        let mut listeners: Vec<ListenerView> = listening
            .iter()
            .map(|row| ListenerView {
                address: row.local,
                queue: row.queue.unwrap_or_default(),
                connections: Vec::new(),
                unanswered: Vec::new(),
            })
            .collect();
        for server_side in table.on_port(port).filter(|row| row.state != TcpState::Listen) {
            let Some(owner) = owner(&listening, server_side.local) else {
                continue; // not a connection any listening socket made
            };
            let client_side = table
                .rows
                .iter()
                .find(|row| same(row.local, server_side.remote) && same(row.remote, server_side.local));
            listeners[owner].connections.push(ConnectionView {
                client: server_side.remote,
                client_port: server_side.remote.port(),
                stage: Stage::of(server_side),
                state: server_side.state,
                server_unread: server_side.unread,
                fin_from_client: server_side.state.peer_has_closed(),
                server_unacknowledged: server_side.unacknowledged,
                client_unread: client_side.and_then(|row| row.unread),
                fin_from_server: client_side.map(|row| row.state.peer_has_closed()),
                client_unacknowledged: client_side.and_then(|row| row.unacknowledged),
                client_here: client_side.is_some(),
                client_state: client_side.map(|row| row.state),
                client_held: client_side.and_then(|row| row.held),
            });
        }
        // A client whose SYN the server's kernel has not taken has no row on
        // the server's side, only its own, toward the port.
        for client_side in table
            .rows
            .iter()
            .filter(|row| row.state == TcpState::SynSent && row.remote.port() == port)
        {
            let Some(owner) = owner(&listening, client_side.remote) else {
                continue;
            };
            let listener = &mut listeners[owner];
            if !listener
                .connections
                .iter()
                .any(|c| same(c.client, client_side.local))
            {
                listener.unanswered.push(client_side.local);
            }
        }
        for listener in &mut listeners {
            listener
                .connections
                .sort_by_key(|connection| (connection.stage == Stage::Closed, connection.client));
            listener.unanswered.sort();
        }
        PortView {
            port,
            system: source.system,
            listeners,
            not_reported: source.not_reported,
        }
    }

    /// One line saying what this system's table leaves out, for beneath a
    /// picture; `None` where it reports everything the lesson shows.
    pub fn not_reported_line(&self) -> Option<String> {
        (!self.not_reported.is_empty())
            .then(|| format!("not reported by {}: {}", self.system, self.not_reported))
    }

    /// Whether something listens on the port.
    pub fn listening(&self) -> bool {
        !self.listeners.is_empty()
    }

    /// Every connection of every listener.
    pub fn connections(&self) -> impl Iterator<Item = &ConnectionView> {
        self.listeners.iter().flat_map(|listener| &listener.connections)
    }

    /// The connection from the client on `client_port`, if there is one.
    pub fn connection(&self, client_port: u16) -> Option<&ConnectionView> {
        self.connections()
            .find(|connection| connection.client_port == client_port)
    }

    /// Whether each queue's length, as the kernel counts it, matches the
    /// connections seen waiting in it. They can differ when the table
    /// changed while it was read (Linux prints it a page at a time): a
    /// program that shows both reads again until they agree.
    pub fn is_consistent(&self) -> bool {
        self.listeners.iter().all(|listener| {
            // Where the system does not say which connections are queued,
            // the queue can hold at most the open ones.
            let (queued, maybe) = (
                listener.count(Stage::Queued),
                listener.count(Stage::QueuedOrAccepted),
            );
            listener
                .queue
                .waiting
                .is_none_or(|waiting| queued <= waiting && waiting <= queued + maybe)
        })
    }
}

/// The listening socket, of `listening`, that a connection to `local` came
/// through: the one on exactly that address, or else the wildcard that
/// covers it (`0.0.0.0` for IPv4, `::` for IPv6, and `::` for IPv4 too
/// when no `0.0.0.0` listens, as a dual-stack socket takes both).
fn owner(listening: &[&TcpRow], local: SocketAddr) -> Option<usize> {
    let ip = local.ip().to_canonical();
    let rank = |listener: &TcpRow| -> Option<u8> {
        let listens_on = listener.local.ip().to_canonical();
        match listens_on {
            _ if listens_on == ip => Some(0),
            IpAddr::V4(any) if any.is_unspecified() && ip.is_ipv4() => Some(1),
            IpAddr::V6(any) if any.is_unspecified() && ip.is_ipv6() => Some(1),
            IpAddr::V6(any) if any.is_unspecified() => Some(2),
            _ => None,
        }
    };
    listening
        .iter()
        .enumerate()
        .filter_map(|(index, listener)| rank(listener).map(|rank| (rank, index)))
        .min()
        .map(|(_, index)| index)
}

/// Whether two socket addresses are the same, an IPv4 address seen through
/// an IPv6 socket (`::ffff:127.0.0.1`) being its IPv4 self.
fn same(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
}

impl ListenerView {
    /// How many of the connections the queue counts the table does not
    /// list: where the system says which connections are queued (their
    /// rows are not held by any process), the queue's length beyond them.
    /// On Linux, a connection reset or closed while it waits leaves the
    /// table but stays in the queue. 0 where it cannot be known.
    pub fn unlisted(&self) -> u32 {
        let known_queued = self.count(Stage::QueuedOrAccepted) == 0;
        match self.queue.waiting {
            Some(waiting) if known_queued => waiting.saturating_sub(self.count(Stage::Queued)),
            _ => 0,
        }
    }

    /// Whether the accept queue is full: a new client's SYN is then dropped.
    /// Linux lets one more than the limit wait, and drops a SYN only once
    /// more than the limit do (`sk_acceptq_is_full`): with `--backlog 2`,
    /// a third client still gets in. Where the system's rule is not known
    /// here, or the counts are not reported, `false`: no claim is made.
    pub fn is_full(&self) -> bool {
        match (self.queue.waiting, self.queue.limit) {
            (Some(waiting), Some(limit)) => cfg!(target_os = "linux") && waiting > limit,
            _ => false,
        }
    }

    /// How many of its connections are at `stage`.
    fn count(&self, stage: Stage) -> u32 {
        self.connections.iter().filter(|c| c.stage == stage).count() as u32
    }
}
