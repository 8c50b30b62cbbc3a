//! Every program's command line: what `--help` promises, and a clear
//! one-line message and a non-zero status for each kind of bad input.

use crate::common;

use std::io::Write;
use std::net::TcpListener;
use std::thread;

use common::{Running, Server};

/// Runs `program` to its end; returns its status code and standard error.
fn run(program: &str, args: &[&str]) -> (Option<i32>, String) {
    let (status, _, stderr) = common::run(program, args);
    (status.code(), stderr)
}

#[test]
fn help_says_what_each_program_demonstrates() {
    let promises = [
        ("server-v1", "answers its one message, and exits"),
        ("server-v2", "a second client connects but is never answered"),
        ("server-v3", "its own session thread"),
        ("client-v1", "Sends one message"),
        ("client-v2", "until `exit`"),
        ("peek", "accept queue (the lesson's backlog queue)"),
        ("crowd", "who was served and who starved"),
    ];
    for (program, promise) in promises {
        let mut process = Running::start(program, &["--help"]);
        let (status, _) = process.wait_exit();
        assert!(status.success(), "{program} --help");
        let help = process.stdout.join("\n");
        assert!(
            help.contains(promise),
            "{program} --help should say {promise:?}:\n{help}"
        );
    }
}

#[test]
fn an_unknown_flag_is_refused() {
    for program in [
        "server-v1",
        "server-v2",
        "server-v3",
        "client-v1",
        "client-v2",
        "peek",
        "crowd",
    ] {
        let (code, stderr) = run(program, &["--frobnicate"]);
        assert_eq!(code, Some(2), "{program}");
        assert!(
            stderr.starts_with("error: unexpected argument '--frobnicate' found"),
            "{program}: {stderr}"
        );
    }
}

#[test]
fn a_port_in_use_names_the_way_out() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for program in ["server-v1", "server-v2", "server-v3"] {
        let (code, stderr) = run(program, &["--port", &port]);
        assert_eq!(code, Some(1), "{program}");
        assert_eq!(stderr.lines().count(), 1, "{program}: {stderr}");
        assert!(
            stderr.starts_with(&format!("{program}: error: cannot listen on 127.0.0.1:{port}")),
            "{stderr}"
        );
        assert!(stderr.contains("pass --port 0 for a free port"), "{stderr}");
    }
}

#[test]
fn no_server_names_the_way_out() {
    // A port nobody listens on: bound then released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    for program in ["client-v1", "client-v2"] {
        let (code, stderr) = run(program, &["--port", &port]);
        assert_eq!(code, Some(1), "{program}");
        assert_eq!(stderr.lines().count(), 1, "{program}: {stderr}");
        assert!(stderr.contains("Connection refused"), "{stderr}");
        // The hint names the port that was tried, and how to start a
        // server on it.
        assert!(
            stderr.contains(&format!(
                "nothing listens on port {port}: start a server there first (e.g. `cargo run -p \
                 server-v3 -- --port {port}`)"
            )),
            "{stderr}"
        );
    }
}

#[test]
fn an_invalid_reply_is_reported_not_panicked_on() {
    // A fake server that answers with bytes readUTF refuses.
    let fake = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = fake.local_addr().unwrap().port().to_string();
    let server = thread::spawn(move || {
        let (mut socket, _) = fake.accept().unwrap();
        let mut request = [0u8; 7]; // 00 05 "Hello"
        std::io::Read::read_exact(&mut socket, &mut request).unwrap();
        socket.write_all(&[0x00, 0x02, 0xFF, 0xFF]).unwrap();
    });
    let (code, stderr) = run("client-v1", &["--port", &port]);
    server.join().unwrap();
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim_end(),
        "client-v1: error: cannot read the server's reply: invalid message: byte 0xFF at offset 0 cannot start a character"
    );
}

#[test]
fn a_bad_host_or_port_value_is_refused() {
    let (code, stderr) = run("server-v2", &["--port", "70000"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("invalid value '70000' for '--port <PORT>'"),
        "{stderr}"
    );

    let (code, stderr) = run("server-v2", &["--host", "192.0.2.1", "--port", "0"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("that is not an address of this machine"),
        "{stderr}"
    );
}

#[test]
fn a_prompt_shows_only_on_a_terminal() {
    // Piped, client-v2 prints no prompt (the terminal case is seen by hand,
    // or in tmux: docs/side-by-side.sh).
    let server = Server::start("server-v3", &[]);
    let mut client = Running::start("client-v2", &["--port", &server.port.to_string()]);
    client.type_in("one\n");
    client.expect_line("received: one World!");
    let (status, _) = client.wait_exit();
    assert!(status.success());
    assert!(client
        .stdout
        .iter()
        .all(|line| !line.contains("message (exit to quit)>")));
}

/// The README's by-hand commands (`cargo run -p server-v2`, `-p client
/// --bin client-v2`, `--bin peek`) come after the first `cargo run`, and
/// must build nothing again: cargo reuses a dependency only when it is
/// built with the same features, and building one package alone takes the
/// features that package's own dependencies ask for. Here every package's
/// dependencies, with their features, are among the first build's.
#[test]
#[cfg_attr(
    windows,
    ignore = "runs cargo, which the Windows tests of this project run without (under Wine); \
              the test compares the Windows build's features on every system"
)]
fn by_hand_builds_reuse_what_the_first_build_made() {
    let built_for = |package: &str, target: &str| -> std::collections::BTreeSet<String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = std::process::Command::new(cargo)
            .args([
                "tree",
                "--offline",
                "--locked",
                "--prefix",
                "none",
                "--target",
                target,
            ])
            .args([
                "--edges",
                "normal,build",
                "--format",
                "{p} {f}",
                "--package",
                package,
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo tree -p {package}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| line.trim_end_matches(" (*)").to_string())
            .collect()
    };
    // Each system the README names, whatever this one is: cargo resolves
    // another target's dependencies without building anything.
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        let first_build = built_for("socket-lesson", target);
        for package in ["server-v1", "server-v2", "server-v3", "client"] {
            let rebuilt: Vec<String> = built_for(package, target)
                .difference(&first_build)
                .cloned()
                .collect();
            assert!(
                rebuilt.is_empty(),
                "on {target}, `cargo build -p {package}` after `cargo run` would build these again, \
                 with other features: {rebuilt:?}; declare their features once in the workspace's \
                 Cargo.toml, as libc's and windows-sys's are"
            );
        }
    }
}

/// A flag of the other client, or a negative number of seconds, is told
/// for what it is, not as clap's "unexpected argument".
#[test]
fn a_flag_misplaced_is_explained() {
    let (code, stderr) = run("client-v2", &["--message", "Hello"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--message is client-v1's flag"), "{stderr}");
    assert!(stderr.contains("Usage: client-v2"), "{stderr}");
    let (code, stderr) = run("server-v3", &["--idle-timeout", "-1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("\"-1\" is not a positive number of seconds"),
        "{stderr}"
    );
}

/// A server that cannot listen says that, and nothing before it.
#[test]
fn a_server_that_cannot_listen_says_only_that() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for program in ["server-v1", "server-v2", "server-v3"] {
        let (status, stdout, stderr) = common::run(program, &["--port", &port]);
        assert_eq!(status.code(), Some(1), "{program}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{program}: {stderr}");
        assert_eq!(stdout, "", "{program} printed before it could listen");
    }
}
