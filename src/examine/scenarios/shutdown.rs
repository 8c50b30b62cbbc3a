//! Ctrl-C: clients connected when the server is asked to stop, and how
//! each of their connections ended.

use std::io;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use super::answer::{answer_within, ask, seconds, Answer, ReplyRule};
use super::target::Target;
use super::{HELLO, REPLY_WITHIN};
use crate::examine::{Check, CheckName};
use crate::kernel::{self};
use crate::peer::Peer;

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
        let last = self.last_end();
        format!(
            "on Ctrl-C each of its {} clients read the end of the stream within {}, and {}",
            self.clients.len(),
            seconds(last),
            exit_words(self.exit, self.took, self.signal)
        )
    }

    /// How long after the signal the last client read its end of the
    /// stream: the longest of the clients' waits.
    fn last_end(&self) -> Duration {
        self.clients
            .iter()
            .map(|client| client.after)
            .max()
            .unwrap_or_default()
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
            let last = self.last_end();
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
