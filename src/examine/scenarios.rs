//! The lesson's scenarios, each one a function that drives real clients
//! against a server and returns what happened, with what the kernel showed.
//!
//! `examine` runs them in order and turns each outcome into a [`Check`]; the
//! workspace's own tests of server-v1, server-v2, server-v3 and the examples
//! run the very same functions and assert on the outcomes, so that the
//! lesson's claims and the tool that checks a learner's server are one piece
//! of code.
//!
//! Every wait is bounded: a reply that should come is awaited at most
//! [`REPLY_WITHIN`]; a reply that may never come (the second client's, say)
//! for the caller's `silence`, and then the kernel is asked where the
//! client's bytes are. A negative finding ("B got no reply") always comes
//! with the kernel's positive one ("B's 14 bytes wait unread in the
//! server's receive buffer") where the system reports it.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use client::protocol::{
    encode, encode_utf, frame_len, payload_len, ProtocolError, LENGTH_BYTES, MAX_FRAME_PAYLOAD,
};
use client::text::shown;

use super::{Check, CheckName};
use crate::kernel::{self, AcceptQueue, ConnectionView, PortView, Stage, Table, TcpState};
use crate::peer::Peer;

/// The longest a reply that should come, or a connection that should close,
/// is awaited: on loopback either takes well under a millisecond, and a JVM
/// starting its first thread a few. A server that takes longer counts as not
/// answering.
pub const REPLY_WITHIN: Duration = Duration::from_secs(5);

/// The longest a handshake is awaited. A server whose accept queue is full
/// leaves new handshakes unanswered (Linux and macOS drop the SYN).
pub const CONNECT_WITHIN: Duration = Duration::from_secs(3);

/// The first message, the course's: every server of the lesson answers it.
pub const HELLO: &str = "Hello";

/// What the second client sends while the first stays silent: 14 bytes as a
/// frame.
pub const FROM_B: &str = "Hello from B";

/// What a client sends to end its session, in the course.
pub const EXIT: &str = "exit";

/// A server to examine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where it listens.
    pub address: SocketAddr,
    /// Whether this machine's kernel lists its listening socket, so that the
    /// scenarios can show its queue and its unread bytes.
    pub here: bool,
}

impl Target {
    /// A server on this machine's loopback address, on `port`.
    ///
    /// ```
    /// let target = socket_lesson::examine::Target::local(12345);
    /// assert_eq!(target.address.to_string(), "127.0.0.1:12345");
    /// ```
    pub fn local(port: u16) -> Target {
        Target {
            address: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            here: true,
        }
    }

    /// A server at `address`, on this machine if the kernel lists a
    /// listening socket there (on that address, or on every address).
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let target = socket_lesson::examine::Target::at(listener.local_addr()?);
    /// assert!(target.here);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn at(address: SocketAddr) -> Target {
        let here = kernel::read_table().is_ok_and(|table| listens(&table, address));
        Target { address, here }
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// A new client of the server.
    pub fn connect(&self) -> io::Result<Peer> {
        Peer::connect_to(self.address, CONNECT_WITHIN)
    }

    /// Waits, at most `within`, for the server to stop listening: `Some`
    /// with how it was seen (the kernel's table, or a refused connection),
    /// `None` if it still listens.
    pub fn stopped_listening(&self, within: Duration) -> Option<String> {
        if self.here {
            let gone = kernel::wait_for(within, |table| (!listens(table, self.address)).then_some(()));
            return match gone {
                Ok(Some(())) => Some("the kernel lists no listening socket on the port any more".to_string()),
                Ok(None) => None,
                Err(error) => Some(format!("the kernel's table cannot be read: {error}")),
            };
        }
        // Not on this machine: a connection is the only way to ask.
        let deadline = Instant::now() + within;
        loop {
            match std::net::TcpStream::connect_timeout(&self.address, CONNECT_WITHIN) {
                Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                    return Some("a new connection is refused".to_string())
                }
                _ if Instant::now() >= deadline => return None,
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

/// Whether `table` lists a socket listening on `address`: on its port, and
/// on its address or on every address.
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let table = socket_lesson::kernel::read_table()?;
/// assert!(socket_lesson::examine::scenarios::listens(&table, listener.local_addr()?));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn listens(table: &Table, address: SocketAddr) -> bool {
    table.on_port(address.port()).any(|row| {
        let ip = row.local.ip().to_canonical();
        row.state == TcpState::Listen && (ip.is_unspecified() || ip == address.ip().to_canonical())
    })
}

// ---------------------------------------------------------------------------
// What came back
// ---------------------------------------------------------------------------

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
fn announced(bytes: &[u8]) -> Option<usize> {
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
struct Bytes<'a>(&'a [u8]);

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
    fn overhead(&self) -> usize {
        encode(&self.before).len() + encode(&self.after).len()
    }
}

/// Sends `message` and waits at most `wait` for the reply.
fn ask(peer: &mut Peer, message: &str, wait: Duration) -> Answer {
    match peer.send(message) {
        Ok(_) => answer_within(peer, wait),
        Err(ProtocolError::Io(error)) if is_reset(&error) => Answer::Reset,
        Err(error) => Answer::Failed(format!("cannot send {:?}: {error}", shown(message).to_string())),
    }
}

// ---------------------------------------------------------------------------
// The kernel's evidence
// ---------------------------------------------------------------------------

/// What the kernel showed of one client's connection to the server, as far
/// as this system reports it.
#[derive(Debug, Clone)]
pub struct Sighting {
    /// The system that reported it, e.g. `Linux`.
    pub system: &'static str,
    /// The accept queue of the listening socket the connection came through.
    pub queue: Option<AcceptQueue>,
    /// The server's side of the connection, where the table lists it.
    pub server_side: Option<ConnectionView>,
    /// The state of the client's own side, where the table lists it.
    pub client_side: Option<TcpState>,
    /// What this system does not report, in one line; empty if nothing.
    pub not_reported: &'static str,
}

impl Sighting {
    /// Whether the connection waits in the accept queue: `Some(true)` where
    /// the system says no process holds it, `Some(false)` where it says one
    /// does, `None` where it does not say.
    pub fn waits_in_queue(&self) -> Option<bool> {
        match self.server_side.as_ref()?.stage {
            Stage::Queued => Some(true),
            Stage::Accepted => Some(false),
            _ => None,
        }
    }

    /// The bytes unread in the server side's receive buffer, where reported.
    pub fn unread(&self) -> Option<u32> {
        self.server_side.as_ref()?.server_unread
    }

    /// The connection of the client called `who` in the kernel's words:
    /// `the kernel shows B's connection: handshake done, waiting in the
    /// accept queue; 14 bytes unread in the server's receive buffer (the
    /// accept queue holds 1)`.
    pub fn said(&self, who: &str) -> String {
        let mut words = match (&self.server_side, self.client_side) {
            (Some(server_side), _) => {
                format!("the kernel shows {who}'s connection: {}", server_side.explain())
            }
            (None, Some(state)) => {
                format!("the kernel lists {who}'s side of the connection ({state}) but not the server's side")
            }
            (None, None) => format!("the kernel lists neither side of {who}'s connection"),
        };
        if let Some(waiting) = self.queue.and_then(|queue| queue.waiting) {
            words += &format!(" (the accept queue holds {waiting})");
        }
        if !self.not_reported.is_empty() && (self.unread().is_none() || self.waits_in_queue().is_none()) {
            words += &format!("; not reported by {}: {}", self.system, self.not_reported);
        }
        words
    }

    /// Where the second client is, in the lesson's words, for the verdict:
    /// `the second client's handshake finished and it waits in the accept
    /// queue; its 14 bytes wait unread in the server's receive buffer`.
    pub fn lesson_words(&self) -> String {
        let mut words = match (self.waits_in_queue(), self.queue.and_then(|queue| queue.waiting)) {
            (Some(true), _) => {
                "the second client's handshake finished and it waits in the accept queue".to_string()
            }
            (None, Some(waiting)) if waiting > 0 => {
                format!("the second client's handshake finished, and the accept queue holds {waiting}")
            }
            _ => "the second client's handshake finished".to_string(),
        };
        match self.unread() {
            Some(unread) if unread > 0 => {
                words += &format!("; its {unread} bytes wait unread in the server's receive buffer")
            }
            Some(_) => {}
            None => words += &format!(" ({} does not report the queue or unread bytes)", self.system),
        }
        words
    }
}

/// What the kernel shows of the connection from the client on
/// `client_port`, which has sent `sent` bytes: read again until the table
/// shows those bytes arrived (or the connection accepted, or whatever this
/// system can say), at most [`REPLY_WITHIN`]. `None` when the server is not
/// on this machine or its table cannot be read.
pub fn sight(target: &Target, client_port: u16, sent: usize) -> Option<Sighting> {
    if !target.here {
        return None;
    }
    let sent = u32::try_from(sent).unwrap_or(u32::MAX);
    let source = kernel::SOURCE;
    let seen = |table: &Table| -> Sighting {
        let view = PortView::of(table, target.port(), source);
        let listener = view
            .listeners
            .iter()
            .find(|listener| listener.connections.iter().any(|c| c.client_port == client_port))
            .or(view.listeners.first());
        let client_side = table
            .rows
            .iter()
            .find(|row| row.local.port() == client_port && row.remote.port() == target.port())
            .map(|row| row.state);
        Sighting {
            system: source.system,
            queue: listener.map(|listener| listener.queue),
            server_side: view.connection(client_port).cloned(),
            client_side,
            not_reported: source.not_reported,
        }
    };
    let settled = |sighting: &Sighting| match &sighting.server_side {
        Some(side) => {
            side.server_unread.map_or(true, |unread| unread >= sent) || side.stage == Stage::Accepted
        }
        // Where the table gives no queues, the client's side is all there is to wait for.
        None => !source.reports_queues && sighting.client_side.is_some(),
    };
    let found = kernel::wait_for(REPLY_WITHIN, |table| Some(seen(table)).filter(settled)).ok()?;
    match found {
        Some(sighting) => Some(sighting),
        None => kernel::read_table().ok().map(|table| seen(&table)),
    }
}

// ---------------------------------------------------------------------------
// The frame
// ---------------------------------------------------------------------------

/// The first client, A, and the server's reply to its [`HELLO`].
#[derive(Debug)]
pub struct Hello {
    /// Client A, still connected.
    pub a: Peer,
    /// What came back.
    pub answer: Answer,
    /// How long the reply took.
    pub took: Duration,
    /// Where nothing came back: what the kernel showed of A's connection.
    pub kernel: Option<Sighting>,
}

/// A connects and sends [`HELLO`]; is it answered with a frame? The reply's
/// text is whatever the server sent. Where nothing comes back, the kernel
/// is asked where A's connection and bytes are. `Err` if A cannot connect
/// at all.
///
/// ```
/// use socket_lesson::examine::scenarios::{self, Target};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v3::serve(listener, &Default::default()));
/// let hello = scenarios::hello(&target)?;
/// assert_eq!(hello.answer.reply(), Some("Hello World!"));
/// assert!(hello.check().passed);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn hello(target: &Target) -> io::Result<Hello> {
    let mut a = target.connect()?;
    let asked = Instant::now();
    let answer = ask(&mut a, HELLO, REPLY_WITHIN);
    let took = asked.elapsed();
    let kernel = match answer {
        Answer::Nothing(_) => sight(target, a.port(), frame_len(HELLO)),
        _ => None,
    };
    Ok(Hello {
        a,
        answer,
        took,
        kernel,
    })
}

impl Hello {
    /// The server's reply rule, if its reply contains `Hello`.
    pub fn rule(&self) -> Option<ReplyRule> {
        self.answer.reply().and_then(ReplyRule::learnt)
    }

    /// The check: `Hello` is answered with a frame.
    pub fn check(&self) -> Check {
        let sent = frame_len(HELLO);
        let evidence = match &self.answer {
            Answer::Reply(reply) => {
                let form = match self.rule() {
                    Some(rule) if rule == ReplyRule::lesson() => "the course's reply".to_string(),
                    Some(_) => "not the course's \"Hello World!\", which is not a fault".to_string(),
                    None => "a reply without the message in it".to_string(),
                };
                format!(
                    "A sent \"Hello\" ({sent} bytes) and got \"{}\" ({} bytes) in {}: {form}",
                    shown(reply),
                    frame_len(reply),
                    seconds(self.took)
                )
            }
            answer => format!("A sent \"Hello\" ({sent} bytes) and got {answer}"),
        };
        let evidence = match &self.kernel {
            Some(sighting) => format!("{evidence}; {}", sighting.said("A")),
            None => evidence,
        };
        Check::new(CheckName::Hello, self.answer.reply().is_some(), evidence)
    }
}

/// A second message on A's connection, and what came back.
#[derive(Debug)]
pub struct SecondMessage {
    /// The reply the rule expects.
    pub expected: String,
    /// What came back.
    pub answer: Answer,
}

/// One message or many: A sends a second message on the same connection. Is
/// it answered, or was the connection closed after the first (server-v1)?
///
/// ```
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v1::serve(listener));
/// let mut hello = scenarios::hello(&target)?;
/// let second = scenarios::second_message(&mut hello.a, &ReplyRule::lesson());
/// assert!(second.closed_after_first()); // server-v1: one message, one reply
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn second_message(a: &mut Peer, rule: &ReplyRule) -> SecondMessage {
    let message = "Hello again";
    SecondMessage {
        expected: rule.reply_to(message),
        answer: ask(a, message, REPLY_WITHIN),
    }
}

impl SecondMessage {
    /// Whether the server closed the connection after its first reply.
    pub fn closed_after_first(&self) -> bool {
        self.answer.is_closed()
    }

    /// The check: the second message is answered as the first was.
    pub fn check(&self) -> Check {
        let passed = self.answer.reply() == Some(self.expected.as_str());
        let evidence = match &self.answer {
            _ if passed => {
                "A sent a second message on the same connection and it was answered too".to_string()
            }
            Answer::Reply(reply) => format!(
                "A's second message was answered \"{}\" instead of \"{}\"",
                shown(reply),
                shown(&self.expected)
            ),
            answer if answer.is_closed() => {
                format!(
                    "after its first reply the server closed the connection: A's second message got {answer}"
                )
            }
            answer => format!("A's second message on the same connection got {answer}"),
        };
        Check::new(CheckName::ManyMessages, passed, evidence)
    }
}

/// One text of the modified UTF-8 check, and what came back.
#[derive(Debug)]
pub struct RoundTrip {
    /// What the text is, e.g. `Korean`.
    pub what: &'static str,
    /// The payload bytes of the message's frame.
    pub bytes: usize,
    /// The reply the rule expects.
    pub expected: String,
    /// What came back.
    pub answer: Answer,
}

/// Modified UTF-8 round-trips: on A's connection, Korean text, a NUL (`C0
/// 80`), a character beyond U+FFFF (a surrogate pair), and a long message
/// whose reply fills a frame to the last byte. Each must come back inside
/// its reply, as the server's rule makes it. Stops at the first that does
/// not.
///
/// ```
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v3::serve(listener, &Default::default()));
/// let mut a = target.connect()?;
/// let trips = scenarios::modified_utf8(&mut a, &ReplyRule::lesson());
/// assert!(scenarios::modified_utf8_check(&trips).passed);
/// assert_eq!(trips[3].bytes, 65_535 - " World!".len()); // its reply fills a frame
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn modified_utf8(a: &mut Peer, rule: &ReplyRule) -> Vec<RoundTrip> {
    let long = long_message(MAX_FRAME_PAYLOAD.saturating_sub(rule.overhead()));
    let texts: [(&'static str, &str); 4] = [
        ("Korean", "안녕하세요"),
        ("a NUL", "a\0b"),
        ("a surrogate pair", "😀"),
        ("a long message", &long),
    ];
    let mut trips = Vec::new();
    for (what, text) in texts {
        let answer = ask(a, text, REPLY_WITHIN);
        let expected = rule.reply_to(text);
        let right = answer.reply() == Some(expected.as_str());
        trips.push(RoundTrip {
            what,
            bytes: encode(text).len(),
            expected,
            answer,
        });
        if !right {
            break;
        }
    }
    trips
}

/// Text of exactly `bytes` bytes in modified UTF-8: Korean and ASCII.
fn long_message(bytes: usize) -> String {
    let korean = "안녕하세요 ".repeat(bytes / 16 / 2);
    let rest = bytes - encode(&korean).len();
    korean + &"a".repeat(rest)
}

/// The check of [`modified_utf8`]'s round trips.
pub fn modified_utf8_check(trips: &[RoundTrip]) -> Check {
    let right = |trip: &RoundTrip| trip.answer.reply() == Some(trip.expected.as_str());
    let passed = trips.len() == 4 && trips.iter().all(right);
    let evidence = if passed {
        let long = &trips[3];
        format!(
            "Korean (15 bytes), a NUL (C0 80), a surrogate pair (ED A0 BD ED B8 80) and a long message \
             ({} bytes, its reply {} bytes: a full frame) each came back intact in its reply",
            long.bytes,
            frame_len(&long.expected) - 2
        )
    } else {
        match trips.iter().find(|trip| !right(trip)) {
            Some(trip) => match &trip.answer {
                Answer::Reply(reply) => format!(
                    "the reply to {} ({} bytes) was \"{}\" instead of \"{}\"",
                    trip.what,
                    trip.bytes,
                    shown(reply),
                    shown(&trip.expected)
                ),
                answer => format!("{} ({} bytes) got {answer}", trip.what, trip.bytes),
            },
            None => "not every text was sent".to_string(),
        }
    };
    Check::new(CheckName::ModifiedUtf8, passed, evidence)
}

// ---------------------------------------------------------------------------
// A silent first client
// ---------------------------------------------------------------------------

/// The second client, B, sent [`FROM_B`] while A stayed silent.
#[derive(Debug)]
pub struct SilentFirst {
    /// Client B, still connected.
    pub b: Peer,
    /// The bytes B sent: one frame.
    pub sent: usize,
    /// The reply B's message should get.
    pub expected: String,
    /// What B got within the wait.
    pub answer: Answer,
    /// How long B waited.
    pub waited: Duration,
    /// Where B was not answered: what the kernel showed of B's connection.
    pub kernel: Option<Sighting>,
    /// Where B was not answered: whether A, asked again, still was.
    pub a_again: Option<Answer>,
}

/// A silent first client: with A connected and silent, B connects (the
/// kernel finishes its handshake) and sends. Is B answered within
/// `silence`? If not, the kernel is asked where B's connection and bytes
/// are, and A is asked again, to show whom the server is busy with.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v2::serve(listener));
/// let mut hello = scenarios::hello(&target)?;
/// let rule = ReplyRule::lesson();
/// let mut silent = scenarios::silent_first_client(&target, &mut hello.a, &rule, Duration::from_millis(300))?;
/// assert!(!silent.answered()); // server-v2 reads A's connection alone
/// let seen = silent.kernel.as_ref().expect("the kernel's view");
/// if socket_lesson::kernel::SOURCE.reports_queues && cfg!(not(windows)) {
///     assert_eq!(seen.unread(), Some(14)); // B's frame, unread in the server's receive buffer
/// }
///
/// // And when A leaves, server-v2 ends, and B's connection goes with it.
/// let after = scenarios::after_a_leaves(&target, hello.a, &mut silent, &rule);
/// assert!(after.b.is_closed());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn silent_first_client(
    target: &Target,
    a: &mut Peer,
    rule: &ReplyRule,
    silence: Duration,
) -> io::Result<SilentFirst> {
    let mut b = target.connect()?;
    let asked = Instant::now();
    let sent = b
        .send(FROM_B)
        .map_err(|error| io::Error::other(error.to_string()))?;
    let answer = answer_within(&mut b, silence);
    let waited = asked.elapsed();
    let (kernel, a_again) = match answer {
        Answer::Reply(_) => (None, None),
        _ => (
            sight(target, b.port(), sent),
            Some(ask(a, "Hello from A", REPLY_WITHIN)),
        ),
    };
    Ok(SilentFirst {
        b,
        sent,
        expected: rule.reply_to(FROM_B),
        answer,
        waited,
        kernel,
        a_again,
    })
}

impl SilentFirst {
    /// Whether B was answered, as the rule says, while A stayed silent.
    pub fn answered(&self) -> bool {
        self.answer.reply() == Some(self.expected.as_str())
    }

    /// The check: B is answered while A stays silent.
    pub fn check(&self) -> Check {
        let start = format!(
            "with A connected and silent, B connected and sent {} bytes",
            self.sent
        );
        let mut evidence = match &self.answer {
            _ if self.answered() => format!("{start}: answered in {}", seconds(self.waited)),
            answer => format!("{start}: {answer}"),
        };
        if let Some(sighting) = &self.kernel {
            evidence += &format!("; {}", sighting.said("B"));
        } else if !self.answered() {
            evidence += "; the kernel's view of the server is not available here";
        }
        match &self.a_again {
            Some(Answer::Reply(_)) => evidence += "; A, asked again, was still answered",
            Some(answer) => evidence += &format!("; A, asked again, got {answer}"),
            None => {}
        }
        Check::new(CheckName::SilentFirstClient, self.answered(), evidence)
    }
}

// ---------------------------------------------------------------------------
// After A leaves
// ---------------------------------------------------------------------------

/// What happened once A sent [`EXIT`] and left.
#[derive(Debug)]
pub struct AfterALeaves {
    /// Whether B was still waiting for its first reply when A left.
    pub b_was_waiting: bool,
    /// B's answer: to the message it waited with, or else to a new one.
    pub b: Answer,
    /// The reply B should have got.
    pub expected: String,
    /// A newcomer's answer, where the server still took connections.
    pub newcomer: Option<Answer>,
    /// Where B's connection was closed: how the server was seen to stop
    /// listening, or `None` if it still listens.
    pub stopped_listening: Option<String>,
}

/// After A leaves (`exit`): is B served then, or does the server end and
/// reset B (server-v2)? Where the server still listens, a newcomer is asked
/// too.
pub fn after_a_leaves(
    target: &Target,
    mut a: Peer,
    silent: &mut SilentFirst,
    rule: &ReplyRule,
) -> AfterALeaves {
    let _ = a.send(EXIT);
    drop(a);
    let b_was_waiting = !silent.answered();
    let (b, expected) = if b_was_waiting {
        (
            answer_within(&mut silent.b, REPLY_WITHIN),
            silent.expected.clone(),
        )
    } else {
        let message = "B again";
        (ask(&mut silent.b, message, REPLY_WITHIN), rule.reply_to(message))
    };
    let stopped_listening = if b.is_closed() {
        target.stopped_listening(REPLY_WITHIN)
    } else {
        None
    };
    let newcomer = match stopped_listening {
        Some(_) => None,
        None => Some(match target.connect() {
            Ok(mut c) => ask(&mut c, "Hello from C", REPLY_WITHIN),
            Err(error) => Answer::Failed(error.to_string()),
        }),
    };
    AfterALeaves {
        b_was_waiting,
        b,
        expected,
        newcomer,
        stopped_listening,
    }
}

impl AfterALeaves {
    /// Whether B was served once A had left.
    pub fn b_served(&self) -> bool {
        self.b.reply() == Some(self.expected.as_str())
    }

    /// Whether B waited until A left, and was served then: one client at a
    /// time, in turn.
    pub fn served_in_turn(&self) -> bool {
        self.b_was_waiting && self.b_served()
    }

    /// The check: once A leaves, B is served and the server goes on.
    pub fn check(&self) -> Check {
        let newcomer_served = self
            .newcomer
            .as_ref()
            .is_some_and(|answer| answer.reply().is_some());
        let passed = self.b_served() && newcomer_served;
        let mut evidence = match (&self.b, self.b_was_waiting) {
            (_, true) if self.b_served() => "A sent exit and left; then B got its reply".to_string(),
            (_, false) if self.b_served() => {
                "A sent exit and left; B, asked again, was still answered".to_string()
            }
            (answer, _) => format!("A sent exit and left; B got {answer}"),
        };
        if let Some(how) = &self.stopped_listening {
            evidence += &format!("; the server stopped listening: {how}");
        }
        match &self.newcomer {
            Some(Answer::Reply(_)) => evidence += "; a new client was answered too",
            Some(answer) => evidence += &format!("; a new client got {answer}"),
            None => {}
        }
        Check::new(CheckName::AfterALeaves, passed, evidence)
    }
}

// ---------------------------------------------------------------------------
// Many at once
// ---------------------------------------------------------------------------

/// What `clients` clients connected at once got.
#[derive(Debug)]
pub struct ManyAtOnce {
    /// How many clients were to connect.
    pub clients: usize,
    /// How many connected (the kernel finished their handshakes).
    pub connected: usize,
    /// Why the next one could not connect, if one could not.
    pub connect_error: Option<String>,
    /// How many were answered while all stayed connected: the sessions the
    /// server held at once.
    pub at_once: usize,
    /// How long they waited for their replies.
    pub waited: Duration,
    /// How long a reply was awaited before its client counted as not
    /// answered.
    pub silence: Duration,
    /// The first answer that was not the right reply, if any.
    pub first_unanswered: Option<Answer>,
    /// Of those not answered, what the kernel shows: the accept queue, and
    /// their bytes unread (`None` where the server is not on this machine).
    pub queued: Option<Held>,
    /// How many bytes each client sent.
    pub sent: usize,
    /// The ports of the clients not answered at once, in the order they
    /// connected.
    pub waiting: Vec<u16>,
    /// Of those not answered at once, how many were answered as the others
    /// left, each leaving once answered.
    pub later: usize,
}

/// Many at once: `clients` clients connect, each sends [`HELLO`], and all
/// stay connected: how many are answered within `silence`? Those that are
/// not: where the kernel holds them; then the answered ones leave, and the
/// others are awaited one after another, each leaving once answered.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v3::serve(listener, &Default::default()));
/// let many = scenarios::many_at_once(&target, 10, &ReplyRule::lesson(), Duration::from_secs(5));
/// assert_eq!(many.at_once, 10); // a thread per client
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn many_at_once(target: &Target, clients: usize, rule: &ReplyRule, silence: Duration) -> ManyAtOnce {
    let expected = rule.reply_to(HELLO);
    let mut peers = Vec::with_capacity(clients);
    let mut connect_error = None;
    let mut sent = 0;
    for _ in 0..clients {
        match target.connect() {
            Ok(mut peer) => match peer.send(HELLO) {
                Ok(bytes) => {
                    sent = bytes;
                    peers.push(peer);
                }
                Err(error) => {
                    connect_error = Some(format!("cannot send: {error}"));
                    break;
                }
            },
            Err(error) => {
                connect_error = Some(error.to_string());
                break;
            }
        }
    }
    let connected = peers.len();

    // The replies that come while everyone stays connected.
    let started = Instant::now();
    let deadline = started + silence;
    let mut answered = Vec::new();
    let mut waiting = Vec::new();
    let mut first_unanswered = None;
    for mut peer in peers {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        match answer_within(&mut peer, left) {
            Answer::Reply(reply) if reply == expected => answered.push(peer),
            answer => {
                if first_unanswered.is_none() {
                    first_unanswered = Some(answer);
                }
                waiting.push(peer);
            }
        }
    }
    let waited = started.elapsed();
    let at_once = answered.len();

    let waiting_ports = waiting.iter().map(Peer::port).collect();
    let queued = match waiting.is_empty() {
        true => None,
        false => count_held(target, &waiting, sent),
    };

    // The answered leave; are the others served then, in turn?
    for mut peer in answered.drain(..) {
        let _ = peer.send(EXIT);
    }
    let mut later = 0;
    let deadline = Instant::now() + REPLY_WITHIN;
    for mut peer in waiting {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        if answer_within(&mut peer, left).reply() == Some(expected.as_str()) {
            later += 1;
            let _ = peer.send(EXIT);
        }
    }
    ManyAtOnce {
        clients,
        connected,
        connect_error,
        at_once,
        waited,
        silence,
        first_unanswered,
        queued,
        sent,
        waiting: waiting_ports,
        later,
    }
}

/// What the kernel showed of the clients not answered at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// How many finished handshakes wait in the accept queue, as the kernel
    /// counts them; `None` where it does not say.
    pub in_queue: Option<u32>,
    /// How many of the clients not answered have their bytes unread in the
    /// server's receive buffer; `None` where the system does not report
    /// unread bytes.
    pub unread: Option<usize>,
    /// How many of the clients not answered the kernel shows in the queue,
    /// held by no process; `None` where the system does not say which
    /// connections are accepted.
    pub not_accepted: Option<usize>,
}

/// What the kernel shows of the clients in `waiting`, each of which sent
/// `sent` bytes: read again until each one's bytes are seen, at most
/// [`REPLY_WITHIN`]. `None` when the server is not on this machine.
fn count_held(target: &Target, waiting: &[Peer], sent: usize) -> Option<Held> {
    if !target.here {
        return None;
    }
    let ports: Vec<u16> = waiting.iter().map(Peer::port).collect();
    let sent = u32::try_from(sent).unwrap_or(u32::MAX);
    let held = |table: &Table| {
        let view = PortView::of(table, target.port(), kernel::SOURCE);
        let in_queue = view
            .listeners
            .iter()
            .map(|listener| listener.queue.waiting)
            .sum::<Option<u32>>();
        let unread = kernel::SOURCE.reports_queues.then(|| {
            ports
                .iter()
                .filter(|&&port| {
                    view.connection(port)
                        .is_some_and(|c| c.server_unread == Some(sent))
                })
                .count()
        });
        let not_accepted = kernel::SOURCE.reports_accepted.then(|| {
            ports
                .iter()
                .filter(|&&port| view.connection(port).is_some_and(|c| c.stage == Stage::Queued))
                .count()
        });
        Held {
            in_queue,
            unread,
            not_accepted,
        }
    };
    let all_seen = |held: &Held| held.unread.map_or(true, |unread| unread == ports.len());
    match kernel::wait_for(REPLY_WITHIN, |table| Some(held(table)).filter(all_seen)).ok()? {
        Some(found) => Some(found),
        None => kernel::read_table().ok().map(|table| held(&table)),
    }
}

impl ManyAtOnce {
    /// Whether every client connected and was answered while all stayed
    /// connected.
    pub fn all_at_once(&self) -> bool {
        self.connected == self.clients && self.at_once == self.clients
    }

    /// How many were not answered at once.
    pub fn not_at_once(&self) -> usize {
        self.connected - self.at_once
    }

    /// The check: every client is answered at once.
    pub fn check(&self) -> Check {
        let mut evidence = format!(
            "{} clients connected at once and each sent \"Hello\" ({} bytes)",
            self.connected, self.sent
        );
        if let Some(error) = &self.connect_error {
            evidence = format!(
                "of {} clients, {} connected and sent \"Hello\"; the next could not: {error}",
                self.clients, self.connected
            );
        }
        if self.not_at_once() == 0 {
            evidence += &format!(
                ": all {} were answered within {} while all stayed connected",
                self.connected,
                seconds(self.waited)
            );
        } else {
            let not = match &self.first_unanswered {
                Some(Answer::Nothing(_)) | None => format!("got no reply within {}", seconds(self.silence)),
                Some(answer) => format!("did not get their reply (the first got {answer})"),
            };
            evidence += &format!(
                ": {} were answered while all stayed connected; the other {} {not}",
                self.at_once,
                self.not_at_once(),
            );
            let rest = self.not_at_once();
            match self.queued {
                Some(held) => {
                    let mut facts = vec![match held.in_queue {
                        Some(waiting) => format!("the accept queue holds {waiting}"),
                        None => format!("{} does not report the accept queue", kernel::SOURCE.system),
                    }];
                    if let Some(queued) = held.not_accepted {
                        facts.push(format!("{queued} of the {rest} are in it, held by no process"));
                    }
                    if let Some(unread) = held.unread {
                        facts.push(format!(
                            "{unread} of the {rest} hold their {} bytes unread in the server's receive buffer",
                            self.sent
                        ));
                    }
                    evidence += &format!("; the kernel: {}", facts.join(", "));
                }
                None => evidence += "; the kernel's view of the server is not available here",
            }
            evidence += &format!(
                "; as the answered ones left, {} of the {} were answered in turn",
                self.later,
                self.not_at_once()
            );
        }
        Check::new(CheckName::ManyAtOnce, self.all_at_once(), evidence)
    }
}

// ---------------------------------------------------------------------------
// A client that vanishes
// ---------------------------------------------------------------------------

/// How a client vanishes in the middle of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vanish {
    /// It resets its connection (RST), as a client that crashed or was
    /// killed by a firewall does.
    Reset,
    /// It closes its connection in order (FIN).
    Close,
}

/// A client vanished in the middle of a frame; what the next one got.
#[derive(Debug)]
pub struct Vanishing {
    /// How it vanished.
    pub how: Vanish,
    /// The bytes it sent: a frame's length and part of its payload.
    pub cut: Vec<u8>,
    /// The next client's reply.
    pub next: Answer,
    /// The reply the next client should have got.
    pub expected: String,
}

/// A client that vanishes: it sends 3 of the 9 bytes its frame announces
/// (`cut short`), then vanishes (`how`). Does the server survive, and serve
/// the next client?
///
/// ```
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target, Vanish};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::local(listener.local_addr()?.port());
/// std::thread::spawn(move || server_v3::serve(listener, &Default::default()));
/// let vanishing = scenarios::vanishing_client(&target, Vanish::Close, &ReplyRule::lesson())?;
/// assert!(vanishing.survived()); // the session ended alone
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn vanishing_client(target: &Target, how: Vanish, rule: &ReplyRule) -> io::Result<Vanishing> {
    let mut cut = encode_utf("cut short").map_err(|error| io::Error::other(error.to_string()))?;
    cut.truncate(LENGTH_BYTES + 3);
    let mut vanishing = target.connect()?;
    vanishing.send_bytes(&cut)?;
    match how {
        Vanish::Reset => vanishing.reset()?,
        Vanish::Close => drop(vanishing),
    }
    let message = "Hello after that";
    let next = match target.connect() {
        Ok(mut next) => ask(&mut next, message, REPLY_WITHIN),
        Err(error) => Answer::Failed(error.to_string()),
    };
    Ok(Vanishing {
        how,
        cut,
        next,
        expected: rule.reply_to(message),
    })
}

impl Vanishing {
    /// Whether the next client was served.
    pub fn survived(&self) -> bool {
        self.next.reply() == Some(self.expected.as_str())
    }

    /// The check: the server survives and serves the next client.
    pub fn check(&self) -> Check {
        let how = match self.how {
            Vanish::Reset => "reset its connection (RST)",
            Vanish::Close => "closed its connection",
        };
        let start = format!(
            "a client sent {} of the {} bytes its frame announced, {}, then {how}",
            self.cut.len() - LENGTH_BYTES,
            announced(&self.cut).unwrap_or_default(),
            Bytes(&self.cut)
        );
        let evidence = match &self.next {
            _ if self.survived() => format!("{start}: the next client was answered"),
            answer => format!("{start}: the next client got {answer}"),
        };
        Check::new(CheckName::VanishingClient, self.survived(), evidence)
    }
}

// ---------------------------------------------------------------------------
// Ctrl-C
// ---------------------------------------------------------------------------

/// Clients connected when Ctrl-C comes: two that have been answered and
/// are silent, and one that has just sent a message.
#[derive(Debug)]
pub struct ShutdownClients {
    silent: Vec<Peer>,
    just_sent: Peer,
    expected: String,
}

/// One client, and how its connection ended after Ctrl-C.
#[derive(Debug)]
pub struct ClientEnd {
    /// Which client: `silent since its reply`, `that had just sent a
    /// message`.
    pub who: &'static str,
    /// The reply it got first, if its message was answered before the end.
    pub reply: Option<String>,
    /// How its connection ended.
    pub end: Answer,
    /// When, after Ctrl-C was sent.
    pub after: Duration,
}

/// Connects the clients for Ctrl-C: each is answered once, so that each is
/// in a session (accepted, not in the accept queue); then the last sends
/// one more message and does not wait for its reply.
///
/// ```no_run
/// use std::time::{Duration, Instant};
/// use socket_lesson::examine::command::Started;
/// use socket_lesson::examine::scenarios::{self, ReplyRule, Target};
///
/// let mut started = Started::start("java", &["-cp", "out", "ServerV6"].map(String::from))?;
/// started.wait_until_listening("127.0.0.1:12345".parse()?, Duration::from_secs(60))?;
/// let clients = scenarios::shutdown_clients(&Target::local(12345), &ReplyRule::lesson())?;
/// let asked = Instant::now();
/// started.interrupt()?;
/// for client in clients.watch(asked, Duration::from_secs(5)) {
///     println!("{}: {}", client.who, client.end);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shutdown_clients(target: &Target, rule: &ReplyRule) -> io::Result<ShutdownClients> {
    let session = || -> io::Result<Peer> {
        let mut peer = target.connect()?;
        match ask(&mut peer, HELLO, REPLY_WITHIN) {
            Answer::Reply(_) => Ok(peer),
            answer => Err(io::Error::other(format!("a client for Ctrl-C got {answer}"))),
        }
    };
    let silent = vec![session()?, session()?];
    let mut just_sent = session()?;
    let last = "last words";
    just_sent
        .send(last)
        .map_err(|error| io::Error::other(error.to_string()))?;
    // Where the kernel reports unread bytes, Ctrl-C waits until the reply
    // has reached the client's receive buffer, unread: the server has read
    // the message. A server that closes a socket whose bytes it has not
    // read resets the connection instead of closing it, and that race is
    // not what this checks.
    if target.here && kernel::SOURCE.reports_queues {
        let (port, client_port) = (target.port(), just_sent.port());
        let _ = kernel::wait_for(REPLY_WITHIN, |table| {
            let client_side = table
                .rows
                .iter()
                .find(|row| row.local.port() == client_port && row.remote.port() == port)?;
            (client_side.unread? > 0).then_some(())
        });
    }
    Ok(ShutdownClients {
        silent,
        just_sent,
        expected: rule.reply_to(last),
    })
}

impl ShutdownClients {
    /// The clients' ends, Ctrl-C having been sent at `asked`: each waited
    /// for until `within` after it. The one that had just sent may get its
    /// reply first.
    pub fn watch(self, asked: Instant, within: Duration) -> Vec<ClientEnd> {
        let deadline = asked + within;
        let left = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        let mut ends = Vec::new();
        for mut peer in self.silent {
            let end = answer_within(&mut peer, left());
            ends.push(ClientEnd {
                who: "silent since its reply",
                reply: None,
                end,
                after: asked.elapsed(),
            });
        }
        let mut peer = self.just_sent;
        let (reply, end) = match answer_within(&mut peer, left()) {
            Answer::Reply(reply) if reply == self.expected => (Some(reply), answer_within(&mut peer, left())),
            end => (None, end),
        };
        ends.push(ClientEnd {
            who: "that had just sent a message",
            reply,
            end,
            after: asked.elapsed(),
        });
        ends
    }
}

/// What Ctrl-C did: how each client's connection ended, and how the process
/// did.
#[derive(Debug)]
pub struct Shutdown {
    /// What was sent, in words: `SIGINT`.
    pub signal: &'static str,
    /// Each client's end.
    pub clients: Vec<ClientEnd>,
    /// The process's exit status, or `None` if it was still running at the
    /// bound.
    pub exit: Option<ExitStatus>,
    /// From Ctrl-C to the process's end, or to the bound.
    pub took: Duration,
}

/// The exit codes a process that handled Ctrl-C ends with: 0, or 130 (128 +
/// SIGINT's number), as a JVM does after running its shutdown hooks.
pub const ORDERLY_EXIT_CODES: [i32; 2] = [0, 130];

impl Shutdown {
    /// Whether every client read the end of the stream (the one that had
    /// just sent a message, maybe after its reply).
    pub fn clients_closed_in_order(&self) -> bool {
        self.clients
            .iter()
            .all(|client| matches!(client.end, Answer::Closed))
    }

    /// Whether the process exited by itself with 0 or 130, rather than
    /// being killed by the signal or left running.
    pub fn exited_by_itself(&self) -> bool {
        self.exit
            .and_then(|status| status.code())
            .is_some_and(|code| ORDERLY_EXIT_CODES.contains(&code))
    }

    /// What happened, in a few words, for the verdict: `each of its 3
    /// clients read the end of the stream within 3 ms, and the process
    /// exited by itself with status 130 after 1.02 s`.
    pub fn summary(&self) -> String {
        let last = self
            .clients
            .iter()
            .map(|client| client.after)
            .max()
            .unwrap_or_default();
        format!(
            "on Ctrl-C each of its {} clients read the end of the stream within {}, and {}",
            self.clients.len(),
            seconds(last),
            exit_words(self.exit, self.took, self.signal)
        )
    }

    /// The check: what the course's V6 promises.
    pub fn check(&self) -> Check {
        let passed = self.clients_closed_in_order() && self.exited_by_itself();
        let count = self.clients.len();
        let mut evidence = format!(
            "{} was sent with {count} clients connected (two silent, one that had just sent a message): ",
            self.signal
        );
        if self.clients_closed_in_order() {
            let last = self
                .clients
                .iter()
                .map(|client| client.after)
                .max()
                .unwrap_or_default();
            evidence += &format!("each read the end of the stream (FIN) within {}", seconds(last));
            if self.clients.iter().any(|client| client.reply.is_some()) {
                evidence += ", the last after its reply";
            }
        } else {
            let ends: Vec<String> = self
                .clients
                .iter()
                .map(|client| {
                    let end = match &client.end {
                        Answer::Closed => "read the end of the stream".to_string(),
                        Answer::Nothing(_) => "its connection stayed open".to_string(),
                        end => format!("got {end}"),
                    };
                    format!("a client {}: {end}", client.who)
                })
                .collect();
            evidence += &ends.join("; ");
        }
        evidence += &format!("; {}", exit_words(self.exit, self.took, self.signal));
        Check::new(CheckName::CtrlC, passed, evidence)
    }
}

/// How a process ended, in words.
fn exit_words(exit: Option<ExitStatus>, took: Duration, signal: &str) -> String {
    let Some(status) = exit else {
        return format!("the process was still running {} later", seconds(took));
    };
    match status.code() {
        Some(code) if ORDERLY_EXIT_CODES.contains(&code) => {
            format!(
                "the process exited by itself with status {code} after {}",
                seconds(took)
            )
        }
        Some(code) => format!(
            "the process ended with status {code} after {}: not an orderly exit{}",
            seconds(took),
            if cfg!(windows) && code as u32 == 0xC000_013A {
                " (the console event ended it: no handler ran)"
            } else {
                ""
            }
        ),
        None => format!(
            "the process was killed by the signal ({status}) after {}: no handler of {signal} ran, and the \
             kernel closed its connections as it closes any ended process's",
            seconds(took)
        ),
    }
}
