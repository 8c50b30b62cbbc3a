//! server-v3's examples, the course's last steps: `shutdown` (Ctrl-C closes
//! every session in order) and `pool` (a bounded pool whose waiting clients
//! stay in the kernel's accept queue).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{
    example, if_queues_reported, wait_for_kernel, Closed, Peer, Running, Server, PATIENCE, REPORTS_ACCEPTED,
    REPORTS_QUEUES, SILENCE,
};
use socket_lesson::examine::scenarios::{self, Answer, ReplyRule, Shutdown, Target};
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
    // examine's Ctrl-C scenario: three clients in sessions, two silent since
    // their reply, one that has just sent a message.
    let clients = scenarios::shutdown_clients(&Target::local(port), &ReplyRule::lesson()).unwrap();
    let asked = Instant::now();
    server.process.interrupt(); // Ctrl-C
    let ends = clients.watch(asked, PATIENCE);
    let (status, stderr) = server.process.wait_exit();
    let took = asked.elapsed();
    assert!(status.success(), "{status}: {stderr}");
    assert!(took < Duration::from_secs(2), "the server took {took:?} to stop");

    // Each client reads the end of the stream: an orderly close, not a
    // reset. The last may have been answered before the shutdown reached it.
    let shutdown = shutdown(ends, status, took);
    assert!(shutdown.clients_closed_in_order(), "{:#?}", shutdown.clients);
    for reply in shutdown.clients.iter().filter_map(|client| client.reply.as_ref()) {
        assert_eq!(reply, "last words World!");
    }
    assert!(shutdown.check().passed, "{}", shutdown.check());

    let log = server.log();
    let ends = log
        .iter()
        .filter(|line| line.contains("session ended: server shutting down"))
        .count();
    assert_eq!(ends, 3, "{log:#?}");
    assert!(log.last().unwrap().ends_with("] server stopped"), "{log:#?}");
    // Nothing of the server's is left in the kernel's table but TIME_WAIT,
    // once the clients close their side, as client-v2 does at the end of
    // the stream (the scenario's clients have closed theirs).
    wait_for_kernel("only TIME_WAIT left on the server's port", |table| {
        table
            .on_port(port)
            .all(|row| row.state == TcpState::TimeWait)
            .then_some(())
    });
}

/// What Ctrl-C did, as examine's `ctrl_c` check judges it.
fn shutdown(
    clients: Vec<scenarios::ClientEnd>,
    status: std::process::ExitStatus,
    took: Duration,
) -> Shutdown {
    Shutdown {
        signal: "SIGINT",
        clients,
        exit: Some(status),
        took,
    }
}

#[test]
fn a_pool_of_two_keeps_the_third_client_in_the_accept_queue() {
    let mut server = start("pool", &["--workers", "2"]);
    // examine's many-at-once scenario with three clients, each sending
    // Hello: the two workers serve two at once; the third connects and
    // sends, and waits in the accept queue, its bytes unread, without a
    // reply.
    let many = scenarios::many_at_once(&Target::local(server.port), 3, &ReplyRule::lesson(), SILENCE);
    assert_eq!((many.connected, many.at_once), (3, 2), "{}", many.check());
    assert!(
        matches!(many.first_unanswered, Some(Answer::Nothing(_))),
        "{:?}",
        many.first_unanswered
    );
    let held = many.queued.expect("the kernel's view of the third client");
    assert_eq!(held.in_queue, if_queues_reported(1), "{held:?}");
    assert_eq!(held.unread, REPORTS_QUEUES.then_some(1), "{held:?}");
    assert_eq!(held.not_accepted, REPORTS_ACCEPTED.then_some(1), "{held:?}");
    assert!(!many.check().passed);

    // The first two leave: a worker takes the third from the queue.
    assert_eq!(many.later, 1, "{}", many.check());
    server.expect_log(&format!("session started: client 127.0.0.1:{}", many.waiting[0]));
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn the_pool_shuts_down_and_joins_its_workers() {
    let mut server = start("pool", &["--workers", "3"]);
    let clients = scenarios::shutdown_clients(&Target::local(server.port), &ReplyRule::lesson()).unwrap();
    let asked = Instant::now();
    server.process.interrupt(); // Ctrl-C
    let ends = clients.watch(asked, PATIENCE);
    let (status, stderr) = server.process.wait_exit();
    assert!(status.success(), "{status}: {stderr}");
    let shutdown = shutdown(ends, status, asked.elapsed());
    assert!(shutdown.check().passed, "{}", shutdown.check());
    let log = server.log().join("\n");
    // Each worker's session ended for the shutdown.
    let ended = log
        .lines()
        .filter(|line| line.contains(" worker-") && line.ends_with("] session ended: server shutting down"))
        .count();
    assert_eq!(ended, 3, "{log}");
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
