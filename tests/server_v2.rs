//! server-v2: one client at a time, and the proof of the lesson's problem.

mod common;

use common::{if_queues_reported, wait_for_kernel, waits_in_queue, Peer, Running, Server, SILENCE};

/// The lesson itself. Client A is served; client B connects and sends, and
/// the kernel shows that both happened, yet B gets nothing while A is served.
#[test]
fn a_second_client_connects_and_sends_but_is_never_answered() {
    let mut server = Server::start("server-v2", &[]);
    let mut a = Peer::connect(server.port).unwrap();
    server.expect_log(&format!("connected: client 127.0.0.1:{}", a.port()));
    a.exchange("from A").unwrap();

    // B's connect returns: the kernel finished the handshake by itself.
    let mut b = Peer::connect(server.port).unwrap();
    b.send("hello").unwrap(); // a frame of 2 + 5 bytes

    // The kernel's view: one finished handshake waits in the accept queue,
    // and B's connection is open, has no socket in any process, and holds
    // B's 7 bytes unread in the server side's receive buffer, each where
    // the system reports it.
    let (server_port, b_port) = (server.port, b.port());
    wait_for_kernel("B queued with its 7 bytes unread", |table| {
        let waiting = table.listener(server_port)?.queue?.waiting;
        (waiting == if_queues_reported(1) && waits_in_queue(table, server_port, b_port, 7)).then_some(())
    });

    // A is still answered, and B still is not.
    a.exchange("A again").unwrap();
    b.silence(SILENCE).unwrap();
    assert!(
        !server.log().iter().any(|line| line.contains(&b_port.to_string())),
        "B was never accepted"
    );

    // A leaves: the server ends, and B's connection is closed with it.
    a.send("exit").unwrap();
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "server-v2 exited with {status}: {stderr}");
    b.closed().unwrap();
    let log = server.log().join("\n");
    assert!(log.contains("session ended: the client sent exit"), "{log}");
}

#[test]
fn a_client_that_closes_between_messages_ends_it_cleanly() {
    let mut server = Server::start("server-v2", &[]);
    let mut a = Peer::connect(server.port).unwrap();
    a.exchange("one").unwrap();
    drop(a);
    let (status, _) = server.process.wait_exit();
    assert!(status.success());
    assert!(server
        .log()
        .iter()
        .any(|line| line.contains("session ended: the client closed the connection")));
}

#[test]
fn a_connection_cut_mid_message_ends_the_server_with_an_error() {
    let mut server = Server::start("server-v2", &[]);
    let mut a = Peer::connect(server.port).unwrap();
    a.send_bytes(&[0x00, 0x05, b'H', b'i']).unwrap(); // 2 of 5 payload bytes
    drop(a);
    let (status, stderr) = server.process.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.starts_with("server-v2: error: session with 127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("connection closed in the middle of a message"),
        "{stderr}"
    );
}

#[test]
fn bytes_that_are_not_a_message_end_the_server_with_an_error() {
    let mut server = Server::start("server-v2", &[]);
    let mut a = Peer::connect(server.port).unwrap();
    a.send_bytes(&[0x00, 0x01, 0xFF]).unwrap();
    let (status, stderr) = server.process.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("invalid message: byte 0xFF at offset 0 cannot start a character"),
        "{stderr}"
    );
}

/// Two client-v2 programs against server-v2, as a learner would run them.
#[test]
fn client_v2_programs_against_server_v2() {
    let mut server = Server::start("server-v2", &[]);
    let port = server.port.to_string();
    let mut a = Running::start("client-v2", &["--port", &port]);
    a.type_in("Hello\n");
    a.expect_line("received: Hello World!");

    let mut b = Running::start("client-v2", &["--port", &port]);
    b.type_in("anyone there?\n");
    b.expect_line("sent: anyone there?");
    a.type_in("still here\n");
    a.expect_line("received: still here World!");
    assert!(b.is_running(), "B is still waiting for its reply");

    a.type_in("exit\n");
    let (status, stderr) = a.wait_exit();
    assert!(status.success(), "{stderr}");
    let (status, _) = server.process.wait_exit();
    assert!(status.success());

    // B gave up only when the server went away, with a one-line reason.
    let (status, stderr) = b.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr.starts_with("client-v2: error: cannot read the server's reply"),
        "{stderr}"
    );
    assert!(
        !b.stdout.iter().any(|line| line.contains("received:")),
        "{:?}",
        b.stdout
    );
}
