//! server-v3's examples, the course's last steps: `shutdown` (Ctrl-C closes
//! every session in order) and `pool` (a bounded pool whose waiting clients
//! stay in the kernel's accept queue).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    example, if_queues_reported, wait_for_kernel, waits_in_queue, Closed, Peer, Running, Server, SILENCE,
};
use socket_lesson::kernel::TcpState;

fn start(name: &str, args: &[&str]) -> Server {
    let mut command = Command::new(example(name));
    command.args(["--port", "0"]).args(args);
    Server::from_process(Running::start_command(command))
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn ctrl_c_closes_every_session_in_order_and_exits_0() {
    let mut server = start("shutdown", &[]);
    let port = server.port;
    // Three clients: one idle, one in the middle of a conversation, one
    // that has just sent a message.
    let mut idle = Peer::connect(port).unwrap();
    server.expect_log(&format!("connected: client 127.0.0.1:{}", idle.port()));
    let mut talking = Peer::connect(port).unwrap();
    talking.exchange("one").unwrap();
    let mut just_sent = Peer::connect(port).unwrap();
    server.expect_log(&format!("connected: client 127.0.0.1:{}", just_sent.port()));
    just_sent.send("last words").unwrap();

    let asked = Instant::now();
    server.process.interrupt(); // Ctrl-C
    let (status, stderr) = server.process.wait_exit();
    let took = asked.elapsed();
    assert!(status.success(), "{status}: {stderr}");
    assert!(took < Duration::from_secs(2), "the server took {took:?} to stop");

    // Each client reads the end of the stream: an orderly close, not a reset.
    assert!(matches!(idle.closed().unwrap(), Closed::Eof));
    assert!(matches!(talking.closed().unwrap(), Closed::Eof));
    // The last one may have been answered before the shutdown reached it.
    match just_sent.receive() {
        Ok(Some(reply)) => {
            assert_eq!(reply, "last words World!");
            assert!(matches!(just_sent.closed().unwrap(), Closed::Eof));
        }
        Ok(None) => {}
        other => panic!("expected the reply or the end of the stream, got {other:?}"),
    }

    let log = server.log();
    let ends = log
        .iter()
        .filter(|line| line.contains("session ended: server shutting down"))
        .count();
    assert_eq!(ends, 3, "{log:#?}");
    assert!(log.last().unwrap().ends_with("] server stopped"), "{log:#?}");
    // Nothing of the server's is left in the kernel's table but TIME_WAIT,
    // once the clients close their side, as client-v2 does at the end of
    // the stream.
    drop((idle, talking, just_sent));
    wait_for_kernel("only TIME_WAIT left on the server's port", |table| {
        table
            .on_port(port)
            .all(|row| row.state == TcpState::TimeWait)
            .then_some(())
    });
}

#[test]
fn a_pool_of_two_keeps_the_third_client_in_the_accept_queue() {
    let mut server = start("pool", &["--workers", "2"]);
    let port = server.port;
    let mut a = Peer::connect(port).unwrap();
    a.exchange("from A").unwrap();
    let mut b = Peer::connect(port).unwrap();
    b.exchange("from B").unwrap();

    // Both workers are busy: the third client connects and sends, and waits
    // in the accept queue, its bytes unread, without a reply.
    let mut c = Peer::connect(port).unwrap();
    c.send("from C").unwrap(); // 2 + 6 bytes
    let c_port = c.port();
    wait_for_kernel("C queued with its 8 bytes", |table| {
        let waiting = table.listener(port)?.queue?.waiting;
        (waiting == if_queues_reported(1) && waits_in_queue(table, port, c_port, 8)).then_some(())
    });
    c.silence(SILENCE).unwrap();
    assert!(
        !server.log().iter().any(|line| line.contains(&c_port.to_string())),
        "C was not accepted"
    );

    // A leaves: its worker takes C from the queue.
    a.send("exit").unwrap();
    assert_eq!(c.receive().unwrap().as_deref(), Some("from C World!"));
    server.expect_log(&format!("session started: client 127.0.0.1:{c_port}"));
    b.exchange("B is still served").unwrap();
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn the_pool_shuts_down_and_joins_its_workers() {
    let mut server = start("pool", &["--workers", "3"]);
    let mut a = Peer::connect(server.port).unwrap();
    a.exchange("hello").unwrap();
    server.process.interrupt(); // Ctrl-C
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
    assert!(matches!(a.closed().unwrap(), Closed::Eof));
    let log = server.log().join("\n");
    // Whichever worker took the client, its session ended for the shutdown.
    let ended = log
        .lines()
        .filter(|line| line.contains(" worker-") && line.ends_with("] session ended: server shutting down"))
        .count();
    assert_eq!(ended, 1, "{log}");
    assert!(log.ends_with("] server stopped"), "{log}");
}

/// With too few descriptors for another session (the registry keeps a
/// second one per connection), the shutdown example turns the next client
/// away, by closing its connection or by leaving it in the queue, and goes
/// on; the others are served, and Ctrl-C still ends it in order, though
/// waking its accept() takes a connection.
#[test]
#[cfg_attr(
    windows,
    ignore = "sets the open-file limit with ulimit, which only Unix has (Windows has no such limit)"
)]
fn the_shutdown_example_survives_running_out_of_descriptors() {
    let shell = common::under_ulimit("-n 12", &example("shutdown"), "--port 0");
    let mut server = Server::from_process(Running::start_command(shell));
    // Clients one by one, until one is turned away. The server's log says
    // which: the session's reply, or why there is no session.
    let turned_away = ["cannot register 127.0.0.1:", "no file descriptor left"];
    let mut served = Vec::new();
    loop {
        let mut client = Peer::connect(server.port).unwrap();
        client.send("hello").unwrap();
        let said = server
            .process
            .next_line_with_any(&[&["sent: hello World!"], &turned_away[..]].concat());
        if turned_away.iter().any(|why| said.contains(why)) {
            break;
        }
        assert_eq!(client.receive().unwrap().as_deref(), Some("hello World!"));
        served.push(client);
        assert!(
            served.len() < 12,
            "12 open files cannot hold {} sessions",
            served.len()
        );
    }
    assert!(!served.is_empty());
    for client in &mut served {
        client.exchange("still here").unwrap();
    }
    server.process.interrupt(); // Ctrl-C
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
    for mut client in served {
        assert!(matches!(client.closed().unwrap(), Closed::Eof));
    }
}
