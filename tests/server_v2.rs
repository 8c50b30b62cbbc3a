//! server-v2: one client at a time, and the proof of the lesson's problem.

use crate::common;

use common::{Peer, Running, Server, SILENCE};
use socket_lesson::examine::scenarios::{self, Answer, ReplyRule, Target, FROM_B};

/// The lesson itself, as `examine` checks it on any server. Client A is
/// served; client B connects and sends, and the kernel shows that both
/// happened, yet B gets nothing while A is served.
#[test]
fn a_second_client_connects_and_sends_but_is_never_answered() {
    let mut server = Server::start("server-v2", &[]);
    let (target, rule) = (Target::local(server.port), ReplyRule::lesson());
    let mut hello = scenarios::hello(&target).unwrap();
    server.expect_log(&format!("connected: client 127.0.0.1:{}", hello.a.port()));
    assert_eq!(hello.answer.reply(), Some("Hello World!"), "{:?}", hello.answer);

    // B's connect returns: the kernel finished the handshake by itself. B
    // sends a frame of 2 + 12 bytes, and gets nothing.
    let mut silent = scenarios::silent_first_client(&target, &mut hello.a, &rule, SILENCE).unwrap();
    assert_eq!(silent.sent, 14);
    assert!(matches!(silent.answer, Answer::Nothing(_)), "{:?}", silent.answer);
    assert!(!silent.check().passed);

    // The kernel's view: one finished handshake waits in the accept queue,
    // and B's connection is open, has no socket in any process, and holds
    // B's 14 bytes unread in the server side's receive buffer, each where
    // the system reports it (where the table does not list a queued
    // connection, B's own side of it is open). A is still answered.
    common::assert_b_waits_in_the_queue(&silent);
    // And B still is not.
    silent.b.silence(SILENCE).unwrap();
    let b_port = silent.b.port();
    assert!(
        !server.log().iter().any(|line| line.contains(&b_port.to_string())),
        "B was never accepted"
    );
    assert!(!server.log().iter().any(|line| line.contains(FROM_B)));

    // A leaves: the server ends, and B's connection is closed with it.
    let after = scenarios::after_a_leaves(&target, hello.a, &mut silent, &rule);
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "server-v2 exited with {status}: {stderr}");
    assert!(after.b.is_closed(), "{:?}", after.b);
    assert!(after.stopped_listening.is_some(), "the server still listens");
    assert!(!after.check().passed);
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
