//! The lesson's checks, run against any server that speaks its frame: the
//! course's own Java programs, a learner's own, or this workspace's. Each
//! check drives real clients, and says what it did and what it saw, with
//! the kernel's evidence where the system reports it; the verdict says which
//! version of the course the server behaves like, and why.
//!
//! - [`scenarios`]: the scenarios themselves (a silent first client, many
//!   at once, Ctrl-C, ...), which the workspace's tests of its own servers
//!   run too;
//! - [`command`]: starting the server from its command line, and stopping
//!   it with everything it started;
//! - [`verdict`]: which version the checks fit, in the lesson's words, and
//!   how they differ from an expected one;
//! - [`json`]: the report as one JSON object.
//!
//! ```no_run
//! use socket_lesson::examine::{self, Options, Target};
//!
//! let report = examine::examine(&Target::local(12345), &Options::default(), None, |check| {
//!     println!("{check}");
//! })?;
//! println!("{}", report.verdict());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::io;
use std::time::{Duration, Instant};

pub mod command;
pub mod json;
pub mod scenarios;
pub mod verdict;

pub use scenarios::{ReplyRule, Target};
pub use verdict::{BehavesLike, Version};

use command::Started;
use scenarios::{Vanish, REPLY_WITHIN};

/// How long a server has, after Ctrl-C, to close its clients' connections
/// and end (the course's V6 sleeps a second in its shutdown hook).
pub const ENDS_WITHIN: Duration = Duration::from_secs(5);

/// One check: its name, whether the server passed it, and the evidence.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Which check.
    pub name: CheckName,
    /// Whether the server did what a server of the lesson should: answer,
    /// serve the second client, survive, shut down in order.
    pub passed: bool,
    /// What was done and seen, in a sentence.
    pub evidence: String,
}

impl Check {
    /// A check's result.
    pub fn new(name: CheckName, passed: bool, evidence: String) -> Check {
        Check {
            name,
            passed,
            evidence,
        }
    }
}

impl fmt::Display for Check {
    /// `pass  hello: A sent "Hello" ...`: one line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.passed { "pass" } else { "FAIL" };
        write!(f, "{mark}  {}: {}", self.name, self.evidence)
    }
}

/// The checks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// `Hello` is answered with a frame.
    Hello,
    /// A second message on the same connection is answered too.
    ManyMessages,
    /// Korean, a NUL, a surrogate pair and a full frame come back intact.
    ModifiedUtf8,
    /// With A connected and silent, B is answered.
    SilentFirstClient,
    /// Once A leaves, B is served and the server goes on.
    AfterALeaves,
    /// Many clients at once are all answered.
    ManyAtOnce,
    /// A client that resets in the middle of a frame does not stop the
    /// server.
    VanishingClient,
    /// Ctrl-C closes every client's connection in order and ends the
    /// process by itself.
    CtrlC,
}

impl CheckName {
    /// Every check, in order.
    pub const ALL: [CheckName; 8] = [
        CheckName::Hello,
        CheckName::ManyMessages,
        CheckName::ModifiedUtf8,
        CheckName::SilentFirstClient,
        CheckName::AfterALeaves,
        CheckName::ManyAtOnce,
        CheckName::VanishingClient,
        CheckName::CtrlC,
    ];

    /// The name as printed and in JSON: `silent_first_client`.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Hello => "hello",
            CheckName::ManyMessages => "many_messages",
            CheckName::ModifiedUtf8 => "modified_utf8",
            CheckName::SilentFirstClient => "silent_first_client",
            CheckName::AfterALeaves => "after_a_leaves",
            CheckName::ManyAtOnce => "many_at_once",
            CheckName::VanishingClient => "vanishing_client",
            CheckName::CtrlC => "ctrl_c",
        }
    }
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotExamined {
    /// Which check.
    pub name: CheckName,
    /// Why it did not run.
    pub why: String,
}

/// How the checks run.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many clients connect at once in `many_at_once`.
    pub clients: usize,
    /// How long a reply that may never come is awaited before the client
    /// counts as not answered (the second client's, the crowd's).
    pub silence: Duration,
    /// Whether to end with Ctrl-C (needs a started command).
    pub signal: bool,
}

impl Default for Options {
    /// 50 clients at once, a second's silence, no Ctrl-C.
    fn default() -> Options {
        Options {
            clients: 50,
            silence: Duration::from_secs(1),
            signal: false,
        }
    }
}

/// What the checks found that the verdict's words need.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    /// How the server ended during the examination, if it did.
    pub ended: Option<String>,
    /// Where the second client was while A stayed silent, in the lesson's
    /// words, if it was not answered.
    pub b_waits: Option<String>,
    /// Whether the second client was served once A left, not before.
    pub served_in_turn: bool,
    /// What the clients at once got, if they ran.
    pub at_once: Option<AtOnce>,
    /// How the server met Ctrl-C, in a few words, if it passed.
    pub shutdown: Option<String>,
}

/// What the clients at once got, in numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtOnce {
    /// How many connected.
    pub connected: usize,
    /// How many were answered while all stayed connected.
    pub answered: usize,
    /// Of the others, how many were answered in turn as others left.
    pub later: usize,
    /// How many finished handshakes the kernel counted in the accept queue
    /// meanwhile, where it says.
    pub in_queue: Option<u32>,
}

/// Everything the examination found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The server examined.
    pub target: Target,
    /// The checks that ran, in order.
    pub checks: Vec<Check>,
    /// The checks that did not, and why.
    pub not_examined: Vec<NotExamined>,
    /// The server's reply to `Hello`, as it was sent.
    pub reply: Option<String>,
    /// What the verdict's words need.
    pub findings: Findings,
    /// How long the checks took.
    pub took: Duration,
}

impl Report {
    /// Which version the checks fit.
    pub fn behaves_like(&self) -> BehavesLike {
        verdict::judge(self)
    }

    /// The verdict in the lesson's words.
    pub fn verdict(&self) -> String {
        verdict::words(self)
    }

    /// The check named `name`, if it ran.
    pub fn check(&self, name: CheckName) -> Option<&Check> {
        self.checks.iter().find(|check| check.name == name)
    }

    fn skip_rest(&mut self, why: &str) {
        let done: Vec<CheckName> = self.checks.iter().map(|check| check.name).collect();
        for name in CheckName::ALL {
            if !done.contains(&name) && !self.not_examined.iter().any(|skipped| skipped.name == name) {
                self.not_examined.push(NotExamined {
                    name,
                    why: why.to_string(),
                });
            }
        }
    }
}

/// Examines the server at `target`: runs every check in turn, calling
/// `each` with each result as it comes, and returns the report. With
/// `started`, the server's process is watched too (how it ended), and
/// `options.signal` ends the examination with Ctrl-C.
///
/// `Err` only when the server could not be examined at all: the first
/// client could not connect.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::{self, BehavesLike, Options, Target, Version};
///
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let target = Target::at(listener.local_addr()?);
/// std::thread::spawn(move || server_v3::serve(listener, &Default::default()));
/// let options = Options { clients: 10, silence: Duration::from_secs(5), signal: false };
/// let report = examine::examine(&target, &options, None, |_| {})?;
/// assert_eq!(report.behaves_like(), BehavesLike::Version(Version::V3));
/// assert!(report.verdict().starts_with("behaves like ServerV3 (server-v3): a thread per client"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn examine(
    target: &Target,
    options: &Options,
    mut started: Option<&mut Started>,
    mut each: impl FnMut(&Check),
) -> io::Result<Report> {
    let begun = Instant::now();
    let mut report = Report {
        target: target.clone(),
        checks: Vec::new(),
        not_examined: Vec::new(),
        reply: None,
        findings: Findings::default(),
        took: Duration::ZERO,
    };
    let mut record = |report: &mut Report, check: Check| {
        each(&check);
        report.checks.push(check);
    };
    run(target, options, &mut started, &mut report, &mut record)?;
    if !options.signal {
        report
            .not_examined
            .retain(|skipped| skipped.name != CheckName::CtrlC);
        if report.check(CheckName::CtrlC).is_none() {
            report.not_examined.push(NotExamined {
                name: CheckName::CtrlC,
                why: "not asked for: --signal, with the server's command, ends the examination with Ctrl-C"
                    .to_string(),
            });
        }
    }
    report.took = begun.elapsed();
    Ok(report)
}

/// The checks in order; returns early, the rest not examined, when the
/// server can no longer be examined.
fn run(
    target: &Target,
    options: &Options,
    started: &mut Option<&mut Started>,
    report: &mut Report,
    record: &mut impl FnMut(&mut Report, Check),
) -> io::Result<()> {
    // A client that cannot connect halfway: the server went away, and the
    // checks left cannot run.
    macro_rules! or_skip {
        ($connected:expr) => {
            match $connected {
                Ok(value) => value,
                Err(error) => {
                    report.skip_rest(&format!("a new client could not connect: {error}"));
                    return Ok(());
                }
            }
        };
    }
    let hello = scenarios::hello(target).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot connect to {}: {error}", target.address),
        )
    })?;
    record(report, hello.check());
    report.reply = hello.answer.reply().map(str::to_string);
    let Some(rule) = hello.rule() else {
        let why = match report.reply {
            Some(_) => {
                "its reply to Hello does not contain Hello, so its replies to other messages cannot be told"
            }
            None => "it did not answer Hello with a frame",
        };
        report.skip_rest(why);
        return Ok(());
    };
    let mut a = hello.a;

    let second = scenarios::second_message(&mut a, &rule);
    record(report, second.check());
    if second.closed_after_first() {
        if let Some(how) = ended(target, started) {
            report.findings.ended = Some(how.clone());
            report.skip_rest(&format!("the server ended after its first reply: {how}"));
            return Ok(());
        }
        report.not_examined.push(NotExamined {
            name: CheckName::ModifiedUtf8,
            why: "the server closes a connection after its first reply".to_string(),
        });
        a = or_skip!(target.connect());
    } else {
        let trips = scenarios::modified_utf8(&mut a, &rule);
        let check = scenarios::modified_utf8_check(&trips);
        let broken = trips.last().is_some_and(|trip| trip.answer.reply().is_none());
        record(report, check);
        if broken {
            a = or_skip!(target.connect());
        }
    }

    let mut silent = or_skip!(scenarios::silent_first_client(
        target,
        &mut a,
        &rule,
        options.silence
    ));
    record(report, silent.check());
    if !silent.answered() {
        report.findings.b_waits = silent.kernel.as_ref().map(scenarios::Sighting::lesson_words);
    }
    let after = scenarios::after_a_leaves(target, a, &mut silent, &rule);
    record(report, after.check());
    report.findings.served_in_turn = after.served_in_turn();
    if let Some(how) = &after.stopped_listening {
        let how = match started
            .as_deref_mut()
            .map(|started| started.wait_within(REPLY_WITHIN))
        {
            Some(Ok(Some(status))) => {
                format!("{how}, and the command ended ({})", command::status_words(status))
            }
            _ => how.clone(),
        };
        report.findings.ended = Some(how.clone());
        report.skip_rest(&format!("the server ended when A left: {how}"));
        return Ok(());
    }
    drop(silent);

    let many = scenarios::many_at_once(target, options.clients, &rule, options.silence);
    record(report, many.check());
    report.findings.at_once = Some(AtOnce {
        connected: many.connected,
        answered: many.at_once,
        later: many.later,
        in_queue: many.queued.and_then(|held| held.in_queue),
    });

    let vanishing = or_skip!(scenarios::vanishing_client(target, Vanish::Reset, &rule));
    record(report, vanishing.check());

    if options.signal {
        let Some(started) = started.as_deref_mut() else {
            report.skip_rest("Ctrl-C needs the server's command, after --");
            return Ok(());
        };
        let clients = match scenarios::shutdown_clients(target, &rule) {
            Ok(clients) => clients,
            Err(error) => {
                record(report, Check::new(CheckName::CtrlC, false, error.to_string()));
                return Ok(());
            }
        };
        let asked = Instant::now();
        if let Err(error) = started.interrupt() {
            // Nothing was asked of the server, so nothing can be said of it.
            report.not_examined.push(NotExamined {
                name: CheckName::CtrlC,
                why: format!("cannot send {}: {error}", command::INTERRUPT),
            });
            return Ok(());
        }
        let clients = clients.watch(asked, ENDS_WITHIN);
        let shutdown = scenarios::Shutdown {
            signal: command::INTERRUPT,
            clients,
            exit: started.wait_within(ENDS_WITHIN.saturating_sub(asked.elapsed()))?,
            took: asked.elapsed(),
        };
        let check = shutdown.check();
        if check.passed {
            report.findings.shutdown = Some(shutdown.summary());
        }
        record(report, check);
    }
    Ok(())
}

/// Whether the server has ended: its command's exit, or, without one, the
/// kernel's table (or a refused connection); `None` if it still listens.
fn ended(target: &Target, started: &mut Option<&mut Started>) -> Option<String> {
    let stopped = target.stopped_listening(REPLY_WITHIN)?;
    Some(
        match started
            .as_deref_mut()
            .map(|started| started.wait_within(REPLY_WITHIN))
        {
            Some(Ok(Some(status))) => format!(
                "{stopped}, and the command ended ({})",
                command::status_words(status)
            ),
            _ => stopped,
        },
    )
}
