//! The workspace's own servers and examples, each graded as the version it
//! is, with the kernel's evidence.

use serde_json::Value;

use super::{assert_checks_are_well_formed, check, examine, examine_json, names, program};
use crate::common::{example, unused_port, REPORTS_ACCEPTED, REPORTS_QUEUES};

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
