//! Stopping the command examine started, whatever happens: its children
//! too, and on Ctrl-C.

use super::{examine_json, program};
use crate::common::{unused_port, wait_for_kernel, Running};

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
