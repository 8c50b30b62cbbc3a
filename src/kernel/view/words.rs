//! The lesson's words for a port's view: what each connection's state
//! means, and each listening socket's line.

use super::{ConnectionView, ListenerView, Stage};
use crate::kernel::TcpState;
use crate::Lang;

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
        let server_reads = self.stage != Stage::Closed;
        words += &buffer_words(
            self.server_unread,
            server_reads && self.fin_from_client,
            Side::Server,
            lang,
        );
        if let Some(bytes) = self.server_unacknowledged.filter(|&bytes| bytes > 0) {
            words += &lang.pick(
                format!("; {bytes} bytes sent by the server, not yet acknowledged by the client"),
                format!("; 서버가 보냈고 클라이언트가 아직 확인(ACK)하지 않은 {bytes}바이트"),
            );
        }
        let client_closed = self.client_held == Some(false);
        if let (true, Some(state)) = (client_closed, self.client_state) {
            words += &lang.pick(
                format!("; the client's program has closed its socket ({state})"),
                format!("; 클라이언트 프로그램은 소켓을 닫았음 ({state})"),
            );
        }
        let fin_from_server = !client_closed && self.fin_from_server == Some(true);
        words += &buffer_words(self.client_unread, fin_from_server, Side::Client, lang);
        if let Some(bytes) = self.client_unacknowledged.filter(|&bytes| bytes > 0) {
            words += &lang.pick(
                format!("; {bytes} bytes sent by the client, not yet acknowledged by the server"),
                format!("; 클라이언트가 보냈고 서버가 아직 확인(ACK)하지 않은 {bytes}바이트"),
            );
        }
        words
    }

    /// The ACCEPTED column: `yes`, `no`, `?` when the system does not say,
    /// `-` when the question no longer applies (closed).
    pub(super) fn accepted_column(&self, lang: Lang) -> &'static str {
        match self.stage {
            Stage::Accepted => lang.pick("yes", "예"),
            Stage::Queued | Stage::Handshake => lang.pick("no", "아니요"),
            Stage::QueuedOrAccepted => "?",
            Stage::Closed => "-",
        }
    }
}

/// One end of a connection, for the words about its receive buffer.
#[derive(Clone, Copy)]
enum Side {
    Server,
    Client,
}

/// What waits in one side's receive buffer, in words beginning `; `: the
/// unread bytes and, when the other side's `fin` has arrived, what a read
/// returns after them. Empty when nothing waits.
fn buffer_words(unread: Option<u32>, fin: bool, side: Side, lang: Lang) -> String {
    let (en, ko, other_en, other_ko) = match side {
        Side::Server => ("server", "서버", "client", "클라이언트"),
        Side::Client => ("client", "클라이언트", "server", "서버"),
    };
    match (unread, fin) {
        (Some(bytes), true) if bytes > 0 => lang.pick(
            format!(
                "; {bytes} bytes unread in the {en}'s receive buffer, then the {other_en}'s FIN: \
                 the read after them returns the end of the stream"
            ),
            format!(
                "; {ko}의 수신 버퍼에 읽지 않은 {bytes}바이트, 그 뒤에 {other_ko}의 FIN: \
                 그다음 read는 스트림의 끝을 돌려줌"
            ),
        ),
        (None, true) => lang.pick(
            format!(
                "; the {other_en}'s FIN has arrived: after any unread bytes, the {en}'s read \
                 returns the end of the stream"
            ),
            format!(
                "; {other_ko}의 FIN이 도착함: 읽지 않은 바이트가 있다면 그 뒤에, {ko}의 read는 \
                 스트림의 끝을 돌려줌"
            ),
        ),
        (Some(_), true) => lang.pick(
            format!(
                "; the {other_en}'s FIN has arrived, no bytes before it: the {en}'s next read \
                 returns the end of the stream"
            ),
            format!(
                "; {other_ko}의 FIN이 도착했고 그 앞에 바이트는 없음: {ko}의 다음 read는 \
                 스트림의 끝을 돌려줌"
            ),
        ),
        (Some(bytes), false) if bytes > 0 => lang.pick(
            format!("; {bytes} bytes unread in the {en}'s receive buffer"),
            format!("; {ko}의 수신 버퍼에 읽지 않은 {bytes}바이트"),
        ),
        (_, false) => String::new(),
    }
}

impl ListenerView {
    /// Why its unanswered clients wait, in `lang`: the queue is full, or,
    /// where that is not so or not reported, only that no answer came yet.
    pub fn unanswered_reason(&self, lang: Lang) -> String {
        match (self.is_full(), self.queue.waiting, self.queue.limit) {
            (true, Some(waiting), Some(limit)) => lang.pick(
                format!(
                    "the accept queue is full ({waiting} waiting, limit {limit}): the kernel drops \
                     their SYN, and each client's kernel sends it again later, waiting longer each time"
                ),
                format!(
                    "accept 큐가 가득 참 ({waiting}개 대기, 한도 {limit}): 커널이 이들의 SYN을 버리고, \
                     각 클라이언트의 커널은 점점 더 오래 기다렸다가 SYN을 다시 보냄"
                ),
            ),
            _ => lang
                .pick(
                    "the server's kernel has not answered their SYN yet",
                    "서버의 커널이 아직 이들의 SYN에 답하지 않음",
                )
                .to_string(),
        }
    }

    /// The listener's line: its address and its queue, in words.
    pub(super) fn headline(&self, system: &str, lang: Lang) -> String {
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

/// What a closed connection's state means, in `lang`.
pub(super) fn closed_meaning(state: TcpState, lang: Lang) -> String {
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
