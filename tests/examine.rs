//! examine: the lesson's checks against any server, as a learner runs them:
//! the workspace's servers and examples, the course's servers written in
//! Java (tests/java/JavaPeer.java, compiled with the JDK, as the interop
//! tests do), and servers that are not servers of the frame at all.
//!
//! Each server examine starts runs on a port below the kernel's ephemeral
//! range that nothing else in the tests takes (`common::unused_port`):
//! examine must know the port before the command starts.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, ExitStatus};
use std::thread;
use std::time::Duration;

use common::{
    binary, example, unused_port, wait_for_kernel, Running, Server, REPORTS_ACCEPTED, REPORTS_QUEUES,
};
use serde_json::Value;

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

#[test]
fn server_v1_is_graded_v1() {
    let port = unused_port().to_string();
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port,
        "--expect",
        "v1",
        "--",
        &program("server-v1"),
        "--port",
        &port,
    ]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v1", "{json:#}");
    assert_eq!(json["reply"], "Hello World!");
    assert_eq!(names(&json, "checks"), ["hello", "many_messages"]);
    assert_eq!(check(&json, "many_messages")["passed"], false);
    assert!(
        check(&json, "many_messages")["evidence"]
            .as_str()
            .unwrap()
            .contains("after its first reply the server closed the connection"),
        "{json:#}"
    );
    assert_eq!(json["differences"], Value::Array(Vec::new()));
    // The command ended by itself, and examine kept what it said.
    assert_eq!(json["command"]["ended"], "exit status 0", "{json:#}");
    let output = json["command"]["output"].to_string();
    assert!(
        output.contains("closing the connection and the listening socket"),
        "{output}"
    );
    assert_checks_are_well_formed(&json);
}

/// The lesson's verdict on server-v2, in its words, with the kernel's
/// evidence where the system reports it.
#[test]
fn server_v2_is_graded_v2_with_the_kernels_evidence() {
    let port = unused_port().to_string();
    let server = program("server-v2");
    let (status, stdout, stderr) =
        examine(&["--port", &port, "--expect", "v2", "--", &server, "--port", &port]);
    assert!(status.success(), "{status}: {stderr}\n{stdout}");
    let verdict = stdout
        .lines()
        .find(|line| line.starts_with("behaves like "))
        .unwrap_or_else(|| panic!("no verdict:\n{stdout}"));
    if REPORTS_QUEUES && REPORTS_ACCEPTED {
        assert_eq!(
            verdict,
            "behaves like ServerV2 (server-v2): one client at a time — the second client's handshake \
             finished and it waits in the accept queue; its 14 bytes wait unread in the server's receive \
             buffer"
        );
    } else {
        assert!(
            verdict.starts_with(
                "behaves like ServerV2 (server-v2): one client at a time — the second client's handshake \
                 finished"
            ),
            "{verdict}"
        );
    }
    // One line per check, then the ones not examined, and why.
    for line in [
        "pass  hello: ",
        "pass  many_messages: ",
        "pass  modified_utf8: ",
        "FAIL  silent_first_client: ",
        "FAIL  after_a_leaves: ",
        "skip  many_at_once, vanishing_client: not examined: the server ended when A left",
        "expected v2: yes, it behaves like ServerV2 (server-v2)",
    ] {
        assert!(
            stdout.lines().any(|text| text.starts_with(line)),
            "{line:?} in:\n{stdout}"
        );
    }
    let silent = stdout
        .lines()
        .find(|line| line.starts_with("FAIL  silent_first_client: "))
        .unwrap();
    assert!(
        silent.contains("B connected and sent 14 bytes: no reply within 1 s"),
        "{silent}"
    );
    if REPORTS_QUEUES {
        assert!(
            silent.contains("14 bytes unread in the server's receive buffer"),
            "{silent}"
        );
    }
    assert!(silent.contains("A, asked again, was still answered"), "{silent}");
    // server-v2's own log says how it ended: A sent exit.
    assert!(
        stdout.contains("the command ended by itself (exit status 0); its last lines:"),
        "{stdout}"
    );
    assert!(stdout.contains("session ended: the client sent exit"), "{stdout}");
}

#[test]
fn server_v3_is_graded_v3_and_told_how_to_check_v6() {
    let port = unused_port().to_string();
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port,
        "--silence",
        "5",
        "--expect",
        "v3",
        "--",
        &program("server-v3"),
        "--port",
        &port,
        "--quiet",
    ]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v3", "{json:#}");
    assert_eq!(
        names(&json, "checks"),
        [
            "hello",
            "many_messages",
            "modified_utf8",
            "silent_first_client",
            "after_a_leaves",
            "many_at_once",
            "vanishing_client"
        ]
    );
    assert!(json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|check| check["passed"] == true));
    assert!(
        check(&json, "many_at_once")["evidence"]
            .as_str()
            .unwrap()
            .contains("all 50 were answered"),
        "{json:#}"
    );
    assert_eq!(names(&json, "not_examined"), ["ctrl_c"]);
    assert!(json["verdict"].as_str().unwrap().contains("--signal"), "{json:#}");
    // examine stopped it: server-v3 never ends by itself.
    assert_eq!(json["command"]["ended"], Value::Null, "{json:#}");
    assert_checks_are_well_formed(&json);
}

/// Grading fails, with the checks that differ named, when the server is
/// not the version expected, either way.
#[test]
fn a_v2_graded_as_v3_fails_and_a_v3_graded_as_v2_fails() {
    let port = unused_port().to_string();
    let (status, stdout, stderr) = examine(&[
        "--port",
        &port,
        "--expect",
        "v3",
        "--",
        &program("server-v2"),
        "--port",
        &port,
    ]);
    assert_eq!(status.code(), Some(1), "{stderr}\n{stdout}");
    assert!(
        stdout.contains("expected v3: it does not behave like ServerV3 (server-v3); it differs in:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  - silent_first_client: failed, where ServerV3 passes it"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  - many_at_once: not examined, where ServerV3 passes it"),
        "{stdout}"
    );

    let port = unused_port().to_string();
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port,
        "--silence",
        "5",
        "--expect",
        "v2",
        "--",
        &program("server-v3"),
        "--port",
        &port,
        "--quiet",
    ]);
    assert_eq!(status.code(), Some(1), "{stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v3");
    assert_eq!(json["expected"], "v2");
    let differences = json["differences"].to_string();
    assert!(
        differences.contains("silent_first_client: passed, where ServerV2 fails it"),
        "{differences}"
    );
    assert!(
        differences.contains("many_at_once: examined: the server was still there"),
        "{differences}"
    );
}

#[test]
#[cfg_attr(
    windows,
    ignore = "Ctrl-Break reaches a console process group, which the Windows tests, run here under Wine \
              without a console, do not have"
)]
fn the_shutdown_example_is_graded_v6_with_ctrl_c() {
    let port = unused_port().to_string();
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port,
        "--silence",
        "5",
        "--expect",
        "v6",
        "--signal",
        "--",
        &example("shutdown").display().to_string(),
        "--port",
        &port,
        "--quiet",
    ]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v6", "{json:#}");
    let ctrl_c = check(&json, "ctrl_c");
    assert_eq!(ctrl_c["passed"], true, "{json:#}");
    let evidence = ctrl_c["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("each read the end of the stream (FIN)"),
        "{evidence}"
    );
    assert!(
        evidence.contains("the process exited by itself with status 0"),
        "{evidence}"
    );
    assert_eq!(json["command"]["ended"], "exit status 0", "{json:#}");
}

/// server-v3 does not handle Ctrl-C: SIGINT kills it, and examine says so
/// rather than calling the kernel's closing of a dead process's sockets an
/// orderly shutdown.
#[test]
#[cfg(unix)]
fn server_v3_killed_by_ctrl_c_is_not_v6() {
    let port = unused_port().to_string();
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port,
        "--silence",
        "5",
        "--expect",
        "v6",
        "--signal",
        "--",
        &program("server-v3"),
        "--port",
        &port,
        "--quiet",
    ]);
    assert_eq!(status.code(), Some(1), "{stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v3", "{json:#}");
    let evidence = check(&json, "ctrl_c")["evidence"].as_str().unwrap().to_string();
    assert!(
        evidence.contains("the process was killed by the signal"),
        "{evidence}"
    );
}

#[test]
fn the_pool_example_is_reported_for_what_it_is() {
    let port = unused_port().to_string();
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port,
        "--clients",
        "5",
        "--",
        &example("pool").display().to_string(),
        "--port",
        &port,
        "--workers",
        "2",
        "--quiet",
    ]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "none", "{json:#}");
    let verdict = json["verdict"].as_str().unwrap();
    assert!(
        verdict
            .contains("a bounded number at once, as the pool example — 2 of 5 clients were served at once"),
        "{verdict}"
    );
    let many = check(&json, "many_at_once")["evidence"].as_str().unwrap();
    assert!(many.contains("the other 3 got no reply within 1 s"), "{many}");
    assert!(many.contains("3 of the 3 were answered in turn"), "{many}");
    if REPORTS_QUEUES {
        assert!(many.contains("the accept queue holds 3"), "{many}");
    }
}

// ---------------------------------------------------------------------------
// The course's servers, in Java
// ---------------------------------------------------------------------------

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
// What is not a server of the frame, and what cannot be examined
// ---------------------------------------------------------------------------

/// A server on a free port that answers each connection with `respond`,
/// given what the client sent; its port.
fn fake_server(respond: fn(&[u8]) -> Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            let mut request = [0u8; 1024];
            let read = socket.read(&mut request).unwrap_or(0);
            let _ = socket.write_all(&respond(&request[..read]));
            // Read what else comes, so that closing sends FIN, not RST.
            let _ = socket.shutdown(std::net::Shutdown::Write);
            let _ = std::io::copy(&mut socket, &mut std::io::sink());
        }
    });
    port
}

#[test]
fn an_http_server_is_not_a_server_of_the_frame() {
    let port = fake_server(|_| {
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
    });
    let (status, json, stderr) = examine_json(&["--port", &port.to_string()]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "none", "{json:#}");
    assert_eq!(json["reply"], Value::Null);
    let hello = check(&json, "hello");
    assert_eq!(hello["passed"], false);
    let evidence = hello["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("its first 2 bytes announce 18516 bytes"),
        "{evidence}"
    );
    assert!(evidence.contains("48 54 54 50 2F 31 2E 31"), "{evidence}");
    assert!(
        evidence.contains(r#""HTTP/1.1 400 Bad Request\r\n"#),
        "{evidence}"
    );
    assert!(
        json["verdict"]
            .as_str()
            .unwrap()
            .starts_with("behaves like none of the course's versions: it does not speak the lesson's frame"),
        "{json:#}"
    );
    assert_eq!(names(&json, "checks"), ["hello"]);

    // Graded, it fails.
    let (status, stdout, _) = examine(&["--port", &port.to_string(), "--expect", "v2"]);
    assert_eq!(status.code(), Some(1), "{stdout}");
}

#[test]
fn a_server_that_sends_garbage_gets_none_with_its_bytes() {
    let port = fake_server(|_| vec![0x00, 0x03, 0xFF, 0xFE, 0xFD]);
    let (status, json, stderr) = examine_json(&["--port", &port.to_string()]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "none", "{json:#}");
    let evidence = check(&json, "hello")["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("byte 0xFF at offset 0 cannot start a character"),
        "{evidence}"
    );
    assert!(evidence.contains("00 03 FF FE FD"), "{evidence}");
}

/// A listening socket whose program never accepts: A's Hello is not
/// answered, and the kernel shows A waiting in the accept queue.
#[test]
fn a_server_that_never_answers_gets_none_with_the_kernels_evidence() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (status, json, stderr) = examine_json(&["--port", &port.to_string()]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "none", "{json:#}");
    let evidence = check(&json, "hello")["evidence"].as_str().unwrap();
    assert!(evidence.contains("got no reply within 5 s"), "{evidence}");
    if REPORTS_QUEUES && REPORTS_ACCEPTED {
        assert!(
            evidence.contains(
                "the kernel shows A's connection: handshake done, waiting in the accept queue; 7 bytes unread \
                 in the server's receive buffer"
            ),
            "{evidence}"
        );
    }
    drop(listener);
}

/// Each case of "could not examine": one line on standard error, the
/// command's output after it where it explains, status 2, nothing on
/// standard output but the heading.
fn assert_cannot_examine(args: &[&str], line: &str) -> String {
    let (status, stdout, stderr) = examine(args);
    assert_eq!(status.code(), Some(2), "{args:?}: {stderr}\n{stdout}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("examine: error: "), "{stderr}");
    assert!(first.contains(line), "{line:?} in {stderr}");
    assert!(stdout.lines().count() <= 1, "{stdout}");
    stderr
}

#[test]
fn nothing_listening_is_one_line_and_status_2() {
    let port = unused_port().to_string();
    let stderr = assert_cannot_examine(
        &["--port", &port],
        &format!("nothing listens on 127.0.0.1:{port}: start the server first"),
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_command_that_is_not_found_is_one_line_and_status_2() {
    let port = unused_port().to_string();
    let stderr = assert_cannot_examine(
        &["--port", &port, "--", "no-such-server-program", "--port", &port],
        "cannot start `no-such-server-program --port",
    );
    assert!(
        stderr.contains("no program \"no-such-server-program\" was found"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_command_that_ends_before_it_listens_is_status_2_with_its_output() {
    let port = unused_port().to_string();
    let server = program("server-v2");
    let stderr = assert_cannot_examine(
        &[
            "--port",
            &port,
            "--",
            &server,
            "--port",
            &port,
            "--host",
            "no-such-host.invalid",
        ],
        &format!("ended (exit status 1) before anything listened on 127.0.0.1:{port}"),
    );
    // Its own error, which says why.
    assert!(stderr.contains("its last lines of output:"), "{stderr}");
    assert!(
        stderr.contains("  | server-v2: error: cannot resolve host \"no-such-host.invalid\""),
        "{stderr}"
    );
}

/// A learner's server on the wrong port: examine waits, bounded, says so,
/// shows the command's output (which names the port it took), and stops it.
#[test]
fn a_command_that_listens_elsewhere_is_status_2_with_its_output_and_is_stopped() {
    let (port, elsewhere) = (unused_port(), unused_port());
    let server = program("server-v3");
    let stderr = assert_cannot_examine(
        &[
            "--port",
            &port.to_string(),
            "--wait",
            "0.5",
            "--",
            &server,
            "--port",
            &elsewhere.to_string(),
        ],
        &format!("nothing listened on 127.0.0.1:{port} within 0.5 s (--wait)"),
    );
    assert!(
        stderr.contains(&format!("listening on 127.0.0.1:{elsewhere}")),
        "{stderr}"
    );
    wait_for_kernel("the command stopped", |table| {
        table.listener(elsewhere).is_none().then_some(())
    });
}

#[test]
fn a_port_taken_before_the_command_starts_is_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let stderr = assert_cannot_examine(
        &["--port", &port, "--", &program("server-v3"), "--port", &port],
        "something already listens on 127.0.0.1:",
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn flags_that_cannot_work_are_refused_with_status_2() {
    // Ctrl-C needs a command to send it to, and V6 needs Ctrl-C.
    for args in [
        &["--signal"][..],
        &["--expect", "v6", "--", "server"],
        &["--port", "0"],
        &["--expect", "v4"],
    ] {
        let (status, _, stderr) = examine(args);
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------
// Stopping the command, whatever happens
// ---------------------------------------------------------------------------

/// The command's own children are stopped too: a shell that starts the
/// server as a child of its own, not in its place.
#[test]
fn examine_stops_the_commands_children_too() {
    let port = unused_port();
    let server = program("server-v3");
    // Another command after the server's, so that the shell cannot make
    // itself the server (exec).
    let (shell, then) = if cfg!(windows) {
        (["cmd", "/C"], "&")
    } else {
        (["sh", "-c"], ";")
    };
    let line = format!("{server} --port {port} --quiet {then} echo the server ended");
    let (status, json, stderr) = examine_json(&[
        "--port",
        &port.to_string(),
        "--silence",
        "5",
        "--",
        shell[0],
        shell[1],
        &line,
    ]);
    assert!(status.success(), "{status}: {stderr}\n{json:#}");
    assert_eq!(json["behaves_like"], "v3", "{json:#}");
    wait_for_kernel("server-v3, the shell's child, stopped", |table| {
        table.listener(port).is_none().then_some(())
    });
}

/// Ctrl-C to examine itself, while it waits for its command: the command is
/// stopped, and examine ends as a program stopped by SIGINT does.
#[test]
#[cfg(unix)]
fn ctrl_c_to_examine_stops_its_command() {
    let (port, elsewhere) = (unused_port(), unused_port());
    let mut examine = Running::start(
        "examine",
        &[
            "--port",
            &port.to_string(),
            "--wait",
            "60",
            "--",
            &program("server-v3"),
            "--port",
            &elsewhere.to_string(),
        ],
    );
    wait_for_kernel("the command listening", |table| {
        table.listener(elsewhere).map(|_| ())
    });
    examine.interrupt();
    let (status, stderr) = examine.wait_exit();
    assert_eq!(status.code(), Some(130), "{stderr}");
    wait_for_kernel("the command stopped", |table| {
        table.listener(elsewhere).is_none().then_some(())
    });
}

// ---------------------------------------------------------------------------
// Its output
// ---------------------------------------------------------------------------

#[test]
fn a_closed_standard_output_ends_examine_quietly_with_the_verdicts_status() {
    let server = Server::start("server-v3", &["--quiet"]);
    let mut command = Command::new(binary("examine"));
    command.args(["--port", &server.port.to_string(), "--expect", "v2"]);
    let ended = common::with_output_closed(command);
    // Not a v2: the status says so, though nothing could be written.
    assert_eq!(ended.status.code(), Some(1), "{}", ended.stderr);
    assert!(ended.stderr.is_empty(), "{}", ended.stderr);
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "writes to /dev/full, which only Linux has"
)]
fn a_full_disk_is_one_line_and_status_2() {
    let server = Server::start("server-v3", &["--quiet"]);
    let mut command = Command::new(binary("examine"));
    command.args(["--port", &server.port.to_string()]);
    let ended = common::with_output_on_a_full_disk(command);
    assert_eq!(ended.status.code(), Some(2), "{}", ended.stderr);
    assert_eq!(
        ended.stderr.trim_end(),
        "examine: error: cannot write to standard output: No space left on device (os error 28)"
    );
}
