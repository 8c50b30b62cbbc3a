//! docs/side-by-side.sh: server-v2, two client-v2s and peek --watch in one
//! tmux window, driven here as a learner would, with keys typed into panes.

mod common;

use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use common::{if_accepted_reported, if_queues_reported, unused_port, wait_for_kernel, PATIENCE};

/// Ends the tmux session however the test ends.
struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

fn tmux(args: &[&str]) -> Output {
    let output = Command::new("tmux").args(args).output().expect("running tmux");
    assert!(
        output.status.success(),
        "tmux {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Waits until the pane's screen shows `needle`; returns the screen.
fn wait_for_screen(pane: &str, needle: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let screen =
            String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-J", "-t", pane]).stdout).to_string();
        if screen.contains(needle) {
            return screen;
        }
        assert!(
            Instant::now() < deadline,
            "pane {pane} never showed {needle:?}; it shows:\n{screen}"
        );
        // Polling the screen: tmux redraws on its own time, not ours.
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script for tmux, which Windows does not have; \
              the README shows the same lesson in four terminals"
)]
#[cfg_attr(
    tmux_missing,
    ignore = "no tmux on this machine: install it (apt-get install tmux) to run this test"
)]
fn side_by_side_shows_the_second_client_waiting() {
    let [port, first, second] = [unused_port(), unused_port(), unused_port()];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/side-by-side.sh");
    let client_ports = format!("{first},{second}");
    let output = Command::new(script)
        .args([
            "--detached",
            "--port",
            &port.to_string(),
            "--client-ports",
            &client_ports,
        ])
        .output()
        .expect("running docs/side-by-side.sh");
    let session = Session(format!("lesson-v2-{port}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let instructions = String::from_utf8_lossy(&output.stdout);
    assert!(instructions.contains("it is never answered"), "{instructions}");

    // Panes: 0 the server, 1 the first client, 2 peek, 3 the second client.
    let pane = |index: u32| format!("{}:lesson.{index}", session.0);
    wait_for_kernel("both clients connected, the first accepted", |table| {
        let first_row = table.server_side(port, first)?;
        let second_row = table.server_side(port, second)?;
        (first_row.held == if_accepted_reported(true) && second_row.held == if_accepted_reported(false))
            .then_some(())
    });

    tmux(&["send-keys", "-t", &pane(1), "Hello", "Enter"]);
    wait_for_screen(&pane(1), "received: Hello World!");
    tmux(&["send-keys", "-t", &pane(3), "anyone?", "Enter"]);
    wait_for_screen(&pane(3), "sent: anyone?");
    wait_for_kernel(
        "the second client's 9 bytes unread, one connection queued",
        |table| {
            let queued = table.listener(port)?.queue?.waiting == if_queues_reported(1);
            (queued && table.server_side(port, second)?.unread == if_queues_reported(9)).then_some(())
        },
    );
    let peek = wait_for_screen(&pane(2), "9 bytes unread in the server's receive buffer");
    assert!(peek.contains("1 finished handshake waits for accept()"), "{peek}");
    let second_screen = wait_for_screen(&pane(3), "sent: anyone?");
    assert!(
        !second_screen.contains("received:"),
        "the second client is never answered:\n{second_screen}"
    );

    // The first client leaves: server-v2 ends, and the second is reset.
    tmux(&["send-keys", "-t", &pane(1), "exit", "Enter"]);
    wait_for_screen(&pane(0), "(server ended: press Enter to close)");
    wait_for_screen(&pane(3), "client-v2: error: cannot read the server's reply");
}
