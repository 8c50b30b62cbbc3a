//! The frame: the course's first message, a second one on the same
//! connection, and the forms of modified UTF-8 only Java's readUTF takes.

use std::io;
use std::time::{Duration, Instant};

use client::protocol::{encode, frame_len, MAX_FRAME_PAYLOAD};
use client::text::shown;

use super::answer::{ask, seconds, Answer, ReplyRule};
use super::evidence::{sight, Sighting};
use super::target::Target;
use super::{HELLO, REPLY_WITHIN};
use crate::examine::{Check, CheckName};
use crate::peer::Peer;

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
