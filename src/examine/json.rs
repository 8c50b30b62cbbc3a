//! The report as one JSON object, for programs: `examine --json`.
//!
//! ```text
//! {"server":"127.0.0.1:12345","behaves_like":"v2","verdict":"behaves like ServerV2 ...",
//!  "reply":"Hello World!","checks":[{"name":"hello","passed":true,"evidence":"..."}, ...],
//!  "not_examined":[{"name":"many_at_once","why":"..."}],"expected":"v3","differences":["..."],
//!  "seconds":1.12,"command":{"line":"java ...","listening_after_s":0.41,"ended":"exit status 0",
//!  "output":["..."]}}
//! ```
//!
//! `reply` is the server's reply to `Hello` as it was sent (`null` if no
//! frame came); `expected` and `differences` are there with `--expect`;
//! `command` with a command, its `ended` and `output` when it ended by
//! itself during the examination.

use super::{BehavesLike, Check, NotExamined, Report, Version};

/// The started command, as the report shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CommandJson {
    /// The command line.
    pub line: String,
    /// How long it took to listen, in seconds.
    pub listening_after_s: f64,
    /// How it ended by itself during the examination (`exit status 0`), if
    /// it did.
    pub ended: Option<String>,
    /// Its last lines of output, when it ended by itself.
    pub output: Vec<String>,
}

/// The JSON object.
#[derive(Debug, serde::Serialize)]
pub struct ReportJson<'a> {
    /// The address examined.
    pub server: String,
    /// `v1`, `v2`, `v3`, `v6` or `none`.
    pub behaves_like: BehavesLike,
    /// The verdict in the lesson's words.
    pub verdict: String,
    /// The reply to `Hello`, as it was sent.
    pub reply: Option<&'a str>,
    /// Every check that ran, in order.
    pub checks: &'a [Check],
    /// The checks that did not run, and why.
    pub not_examined: &'a [NotExamined],
    /// The version expected (`--expect`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<Version>,
    /// How the checks differ from the expected version's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences: Option<Vec<String>>,
    /// How long the checks took, in seconds.
    pub seconds: f64,
    /// The command examine started, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandJson>,
}

/// The report, with what was expected and the command, as one JSON object.
///
/// ```
/// use std::time::Duration;
/// use socket_lesson::examine::{json, Check, CheckName, Report, Target, Version};
///
/// let report = Report {
///     target: Target::local(12345),
///     checks: vec![Check::new(CheckName::Hello, false, "A sent \"Hello\" and got no reply within 5 s".into())],
///     not_examined: Vec::new(),
///     reply: None,
///     findings: Default::default(),
///     took: Duration::from_secs(5),
/// };
/// let json: serde_json::Value = serde_json::from_str(&json::to_json(&report, Some(Version::V3), None))?;
/// assert_eq!(json["behaves_like"], "none");
/// assert_eq!(json["checks"][0]["name"], "hello");
/// assert_eq!(json["differences"][0], "hello: failed, where ServerV3 passes it");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn to_json(report: &Report, expected: Option<Version>, command: Option<CommandJson>) -> String {
    let json = ReportJson {
        server: report.target.address.to_string(),
        behaves_like: report.behaves_like(),
        verdict: report.verdict(),
        reply: report.reply.as_deref(),
        checks: &report.checks,
        not_examined: &report.not_examined,
        expected,
        differences: expected.map(|version| super::verdict::differences(version, report)),
        seconds: report.took.as_secs_f64(),
        command,
    };
    // Plain data, strings and numbers: nothing here can fail to serialize.
    serde_json::to_string(&json).unwrap_or_default()
}
