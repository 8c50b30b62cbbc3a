//! docs/side-by-side.sh: server-v2, two client-v2s and peek --watch in one
//! tmux window, driven here as a learner would, with keys typed into panes.
//!
//! Every test runs its own tmux server (`tmux -L <name>`, started without
//! any configuration and killed however the test ends), so that nothing here
//! touches a tmux the user is running, even when `cargo test` runs in one.

use crate::common;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use common::terminal::Terminal;
use common::{if_accepted_reported, if_queues_reported, unused_port, wait_for_kernel, PATIENCE};
use std::path::Path;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/side-by-side.sh");

/// How long the script may take to return: it builds the programs first,
/// and waits for another test's build to finish if one is under way.
const BUILD_PATIENCE: Duration = Duration::from_secs(600);

/// A tmux server of the test's own, with one session, `keep`, which keeps
/// the server up while the script's windows come and go. Its windows are
/// 80x25, an 80x26 terminal less tmux's status line: as small as the script
/// accepts on macOS (on Linux, 80x23 would do). Windows the script opens
/// from outside tmux (`--detached`, no terminal) are the smallest it accepts.
/// Killed on drop, and its socket file, which tmux leaves behind, removed.
struct Tmux {
    socket: String,
    path: Option<std::path::PathBuf>,
}

impl Tmux {
    fn start(port: u16) -> Tmux {
        let mut tmux = Tmux {
            socket: format!("side-by-side-test-{}-{port}", std::process::id()),
            path: None,
        };
        let args = "-f /dev/null new-session -d -s keep -n keep -x 80 -y 25 -P -F #{socket_path}";
        let started = tmux.run(&args.split(' ').collect::<Vec<_>>());
        tmux.path = Some(text(&started.stdout).trim_end().into());
        // Panes' commands in a known shell, whatever the user's $SHELL is.
        tmux.run(&["set-option", "-g", "default-shell", "/bin/sh"]);
        tmux
    }

    /// `tmux -L <this server> args`, outside any tmux.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("tmux");
        command
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .args(["-L", &self.socket])
            .args(args);
        command
    }

    /// Runs tmux with `args`; panics if it fails.
    fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().expect("running tmux");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Whether tmux with `args` succeeds.
    fn succeeds(&self, args: &[&str]) -> bool {
        self.command(args)
            .output()
            .expect("running tmux")
            .status
            .success()
    }

    fn lines(&self, args: &[&str]) -> Vec<String> {
        String::from_utf8_lossy(&self.run(args).stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// The script, run from outside tmux, on this server.
    fn script(&self, args: &[&str]) -> Output {
        Command::new(SCRIPT)
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .args(["--tmux-socket", &self.socket])
            .args(args)
            .output()
            .expect("running docs/side-by-side.sh")
    }

    /// The names of the windows of every session.
    fn windows(&self) -> Vec<String> {
        self.lines(&["list-windows", "-a", "-F", "#{window_name}"])
    }

    /// The pane of `window` whose title starts with `title`.
    fn pane(&self, window: &str, title: &str) -> String {
        let panes = self.lines(&["list-panes", "-t", window, "-F", "#{pane_id} #{pane_title}"]);
        panes
            .iter()
            .find_map(|pane| {
                let (id, pane_title) = pane.split_once(' ')?;
                pane_title.starts_with(title).then(|| id.to_string())
            })
            .unwrap_or_else(|| panic!("no pane titled {title:?} in {window}: {panes:#?}"))
    }

    fn title(&self, pane: &str) -> String {
        self.lines(&["display-message", "-p", "-t", pane, "#{pane_title}"])
            .concat()
    }

    /// The pane's screen and what scrolled off it, wrapped lines joined.
    fn screen(&self, pane: &str) -> String {
        text(
            &self
                .run(&["capture-pane", "-p", "-J", "-S", "-", "-t", pane])
                .stdout,
        )
    }

    /// Waits until the pane shows `needle`, for at most `patience`; returns
    /// the screen.
    fn wait_for_screen_within(&self, pane: &str, needle: &str, patience: Duration) -> String {
        let deadline = Instant::now() + patience;
        loop {
            let screen = self.screen(pane);
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

    fn wait_for_screen(&self, pane: &str, needle: &str) -> String {
        self.wait_for_screen_within(pane, needle, PATIENCE)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command(&["kill-server"]).output();
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// Whether this machine has a tool the script asks what holds a port.
fn can_name_port_holders() -> bool {
    Command::new("sh")
        .args(["-c", "command -v lsof || command -v ss"])
        .output()
        .is_ok_and(|output| output.status.success())
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
    let tmux = Tmux::start(port);
    let client_ports = format!("{first},{second}");
    let output = tmux.script(&[
        "--detached",
        "--port",
        &port.to_string(),
        "--client-ports",
        &client_ports,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let window = format!("lesson-v2-{port}");
    assert!(
        text(&output.stdout).contains(&format!("opened tmux session {window}")),
        "{}",
        text(&output.stdout)
    );

    // Each pane's title says what it is, and what to do there.
    let server = tmux.pane(&window, "server-v2 on ");
    let first_client = tmux.pane(&window, &format!("client :{first}:"));
    let second_client = tmux.pane(&window, &format!("client :{second}:"));
    let peek = tmux.pane(&window, "peek:");
    let title = tmux.title(&second_client);
    assert!(title.contains("no reply"), "{title}");

    wait_for_kernel("both clients connected, the first accepted", |table| {
        let first_row = table.server_side(port, first)?;
        let second_row = table.server_side(port, second)?;
        (first_row.held == if_accepted_reported(true) && second_row.held == if_accepted_reported(false))
            .then_some(())
    });

    tmux.run(&["send-keys", "-t", &first_client, "Hello", "Enter"]);
    tmux.wait_for_screen(&first_client, "received: Hello World!");
    tmux.run(&["send-keys", "-t", &second_client, "anyone?", "Enter"]);
    tmux.wait_for_screen(&second_client, "sent: anyone?");
    wait_for_kernel(
        "the second client's 9 bytes unread, one connection queued",
        |table| {
            let queued = table.listener(port)?.queue?.waiting == if_queues_reported(1);
            (queued && table.server_side(port, second)?.unread == if_queues_reported(9)).then_some(())
        },
    );
    let peek_screen = tmux.wait_for_screen(&peek, "9 bytes unread in the server's receive buffer");
    assert!(
        peek_screen.contains("1 finished handshake waits for accept()"),
        "{peek_screen}"
    );
    let second_screen = tmux.screen(&second_client);
    assert!(
        !second_screen.contains("received:"),
        "the second client is never answered:\n{second_screen}"
    );

    // The first client leaves: server-v2 ends, and the second is reset.
    tmux.run(&["send-keys", "-t", &first_client, "exit", "Enter"]);
    tmux.wait_for_screen(&server, "(server ended: press Enter to close)");
    tmux.wait_for_screen(&second_client, "client-v2: error: cannot read the server's reply");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script for tmux, which Windows does not have"
)]
#[cfg_attr(
    tmux_missing,
    ignore = "no tmux on this machine: install it (apt-get install tmux) to run this test"
)]
fn side_by_side_with_its_port_taken_says_by_what_and_leaves_nothing() {
    let port = unused_port();
    let _taken = TcpListener::bind(("127.0.0.1", port)).expect("taking the port");
    let tmux = Tmux::start(port);
    let output = tmux.script(&["--detached", "--port", &port.to_string()]);

    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line:\n{stderr}");
    let line = lines[0];
    assert!(
        line.starts_with(&format!("side-by-side.sh: port {port} is taken by "))
            && line.ends_with(": stop it or pass --port N"),
        "{line}"
    );
    if can_name_port_holders() {
        // This test holds the port.
        let pid = std::process::id();
        assert!(line.contains(&format!("(pid {pid})")), "{line}");
    }

    // Nothing half-started stays: no session, no window.
    let name = format!("lesson-v2-{port}");
    assert!(!tmux.succeeds(&["has-session", "-t", &format!("={name}")]));
    assert_eq!(tmux.windows(), ["keep"]);
}

#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script, for tmux, which Windows does not have"
)]
fn side_by_side_says_how_to_use_it() {
    let script = |args: &[&str]| {
        Command::new(SCRIPT)
            .env_remove("TMUX")
            .args(args)
            .output()
            .expect("running docs/side-by-side.sh")
    };

    let help = script(&["--help"]);
    assert!(help.status.success());
    let usage = text(&help.stdout);
    assert!(
        usage.starts_with("usage: side-by-side.sh [--v2 | --v3] [--port N]"),
        "{usage}"
    );
    for option in [
        "--client-ports A,B",
        "--detached",
        "--replace",
        "--tmux-socket NAME",
    ] {
        assert!(usage.contains(option), "{option} in:\n{usage}");
    }
    assert!(
        !usage.contains("set -euo"),
        "usage, not the script's lines:\n{usage}"
    );

    for args in [
        &["--port"][..],
        &["--port", "twelve"],
        &["--port", "70000"],
        &["--frobnicate"],
    ] {
        let output = script(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("side-by-side.sh: ") && stderr.contains("\nusage: side-by-side.sh "),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script for tmux, which Windows does not have"
)]
#[cfg_attr(
    tmux_missing,
    ignore = "no tmux on this machine: install it (apt-get install tmux) to run this test"
)]
fn side_by_side_from_inside_tmux_opens_a_window_that_others_do_not_replace() {
    let [port, first, second] = [unused_port(), unused_port(), unused_port()];
    let tmux = Tmux::start(port);

    // Run from a shell in tmux, as a learner would: TMUX says which server,
    // and no --tmux-socket is given.
    let quoted = format!("'{}'", SCRIPT.replace('\'', r"'\''"));
    let shell = tmux.lines(&[
        "new-window",
        "-t",
        "keep:",
        "-n",
        "shell",
        "-P",
        "-F",
        "#{pane_id}",
        &format!(
            "{quoted} --port {port} --client-ports {first},{second}; \
             echo \"side-by-side.sh exited: $?\"; sleep 3600"
        ),
    ]);
    let shell = shell.concat();
    let said = tmux.wait_for_screen_within(&shell, "side-by-side.sh exited: ", BUILD_PATIENCE);
    assert!(said.contains("side-by-side.sh exited: 0"), "{said}");

    // A window in the current session, switched to; no session of its own.
    let name = format!("lesson-v2-{port}");
    let windows = tmux.lines(&[
        "list-windows",
        "-t",
        "keep",
        "-F",
        "#{window_name} #{window_active}",
    ]);
    assert_eq!(windows, ["keep 0", "shell 0", &format!("{name} 1")]);
    assert!(!tmux.succeeds(&["has-session", "-t", &format!("={name}")]));

    let window = format!("keep:{name}");
    let server = tmux.pane(&window, "server-v2 on ");
    tmux.wait_for_screen(&server, &format!("] listening on 127.0.0.1:{port}"));
    tmux.wait_for_screen(&server, &format!("] connected: client 127.0.0.1:{first} "));
    let second_client = tmux.pane(&window, &format!("client :{second}:"));
    tmux.wait_for_screen(&second_client, &format!("connected: client 127.0.0.1:{second} "));

    // The same again is refused: the window is open.
    let again = tmux.script(&["--detached", "--port", &port.to_string()]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = text(&again.stderr);
    assert!(
        stderr.contains(&format!("tmux window {name} is already open")),
        "{stderr}"
    );

    // server-v3 on the same port is refused, and says that server-v2 in
    // that window holds the port; the v2 window is left as it is.
    let v3 = tmux.script(&["--v3", "--detached", "--port", &port.to_string()]);
    assert_eq!(v3.status.code(), Some(1));
    let stderr = text(&v3.stderr);
    assert!(
        stderr.starts_with(&format!("side-by-side.sh: port {port} is taken by ")),
        "{stderr}"
    );
    if can_name_port_holders() {
        assert!(stderr.contains("server-v2 (pid "), "{stderr}");
        assert!(stderr.contains(&format!("tmux window {name})")), "{stderr}");
    }
    assert_eq!(tmux.windows(), ["keep", "shell", name.as_str()]);
    wait_for_kernel("server-v2 still listening", |table| {
        table.listener(port).map(|_| ())
    });
}

/// The terminal the script asks for, as `--help` says it: 80x24 on Linux,
/// 80x26 on macOS.
const TERMINAL_LINES: u16 = if cfg!(target_os = "macos") { 26 } else { 24 };

/// The script as a learner starts it: from a terminal of the size it asks
/// for, outside tmux, so it opens a session and attaches to it right there.
/// What is typed goes to the first client's pane, which is answered.
#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script for tmux, which Windows does not have"
)]
#[cfg_attr(
    tmux_missing,
    ignore = "no tmux on this machine: install it (apt-get install tmux) to run this test"
)]
fn side_by_side_on_a_terminal_of_the_size_it_asks_for() {
    let [port, first, second] = [unused_port(), unused_port(), unused_port()];
    let tmux = Tmux::start(port);
    let args = [
        "--tmux-socket",
        &tmux.socket,
        "--port",
        &port.to_string(),
        "--client-ports",
        &format!("{first},{second}"),
    ];
    let mut terminal = Terminal::start(Path::new(SCRIPT), &args, 80, TERMINAL_LINES);
    // Once the window is open, the first client's pane has the keyboard.
    let window = format!("lesson-v2-{port}");
    let start = Instant::now();
    while !tmux.windows().contains(&window) {
        assert!(start.elapsed() < BUILD_PATIENCE, "no window {window}");
        thread::sleep(Duration::from_millis(100));
    }
    // The script titles the panes as it makes them.
    let title = format!("client :{first}:");
    while !tmux
        .lines(&["list-panes", "-t", &window, "-F", "#{pane_title}"])
        .iter()
        .any(|pane| pane.starts_with(&title))
    {
        assert!(start.elapsed() < BUILD_PATIENCE, "no pane {title}");
        thread::sleep(Duration::from_millis(100));
    }
    let first_client = tmux.pane(&window, &title);
    tmux.wait_for_screen(&first_client, "message (exit to quit)>");
    terminal.type_line("Hello");
    tmux.wait_for_screen(&first_client, "received: Hello World!");
    // On the terminal: the server's `sent:` and the client's `received:`,
    // which the client's half-width pane wraps before "World!".
    terminal.wait_for_nth("World!", 2);
    // Each pane's title on the terminal, in full.
    let screen = terminal.wait_for("peek: the kernel's view of");
    assert!(
        screen
            .iter()
            .any(|line| line.contains(&format!("client :{second}:"))),
        "{}",
        screen.join("\n")
    );
}

/// A terminal narrower than the script asks for is refused in one line,
/// in the terminal's own measure.
#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script for tmux, which Windows does not have"
)]
#[cfg_attr(
    tmux_missing,
    ignore = "no tmux on this machine: install it (apt-get install tmux) to run this test"
)]
fn side_by_side_on_a_narrow_terminal_says_what_it_needs() {
    let port = unused_port();
    let tmux = Tmux::start(port);
    let args = ["--tmux-socket", &tmux.socket, "--port", &port.to_string()];
    let mut terminal = Terminal::start(Path::new(SCRIPT), &args, 60, TERMINAL_LINES);
    let status = terminal.wait_exit();
    assert!(!status.success());
    // One line, which the terminal wraps at its width.
    let screen = terminal.transcript().concat();
    assert!(
        screen.contains(&format!(
            "this terminal is 60x{TERMINAL_LINES} (columns x lines); the lesson needs at least \
             80x{TERMINAL_LINES}"
        )),
        "{screen}"
    );
    assert_eq!(tmux.windows(), ["keep"]);
}

/// Inside tmux, a window one line short is refused with the size of the
/// terminal the help asks for, counting tmux's status line, not with a
/// number of its own.
#[test]
#[cfg_attr(
    windows,
    ignore = "docs/side-by-side.sh is a bash script for tmux, which Windows does not have"
)]
#[cfg_attr(
    tmux_missing,
    ignore = "no tmux on this machine: install it (apt-get install tmux) to run this test"
)]
fn side_by_side_in_a_short_tmux_window_says_the_terminal_size_it_needs() {
    let port = unused_port();
    let tmux = Tmux::start(port);
    let short = (TERMINAL_LINES - 2).to_string();
    tmux.run(&["new-session", "-d", "-s", "short", "-x", "80", "-y", &short]);
    let quoted = format!("'{}'", SCRIPT.replace('\'', r"'\''"));
    let shell = tmux
        .lines(&[
            "new-window",
            "-t",
            "short:",
            "-P",
            "-F",
            "#{pane_id}",
            &format!("{quoted} --port {port}; echo \"side-by-side.sh exited: $?\"; sleep 3600"),
        ])
        .concat();
    let said = tmux.wait_for_screen(&shell, "side-by-side.sh exited: ");
    assert!(said.contains("side-by-side.sh exited: 1"), "{said}");
    let lines = TERMINAL_LINES - 1;
    assert!(
        said.contains(&format!(
            "is 80x{lines} (columns x lines); the lesson needs at least 80x{TERMINAL_LINES}"
        )),
        "{said}"
    );
}
