//! The table peek prints: one line per connection under its listening
//! socket, with what each line means.

use std::fmt;

use unicode_width::UnicodeWidthStr;

use super::words::closed_meaning;
use super::{ConnectionView, ListenerView, PortView, Stage};
use crate::kernel::TcpState;
use crate::Lang;

/// A count as a column shows it: `?` when the system does not report it.
fn count(value: Option<u32>) -> String {
    value.map_or_else(|| "?".to_string(), |value| value.to_string())
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
                write_unanswered(f, listener, lang)?;
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
            write_unanswered(f, listener, lang)?;
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

/// The clients whose handshake the listener's kernel has not taken, and
/// why, when the queue is full; nothing when there are none.
fn write_unanswered(f: &mut impl fmt::Write, listener: &ListenerView, lang: Lang) -> fmt::Result {
    let clients = &listener.unanswered;
    if clients.is_empty() {
        return Ok(());
    }
    let n = clients.len();
    let shown: Vec<String> = clients
        .iter()
        .take(UNANSWERED_LISTED)
        .map(ToString::to_string)
        .collect();
    let mut list = shown.join(", ");
    if n > shown.len() {
        list += &lang.pick(
            format!(" and {} more", n - shown.len()),
            format!(" 외 {}개", n - shown.len()),
        );
    }
    writeln!(
        f,
        "{}",
        lang.pick(
            match n {
                1 => format!("1 client's connect() unanswered (SYN_SENT, no row on the server's side): {list}"),
                _ => format!("{n} clients' connect() unanswered (SYN_SENT, no row on the server's side): {list}"),
            },
            format!("connect()가 응답을 못 받은 클라이언트 {n}개 (SYN_SENT, 서버 쪽에는 행이 없음): {list}"),
        )
    )?;
    writeln!(f, "  = {}", listener.unanswered_reason(lang))
}

/// How many unanswered clients are listed by address; past that, counted.
const UNANSWERED_LISTED: usize = 4;

impl fmt::Display for PortView {
    /// The table peek prints: [`PortView::table`] in English.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_table(f, Lang::En)
    }
}
