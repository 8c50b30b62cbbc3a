//! The course's servers, in Java (tests/java/JavaPeer.java), graded by
//! their behaviour.

use std::process::{Command, ExitStatus};

use serde_json::Value;

use super::{check, examine_json, finish};
use crate::common::{self, binary, unused_port, Running};

/// A tool of the JDK, as a command line's word.
fn jdk_tool(name: &str) -> String {
    common::java::tool(name).display().to_string()
}

/// JavaPeer.java compiled, once per test process, into a directory of its
/// own; the directory.
fn java_classes() -> String {
    common::java::compiled("JavaPeer.java", "java-peer-examine")
        .display()
        .to_string()
}

/// `examine --json ARGS -- java -cp CLASSES JavaPeer MODE PORT EXTRA...`
/// on a port of its own.
fn examine_java(args: &[&str], mode: &str, extra: &[&str]) -> (ExitStatus, Value, String) {
    let port = unused_port().to_string();
    let (java, classes) = (jdk_tool("java"), java_classes());
    let command = [
        &[java.as_str(), "-cp", &classes, "JavaPeer", mode, &port][..],
        extra,
    ]
    .concat();
    examine_json(&[&["--port", &port][..], args, &["--"], &command].concat())
}

#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java tests"
)]
fn the_courses_server_v2_in_java_is_graded_v2() {
    let (status, json, stderr) = examine_java(&["--expect", "v2"], "server", &[]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v2", "{json:#}");
    assert_eq!(json["reply"], "Hello World!");
    assert_eq!(check(&json, "modified_utf8")["passed"], true, "{json:#}");
}

#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java tests"
)]
fn the_courses_server_v3_in_java_is_graded_v3() {
    let (status, json, stderr) = examine_java(&["--expect", "v3", "--silence", "5"], "server-v3", &[]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v3", "{json:#}");
}

/// A learner's server that replies "Hello World", without "!": the reply is
/// reported as it is, and the verdict is about behaviour.
#[test]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java tests"
)]
fn a_java_server_that_replies_differently_is_still_graded_by_its_behaviour() {
    let (status, json, stderr) =
        examine_java(&["--expect", "v3", "--silence", "5"], "server-v3", &[" World"]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["reply"], "Hello World", "{json:#}");
    assert_eq!(json["behaves_like"], "v3", "{json:#}");
    let hello = check(&json, "hello")["evidence"].as_str().unwrap();
    assert!(hello.contains("not the course's \"Hello World!\""), "{hello}");
    // Its rule, message + " World", made every round trip's reply: a full
    // frame included, one byte longer for the missing "!".
    let round_trips = check(&json, "modified_utf8")["evidence"].as_str().unwrap();
    assert!(
        round_trips.contains("a long message (65529 bytes"),
        "{round_trips}"
    );
}

/// The course's ServerV6, whose shutdown hook closes every session and
/// sleeps a second: the JVM exits 130 after it.
#[test]
#[cfg_attr(
    all(javac_missing, not(windows)),
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java tests"
)]
#[cfg_attr(
    windows,
    ignore = "a JVM takes Ctrl-Break for a thread dump, and only Ctrl-Break can be sent to one process group"
)]
fn the_courses_server_v6_in_java_is_graded_v6() {
    let (status, json, stderr) = examine_java(
        &["--expect", "v6", "--signal", "--silence", "5"],
        "server-v6",
        &[],
    );
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v6", "{json:#}");
    let evidence = check(&json, "ctrl_c")["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("exited by itself with status 130"),
        "{evidence}"
    );
    assert!(
        json["command"]["output"]
            .to_string()
            .contains("shutdown hook: done"),
        "{json:#}"
    );
}

/// examine started in the background, as a script's `examine ... &` is:
/// SIGINT ignored, which its command would inherit, and a JVM that starts
/// with SIGINT ignored never runs its shutdown hook. examine starts the
/// command with SIGINT at its default.
#[test]
#[cfg(unix)]
#[cfg_attr(
    javac_missing,
    ignore = "no javac on this machine: install a JDK (apt-get install default-jdk-headless) to run the Java tests"
)]
fn a_java_server_v6_runs_its_hook_even_when_examine_starts_with_sigint_ignored() {
    let port = unused_port().to_string();
    let mut shell = Command::new("sh");
    shell.args(["-c", "trap '' INT; exec \"$@\"", "sh"]);
    shell.arg(binary("examine")).args([
        "--json",
        "--expect",
        "v6",
        "--signal",
        "--silence",
        "5",
        "--port",
        &port,
        "--",
    ]);
    shell.args([
        &jdk_tool("java"),
        "-cp",
        &java_classes(),
        "JavaPeer",
        "server-v6",
        &port,
    ]);
    let (status, stdout, stderr) = finish(Running::start_command(shell));
    assert!(status.success(), "{status}: {stderr}\n{stdout}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["behaves_like"], "v6", "{json:#}");
}

// ---------------------------------------------------------------------------
