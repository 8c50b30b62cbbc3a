//! What is not a server of the frame, and what cannot be examined: each
//! a clear line and its own status.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use serde_json::Value;

use super::{check, examine, examine_json, names, program};
use crate::common::{unused_port, wait_for_kernel, REPORTS_ACCEPTED, REPORTS_QUEUES};

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
