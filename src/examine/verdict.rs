//! Which version of the course the checks fit, said in the lesson's words,
//! and how they differ from the version a learner expected.
//!
//! Each version is a pattern over the checks:
//!
//! | check | V1 | V2 | V3 | V6 |
//! |---|---|---|---|---|
//! | `hello` | pass | pass | pass | pass |
//! | `many_messages` | fail: closed after one reply | pass | pass | pass |
//! | `modified_utf8` | (ended) | pass | pass | pass |
//! | `silent_first_client` | (ended) | fail | pass | pass |
//! | `after_a_leaves` | (ended) | fail: it ends, B is reset | pass | pass |
//! | `many_at_once` | (ended) | (ended) | pass | pass |
//! | `vanishing_client` | (ended) | (ended) | pass | pass |
//! | `ctrl_c` | (ended) | (ended) | any | pass |
//!
//! "(ended)": not examined, because the server ended before. A server that
//! fits no pattern behaves like none of them, and the verdict says what it
//! does instead: one client at a time but in turn, a bounded number at once
//! (the pool example), or which checks set it apart.

use std::fmt;

use super::{CheckName, Report};

/// A version of the course's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// One message, one reply, then the end.
    V1,
    /// One client at a time; the server ends when it leaves.
    V2,
    /// A thread per client.
    V3,
    /// V3 with a session manager and a shutdown hook: Ctrl-C closes every
    /// session in order.
    V6,
}

impl Version {
    /// The course's name for it, and this workspace's program that
    /// reproduces it: `ServerV2 (server-v2)`.
    pub fn names(self) -> &'static str {
        match self {
            Version::V1 => "ServerV1 (server-v1)",
            Version::V2 => "ServerV2 (server-v2)",
            Version::V3 => "ServerV3 (server-v3)",
            Version::V6 => "ServerV6 (server-v3 --example shutdown)",
        }
    }

    /// The version's name in the course: `ServerV2`.
    pub fn course_name(self) -> &'static str {
        self.names().split(' ').next().unwrap_or_default()
    }

    /// `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
            Version::V3 => "v3",
            Version::V6 => "v6",
        }
    }

    /// What the version does at each check: the module's table.
    fn pattern(self) -> [(CheckName, Expect); 8] {
        use CheckName::*;
        use Expect::{Any, Ended, Fail, Pass};
        let (many, rest, silent, after, later, ctrl_c) = match self {
            Version::V1 => (Fail, Ended, Ended, Ended, Ended, Ended),
            Version::V2 => (Pass, Pass, Fail, Fail, Ended, Ended),
            Version::V3 => (Pass, Pass, Pass, Pass, Pass, Any),
            Version::V6 => (Pass, Pass, Pass, Pass, Pass, Pass),
        };
        [
            (Hello, Pass),
            (ManyMessages, many),
            (ModifiedUtf8, rest),
            (SilentFirstClient, silent),
            (AfterALeaves, after),
            (ManyAtOnce, later),
            (VanishingClient, later),
            (CtrlC, ctrl_c),
        ]
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a version does at one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Pass,
    Fail,
    /// Not examined: the server ended before.
    Ended,
    Any,
}

/// Which version a server behaves like, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BehavesLike {
    /// One of the course's versions.
    Version(Version),
    /// None of them.
    None,
}

impl BehavesLike {
    /// `v1`, `v2`, `v3`, `v6` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            BehavesLike::Version(version) => version.as_str(),
            BehavesLike::None => "none",
        }
    }
}

impl fmt::Display for BehavesLike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for BehavesLike {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The version whose pattern the report fits, the later versions first (a
/// server that fits V6 fits V3 too), or none.
pub fn judge(report: &Report) -> BehavesLike {
    [Version::V6, Version::V3, Version::V2, Version::V1]
        .into_iter()
        .find(|&version| differences(version, report).is_empty())
        .map_or(BehavesLike::None, BehavesLike::Version)
}

/// How the report differs from `version`'s pattern, a few words a check
/// (the checks' own lines say what was seen); empty if it fits.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::{verdict, Check, CheckName, Report, Target, Version};
///
/// let report = Report {
///     target: Target::local(12345),
///     checks: vec![Check::new(CheckName::Hello, false, "no reply within 5 s".to_string())],
///     not_examined: Vec::new(),
///     reply: None,
///     findings: Default::default(),
///     took: Duration::ZERO,
/// };
/// let differences = verdict::differences(Version::V3, &report);
/// assert_eq!(differences[0], "hello: failed, where ServerV3 passes it");
/// assert_eq!(differences[1], "many_messages: not examined, where ServerV3 passes it");
/// ```
pub fn differences(version: Version, report: &Report) -> Vec<String> {
    let name = version.course_name();
    let ended = report.findings.ended.is_some();
    let mut differences = Vec::new();
    for (check_name, expect) in version.pattern() {
        let ran = report.check(check_name);
        let verdict = match (expect, ran) {
            (Expect::Any, _) => None,
            (Expect::Pass, Some(check)) if !check.passed => Some(format!("failed, where {name} passes it")),
            (Expect::Fail, Some(check)) if check.passed => Some(format!("passed, where {name} fails it")),
            (Expect::Pass | Expect::Fail, Some(_)) => None,
            (Expect::Pass, None) => Some(format!("not examined, where {name} passes it")),
            (Expect::Fail, None) => Some(format!("not examined, where {name} fails it")),
            (Expect::Ended, Some(_)) => Some(format!(
                "examined: the server was still there, where {name} has ended before it"
            )),
            (Expect::Ended, None) if !ended => Some(format!(
                "not examined, though the server did not end, where {name} has ended before it"
            )),
            (Expect::Ended, None) => None,
        };
        let difference = verdict.map(|verdict| format!("{check_name}: {verdict}"));
        differences.extend(difference);
    }
    differences
}

/// The verdict in the lesson's words: `behaves like ServerV2 (server-v2):
/// one client at a time — ...`.
pub fn words(report: &Report) -> String {
    let findings = &report.findings;
    let version = match judge(report) {
        BehavesLike::Version(version) => version,
        BehavesLike::None => {
            return format!("behaves like none of the course's versions: {}", why_none(report))
        }
    };
    let how = match version {
        Version::V1 => {
            "one message, one reply: then it closed the connection and stopped listening".to_string()
        }
        Version::V2 => format!(
            "one client at a time — {}",
            findings.b_waits.as_deref().unwrap_or(
                "the second client was not answered while the first stayed connected (the kernel's view \
                 of the server is not available here)"
            )
        ),
        Version::V3 | Version::V6 => {
            let mut how =
                "a thread per client — the second client was answered while the first stayed silent"
                    .to_string();
            if let Some(at_once) = findings.at_once {
                how += &format!(", and {} clients were answered at once", at_once.answered);
            }
            if version == Version::V6 {
                if let Some(shutdown) = &findings.shutdown {
                    how += &format!("; and it shuts down in order: {shutdown}");
                }
            } else {
                how += &match report.check(CheckName::CtrlC) {
                    Some(_) => {
                        "; Ctrl-C did not shut it down in order, as ServerV6 would (see ctrl_c)".to_string()
                    }
                    None => {
                        "; --signal, with its command, checks for ServerV6's orderly shutdown".to_string()
                    }
                };
            }
            how
        }
    };
    format!("behaves like {}: {how}", version.names())
}

/// What a server that fits no version does instead.
fn why_none(report: &Report) -> String {
    let findings = &report.findings;
    match (report.check(CheckName::Hello), &report.reply) {
        (Some(check), None) if !check.passed => {
            return format!("it does not speak the lesson's frame ({})", check.evidence);
        }
        (_, Some(reply)) if super::ReplyRule::learnt(reply).is_none() => {
            return format!(
                "its reply to Hello, \"{}\", does not contain Hello, so its other replies cannot be checked",
                client::text::shown(reply)
            );
        }
        _ => {}
    }
    if findings.served_in_turn {
        return "one client at a time, in turn — the second client waited until the first left, and was \
                served then (ServerV2 ends instead; ServerV3 serves both at once)"
            .to_string();
    }
    if let Some(at_once) = findings.at_once {
        let rest = at_once.connected - at_once.answered;
        let second_served = report
            .check(CheckName::SilentFirstClient)
            .is_some_and(|check| check.passed);
        if at_once.answered > 0 && rest > 0 && at_once.later == rest && second_served {
            let queue = match at_once.in_queue {
                Some(waiting) => format!(" (the kernel's accept queue held {waiting})"),
                None => String::new(),
            };
            return format!(
                "a bounded number at once, as the pool example — {} of {} clients were served at once; the \
                 other {rest} waited{queue} and were served as others left",
                at_once.answered, at_once.connected
            );
        }
    }
    let closest = differences(Version::V3, report);
    format!("it differs from ServerV3 in: {}", closest.join("; "))
}
