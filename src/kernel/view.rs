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

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use unicode_width::UnicodeWidthStr;

use super::{AcceptQueue, Source, Table, TcpRow, TcpState};
use crate::Lang;

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
    /// Bytes in the server side's receive buffer that no one has read yet;
    /// `None` where the system does not report it.
    pub server_unread: Option<u32>,
    /// Bytes in the client side's receive buffer, when the client's socket
    /// is on this machine and the system reports it.
    pub client_unread: Option<u32>,
    /// Whether the client's own socket was found in the table (the client
    /// runs on this machine).
    pub client_here: bool,
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
                client_unread: client_side.and_then(|row| row.unread),
                client_here: client_side.is_some(),
            });
        }
        for listener in &mut listeners {
            listener
                .connections
                .sort_by_key(|connection| (connection.stage == Stage::Closed, connection.client));
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
                .map_or(true, |waiting| queued <= waiting && waiting <= queued + maybe)
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

impl ConnectionView {
    /// What the connection's state means, in the lesson's words.
    pub fn explain(&self) -> String {
        self.explain_in(Lang::En)
    }

    /// What the connection's state means, in the lesson's words, in `lang`.
    pub fn explain_in(&self, lang: Lang) -> String {
        let say = |en: &str, ko: &str| lang.pick(en, ko).to_string();
        let mut words = match (self.stage, self.state) {
            (Stage::Handshake, _) => say(
                "handshake under way: SYN-ACK sent, the client's ACK not yet in",
                "핸드셰이크 진행 중: SYN-ACK를 보냈고, 클라이언트의 ACK는 아직 오지 않음",
            ),
            (Stage::Queued, TcpState::CloseWait) => say(
                "the client has closed; still waiting in the accept queue",
                "클라이언트는 닫았지만, 아직 accept 큐에서 기다림",
            ),
            (Stage::Queued, _) => say(
                "handshake done, waiting in the accept queue",
                "핸드셰이크 완료, accept 큐에서 기다림",
            ),
            (Stage::Accepted, TcpState::CloseWait) => say(
                "accepted; the client has closed, the server has not closed its side yet",
                "accept됨. 클라이언트는 닫았고, 서버는 아직 자기 쪽을 닫지 않음",
            ),
            (Stage::Accepted, _) => say(
                "accepted: the server holds a socket for it",
                "accept됨: 서버가 이 연결의 소켓을 가지고 있음",
            ),
            (Stage::QueuedOrAccepted, TcpState::CloseWait) => say(
                "the client has closed; waiting in the accept queue or accepted (not reported)",
                "클라이언트는 닫음. accept 큐에서 기다리는지 accept됐는지는 알 수 없음",
            ),
            (Stage::QueuedOrAccepted, _) => say(
                "handshake done; waiting in the accept queue or accepted (not reported)",
                "핸드셰이크 완료. accept 큐에서 기다리는지 accept됐는지는 알 수 없음",
            ),
            (Stage::Closed, state) => closed_meaning(state, lang),
        };
        if let Some(unread) = self.server_unread.filter(|&unread| unread > 0) {
            words += &lang.pick(
                format!("; {unread} bytes unread in the server's receive buffer"),
                format!("; 서버의 수신 버퍼에 읽지 않은 {unread}바이트"),
            );
        }
        if let Some(unread) = self.client_unread.filter(|&unread| unread > 0) {
            words += &lang.pick(
                format!("; {unread} bytes unread in the client's receive buffer"),
                format!("; 클라이언트의 수신 버퍼에 읽지 않은 {unread}바이트"),
            );
        }
        words
    }

    /// The ACCEPTED column: `yes`, `no`, `?` when the system does not say,
    /// `-` when the question no longer applies (closed).
    fn accepted_column(&self, lang: Lang) -> &'static str {
        match self.stage {
            Stage::Accepted => lang.pick("yes", "예"),
            Stage::Queued | Stage::Handshake => lang.pick("no", "아니요"),
            Stage::QueuedOrAccepted => "?",
            Stage::Closed => "-",
        }
    }
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

    /// How many of its connections are at `stage`.
    fn count(&self, stage: Stage) -> u32 {
        self.connections.iter().filter(|c| c.stage == stage).count() as u32
    }

    /// The listener's line: its address and its queue, in words.
    fn headline(&self, system: &str, lang: Lang) -> String {
        let address = self.address;
        let mut line = lang.pick(
            format!("listening on {address}; "),
            format!("{address}에서 리슨 중; "),
        );
        line += &match self.queue.waiting {
            Some(0) => lang
                .pick("the accept queue is empty", "accept 큐는 비어 있음")
                .to_string(),
            Some(1) => lang
                .pick(
                    "1 finished handshake waits for accept()",
                    "핸드셰이크를 마친 연결 1개가 accept()를 기다림",
                )
                .to_string(),
            Some(n) => lang.pick(
                format!("{n} finished handshakes wait for accept()"),
                format!("핸드셰이크를 마친 연결 {n}개가 accept()를 기다림"),
            ),
            None => lang.pick(
                format!("{system}'s table gives no length for its accept queue"),
                format!("{system}의 표에는 accept 큐의 길이가 나오지 않음"),
            ),
        };
        let mut details = Vec::new();
        if let Some(in_progress) = self.queue.in_progress.filter(|&n| n > 0) {
            details.push(lang.pick(
                format!("{in_progress} handshakes in progress"),
                format!("핸드셰이크 진행 중 {in_progress}개"),
            ));
        }
        if let Some(limit) = self.queue.limit {
            details.push(lang.pick(format!("limit {limit}"), format!("한도 {limit}")));
        }
        if !details.is_empty() {
            line += &format!(" ({})", details.join(", "));
        }
        line
    }
}

/// A count as a column shows it: `?` when the system does not report it.
fn count(value: Option<u32>) -> String {
    value.map_or_else(|| "?".to_string(), |value| value.to_string())
}

/// What a closed connection's state means, in `lang`.
fn closed_meaning(state: TcpState, lang: Lang) -> String {
    match state {
        TcpState::TimeWait => lang.pick(
            "closed; the kernel keeps the pair of ports reserved for a while (TIME_WAIT)",
            "닫힘. 커널이 이 포트 쌍을 한동안 예약해 둠 (TIME_WAIT)",
        ),
        _ => lang.pick(
            "closing: the kernel is finishing the goodbye",
            "닫는 중: 커널이 연결 끊기를 마무리하고 있음",
        ),
    }
    .to_string()
}

/// How many closed connections are listed one by one; past that, a table
/// after a crowd would be all TIME_WAIT rows, so they are counted.
const CLOSED_ROWS: usize = 3;

/// `text` padded with spaces to `width` columns as a terminal counts them
/// (a Hangul syllable takes two).
fn pad(text: &str, width: usize) -> String {
    let missing = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(missing))
}

/// `text` after spaces, to end at `width` columns.
fn pad_left(text: &str, width: usize) -> String {
    let missing = width.saturating_sub(text.width());
    format!("{}{text}", " ".repeat(missing))
}

impl PortView {
    /// A table, one line per connection with the meaning of each, under the
    /// listening socket it belongs to, in `lang`; closed connections past
    /// the first few are counted by state rather than listed. peek prints
    /// it, and the tour in its language.
    pub fn table(&self, lang: Lang) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write_table(&mut out, lang);
        out
    }

    fn write_table(&self, f: &mut impl fmt::Write, lang: Lang) -> fmt::Result {
        if self.listeners.is_empty() {
            let port = self.port;
            writeln!(
                f,
                "{}",
                lang.pick(
                    format!("port {port}: nothing is listening"),
                    format!("포트 {port}: 리슨하는 소켓이 없음"),
                )
            )?;
        }
        let headers = [
            lang.pick("CLIENT", "클라이언트"),
            lang.pick("ACCEPTED", "ACCEPT됨"),
            lang.pick("SERVER UNREAD", "서버 안 읽음"),
            lang.pick("CLIENT UNREAD", "클라이언트 안 읽음"),
            lang.pick("STATE", "상태"),
        ];
        let width = self
            .connections()
            .map(|connection| connection.client.to_string().len())
            .max()
            .unwrap_or(0)
            .max(headers[0].width());
        let columns = [
            width,
            headers[1].width().max(8),
            headers[2].width(),
            headers[3].width(),
        ];
        let mut unknown = false;
        for listener in &self.listeners {
            writeln!(
                f,
                "{} {}: {}",
                lang.pick("port", "포트"),
                self.port,
                listener.headline(self.system, lang)
            )?;
            if listener.connections.is_empty() {
                writeln!(f, "{}", lang.pick("no connections", "연결 없음"))?;
                continue;
            }
            writeln!(
                f,
                "{}  {}  {}  {}  {}",
                pad(headers[0], columns[0]),
                pad(headers[1], columns[1]),
                headers[2],
                headers[3],
                headers[4]
            )?;
            let closed: Vec<&ConnectionView> = listener
                .connections
                .iter()
                .filter(|c| c.stage == Stage::Closed)
                .collect();
            let listed_closed = if closed.len() > CLOSED_ROWS {
                0
            } else {
                closed.len()
            };
            let rows = listener
                .connections
                .iter()
                .filter(|c| c.stage != Stage::Closed)
                .chain(closed.iter().copied().take(listed_closed));
            for connection in rows {
                let client_unread = match (connection.client_here, connection.client_unread) {
                    (false, _) => "-".to_string(),
                    (true, unread) => count(unread),
                };
                unknown |= connection.stage == Stage::QueuedOrAccepted || connection.server_unread.is_none();
                writeln!(
                    f,
                    "{}  {}  {}  {}  {}",
                    pad(&connection.client.to_string(), columns[0]),
                    pad(connection.accepted_column(lang), columns[1]),
                    pad_left(&count(connection.server_unread), columns[2]),
                    pad_left(&client_unread, columns[3]),
                    connection.state,
                )?;
                writeln!(f, "{:width$}  = {}", "", connection.explain_in(lang))?;
            }
            if listed_closed < closed.len() {
                self.write_closed_counts(f, &closed, lang)?;
            }
        }
        if self.listeners.iter().any(|listener| listener.unlisted() > 0) {
            writeln!(
                f,
                "{}",
                lang.pick(
                    "(the queue counts more connections than the table lists: a connection reset or \
                     closed while it waited is no longer listed, yet accept() will still return it)",
                    "(큐가 세는 연결이 표에 나온 것보다 많습니다: 기다리다 리셋되거나 닫힌 연결은 표에서 \
                     빠지지만, accept()는 여전히 그 연결을 돌려줍니다)",
                )
            )?;
        } else if !self.is_consistent() {
            writeln!(
                f,
                "{}",
                lang.pick(
                    "(the table changed while it was read: a queue's length and its rows differ)",
                    "(표를 읽는 사이에 표가 바뀌었습니다: 큐의 길이와 행이 다릅니다)",
                )
            )?;
        }
        let unknown = unknown || self.listeners.iter().any(|l| l.queue.waiting.is_none());
        if unknown && !self.not_reported.is_empty() {
            writeln!(
                f,
                "{} {}",
                lang.pick("? = not reported:", "? = 알 수 없음:"),
                self.not_reported
            )?;
        }
        Ok(())
    }

    /// One line for the closed connections, counted by state, with what
    /// each state means.
    fn write_closed_counts(
        &self,
        f: &mut impl fmt::Write,
        closed: &[&ConnectionView],
        lang: Lang,
    ) -> fmt::Result {
        let mut states: Vec<TcpState> = closed.iter().map(|c| c.state).collect();
        states.sort_by_key(|state| state.to_string());
        states.dedup();
        for state in states {
            let n = closed.iter().filter(|c| c.state == state).count();
            writeln!(
                f,
                "{}",
                lang.pick(
                    format!(
                        "{n} closed connections in {state} (not listed): {}",
                        closed_meaning(state, lang)
                    ),
                    format!(
                        "{state} 상태로 닫힌 연결 {n}개 (목록 생략): {}",
                        closed_meaning(state, lang)
                    ),
                )
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for PortView {
    /// The table peek prints: [`PortView::table`] in English.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_table(f, Lang::En)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::proc_net::{self, parse_table};

    fn view(text: &str, port: u16) -> PortView {
        PortView::of(&Table::new(parse_table(text).unwrap()), port, &proc_net::SOURCE)
    }

    const HEADER: &str =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    /// A row of /proc/net/tcp: `local` and `remote` as the file writes them.
    fn line(local: &str, remote: &str, state: u8, rx_queue: u32, inode: u64) -> String {
        format!(
            "   0: {local} {remote} {state:02X} 00000000:{rx_queue:08X} 00:00000000 00000000  1000  0 {inode} 1\n"
        )
    }

    #[test]
    fn the_lesson_picture() {
        let view = view(crate::kernel::proc_net::tests::TCP, 12345);
        assert!(view.listening());
        let listener = &view.listeners[0];
        assert_eq!(listener.queue.waiting, Some(1));
        let ports: Vec<u16> = listener.connections.iter().map(|c| c.client_port).collect();
        assert_eq!(ports, [50000, 60000]);
        let (served, waiting) = (&listener.connections[0], &listener.connections[1]);
        assert_eq!((served.stage, waiting.stage), (Stage::Accepted, Stage::Queued));
        assert_eq!((waiting.server_unread, waiting.client_unread), (Some(7), Some(0)));
        assert_eq!(served.explain(), "accepted: the server holds a socket for it");
        assert!(view.is_consistent());

        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["listeners"][0]["queue"]["waiting"], 1);
        assert_eq!(json["listeners"][0]["connections"][1]["state"], "ESTABLISHED");
        assert_eq!(json["listeners"][0]["connections"][1]["stage"], "queued");

        let table = view.to_string();
        assert!(
            table.starts_with(
                "port 12345: listening on 127.0.0.1:12345; 1 finished handshake waits for accept()\n"
            ),
            "{table}"
        );
        let waiting_row = "127.0.0.1:60000  no                    7              0  ESTABLISHED\n                 = handshake done";
        assert!(table.contains(waiting_row), "{table}");
        assert!(
            !table.contains("not reported"),
            "Linux reports everything:\n{table}"
        );
    }

    #[test]
    fn the_table_in_korean_keeps_its_columns() {
        let view = view(crate::kernel::proc_net::tests::TCP, 12345);
        let table = view.table(Lang::Ko);
        assert!(
            table.starts_with("포트 12345: 127.0.0.1:12345에서 리슨 중"),
            "{table}"
        );
        assert!(
            table.contains("= 핸드셰이크 완료, accept 큐에서 기다림"),
            "{table}"
        );
        // Each row's STATE starts where the header's 상태 does.
        let column = |line: &str, word: &str| line[..line.find(word).unwrap()].width();
        let header = table.lines().nth(1).unwrap();
        for row in table.lines().filter(|line| line.contains("ESTABLISHED")) {
            assert_eq!(column(row, "ESTABLISHED"), column(header, "상태"), "{table}");
        }
        assert!(!table.contains("accepted"), "{table}");
    }

    #[test]
    fn many_closed_connections_are_counted_not_listed() {
        let mut text = [HEADER, &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11)].concat();
        for client in 0..20u16 {
            text += &line(
                "0100007F:3039",
                &format!("0100007F:{:04X}", 40000 + client),
                0x06,
                0,
                0,
            );
        }
        text += &line("0100007F:3039", "0100007F:C350", 0x01, 0, 12);
        let table = view(&text, 12345).to_string();
        assert_eq!(
            table.matches("TIME_WAIT").count(),
            2,
            "one line says them all:\n{table}"
        );
        assert!(
            table.contains("20 closed connections in TIME_WAIT (not listed): closed; the kernel keeps"),
            "{table}"
        );
        assert!(
            table.contains("127.0.0.1:50000"),
            "the open one is listed:\n{table}"
        );
        assert!(table.lines().count() <= 6, "{table}");
    }

    #[test]
    fn a_closed_connection_is_closed_not_unaccepted() {
        let text = [
            HEADER,
            &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11),
            // Accepted, then closed by the server: TIME_WAIT and FIN_WAIT2, no inode.
            &line("0100007F:3039", "0100007F:C350", 0x06, 0, 0),
            &line("0100007F:3039", "0100007F:C351", 0x05, 0, 0),
        ]
        .concat();
        let view = view(&text, 12345);
        for connection in view.connections() {
            assert_eq!(connection.stage, Stage::Closed, "{connection:?}");
            assert_eq!(connection.accepted_column(Lang::En), "-");
            assert!(
                !connection.explain().contains("queue"),
                "{}",
                connection.explain()
            );
        }
        assert!(view.to_string().contains("TIME_WAIT"));
    }

    #[test]
    fn only_the_listeners_connections_are_shown() {
        let text = [
            HEADER,
            // server on 127.0.0.1:12345, one client.
            &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11),
            &line("0100007F:3039", "0100007F:C350", 0x01, 0, 12),
            // An earlier server's connection on another address, 10.0.0.1:12345.
            &line("0100000A:3039", "0200000A:C351", 0x06, 0, 0),
        ]
        .concat();
        let view = view(&text, 12345);
        let clients: Vec<u16> = view.connections().map(|c| c.client_port).collect();
        assert_eq!(clients, [50000]);
    }

    #[test]
    fn nothing_listening_shows_no_connections() {
        // A client that bound local port 12345 and connected elsewhere.
        let text = [HEADER, &line("0100007F:3039", "0100007F:1F90", 0x01, 0, 12)].concat();
        let view = view(&text, 12345);
        assert!(!view.listening());
        assert_eq!(view.connections().count(), 0);
        assert_eq!(view.to_string(), "port 12345: nothing is listening\n");
    }

    #[test]
    fn two_listeners_are_two_queues() {
        let tcp = [
            HEADER,
            &line("0100007F:3039", "00000000:0000", 0x0A, 1, 11),
            &line("0100007F:3039", "0100007F:C350", 0x01, 0, 0),
        ]
        .concat();
        let tcp6 = [
            HEADER,
            &line(
                "00000000000000000000000001000000:3039",
                "00000000000000000000000000000000:0000",
                0x0A,
                0,
                21,
            ),
        ]
        .concat();
        let mut rows = parse_table(&tcp).unwrap();
        rows.extend(parse_table(&tcp6).unwrap());
        let view = PortView::of(&Table::new(rows), 12345, &proc_net::SOURCE);
        assert_eq!(view.listeners.len(), 2);
        assert_eq!(view.listeners[0].connections.len(), 1);
        assert!(view.listeners[1].connections.is_empty());
        let table = view.to_string();
        assert!(
            table.contains("listening on 127.0.0.1:12345; 1 finished handshake waits for accept()"),
            "{table}"
        );
        assert!(
            table.contains("listening on [::1]:12345; the accept queue is empty\nno connections"),
            "{table}"
        );
    }

    #[test]
    fn an_ipv4_client_of_a_dual_stack_listener_is_found() {
        // server on [::]:12345; the client 127.0.0.1:50000 connected over
        // IPv4: the server side is in tcp6 with mapped addresses, the client
        // side in tcp.
        let tcp6 = [
            HEADER,
            &line(
                "00000000000000000000000000000000:3039",
                "00000000000000000000000000000000:0000",
                0x0A,
                0,
                21,
            ),
            &line(
                "0000000000000000FFFF00000100007F:3039",
                "0000000000000000FFFF00000100007F:C350",
                0x01,
                0,
                22,
            ),
        ]
        .concat();
        let tcp = [HEADER, &line("0100007F:C350", "0100007F:3039", 0x01, 5, 23)].concat();
        let mut rows = parse_table(&tcp6).unwrap();
        rows.extend(parse_table(&tcp).unwrap());
        let view = PortView::of(&Table::new(rows), 12345, &proc_net::SOURCE);
        let connection = view.connection(50000).expect("the client's connection");
        assert!(connection.client_here);
        assert_eq!(connection.client_unread, Some(5));
    }

    #[test]
    fn a_queue_that_disagrees_with_its_rows_is_inconsistent() {
        let text = [
            HEADER,
            &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11),
            &line("0100007F:3039", "0100007F:C350", 0x01, 0, 0),
        ]
        .concat();
        assert!(!view(&text, 12345).is_consistent());
    }

    #[test]
    fn a_queued_connection_the_table_does_not_list_is_explained() {
        // The queue counts one, and no row waits in it: a connection reset
        // while it waited.
        let text = [HEADER, &line("0100007F:3039", "00000000:0000", 0x0A, 1, 11)].concat();
        let view = view(&text, 12345);
        assert_eq!(view.listeners[0].unlisted(), 1);
        let table = view.to_string();
        assert!(
            table.contains("a connection reset or closed while it waited is no longer listed"),
            "{table}"
        );
        assert!(!table.contains("the table changed while it was read"), "{table}");
    }

    #[test]
    fn unknown_facts_are_shown_as_unknown() {
        let mut table = Table::new(parse_table(crate::kernel::proc_net::tests::TCP).unwrap());
        for row in &mut table.rows {
            row.held = None;
            row.unread = None;
            row.queue = row.queue.map(|_| AcceptQueue::default());
        }
        let source = Source {
            system: "Elsewhere",
            read_from: "a test",
            not_reported: "this test's system reports no queues",
            reports_queues: false,
            reports_accepted: false,
            command: "",
        };
        let view = PortView::of(&table, 12345, &source);
        let text = view.to_string();
        assert!(
            text.contains("Elsewhere's table gives no length for its accept queue"),
            "{text}"
        );
        assert!(text.contains("?  "), "{text}");
        assert!(
            text.ends_with("? = not reported: this test's system reports no queues\n"),
            "{text}"
        );
        assert!(view.connections().all(|c| c.stage == Stage::QueuedOrAccepted));
    }
}
