//! examine: the lesson's checks against any server, as a learner runs them:
//! the workspace's servers and examples, the course's servers written in
//! Java (tests/java/JavaPeer.java, compiled with the JDK, as the interop
//! tests do), and servers that are not servers of the frame at all.
//!
//! Each server examine starts runs on a port below the kernel's ephemeral
//! range that nothing else in the tests takes (`common::unused_port`):
//! examine must know the port before the command starts.

use std::process::ExitStatus;
use std::time::Duration;

use serde_json::Value;

use crate::common::{binary, Running};

mod java;
mod not_a_server;
mod output;
mod stopping;
mod workspace;

/// How long a test lets examine run. examine bounds each of its waits
/// itself (a minute for a command to listen, seconds for a reply); this is
/// only against a hang, and leaves a busy machine's JVM time to start.
const EXAMINE_WITHIN: Duration = Duration::from_secs(120);

/// Runs `examine ARGS` to its end: its status, standard output, standard
/// error (a panic fails the test).
fn examine(args: &[&str]) -> (ExitStatus, String, String) {
    finish(Running::start("examine", args))
}

/// examine, started, run to its end: its status, standard output, standard
/// error.
fn finish(mut examine: Running) -> (ExitStatus, String, String) {
    let (status, stderr) = examine.wait_exit_within(EXAMINE_WITHIN);
    (status, examine.stdout.join("\n"), stderr)
}

/// `examine --json ARGS`: its status, the JSON object, its standard error.
fn examine_json(args: &[&str]) -> (ExitStatus, Value, String) {
    let (status, stdout, stderr) = examine(&[&["--json"], args].concat());
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|error| panic!("not one JSON object ({error}):\n{stdout}\nstderr: {stderr}"));
    (status, json, stderr)
}

/// The path of a program of the workspace, as a command line's word.
fn program(name: &str) -> String {
    binary(name).display().to_string()
}

/// The check named `name` in examine's JSON.
fn check<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|check| check["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {json:#}"))
}

/// The names of the checks in examine's JSON, in order.
fn names(json: &Value, list: &str) -> Vec<String> {
    json[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {json:#}"))
        .iter()
        .map(|check| check["name"].as_str().expect("a name").to_string())
        .collect()
}

/// Every check in examine's JSON has a name, a verdict and a sentence of
/// evidence.
fn assert_checks_are_well_formed(json: &Value) {
    for check in json["checks"].as_array().expect("checks") {
        assert!(check["name"].is_string(), "{check}");
        assert!(check["passed"].is_boolean(), "{check}");
        assert!(
            check["evidence"]
                .as_str()
                .is_some_and(|evidence| evidence.len() > 20),
            "{check}"
        );
    }
}
