//! What came back to a client: a reply, a close, a reset, or nothing in
//! time, read with a bound, and the rule a reply must follow.

use std::fmt;
use std::io;
use std::time::Duration;

use client::protocol::{encode, payload_len, ProtocolError, LENGTH_BYTES};
use client::text::shown;

use super::HELLO;
use crate::peer::Peer;

/// What a client got when it waited for a reply.
#[derive(Debug)]
pub enum Answer {
    /// A whole frame: the reply's text.
    Reply(String),
    /// The end of the stream, before any byte of a reply: the server closed
    /// the connection in order (FIN).
    Closed,
    /// The connection was reset (RST).
    Reset,
    /// Nothing at all arrived within the wait.
    Nothing(Duration),
    /// Bytes came that are not a frame of modified UTF-8: why, and the bytes
    /// as they came.
    NotAFrame {
        /// Why the bytes are not a frame.
        why: String,
        /// The bytes, from where the frame should have begun.
        bytes: Vec<u8>,
    },
    /// The connection failed otherwise.
    Failed(String),
}

impl Answer {
    /// The reply's text, if a frame came.
    pub fn reply(&self) -> Option<&str> {
        match self {
            Answer::Reply(text) => Some(text),
            _ => None,
        }
    }

    /// Whether the connection ended without a reply, in order or not.
    pub fn is_closed(&self) -> bool {
        matches!(self, Answer::Closed | Answer::Reset)
    }
}

impl fmt::Display for Answer {
    /// What came, in a few words: `the reply "Hello World!"`, `no reply
    /// within 1 s`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Reply(text) => write!(f, "the reply \"{}\"", shown(text)),
            Answer::Closed => f.write_str("the end of the stream: the server closed the connection (FIN)"),
            Answer::Reset => f.write_str("a reset: the server's kernel reset the connection (RST)"),
            Answer::Nothing(wait) => write!(f, "no reply within {}", seconds(*wait)),
            Answer::NotAFrame { why, bytes } => {
                write!(f, "bytes that are not a frame ({why}): {}", Bytes(bytes))
            }
            Answer::Failed(error) => write!(f, "a failed connection: {error}"),
        }
    }
}

/// Waits at most `wait` for `peer`'s next reply, and says what came.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::scenarios::{answer_within, Answer, Target};
///
/// // A listening socket whose program never accepts: nothing comes.
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let mut peer = Target::local(listener.local_addr()?.port()).connect()?;
/// assert!(matches!(answer_within(&mut peer, Duration::from_millis(50)), Answer::Nothing(_)));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn answer_within(peer: &mut Peer, wait: Duration) -> Answer {
    let received = peer.receive_within(wait);
    let bytes = peer.received_bytes().to_vec();
    let not_a_frame = |why: String| Answer::NotAFrame {
        why,
        bytes: bytes.clone(),
    };
    match received {
        Ok(Some(text)) => Answer::Reply(text),
        Ok(None) => Answer::Closed,
        Err(ProtocolError::Io(error)) if !bytes.is_empty() => {
            if client::net::is_time_out(&error) {
                not_a_frame(format!(
                    "{} of them, then nothing within {}",
                    bytes.len(),
                    seconds(wait)
                ))
            } else {
                not_a_frame(format!(
                    "the connection failed after {} of them: {error}",
                    bytes.len()
                ))
            }
        }
        Err(ProtocolError::Io(error)) if client::net::is_time_out(&error) => Answer::Nothing(wait),
        Err(ProtocolError::Io(error)) if is_reset(&error) => Answer::Reset,
        Err(ProtocolError::Io(error)) => Answer::Failed(error.to_string()),
        Err(ProtocolError::ClosedMidMessage) => not_a_frame(closed_mid_frame(&bytes)),
        Err(error) => not_a_frame(error.to_string()),
    }
}

/// Why a connection that closed inside a frame did: how much the length
/// promised and how much came.
fn closed_mid_frame(bytes: &[u8]) -> String {
    match announced(bytes) {
        Some(len) => format!(
            "its first {LENGTH_BYTES} bytes announce {len} bytes, and the connection closed after {}",
            bytes.len() - LENGTH_BYTES
        ),
        None => format!("the connection closed inside the {LENGTH_BYTES}-byte length"),
    }
}

/// How many payload bytes `bytes`, the start of a frame, announce; `None`
/// if they are fewer than a length.
pub(super) fn announced(bytes: &[u8]) -> Option<usize> {
    let length = bytes.get(..LENGTH_BYTES)?.try_into().ok()?;
    Some(payload_len(length))
}

/// Whether an error is a reset (on Windows, also an aborted connection).
fn is_reset(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// Bytes as evidence: the first ones in hex, and their printable text,
/// escaped as peer text is.
pub(super) struct Bytes<'a>(pub(super) &'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 16;
        let hex: Vec<String> = self
            .0
            .iter()
            .take(SHOWN)
            .map(|byte| format!("{byte:02X}"))
            .collect();
        let more = if self.0.len() > SHOWN { " …" } else { "" };
        let text = String::from_utf8_lossy(&self.0[..self.0.len().min(64)]);
        write!(f, "{}{more} (\"{}\")", hex.join(" "), shown(&text))
    }
}

/// A duration as the evidence says it: `1 s`, `0.3 s`, `4.2 ms`.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::scenarios::seconds;
///
/// assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
/// assert_eq!(seconds(Duration::from_millis(250)), "0.25 s");
/// assert_eq!(seconds(Duration::from_micros(4200)), "4.2 ms");
/// ```
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs >= 1.0 {
        format!("{} s", (secs * 100.0).round() / 100.0)
    } else if secs >= 0.1 {
        format!("{} s", (secs * 1000.0).round() / 1000.0)
    } else {
        format!("{} ms", (secs * 10_000.0).round() / 10.0)
    }
}

/// How a server makes its reply from a message, as learnt from its reply to
/// [`HELLO`]: the course's servers add `" World!"`; a learner's may add
/// `" World"`, or put something before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRule {
    before: String,
    after: String,
}

impl ReplyRule {
    /// The course's rule: `message + " World!"`.
    pub fn lesson() -> ReplyRule {
        ReplyRule {
            before: String::new(),
            after: " World!".to_string(),
        }
    }

    /// The rule a reply to [`HELLO`] shows, if it contains `Hello`.
    ///
    /// ```
    /// use socket_lesson::examine::ReplyRule;
    ///
    /// let rule = ReplyRule::learnt("Hello World").unwrap();
    /// assert_eq!(rule.reply_to("안녕"), "안녕 World");
    /// assert_eq!(ReplyRule::learnt("Hello World!"), Some(ReplyRule::lesson()));
    /// assert!(ReplyRule::learnt("OK").is_none());
    /// ```
    pub fn learnt(reply_to_hello: &str) -> Option<ReplyRule> {
        let (before, after) = reply_to_hello.split_once(HELLO)?;
        Some(ReplyRule {
            before: before.to_string(),
            after: after.to_string(),
        })
    }

    /// The reply this rule makes of `message`.
    pub fn reply_to(&self, message: &str) -> String {
        format!("{}{message}{}", self.before, self.after)
    }

    /// How many bytes the rule adds to a message's payload.
    pub(super) fn overhead(&self) -> usize {
        encode(&self.before).len() + encode(&self.after).len()
    }
}

/// Sends `message` and waits at most `wait` for the reply.
pub(super) fn ask(peer: &mut Peer, message: &str, wait: Duration) -> Answer {
    match peer.send(message) {
        Ok(_) => answer_within(peer, wait),
        Err(ProtocolError::Io(error)) if is_reset(&error) => Answer::Reset,
        Err(error) => Answer::Failed(format!("cannot send {:?}: {error}", shown(message).to_string())),
    }
}
