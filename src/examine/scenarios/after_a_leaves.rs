//! After A leaves: whether the client that waited is served once the
//! first one has gone.

use super::answer::{answer_within, ask, Answer, ReplyRule};
use super::silent_first::SilentFirst;
use super::target::Target;
use super::{EXIT, REPLY_WITHIN};
use crate::examine::{Check, CheckName};
use crate::peer::Peer;

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
