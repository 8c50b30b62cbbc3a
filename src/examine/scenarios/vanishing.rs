//! A client that vanishes in the middle of a frame, by a close or a
//! reset: the server must end that session and go on.

use std::io;

use client::protocol::{encode_utf, LENGTH_BYTES};

use super::answer::{announced, ask, Answer, Bytes, ReplyRule};
use super::target::Target;
use super::REPLY_WITHIN;
use crate::examine::{Check, CheckName};

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
