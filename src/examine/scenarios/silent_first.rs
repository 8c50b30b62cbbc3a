//! A silent first client: what a second client meets while the first
//! holds its connection and says nothing.

use std::io;
use std::time::{Duration, Instant};

use super::answer::{answer_within, ask, seconds, Answer, ReplyRule};
use super::evidence::{sight, Sighting};
use super::target::Target;
use super::{FROM_B, REPLY_WITHIN};
use crate::examine::{Check, CheckName};
use crate::peer::Peer;

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
