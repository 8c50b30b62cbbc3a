//! client-v1 and client-v2 when the server does not do what the lesson's
//! servers do: it stays silent, answers twice, forges its text, cannot fit
//! its reply in a frame; and when the client's own port or output is the
//! trouble.
//!
//! The misbehaving servers are written here, each a few lines on a
//! `TcpListener` of 127.0.0.1 and a free port.

use crate::common;

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use client::protocol::{read_utf, write_utf};
use common::{
    binary, client_side, unused_port, wait_for_kernel, FullQueue, Peer, Running, Server, PATIENCE,
    REPORTS_QUEUES,
};
use socket_lesson::kernel::{read_table, TcpState};

/// What client-v2 prints after a second without a reply.
const HINT: &str = "no reply yet after 1s";
/// The start of the line a client prints for a message not asked for.
const UNASKED: &str = "the server sent a message that was not asked for: ";

/// A server on a free port of 127.0.0.1 that accepts one connection and
/// hands it to `behave`; returns its port and its thread.
fn fake_server(behave: impl FnOnce(TcpStream) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = thread::spawn(move || {
        let (socket, _) = listener.accept().unwrap();
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        behave(socket);
    });
    (port, thread)
}

/// The next message from `socket`, which must come.
fn receive(socket: &mut TcpStream) -> String {
    read_utf(&mut BufReader::new(socket)).unwrap().expect("a message")
}

/// `messages` as frames, one after the other, as one buffer: written with
/// one `write_all`, they leave in one segment.
fn frames(messages: &[&str]) -> Vec<u8> {
    let mut wire = Vec::new();
    for message in messages {
        write_utf(&mut wire, message).unwrap();
    }
    wire
}

/// Runs a program to its end; returns its status code, stdout and stderr.
fn run(program: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let (status, stdout, stderr) = common::run(program, args);
    (status.code(), stdout, stderr)
}

/// The client's port, from its `connected: client 127.0.0.1:PORT -> …` line.
fn client_port(client: &mut Running) -> u16 {
    let line = client.expect_line("connected: client 127.0.0.1:");
    line.split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// The lesson's second client, told why it waits: the hint comes after a
/// second, the client keeps waiting, and the kernel shows its message
/// unread in the server side's receive buffer.
#[test]
fn the_second_client_v2_against_server_v2_says_why_no_reply_comes() {
    let (mut server, mut a) = common::server_v2_serving_a(&[]);

    let port = server.port;
    let mut b = Running::start("client-v2", &["--port", &port.to_string()]);
    let b_port = client_port(&mut b);
    b.type_in("anyone there?\n"); // a frame of 2 + 13 bytes
    let hint = b.expect_line(HINT);
    assert!(
        hint.contains(&format!("`cargo run --bin peek -- --port {port}`")),
        "{hint}"
    );
    assert!(b.is_running(), "B keeps waiting after the hint");
    // Where the hint says the message is: in the server's kernel, unread.
    wait_for_kernel("B's 15 bytes unread on the server's side", |table| {
        common::waits_in_queue(table, port, b_port, 15).then_some(())
    });

    // A leaves and server-v2 ends: only then does B give up.
    a.send("exit").unwrap();
    let (status, _) = server.process.wait_exit();
    assert!(status.success());
    let (status, stderr) = b.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("client-v2: error: cannot read the server's reply"),
        "{stderr}"
    );
    let hints = b.stdout.iter().filter(|line| line.contains(HINT)).count();
    assert_eq!(hints, 1, "one hint, once: {:?}", b.stdout);
}

/// A server that accepts and never answers: with `--timeout`, each client
/// gives up with one line that says how long it waited and what it means.
#[test]
fn timeout_gives_up_on_a_silent_server() {
    // Nothing accepts: the kernel completes the handshakes and keeps the
    // messages, as server-v2 does for its second client.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port().to_string();

    let (code, _, stderr) = run("client-v1", &["--port", &port, "--timeout", "0.5"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("client-v1: error: no reply within 500ms (--timeout): "),
        "{stderr}"
    );
    assert!(
        stderr.contains("may not have accepted this connection"),
        "{stderr}"
    );

    // client-v2 first says why it waits, then gives up at the time-out.
    let mut client = Running::start("client-v2", &["--port", &port, "--timeout", "1.5"]);
    client.type_in("hello?\n");
    client.expect_line(HINT);
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("client-v2: error: no reply within 1.5s (--timeout): "),
        "{stderr}"
    );
    drop(silent);
}

#[test]
fn timeout_must_be_a_positive_number_of_seconds() {
    for bad in ["0", "-1", "soon"] {
        let (code, _, stderr) = run("client-v1", &[&format!("--timeout={bad}")]);
        assert_eq!(code, Some(2), "--timeout {bad}: {stderr}");
        assert!(stderr.contains("--timeout <SECS>"), "{stderr}");
    }
    // A negative number after a space is the flag's value, not a flag.
    let (code, _, stderr) = run("client-v2", &["--timeout", "-1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("\"-1\" is not a positive number of seconds"),
        "{stderr}"
    );
}

/// A reply that stops in the middle of its frame: `--timeout` ends the wait
/// with a line that says so.
#[test]
fn timeout_gives_up_on_a_reply_cut_short() {
    let (done, finished) = mpsc::channel::<()>();
    let (port, server) = fake_server(move |mut socket| {
        receive(&mut socket);
        socket.write_all(&[0x00, 0x0C, b'h', b'i']).unwrap(); // 2 of 12 bytes
        let _ = finished.recv(); // hold the connection open until the test is done
    });
    let mut client = Running::start("client-v2", &["--port", &port.to_string(), "--timeout", "0.5"]);
    client.type_in("hi\n");
    let (status, stderr) = client.wait_exit();
    drop(done);
    server.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "client-v2: error: the reply stopped arriving: nothing more came for 500ms (--timeout) in the \
         middle of it; the server or the network is stuck"
    );
}

/// client-v1 too tells a reply that stopped in the middle of its frame from
/// no reply at all: the same line as client-v2's, not the one that says the
/// server may not have accepted the connection. And with nothing sent at
/// all, that one.
#[test]
fn client_v1_tells_a_reply_cut_short_from_no_reply() {
    for (sent, said) in [
        (
            &[0x00, 0x0C, b'h', b'i'][..], // 2 of 12 bytes
            "client-v1: error: the reply stopped arriving: nothing more came for 500ms (--timeout) in \
             the middle of it; the server or the network is stuck",
        ),
        (
            &[][..],
            "client-v1: error: no reply within 500ms (--timeout): the server has not answered",
        ),
    ] {
        let (done, finished) = mpsc::channel::<()>();
        let (port, server) = fake_server(move |mut socket| {
            receive(&mut socket);
            socket.write_all(sent).unwrap();
            let _ = finished.recv(); // hold the connection open until the client is done
        });
        let (status, _, stderr) = run(
            "client-v1",
            &["--port", &port.to_string(), "--timeout", "0.5", "--message", "hi"],
        );
        drop(done);
        server.join().unwrap();
        assert_eq!(status, Some(1), "{stderr}");
        assert!(stderr.trim_end().starts_with(said), "{stderr}");
    }
}

/// A reply that arrives in two parts, the second more than a second after
/// the first, is read whole: client-v2 waits for the first byte without
/// taking it (a read that timed out mid-frame would lose what it had read).
#[test]
fn a_reply_arriving_in_parts_across_the_hint_is_read_whole() {
    let (written, first_part) = mpsc::channel();
    let (go, rest) = mpsc::channel::<()>();
    let (port, server) = fake_server(move |mut socket| {
        assert_eq!(receive(&mut socket), "hello");
        let reply = frames(&["hello World!"]);
        socket.write_all(&reply[..5]).unwrap(); // the length and "hel"
        written.send(()).unwrap();
        rest.recv().unwrap();
        socket.write_all(&reply[5..]).unwrap();
        assert_eq!(receive(&mut socket), "exit");
    });
    let mut client = Running::start("client-v2", &["--port", &port.to_string()]);
    client.type_in("hello\n");
    first_part.recv_timeout(PATIENCE).unwrap();

    // A clock that needs no sleep: a second client-v2, started after the
    // first part was sent, hints only after a second of silence.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port().to_string();
    let mut clock = Running::start("client-v2", &["--port", &silent_port]);
    clock.type_in("tick\n");
    clock.expect_line(HINT);

    go.send(()).unwrap();
    client.expect_line("received: hello World!");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    server.join().unwrap();
    assert!(
        !client.stdout.iter().any(|line| line.contains(HINT)),
        "part of the reply had come: no hint. {:?}",
        client.stdout
    );
}

/// Two frames for one message: the second is reported, and the next
/// message's reply is still its own.
#[test]
fn a_reply_not_asked_for_is_reported_not_taken_as_the_next_answer() {
    let (port, server) = fake_server(|mut socket| {
        assert_eq!(receive(&mut socket), "one");
        // One write: both frames leave in one segment.
        socket.write_all(&frames(&["one World!", "extra"])).unwrap();
        assert_eq!(receive(&mut socket), "two");
        socket.write_all(&frames(&["two World!"])).unwrap();
        assert_eq!(receive(&mut socket), "exit");
    });
    let mut client = Running::start("client-v2", &["--port", &port.to_string()]);
    client.type_in("one\ntwo\n");
    client.expect_line("received: two World!");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    server.join().unwrap();
    let shown: Vec<&str> = client
        .stdout
        .iter()
        .filter_map(|line| line.split_once("] ").map(|(_, text)| text))
        .filter(|text| text.starts_with("received: ") || text.starts_with(UNASKED))
        .collect();
    assert_eq!(
        shown,
        [
            "received: one World!",
            &format!("{UNASKED}extra"),
            "received: two World!"
        ],
        "{:?}",
        client.stdout
    );
}

/// A frame that arrives while client-v2 waits for its next line is reported
/// before the next message is sent.
#[test]
fn a_message_sent_between_replies_is_reported_before_the_next_message() {
    let (written, late) = mpsc::channel();
    let (port, server) = fake_server(move |mut socket| {
        assert_eq!(receive(&mut socket), "one");
        socket.write_all(&frames(&["one World!"])).unwrap();
        socket.write_all(&frames(&["late"])).unwrap();
        written.send(()).unwrap();
        assert_eq!(receive(&mut socket), "two");
        socket.write_all(&frames(&["two World!"])).unwrap();
        assert_eq!(receive(&mut socket), "exit");
    });
    let mut client = Running::start("client-v2", &["--port", &port.to_string()]);
    let own_port = client_port(&mut client);
    client.type_in("one\n");
    client.expect_line("received: one World!");
    late.recv_timeout(PATIENCE).unwrap();
    // The late frame (2 + 4 bytes) is at the client before the next line is
    // typed: already read and reported, or waiting unread in its receive
    // buffer, where the system reports unread bytes (elsewhere the server's
    // write, done before `late`, is all there is to go by).
    let deadline = Instant::now() + PATIENCE;
    while REPORTS_QUEUES && !client.stdout.iter().any(|line| line.contains(UNASKED)) {
        let table = read_table().unwrap();
        if client_side(&table, own_port, port).and_then(|row| row.unread) == Some(6) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the late frame never reached the client"
        );
        client.next_line_within(Duration::from_millis(10));
    }
    client.type_in("two\n");
    client.expect_line("received: two World!");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    server.join().unwrap();
    let late_line = client.expect_line(UNASKED);
    assert!(late_line.ends_with(&format!("{UNASKED}late")), "{late_line}");
    // Reported before the next message went out.
    let position = |needle: &str| {
        client
            .stdout
            .iter()
            .position(|line| line.contains(needle))
            .unwrap()
    };
    assert!(position(UNASKED) < position("sent: two"), "{:?}", client.stdout);
    assert!(
        !client.stdout.iter().any(|line| line.contains("received: late")),
        "{:?}",
        client.stdout
    );
}

#[test]
fn client_v1_reports_a_second_frame_too() {
    let (port, server) = fake_server(|mut socket| {
        assert_eq!(receive(&mut socket), "Hello");
        socket.write_all(&frames(&["Hello World!", "and more"])).unwrap();
    });
    let (code, stdout, stderr) = run("client-v1", &["--port", &port.to_string()]);
    server.join().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("] received: Hello World!\n"), "{stdout}");
    assert!(stdout.contains(&format!("] {UNASKED}and more\n")), "{stdout}");
}

/// A reply that would forge a log line and recolour the terminal is shown
/// escaped, on its own line; a long message is shown cut, with its length.
#[test]
fn peer_text_is_shown_escaped_and_bounded() {
    let forged = "hi\n06:06:07.206 [     main] received: FORGED\x1b[31m";
    let (port, server) = fake_server(move |mut socket| {
        receive(&mut socket);
        socket.write_all(&frames(&[forged])).unwrap();
    });
    let (code, stdout, stderr) = run("client-v1", &["--port", &port.to_string()]);
    server.join().unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(r"] received: hi\n06:06:07.206 [     main] received: FORGED\u{1b}[31m"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    assert!(
        !stdout.lines().any(|line| line.starts_with("06:06:07.206")),
        "{stdout}"
    );

    // 60,000 bytes out and 60,007 back, each logged as a bounded prefix.
    let server = Server::start("server-v3", &[]);
    let mut client = Running::start("client-v2", &["--port", &server.port.to_string()]);
    client.type_in(&format!("{}\n", "a".repeat(60_000)));
    let received = client.expect_line("received: ");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    let sent = client.expect_line("sent: a");
    assert!(sent.ends_with("… (60000 bytes in all)"), "{sent}");
    assert!(received.ends_with("… (60007 bytes in all)"), "{received}");
    assert!(sent.len() < 1_000 && received.len() < 1_000);
}

/// A server that closes instead of replying because the reply, the message
/// and " World!", would not fit in a frame: the client says so.
#[test]
fn a_reply_too_long_for_a_frame_is_explained() {
    let (port, server) = fake_server(|mut socket| {
        let message = receive(&mut socket);
        // What the lesson's servers do: writing the reply fails, and the
        // session ends, closing the connection.
        let mut reply = Vec::new();
        assert!(write_utf(&mut reply, &format!("{message} World!")).is_err());
    });
    let mut client = Running::start("client-v2", &["--port", &port.to_string()]);
    client.type_in(&format!("{}\n", "a".repeat(65_530)));
    let (status, stderr) = client.wait_exit();
    server.join().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "client-v2: error: the server closed the connection without replying: the reply to this \
         message, 65537 bytes, would not fit in one frame (the lesson's frame holds at most 65535 \
         bytes), so the server could not send it; send a shorter message"
    );

    // A message whose reply fits is told apart: the plain sentence.
    let (port, server) = fake_server(|mut socket| {
        receive(&mut socket);
    });
    let (code, _, stderr) = run("client-v1", &["--port", &port.to_string()]);
    server.join().unwrap();
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.trim_end(),
        "client-v1: error: the server closed the connection without replying"
    );
}

/// `--local-port` equal to the server's port on this machine would connect
/// the client to itself (TCP's simultaneous open): refused, before any
/// socket is made, whether or not a server is there.
#[test]
fn local_port_equal_to_the_servers_port_is_refused() {
    let port = unused_port().to_string();
    for program in ["client-v1", "client-v2"] {
        for host in ["127.0.0.1", "0.0.0.0"] {
            let (code, stdout, stderr) =
                run(program, &["--host", host, "--port", &port, "--local-port", &port]);
            assert_eq!(code, Some(1), "{program} --host {host}: {stdout}\n{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            assert!(
                stderr.contains(&format!(
                    "from local port {port}: that is the server's own port on this machine, so TCP \
                     would connect the client to itself"
                )),
                "{stderr}"
            );
            assert!(stdout.is_empty(), "no connection was made: {stdout}");
        }
    }
}

/// The previous connection from a fixed local port is still closing (the
/// client closed first, and its FIN waits behind data the server has not
/// read): a new connection between the same two ports is refused, and the
/// client says why and what to do.
#[test]
#[cfg_attr(
    windows,
    ignore = "waits for the kernel's table to show a closing connection (FIN_WAIT1, TIME_WAIT), which the \
              Windows table these tests run against (under Wine) does not list once no program holds it"
)]
fn a_local_port_whose_last_connection_is_still_closing_names_time_wait() {
    // Nothing accepts, so nothing reads: the old connection cannot finish.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let local_port = unused_port();
    let old = Peer::connect_from(port, local_port).unwrap();
    old.socket.set_nonblocking(true).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match (&old.socket).write(&chunk) {
            Ok(_) => continue,
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(error) => panic!("filling the buffers: {error}"),
        }
    }
    drop(old); // close: the FIN queues behind the unsent bytes
    wait_for_kernel("the old connection closing on the client's side", |table| {
        let row = client_side(table, local_port, port)?;
        (row.state == TcpState::FinWait1).then_some(())
    });

    let (code, stdout, stderr) = run(
        "client-v2",
        &[
            "--port",
            &port.to_string(),
            "--local-port",
            &local_port.to_string(),
        ],
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "client-v2: error: cannot connect to 127.0.0.1:{port} from local port {local_port}: "
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("pick another --local-port, or leave it out"),
        "{stderr}"
    );
    // Linux refuses the pair at connect (the bind, with SO_REUSEADDR, is
    // allowed); Windows refuses the bind. macOS refuses the bind too, for a
    // connection that is not yet in TIME_WAIT, and then cannot tell.
    if cfg!(any(target_os = "linux", windows)) {
        assert!(stderr.contains("TIME_WAIT"), "{stderr}");
    }
    drop(listener);
}

/// The handshake itself is bounded by `--timeout`: with server-v2's queue
/// full, Linux drops the SYN, and the client says what that may mean.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux's accept-queue rule (backlog + 1, further SYNs dropped); macOS and Windows refuse \
              differently"
)]
fn timeout_bounds_a_handshake_that_gets_no_answer() {
    let full = FullQueue::start();
    let port = full.server.port;

    let (code, _, stderr) = run("client-v1", &["--port", &port.to_string(), "--timeout", "0.3"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("the server did not answer the handshake within 300ms (--timeout)"),
        "{stderr}"
    );
}

/// client-v2 lets the server close first after `exit`, so its own side
/// never holds the pair of ports: the server's side keeps TIME_WAIT.
#[test]
#[cfg_attr(
    windows,
    ignore = "waits for the kernel's table to show a closing connection (FIN_WAIT1, TIME_WAIT), which the \
              Windows table these tests run against (under Wine) does not list once no program holds it"
)]
fn after_exit_the_server_closes_first() {
    let server = Server::start("server-v3", &[]);
    let port = server.port;
    let local_port = unused_port();
    let mut client = Running::start(
        "client-v2",
        &[
            "--port",
            &port.to_string(),
            "--local-port",
            &local_port.to_string(),
        ],
    );
    client.type_in("exit\n");
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    wait_for_kernel("the server's side in TIME_WAIT", |table| {
        (table.server_side(port, local_port)?.state == TcpState::TimeWait).then_some(())
    });
    let table = read_table().unwrap();
    let own_side = client_side(&table, local_port, port);
    assert!(
        !matches!(own_side, Some(row) if row.state == TcpState::TimeWait),
        "the client's side is not the one in TIME_WAIT: {own_side:?}"
    );
}

/// The reply for the standard-output tests: a fake server that replies
/// only when told, so the test can close the client's output first.
fn server_replying_on_cue() -> (u16, mpsc::Sender<()>, JoinHandle<()>) {
    let (cue, wait) = mpsc::channel::<()>();
    let (port, server) = fake_server(move |mut socket| {
        let message = receive(&mut socket);
        let _ = wait.recv();
        let _ = socket.write_all(&frames(&[&format!("{message} World!")]));
    });
    (port, cue, server)
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "needs /dev/full, a device whose every write fails, which Linux has"
)]
fn a_full_standard_output_ends_client_v1_with_one_line() {
    let (port, cue, server) = server_replying_on_cue();
    let mut client = Command::new(binary("client-v1"));
    client.args(["--port", &port.to_string()]);
    let common::Ended { status, stderr } = common::with_output_on_a_full_disk(client);
    drop(cue);
    let _ = server.join();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("client-v1: error: cannot write to standard output: "),
        "{stderr}"
    );
}

/// `client-v1 | head -1`: once the reader has gone, client-v1 ends quietly
/// with status 0 at its next line.
#[test]
fn a_closed_standard_output_ends_client_v1_quietly() {
    let (port, cue, server) = server_replying_on_cue();
    let mut client = Command::new(binary("client-v1"));
    client.args(["--port", &port.to_string()]);
    // Once the reader has gone, the reply comes, and its line has no reader.
    let (first, client) = common::with_output_closed_after_one_line(client, || cue.send(()).unwrap());
    assert!(first.contains("connected: client"), "{first}");
    server.join().unwrap();
    assert!(client.status.success(), "{}: {}", client.status, client.stderr);
    assert_eq!(client.stderr, "");
}

/// server-v1 closes after its one reply. client-v2, waiting at its prompt,
/// learns of it when the next line is typed: that message is not sent, and
/// it says so instead of waiting for a reply.
#[test]
fn client_v2_says_when_the_server_closed_before_its_message() {
    let mut server = Server::start("server-v1", &[]);
    let mut client = Running::start("client-v2", &["--port", &server.port.to_string()]);
    client.type_in("only one\n");
    client.expect_line("received: only one World!");
    let (status, _) = server.process.wait_exit();
    assert!(status.success());
    client.type_in("another\n");
    let (status, stderr) = client.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "client-v2: error: the server closed the connection; this message was not sent"
    );
    assert!(
        !client.stdout.iter().any(|line| line.contains("sent: another")),
        "{:?}",
        client.stdout
    );
}

/// A line that is not UTF-8 cannot be a message (the frame carries text):
/// client-v2 says so and goes on with the next line.
#[test]
fn client_v2_skips_a_line_that_is_not_utf8() {
    let server = Server::start("server-v3", &[]);
    let mut client = Running::start("client-v2", &["--port", &server.port.to_string()]);
    client.type_bytes(b"caf\xe9\n");
    client.expect_line("this line is not UTF-8 text");
    client.type_in("next\n");
    client.expect_line("received: next World!");
    client.close_stdin();
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    assert!(
        !client.stdout.iter().any(|line| line.contains("sent: caf")),
        "{:?}",
        client.stdout
    );
}

/// At the end of input there is no message to send: a server that has
/// already closed is said as a fact, not as a message that was not sent.
#[test]
fn client_v2_at_the_end_of_input_after_the_server_closed_ends_quietly() {
    let mut server = Server::start("server-v1", &[]);
    let mut client = Running::start("client-v2", &["--port", &server.port.to_string()]);
    client.type_in("only one\n");
    client.expect_line("received: only one World!");
    let (status, _) = server.process.wait_exit();
    assert!(status.success());
    client.close_stdin();
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "{stderr}");
    assert_eq!(stderr, "");
    client.expect_line("the server had already closed the connection");
    assert!(
        !client.stdout.iter().any(|line| line.contains("sent: exit")),
        "{:?}",
        client.stdout
    );
}
