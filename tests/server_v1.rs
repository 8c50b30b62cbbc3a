//! server-v1: one client, one message, one reply, then the process exits 0.

use crate::common;

use common::{Running, Server, PATIENCE};
use socket_lesson::examine::scenarios::{self, ReplyRule, Target};

/// examine's first two scenarios, as `examine` runs them against any
/// server: one reply, then the connection is closed and the server ends.
#[test]
fn one_exchange_then_the_server_exits() {
    let mut server = Server::start("server-v1", &[]);
    let target = Target::local(server.port);
    let mut hello = scenarios::hello(&target).unwrap();
    assert_eq!(hello.answer.reply(), Some("Hello World!"), "{:?}", hello.answer);
    assert!(hello.check().passed);

    // A second message on the same connection finds it closed: one message
    // per connection.
    let second = scenarios::second_message(&mut hello.a, &ReplyRule::lesson());
    assert!(second.closed_after_first(), "{:?}", second.answer);
    assert!(!second.check().passed);
    // And the kernel lists no listening socket on the port any more.
    assert!(target.stopped_listening(PATIENCE).is_some());

    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "server-v1 exited with {status}: {stderr}");
    let log = server.log().join("\n");
    assert!(
        log.contains(&format!(
            "connected: client 127.0.0.1:{} -> server 127.0.0.1:{}",
            hello.a.port(),
            server.port
        )),
        "{log}"
    );
    assert!(log.contains("received: Hello"), "{log}");
    assert!(log.contains("sent: Hello World!"), "{log}");
}

#[test]
fn client_v1_talks_to_server_v1_through_their_command_lines() {
    let mut server = Server::start("server-v1", &[]);
    let port = server.port.to_string();
    let mut client = Running::start("client-v1", &["--port", &port, "--message", "안녕 😀"]);
    let (status, stderr) = client.wait_exit();
    assert!(status.success(), "client-v1 exited with {status}: {stderr}");
    assert!(
        client
            .stdout
            .iter()
            .any(|line| line.ends_with("] received: 안녕 😀 World!")),
        "{:?}",
        client.stdout
    );

    let (status, _) = server.process.wait_exit();
    assert!(status.success());
}

#[test]
fn log_lines_have_the_lessons_shape() {
    let server = Server::start("server-v1", &["--quiet"]);
    // 12:34:56.789 [     main] listening on 127.0.0.1:41234
    let line = server
        .log()
        .iter()
        .find(|line| line.contains("listening on"))
        .unwrap();
    let (time, rest) = line.split_at(12);
    assert!(
        time.chars().all(|c| c.is_ascii_digit() || c == ':' || c == '.'),
        "{line}"
    );
    assert_eq!(&time[2..3], ":", "{line}");
    assert_eq!(&time[8..9], ".", "{line}");
    assert!(rest.starts_with(" [     main] listening on 127.0.0.1:"), "{line}");
    // Before it, the server says what its open-file limit is, where the
    // system has one.
    let limit = if cfg!(unix) {
        "] open-file limit "
    } else {
        "] no open-file limit on this system"
    };
    assert!(
        server.log().iter().any(|line| line.contains(limit)),
        "{:?}",
        server.log()
    );
}

/// A client that resets the connection in the middle of its message: the
/// server says so in the words server-v2 and v3 use, the same on every
/// system, not the system's own ("Connection reset by peer (os error 104)"
/// on Linux), and exits 1.
#[test]
fn a_reset_is_said_as_the_other_servers_say_it() {
    let mut server = Server::start("server-v1", &[]);
    let mut client = socket_lesson::peer::Peer::connect(server.port).unwrap();
    server.expect_log(&format!("connected: client 127.0.0.1:{} ", client.port()));
    client.send_bytes(&[0x00, 0x05, b'H', b'e']).unwrap(); // 2 of 5 bytes
    client.reset().unwrap();
    let (status, stderr) = server.process.wait_exit();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "server-v1: error: the client reset the connection (RST)"
    );
}
