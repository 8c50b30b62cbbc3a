//! server-v3: a session thread per client, so every client is served.

mod common;

use common::{Peer, Running, Server};

#[test]
fn serves_every_client_each_on_its_own_thread() {
    let mut server = Server::start("server-v3", &[]);
    // It knows how many sessions it can hold: a thread each.
    let room = server.expect_log("] room for ");
    let capacity: usize = room
        .split("room for ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .expect("a number of sessions");
    assert!(capacity >= 1000, "{room}");
    let mut a = Peer::connect(server.port).unwrap();
    let mut b = Peer::connect(server.port).unwrap();

    // Both are served at once: A's open session does not hold B up.
    a.exchange("from A").unwrap();
    b.exchange("from B").unwrap();
    a.exchange("A again").unwrap();

    // A leaves; B is still served, and a third client too.
    a.send("exit").unwrap();
    server.expect_log("[session-1] session ended: the client sent exit");
    b.exchange("B again").unwrap();
    let mut c = Peer::connect(server.port).unwrap();
    c.exchange("from C").unwrap();

    // Each session ran on a thread of its own, named in the log.
    for (session, message) in [
        ("session-1", "from A"),
        ("session-2", "from B"),
        ("session-3", "from C"),
    ] {
        server.expect_log(&format!("[{session}] received: {message}"));
    }
    // Connections are accepted by the main thread alone.
    let accepted = server
        .log()
        .iter()
        .filter(|line| line.contains("] connected: client"))
        .count();
    assert_eq!(accepted, 3);
    assert!(server
        .log()
        .iter()
        .filter(|line| line.contains("connected: client"))
        .all(|line| line.contains("[     main]")));
    assert!(server.process.is_running());
}

#[test]
fn a_misbehaving_client_ends_its_own_session_only() {
    let mut server = Server::start("server-v3", &[]);
    let mut steady = Peer::connect(server.port).unwrap();
    steady.exchange("before").unwrap();

    let mut broken = Peer::connect(server.port).unwrap();
    broken.send_bytes(&[0x00, 0x01, 0xFF]).unwrap();
    server.expect_log("[session-2] session ended: invalid message: byte 0xFF at offset 0");
    broken.closed().unwrap();

    let mut cut = Peer::connect(server.port).unwrap();
    cut.send_bytes(&[0x00, 0x09, b'c', b'u', b't']).unwrap();
    drop(cut);
    server.expect_log("[session-3] session ended: connection closed in the middle of a message");

    steady.exchange("after").unwrap();
    assert!(server.process.is_running());
}

#[test]
fn client_v2_programs_against_server_v3() {
    let server = Server::start("server-v3", &[]);
    let port = server.port.to_string();
    let mut a = Running::start("client-v2", &["--port", &port]);
    let mut b = Running::start("client-v2", &["--port", &port]);
    a.type_in("Hello from A\n");
    b.type_in("Hello from B\n");
    b.expect_line("received: Hello from B World!");
    a.expect_line("received: Hello from A World!");

    // End of input behaves like `exit`, and nothing is prompted on a pipe.
    for client in [&mut a, &mut b] {
        client.close_stdin();
        let (status, stderr) = client.wait_exit();
        assert!(status.success(), "{stderr}");
        assert!(client.stdout.iter().any(|line| line.ends_with("] sent: exit")));
        assert!(!client
            .stdout
            .iter()
            .any(|line| line.contains("message (exit to quit)>")));
    }
}
