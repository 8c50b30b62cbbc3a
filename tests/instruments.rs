//! The instruments: `peek` reads the kernel's table, `--backlog` bounds the
//! accept queue, `--local-port` picks a client's port. (`crowd` has
//! tests/crowd.rs.)

use crate::common;

use std::net::{SocketAddr, TcpStream};

use common::{
    if_queues_reported, unused_port, wait_for_kernel, FullQueue, Peer, Running, Server, REPORTS_ACCEPTED,
    REPORTS_QUEUES, SILENCE,
};
use serde_json::{json, Value};

/// Runs a program to its end and returns its stdout, asserting success.
fn run_to_end(program: &str, args: &[&str]) -> String {
    let (status, stdout, stderr) = common::run(program, args);
    assert!(
        status.success(),
        "{program} {args:?} exited with {status}: {stderr}"
    );
    stdout
}

/// server-v2 serving A, with B queued and 8 bytes of B's unread: the
/// scene the lesson is about, as each of peek's forms shows it.
fn a_served_b_waiting() -> (Server, Peer, Peer) {
    let (server, a) = common::server_v2_serving_a(&[]);
    let mut b = Peer::connect(server.port).unwrap();
    b.send("from B").unwrap(); // 2 + 6 bytes
    let (port, b_port) = (server.port, b.port());
    wait_for_kernel("B's connection, and its bytes where reported", |table| {
        common::waits_in_queue(table, port, b_port, 8).then_some(())
    });
    (server, a, b)
}

#[test]
fn peek_json_sees_a_accepted_and_b_waiting_with_its_bytes() {
    let (server, a, b) = a_served_b_waiting();
    let port = server.port;
    let json: Value =
        serde_json::from_str(&run_to_end("peek", &["--port", &port.to_string(), "--json"])).unwrap();
    assert_eq!(json["port"], port);
    let listeners = json["listeners"].as_array().unwrap();
    assert_eq!(listeners.len(), 1, "{json}");
    assert_eq!(listeners[0]["address"], format!("127.0.0.1:{port}"));
    assert_eq!(listeners[0]["queue"]["waiting"], json!(if_queues_reported(1)));
    let connections = listeners[0]["connections"].as_array().unwrap();
    let row = |client_port: u16| {
        connections
            .iter()
            .find(|row| row["client_port"] == client_port)
            .unwrap_or_else(|| panic!("a row for the client on {client_port}: {json}"))
    };
    let (accepted, queued) = if REPORTS_ACCEPTED {
        ("accepted", "queued")
    } else {
        ("queued_or_accepted", "queued_or_accepted")
    };
    assert_eq!(row(a.port())["stage"], accepted);
    assert_eq!(row(a.port())["server_unread"], json!(if_queues_reported(0)));
    if !common::LISTS_QUEUED_CONNECTIONS {
        return;
    }
    assert_eq!(row(b.port())["stage"], queued);
    assert_eq!(row(b.port())["server_unread"], json!(if_queues_reported(8)));
    assert_eq!(row(b.port())["client_unread"], json!(if_queues_reported(0)));
    assert_eq!(row(b.port())["client_here"], true);
    assert_eq!(row(b.port())["state"], "ESTABLISHED");
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "the table's wording for a queued connection needs Linux's kernel view \
              (macOS and Windows do not say which connections are accepted)"
)]
fn peek_table_explains_each_row() {
    let (server, _a, b) = a_served_b_waiting();
    let table = run_to_end("peek", &["--port", &server.port.to_string()]);
    assert!(
        table.contains(&format!(
            "port {0}: listening on 127.0.0.1:{0}; 1 finished handshake waits for accept()",
            server.port
        )),
        "{table}"
    );
    let b_row = table
        .lines()
        .skip_while(|line| !line.starts_with(&format!("127.0.0.1:{} ", b.port())))
        .nth(1)
        .unwrap_or_else(|| panic!("B's row in:\n{table}"));
    assert_eq!(
        b_row.trim(),
        "= handshake done, waiting in the accept queue; 8 bytes unread in the server's receive buffer"
    );
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "drawing A as accepted needs Linux's kernel view \
              (macOS and Windows do not say which connections are accepted)"
)]
fn peek_picture_draws_a_accepted_and_b_queued_with_its_bytes() {
    let (server, a, b) = a_served_b_waiting();
    let picture = run_to_end(
        "peek",
        &["--port", &server.port.to_string(), "--picture", "--ascii"],
    );
    assert!(
        picture.contains(&format!(
            "+- server: listening socket 127.0.0.1:{} -",
            server.port
        )),
        "{picture}"
    );
    assert!(
        picture.contains("backlog queue: 1 waiting, limit 128"),
        "{picture}"
    );
    // B in the queue's first slot, with its 8 bytes.
    let slot_row = |text: &str| format!("| {:<13} |", text);
    let b_slot = picture
        .lines()
        .position(|line| line.contains(&slot_row(&format!(":{}", b.port()))))
        .unwrap_or_else(|| panic!("B in a queue slot:\n{picture}"));
    assert!(
        picture
            .lines()
            .nth(b_slot + 1)
            .unwrap()
            .contains(&slot_row("8 B unread")),
        "{picture}"
    );
    // A as a socket of the server's, and both clients' sockets.
    assert!(
        picture.contains(&format!("a socket -- :{}   nothing unread", a.port())),
        "{picture}"
    );
    for client in [a.port(), b.port()] {
        assert!(picture.contains(&format!("+- client :{client} -")), "{picture}");
    }
    assert!(picture.lines().all(|line| line.len() <= 80), "{picture}");
}

/// A connection that was accepted and then closed is not in any queue:
/// peek says it is closed, never that it was not accepted.
#[test]
#[cfg_attr(
    windows,
    ignore = "waits for the kernel's table to show the server's side closing, which the Windows table this \
              project tests (under Wine) does not list once no program holds the socket"
)]
fn peek_shows_an_accepted_then_closed_connection_as_closed() {
    let mut server = Server::start("server-v3", &[]);
    let port = server.port;
    let mut client = Peer::connect(port).unwrap();
    client.exchange("hello").unwrap();
    let client_port = client.port();
    // The server closes first when the client says exit; the client then
    // closes too, and the server's side is left in TIME_WAIT.
    client.send("exit").unwrap();
    server.expect_log("[session-1] session ended: the client sent exit");
    assert!(matches!(client.closed().unwrap(), common::Closed::Eof));
    drop(client);
    wait_for_kernel("the server's side closed", |table| {
        table
            .server_side(port, client_port)?
            .state
            .is_closing()
            .then_some(())
    });
    let json: Value =
        serde_json::from_str(&run_to_end("peek", &["--port", &port.to_string(), "--json"])).unwrap();
    let row = json["listeners"][0]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["client_port"] == client_port)
        .unwrap_or_else(|| panic!("the closed connection's row: {json}"))
        .clone();
    assert_eq!(row["stage"], "closed", "{row}");
    let table = run_to_end("peek", &["--port", &port.to_string()]);
    assert!(!table.contains("waiting in the accept queue"), "{table}");
    assert!(table.contains("  -         "), "ACCEPTED is -, not no:\n{table}");
}

/// Two listening sockets on one port, 127.0.0.1 and ::1, are two queues.
#[test]
fn peek_shows_two_listeners_on_one_port_as_two_queues() {
    let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = v4.local_addr().unwrap().port();
    let v6 = std::net::TcpListener::bind(("::1", port)).unwrap_or_else(|error| {
        panic!("this test needs IPv6 on the loopback interface, and port {port} free on ::1: {error}")
    });
    let queued = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let local = queued.local_addr().unwrap();
    wait_for_kernel("the IPv4 connection in its listener's queue", |table| {
        common::waits_in_queue(table, port, local.port(), 0).then_some(())
    });
    let json: Value =
        serde_json::from_str(&run_to_end("peek", &["--port", &port.to_string(), "--json"])).unwrap();
    let listeners = json["listeners"].as_array().unwrap();
    let address = |listener: &Value| listener["address"].as_str().unwrap().to_string();
    let mut addresses: Vec<String> = listeners.iter().map(address).collect();
    addresses.sort();
    assert_eq!(
        addresses,
        [format!("127.0.0.1:{port}"), format!("[::1]:{port}")],
        "{json}"
    );
    for listener in listeners {
        let waiting = if address(listener).starts_with("127.") {
            1
        } else {
            0
        };
        let reported = json!(if_queues_reported(waiting));
        assert_eq!(listener["queue"]["waiting"], reported, "{json}");
        if common::LISTS_QUEUED_CONNECTIONS {
            let connections = listener["connections"].as_array().unwrap().len();
            assert_eq!(connections, waiting as usize, "{json}");
        }
    }
    drop((v4, v6));
}

/// `peek --watch | head -1`: once the reader has gone, peek ends quietly
/// with status 0 at its next frame.
#[test]
fn a_closed_output_ends_peek_quietly() {
    let mut peek = std::process::Command::new(common::binary("peek"));
    peek.args(["--port", &unused_port().to_string(), "--watch"]);
    let (first, peek) = common::with_output_closed_after_one_line(peek, || ());
    assert!(!first.is_empty());
    assert!(peek.status.success(), "{}: {}", peek.status, peek.stderr);
    assert_eq!(peek.stderr, "", "nothing on standard error");
}

#[test]
fn peek_watch_redraws_until_stopped() {
    let server = Server::start("server-v3", &[]);
    let mut peek = Running::start("peek", &["--port", &server.port.to_string(), "--watch"]);
    peek.expect_line(if REPORTS_QUEUES {
        "; the accept queue is empty"
    } else {
        "table gives no length for its accept queue"
    });
    peek.expect_line("(redrawn every half second; Ctrl-C to stop)");
    // A second frame proves it redraws; it runs until stopped.
    peek.expect_nth_line("(redrawn every half second", 2);
    assert!(peek.is_running());
}

/// Linux queues backlog + 1 finished handshakes; with `--backlog 1`, and A
/// accepted, B and C fill the queue and D's SYN is dropped.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux's accept-queue rule (backlog + 1, further SYNs dropped); macOS and Windows size \
              and refuse differently"
)]
fn backlog_1_drops_the_fourth_clients_handshake() {
    let FullQueue { server, mut a, b, c } = FullQueue::start();
    let port = server.port;

    // A handshake on loopback takes microseconds; D's never completes,
    // because the kernel drops its SYN while the queue is full.
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let d = TcpStream::connect_timeout(&address, SILENCE);
    assert!(
        matches!(&d, Err(error) if error.kind() == std::io::ErrorKind::TimedOut),
        "D should not connect while the queue is full: {d:?}"
    );
    // Still only B and C are queued, neither accepted.
    let table = socket_lesson::kernel::read_table().unwrap();
    assert_eq!(table.listener(port).unwrap().queue.unwrap().waiting, Some(2));
    for queued in [&b, &c] {
        assert_eq!(table.server_side(port, queued.port()).unwrap().held, Some(false));
    }
    a.exchange("A is still served").unwrap();
}

#[test]
fn client_v2_honours_local_port_even_right_after_a_previous_run() {
    let mut server = Server::start("server-v3", &[]);
    let port = server.port.to_string();
    let local_port = unused_port().to_string();
    // The second run reuses the port while the first run's connection is in
    // TIME_WAIT: SO_REUSEADDR lets it bind.
    for run in 1..=2 {
        let mut client = Running::start("client-v2", &["--port", &port, "--local-port", &local_port]);
        client.type_in("hi\n");
        client.close_stdin();
        let (status, stderr) = client.wait_exit();
        assert!(status.success(), "run {run}: {stderr}");
        let connected = format!("connected: client 127.0.0.1:{local_port} -> server 127.0.0.1:{port}");
        assert!(
            client.stdout.iter().any(|line| line.contains(&connected)),
            "{:?}",
            client.stdout
        );
        server.expect_log(&format!("[session-{run}] session ended"));
    }
    let from_local_port = format!("connected: client 127.0.0.1:{local_port}");
    assert_eq!(
        server
            .log()
            .iter()
            .filter(|line| line.contains(&from_local_port))
            .count(),
        2
    );
}
