//! The lesson's picture of a port, drawn from the kernel's facts.
//!
//! The Java lesson explains a server socket with a sequence of pictures: the
//! listening socket with its backlog queue, connections waiting in it,
//! `accept()` taking the head of the queue and giving the server a socket,
//! and a message waiting in the server's receive buffer. [`Picture`] draws
//! that picture for a real port, from a [`PortView`]:
//!
//! ```text
//! ┌─ server: listening socket 127.0.0.1:12345 ─────────────────────────────────┐
//! │ backlog queue: 1 waiting, limit 128                                         │
//! │ ┌───────────────┐┌───────────────┐                                         │
//! │ │ :60000        ││               │ …                                       │
//! │ │ 7 B unread    ││               │                                         │
//! │ └───────────────┘└───────────────┘                                         │
//! │ sockets from accept():                                                      │
//! │   socket 1 ── :50000   nothing unread                                       │
//! └─────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! It draws only what is known. The kernel does not say in which order the
//! connections in a queue arrived, so the queue is drawn in order only when
//! the program drawing it knows the order (it made the connections, or
//! watched them arrive): see [`Known`]. A fact the system does not report is
//! drawn as not reported, never as zero.

use std::net::SocketAddr;

use anstyle::{AnsiColor, Style as Colour};
use unicode_width::UnicodeWidthStr;

use crate::kernel::{ConnectionView, ListenerView, PortView, Stage};
use crate::term::Style;
use crate::Lang;

mod boxes;
#[cfg(test)]
mod tests;

use boxes::{pad, wrap, Line, Pen, ASCII, UNICODE};

/// The picture's widest form, in columns: it reads on an 80-column
/// terminal. [`Picture::fit`] draws it narrower.
pub const WIDTH: usize = 79;

/// The narrowest picture drawn with boxes; narrower, it is drawn as lines
/// of text, each fact on its own.
pub const NARROWEST: usize = 24;

/// How many queue slots are drawn before the rest are counted.
const SLOTS: usize = 4;
/// A slot's width, borders included.
const SLOT_WIDTH: usize = 17;
/// How many client boxes are drawn before the rest are counted.
const CLIENT_BOXES: usize = 6;
/// A client box's width, borders included.
const CLIENT_WIDTH: usize = 25;
/// How many clients not let in are named before the rest are counted.
const UNANSWERED_LISTED: usize = 4;

const SERVER: Colour = AnsiColor::Cyan.on_default();
const QUEUE: Colour = AnsiColor::Yellow.on_default();
const SOCKET: Colour = AnsiColor::Green.on_default();
const CLOSED: Colour = Colour::new().dimmed();

/// What the program drawing the picture knows that the kernel does not
/// report. A program that is itself the server (the tour, `lab`) knows which
/// connections it has accepted and in which order it made or saw them; where
/// the system does not say which connections are still queued, the picture
/// places them from this, and says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known {
    /// The clients of the connections waiting in the accept queue, oldest
    /// first: the order their handshakes finished. Empty when not known.
    pub queue_order: Vec<SocketAddr>,
    /// The server's sockets from `accept()`, numbered in the order
    /// `accept()` returned them: `(number, client)`.
    pub accepted: Vec<(usize, SocketAddr)>,
}

/// A port's picture, ready to draw.
///
/// ```
/// use socket_lesson::kernel::{proc_net, PortView, Table};
/// use socket_lesson::picture::{Known, Picture};
/// use socket_lesson::{term::Style, Lang};
///
/// let table = Table::new(proc_net::parse_table("header
///    0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000  0 41716 1
///    1: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000  1000  0 0 1
/// ")?);
/// let view = PortView::of(&table, 12345, &proc_net::SOURCE);
/// let text = Picture::new(&view, &Known::default(), Style::PLAIN, Lang::En).draw();
/// assert!(text.contains("backlog queue: 1 waiting"));
/// assert!(text.contains(":60000"));
/// assert!(text.lines().all(|line| line.chars().count() <= 79));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Picture<'a> {
    view: &'a PortView,
    known: &'a Known,
    style: Style,
    lang: Lang,
    /// The columns the picture may take.
    width: usize,
}

impl<'a> Picture<'a> {
    /// The picture of `view`, with what the caller `known`s, drawn in `style`.
    pub fn new(view: &'a PortView, known: &'a Known, style: Style, lang: Lang) -> Picture<'a> {
        Picture {
            view,
            known,
            style,
            lang,
            width: WIDTH,
        }
    }

    /// The same picture drawn in at most `columns` columns (and never wider
    /// than [`WIDTH`]): fewer queue slots and client boxes to a row, long
    /// lines wrapped at spaces, and below [`NARROWEST`], no boxes at all.
    ///
    /// ```
    /// # use socket_lesson::kernel::{proc_net, PortView, Table};
    /// # use socket_lesson::picture::{Known, Picture};
    /// # use socket_lesson::{term::Style, Lang};
    /// # use unicode_width::UnicodeWidthStr;
    /// # let table = Table::new(proc_net::parse_table("header
    /// #    0: 0100007F:3039 00000000:0000 0A 00000000:00000001 00:00000000 00000000  1000  0 41716 1
    /// #    1: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000  1000  0 0 1
    /// # ")?);
    /// # let view = PortView::of(&table, 12345, &proc_net::SOURCE);
    /// for columns in [60, 40, 20] {
    ///     let text = Picture::new(&view, &Known::default(), Style::PLAIN, Lang::Ko)
    ///         .fit(columns)
    ///         .draw();
    ///     assert!(text.lines().all(|line| line.width() <= columns), "{text}");
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn fit(mut self, columns: usize) -> Picture<'a> {
        self.width = columns.min(WIDTH);
        self
    }

    /// Whether the picture is drawn as plain lines, too narrow for boxes.
    fn unboxed(&self) -> bool {
        self.width < NARROWEST
    }

    fn pen(&self) -> Pen {
        Pen {
            glyphs: if self.style.unicode { &UNICODE } else { &ASCII },
            colour_on: self.style.colour,
            unboxed: self.unboxed(),
        }
    }

    fn say(&self, en: impl Into<String>, ko: impl Into<String>) -> String {
        self.lang.pick(en.into(), ko.into())
    }

    /// The picture, as lines of text ending in `\n`.
    pub fn draw(&self) -> String {
        let mut out: Vec<String> = Vec::new();
        if self.view.listeners.is_empty() {
            out.extend(self.pen().boxed(
                &self.say(
                    format!("server: port {}", self.view.port),
                    format!("서버: 포트 {}", self.view.port),
                ),
                vec![Line::plain(self.say(
                    "nothing is listening: no listening socket, no backlog queue",
                    "리슨하는 소켓이 없습니다: 서버 소켓도, 백로그 큐도 없습니다",
                ))],
                self.width,
                SERVER,
            ));
        }
        for listener in &self.view.listeners {
            out.extend(self.server_box(listener));
        }
        out.extend(self.clients());
        if let Some(line) = self.fin_line() {
            out.extend(wrap(&line, self.width));
        }
        let mut text = out.join("\n");
        text.push('\n');
        text
    }

    /// One listening socket: its queue as a row of slots, then the server's
    /// sockets from `accept()`, then what is closing.
    fn server_box(&self, listener: &ListenerView) -> Vec<String> {
        let title = self.say(
            format!("server: listening socket {}", listener.address),
            format!("서버: 서버 소켓 {}", listener.address),
        );
        let mut body = Vec::new();
        let at = |stage: Stage| -> Vec<&ConnectionView> {
            listener
                .connections
                .iter()
                .filter(|c| self.stage_of(c) == stage)
                .collect()
        };
        let placed_by_us = listener
            .connections
            .iter()
            .any(|c| c.stage == Stage::QueuedOrAccepted && self.stage_of(c) != c.stage);
        let queued = self.in_known_order(at(Stage::Queued));
        let accepted = at(Stage::Accepted);
        let unsure = at(Stage::QueuedOrAccepted);
        let handshakes = at(Stage::Handshake);
        let closed = at(Stage::Closed);

        body.push(Line::painted(self.queue_headline(listener), QUEUE));
        if let Some(order) = self.queue_order_line(&queued) {
            body.push(Line::plain(order));
        }
        if unsure.is_empty() {
            body.extend(self.slots(&queued, listener.queue.limit));
        }
        let unlisted = listener.unlisted();
        if unlisted > 0 {
            body.push(Line::plain(self.say(
                format!(
                    "and {unlisted} the table does not list: reset or closed while waiting, still in \
                     the queue for accept()"
                ),
                format!(
                    "표에 없는 {unlisted}개: 기다리다 리셋되거나 닫혔지만 accept()를 위해 큐에 남아 있음"
                ),
            )));
        }
        if !handshakes.is_empty() {
            let ports = self.client_list(&handshakes);
            body.push(Line::plain(self.say(
                format!("handshakes under way (not yet in the queue): {ports}"),
                format!("핸드셰이크 진행 중 (아직 큐에 들어가지 않음): {ports}"),
            )));
        }
        if !listener.unanswered.is_empty() {
            body.extend(self.unanswered(listener));
        }

        if !unsure.is_empty() {
            body.push(Line::plain(self.say(
                format!(
                    "open connections, queued or accepted ({} does not say which):",
                    self.view.system
                ),
                format!(
                    "열린 연결, 큐에서 대기 중이거나 accept됨 ({}은(는) 어느 쪽인지 알려 주지 않습니다):",
                    self.view.system
                ),
            )));
            for connection in &unsure {
                body.push(Line::plain(format!(
                    "  {}  {}",
                    self.client_label(connection.client),
                    self.server_buffers(connection)
                )));
            }
        } else if accepted.is_empty() {
            body.push(Line::plain(
                self.say("sockets from accept(): none", "accept()로 만든 소켓: 없음"),
            ));
        } else {
            body.push(Line::plain(
                self.say("sockets from accept():", "accept()로 만든 소켓:"),
            ));
            for connection in self.numbered(&accepted) {
                body.push(Line::painted(connection, SOCKET));
            }
        }

        if placed_by_us {
            body.push(Line::plain(self.say(
                format!(
                    "(which are queued and which accepted: known to this program, which is the \
                     server; {} does not report it)",
                    self.view.system
                ),
                format!(
                    "(어느 연결이 큐에 있고 어느 것이 accept됐는지는 서버인 이 프로그램이 압니다. \
                     {}은(는) 알려 주지 않습니다)",
                    self.view.system
                ),
            )));
        }
        if !closed.is_empty() {
            let ports = closed
                .iter()
                .map(|c| format!("{} ({})", self.client_label(c.client), c.state))
                .collect::<Vec<_>>()
                .join(", ");
            body.push(Line::painted(
                self.say(
                    format!("closed, still in the kernel's table: {ports}"),
                    format!("닫힘, 커널의 표에는 아직 남아 있음: {ports}"),
                ),
                CLOSED,
            ));
        }
        self.pen().boxed(&title, body, self.width, SERVER)
    }

    /// The queue's line: how many wait, and the limit.
    fn queue_headline(&self, listener: &ListenerView) -> String {
        let system = self.view.system;
        let waiting = match listener.queue.waiting {
            Some(waiting) => self.say(format!("{waiting} waiting"), format!("{waiting}개 대기")),
            None => self.say(
                format!("length not reported by {system}'s table"),
                format!("길이는 {system}의 표에 나오지 않음"),
            ),
        };
        let limit = match listener.queue.limit {
            Some(limit) => self.say(format!(", limit {limit}"), format!(", 한도 {limit}")),
            None if listener.queue.waiting.is_some() => {
                self.say(", limit not reported", ", 한도는 알 수 없음")
            }
            None => String::new(),
        };
        self.say(
            format!("backlog queue: {waiting}{limit}"),
            format!("백로그 큐: {waiting}{limit}"),
        )
    }

    /// The line under the queue's: whether the order drawn is the order the
    /// connections came in. Nothing to say for fewer than two.
    fn queue_order_line(&self, queued: &[&ConnectionView]) -> Option<String> {
        if queued.len() < 2 {
            None
        } else if self.order_known(queued) {
            Some(self.say(
                "oldest first: accept() takes the one on the left",
                "먼저 온 순서대로: accept()는 왼쪽부터 꺼냅니다",
            ))
        } else {
            Some(self.say(
                "in which order they came: the kernel does not report it",
                "어떤 순서로 왔는지는 커널이 알려 주지 않습니다",
            ))
        }
    }

    /// Where a connection is: as the kernel says, or, where the system does
    /// not say whether an open connection was accepted, as the caller knows.
    fn stage_of(&self, connection: &ConnectionView) -> Stage {
        let accepted = || {
            self.known
                .accepted
                .iter()
                .any(|(_, client)| *client == connection.client)
        };
        match connection.stage {
            Stage::QueuedOrAccepted if accepted() => Stage::Accepted,
            Stage::QueuedOrAccepted if self.known.queue_order.contains(&connection.client) => Stage::Queued,
            stage => stage,
        }
    }

    /// Whether the caller knows the order of every connection in `queued`.
    fn order_known(&self, queued: &[&ConnectionView]) -> bool {
        queued.iter().all(|c| self.known.queue_order.contains(&c.client))
    }

    /// `queued` in the known order, the unknown ones after by address.
    fn in_known_order<'c>(&self, mut queued: Vec<&'c ConnectionView>) -> Vec<&'c ConnectionView> {
        let position = |c: &ConnectionView| {
            self.known
                .queue_order
                .iter()
                .position(|client| *client == c.client)
                .unwrap_or(usize::MAX)
        };
        queued.sort_by_key(|c| (position(c), c.client));
        queued
    }

    /// The queue as a row of slots: the queued connections, then one free
    /// slot when the queue has room, then `…`.
    fn slots(&self, queued: &[&ConnectionView], limit: Option<u32>) -> Vec<Line> {
        let glyphs = self.pen().glyphs;
        let inner = SLOT_WIDTH - 2;
        // As many slots as fit in the box beside the `…` after them.
        let room = self.width.saturating_sub(4 + 1 + glyphs.more.width());
        let slots = (room / SLOT_WIDTH).min(SLOTS);
        if slots < 2 {
            // Too narrow for a row of slots: one line each, oldest first.
            return queued
                .iter()
                .map(|connection| {
                    let text = format!(
                        "[{}  {}]",
                        self.client_label(connection.client),
                        self.unread_short(connection.server_unread, connection.fin_from_client)
                    );
                    Line::painted(text, QUEUE)
                })
                .collect();
        }
        let mut cells: Vec<[String; 2]> = Vec::new();
        let shown = if queued.len() > slots {
            slots - 1
        } else {
            queued.len()
        };
        for connection in &queued[..shown] {
            cells.push([
                self.client_label(connection.client),
                self.unread_short(connection.server_unread, connection.fin_from_client),
            ]);
        }
        if queued.len() > shown {
            let rest = queued.len() - shown;
            cells.push([
                self.say(format!("+{rest} more"), format!("+{rest}개 더")),
                String::new(),
            ]);
        }
        let has_room = limit.is_none_or(|limit| (queued.len() as u64) < u64::from(limit) + 1);
        if cells.len() < slots && has_room {
            cells.push([String::new(), String::new()]);
        }
        let edge = glyphs.horizontal.repeat(SLOT_WIDTH - 2);
        let mut top = String::new();
        let mut rows = [String::new(), String::new()];
        let mut bottom = String::new();
        for cell in &cells {
            top += &format!("{}{edge}{}", glyphs.top_left, glyphs.top_right);
            for (row, text) in rows.iter_mut().zip(cell) {
                *row += &format!("{} {} {}", glyphs.vertical, pad(text, inner - 2), glyphs.vertical);
            }
            bottom += &format!("{}{edge}{}", glyphs.bottom_left, glyphs.bottom_right);
        }
        rows[0] += &format!(" {}", glyphs.more);
        let mut lines = vec![Line::painted(top, QUEUE)];
        lines.extend(rows.into_iter().map(|row| Line::painted(row, QUEUE)));
        lines.push(Line::painted(bottom, QUEUE));
        lines
    }

    /// The accepted connections as the server's sockets, numbered where the
    /// caller knows the numbers.
    fn numbered(&self, accepted: &[&ConnectionView]) -> Vec<String> {
        let link = self.pen().glyphs.link;
        let mut lines: Vec<(usize, String)> = accepted
            .iter()
            .map(|connection| {
                let number = self
                    .known
                    .accepted
                    .iter()
                    .find(|(_, client)| *client == connection.client)
                    .map(|(number, _)| *number);
                let name = match number {
                    Some(number) => self.say(format!("socket {number}"), format!("소켓 {number}")),
                    None => self.say("a socket", "소켓"),
                };
                let line = format!(
                    "  {name} {link} {}   {}",
                    self.client_label(connection.client),
                    self.server_buffers(connection)
                );
                (number.unwrap_or(usize::MAX), line)
            })
            .collect();
        lines.sort();
        lines.into_iter().map(|(_, line)| line).collect()
    }

    /// The clients on this machine, a box each: each one's socket exists
    /// from the moment the kernel finished its handshake.
    fn clients(&self) -> Vec<String> {
        let connections: Vec<&ConnectionView> = self
            .view
            .connections()
            .filter(|c| c.stage != Stage::Closed && c.stage != Stage::Handshake)
            .collect();
        let (mut here, elsewhere): (Vec<&ConnectionView>, Vec<&ConnectionView>) =
            connections.into_iter().partition(|c| c.client_here);
        here.sort_by_key(|c| (self.arrival(c), c.client));
        let mut out = Vec::new();
        if !here.is_empty() {
            out.extend(wrap(
                &self.say("clients on this machine:", "이 컴퓨터의 클라이언트:"),
                self.width,
            ));
            let shown = here.len().min(CLIENT_BOXES);
            let box_width = CLIENT_WIDTH.min(self.width);
            let per_row = ((self.width + 1) / (box_width + 1)).max(1);
            let mut boxes: Vec<Vec<String>> = here[..shown]
                .iter()
                .map(|connection| {
                    let fin = connection.fin_from_server == Some(true);
                    let mut body = vec![
                        self.client_socket(connection),
                        Line::plain(self.unread(connection.client_unread, fin)),
                    ];
                    if let Some(bytes) = connection.client_unacknowledged.filter(|&bytes| bytes > 0) {
                        body.push(Line::plain(self.not_acked(bytes)));
                    }
                    let title = self.say("client", "클라이언트");
                    let title = format!("{title} {}", self.client_label(connection.client));
                    self.pen().boxed(&title, body, box_width, SOCKET)
                })
                .collect();
            if here.len() > shown {
                let rest = here.len() - shown;
                boxes.push(vec![String::new(), format!("+{rest}")]);
            }
            for row in boxes.chunks(per_row) {
                let height = row.iter().map(Vec::len).max().unwrap_or(0);
                for index in 0..height {
                    let line: Vec<String> = row
                        .iter()
                        .map(|lines| match lines.get(index) {
                            Some(line) => line.clone(),
                            None => " ".repeat(box_width),
                        })
                        .collect();
                    out.push(line.join(" ").trim_end().to_string());
                }
            }
        }
        if !elsewhere.is_empty() {
            let clients = elsewhere
                .iter()
                .map(|c| c.client.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let line = self.say(
                format!("clients on other machines: {clients}"),
                format!("다른 컴퓨터의 클라이언트: {clients}"),
            );
            out.extend(wrap(&line, self.width));
        }
        out
    }

    /// Where a connection stands in the order the connections arrived, as
    /// far as the caller knows it: the accepted ones in the order
    /// `accept()` returned them, then the queued ones in their queue's
    /// order, then the others.
    fn arrival(&self, connection: &ConnectionView) -> (u8, usize) {
        let client = connection.client;
        if let Some(&(number, _)) = self.known.accepted.iter().find(|(_, c)| *c == client) {
            (0, number)
        } else if let Some(place) = self.known.queue_order.iter().position(|c| *c == client) {
            (1, place)
        } else {
            (2, 0)
        }
    }

    /// `:50000` for a client on the server's own machine's loopback, the
    /// whole address otherwise.
    fn client_label(&self, client: SocketAddr) -> String {
        if client.ip().to_canonical().is_loopback() {
            format!(":{}", client.port())
        } else {
            client.to_string()
        }
    }

    /// A receive buffer's unread bytes, in words, and whether the other
    /// side's `fin` waits after them.
    fn unread(&self, bytes: Option<u32>, fin: bool) -> String {
        match (bytes, fin) {
            (Some(0), false) => self.say("nothing unread", "읽지 않은 바이트 없음"),
            (Some(bytes), false) => self.say(format!("{bytes} B unread"), format!("읽지 않은 {bytes}B")),
            (None, false) => self.say("unread: not reported", "읽지 않은 바이트: 알 수 없음"),
            (Some(bytes), true) => self.say(
                format!("{bytes} B unread, then FIN"),
                format!("읽지 않은 {bytes}B, 그 뒤 FIN"),
            ),
            (None, true) => self.say("unread ?, then FIN", "읽지 않은 바이트 ?, 그 뒤 FIN"),
        }
    }

    /// A receive buffer's unread bytes, and `+ FIN` when the other side's
    /// FIN waits after them, short enough for a queue slot.
    fn unread_short(&self, bytes: Option<u32>, fin: bool) -> String {
        match (bytes, fin) {
            (Some(bytes), false) => self.say(format!("{bytes} B unread"), format!("읽지 않은 {bytes}B")),
            (None, false) => self.say("unread: ?", "읽지 않은: ?"),
            (Some(bytes), true) => self.say(format!("{bytes} B + FIN"), format!("{bytes}B + FIN")),
            (None, true) => "? B + FIN".to_string(),
        }
    }

    /// What the server's side of `connection` holds: unread bytes, the
    /// client's FIN after them, and bytes the client has not acknowledged.
    fn server_buffers(&self, connection: &ConnectionView) -> String {
        let mut text = self.unread(connection.server_unread, connection.fin_from_client);
        if let Some(bytes) = connection.server_unacknowledged.filter(|&bytes| bytes > 0) {
            text += &format!("; {}", self.not_acked(bytes));
        }
        text
    }

    /// Bytes sent and not yet acknowledged by the other side, in words.
    fn not_acked(&self, bytes: u32) -> String {
        self.say(format!("{bytes} B not acked"), format!("ACK 안 된 {bytes}B"))
    }

    /// The client's socket, as the kernel says: held by its program, or
    /// closed by it while the kernel finishes the goodbye.
    fn client_socket(&self, connection: &ConnectionView) -> Line {
        let closing = connection.client_state.is_some_and(|state| state.is_closing());
        match connection.client_held {
            Some(false) => Line::painted(self.say("socket: closed", "소켓: 닫힘"), CLOSED),
            None if closing => Line::plain(self.say("socket: ? (closing)", "소켓: ? (닫는 중)")),
            _ => Line::painted(self.say("socket: exists", "소켓: 있음"), SOCKET),
        }
    }

    /// The clients whose handshake the kernel has not taken, and why.
    fn unanswered(&self, listener: &ListenerView) -> Vec<Line> {
        let clients = &listener.unanswered;
        let mut list: Vec<String> = clients
            .iter()
            .take(UNANSWERED_LISTED)
            .map(|client| self.client_label(*client))
            .collect();
        if clients.len() > list.len() {
            list.push(format!("+{}", clients.len() - list.len()));
        }
        let list = list.join(", ");
        vec![
            Line::plain(self.say(
                format!("not let in, connect() still waiting (SYN_SENT): {list}"),
                format!("들어오지 못함, connect()가 아직 기다림 (SYN_SENT): {list}"),
            )),
            Line::plain(listener.unanswered_reason(self.lang)),
        ]
    }

    /// The line under the picture that says what a FIN drawn in it means;
    /// `None` when none is drawn.
    fn fin_line(&self) -> Option<String> {
        let drawn = self.view.connections().any(|c| {
            c.stage != Stage::Closed
                && (c.fin_from_client || (c.fin_from_server == Some(true) && c.client_held != Some(false)))
        });
        drawn.then(|| {
            self.say(
                "FIN: the other side has closed its side; once the bytes before it are read, read() \
                 returns the end of the stream (0 bytes)",
                "FIN: 상대가 자기 쪽을 닫았음. 그 앞의 바이트를 다 읽으면 read()는 스트림의 끝(0바이트)을 \
                 돌려줌",
            )
        })
    }

    /// A list of clients' labels.
    fn client_list(&self, connections: &[&ConnectionView]) -> String {
        connections
            .iter()
            .map(|c| self.client_label(c.client))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
