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

/// The kernel's own numbers for a socket, as Linux prints them in
/// `/proc/net/tcp` (what `ss -tn` shows as Recv-Q and Send-Q): the reference
/// peek is checked against. Read here by hand, apart from peek's parser.
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ProcRow {
    /// The state's number (`08` is CLOSE_WAIT, `02` SYN_SENT).
    state: u8,
    /// `tx_queue`: Send-Q.
    tx_queue: u32,
    /// `rx_queue`: Recv-Q.
    rx_queue: u32,
    /// 0 when no process holds the socket.
    inode: u64,
}

/// Every IPv4 row from local port `local` to remote port `remote` (0: any).
///
/// The kernel prints the table a page at a time while other tests open and
/// close connections: a row can be missed, or printed twice, by one
/// reading. So the table is read until two readings in a row agree, and a
/// row printed twice is kept once.
#[cfg(target_os = "linux")]
fn proc_rows(local: u16, remote: u16) -> Vec<ProcRow> {
    let mut last = None;
    for _ in 0..50 {
        let rows = proc_rows_once(local, remote);
        if last.as_ref() == Some(&rows) {
            return rows;
        }
        last = Some(rows);
    }
    panic!("/proc/net/tcp never read the same twice for {local} -> {remote}: {last:?}");
}

/// One reading of [`proc_rows`], rows printed twice kept once.
#[cfg(target_os = "linux")]
fn proc_rows_once(local: u16, remote: u16) -> Vec<ProcRow> {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let mut rows: Vec<((String, String), ProcRow)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let port = |field: &str| u16::from_str_radix(field.split(':').nth(1)?, 16).ok();
            let (tx, rx) = fields[4].split_once(':')?;
            let matches = port(fields[1])? == local && (remote == 0 || port(fields[2])? == remote);
            let row = ProcRow {
                state: u8::from_str_radix(fields[3], 16).unwrap(),
                tx_queue: u32::from_str_radix(tx, 16).unwrap(),
                rx_queue: u32::from_str_radix(rx, 16).unwrap(),
                inode: fields[9].parse().unwrap(),
            };
            matches.then(|| ((fields[1].to_string(), fields[2].to_string()), row))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows.dedup_by(|a, b| a.0 == b.0);
    rows.into_iter().map(|(_, row)| row).collect()
}

/// The one row from local port `local` to remote port `remote`.
#[cfg(target_os = "linux")]
fn proc_row(local: u16, remote: u16) -> ProcRow {
    let rows = proc_rows(local, remote);
    assert_eq!(rows.len(), 1, "one row {local} -> {remote}: {rows:?}");
    rows[0]
}

/// peek's JSON for `port`.
fn peek_json(port: u16) -> Value {
    serde_json::from_str(&run_to_end("peek", &["--port", &port.to_string(), "--json"])).unwrap()
}

/// The row of peek's JSON for the client on `client_port`.
fn json_row(json: &Value, client_port: u16) -> Value {
    json["listeners"][0]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["client_port"] == client_port)
        .unwrap_or_else(|| panic!("a row for the client on {client_port}: {json}"))
        .clone()
}

/// A listening socket on 127.0.0.1 with its own `backlog`, which this test
/// accepts from only when it says so.
fn listener(backlog: i32) -> (std::net::TcpListener, u16) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    socket.listen(backlog).unwrap();
    let listener: std::net::TcpListener = socket.into();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A client that sent a 7-byte frame and closed, and one that closed
/// without sending: Linux's receive queue counts the client's FIN as one
/// (8 and 1); peek shows the 7 and 0 bytes of data, and the FIN as the FIN.
/// The server's own close, seen from the client's side, the same.
#[test]
fn peek_shows_the_fin_apart_from_the_unread_bytes() {
    use std::io::Write;
    let (listener, port) = listener(128);
    let mut framed = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (_framed_server, _) = listener.accept().unwrap();
    let (silent_server, _) = listener.accept().unwrap();
    let (framed_port, silent_port) = (
        framed.local_addr().unwrap().port(),
        silent.local_addr().unwrap().port(),
    );
    framed.write_all(b"\x00\x05hello").unwrap();
    drop(framed);
    // The server closes its side of the silent client's connection: the
    // client's side now holds the server's FIN, and the client has not read it.
    silent_server.shutdown(std::net::Shutdown::Write).unwrap();
    wait_for_kernel(
        "the framed client's FIN and the server's FIN to the silent one",
        |table| {
            let framed = table.server_side(port, framed_port)?;
            let silent = common::client_side(table, silent_port, port)?;
            (framed.state == socket_lesson::kernel::TcpState::CloseWait
                && silent.state == socket_lesson::kernel::TcpState::CloseWait)
                .then_some(())
        },
    );
    #[cfg(target_os = "linux")]
    {
        // The kernel's numbers: the FIN counted as a byte.
        assert_eq!(proc_row(port, framed_port).rx_queue, 8);
        assert_eq!(proc_row(silent_port, port).rx_queue, 1);
    }
    let json = peek_json(port);
    let framed_row = json_row(&json, framed_port);
    assert_eq!(framed_row["state"], "CLOSE_WAIT", "{json}");
    assert_eq!(
        framed_row["server_unread"],
        json!(if_queues_reported(7)),
        "{json}"
    );
    assert_eq!(framed_row["fin_from_client"], true, "{json}");
    let silent_row = json_row(&json, silent_port);
    assert_eq!(silent_row["state"], "FIN_WAIT2", "{json}");
    assert_eq!(silent_row["fin_from_client"], false, "{json}");
    if common::LISTS_QUEUED_CONNECTIONS {
        assert_eq!(
            silent_row["client_unread"],
            json!(if_queues_reported(0)),
            "{json}"
        );
        assert_eq!(silent_row["fin_from_server"], true, "{json}");
    }

    let table = run_to_end("peek", &["--port", &port.to_string()]);
    if REPORTS_QUEUES {
        assert!(
            table.contains(
                "; 7 bytes unread in the server's receive buffer, then the client's FIN: the read after \
                 them returns the end of the stream"
            ),
            "{table}"
        );
        assert!(!table.contains("8 bytes unread"), "{table}");
        assert!(!table.contains("1 bytes unread"), "{table}");
    }
    let picture = run_to_end("peek", &["--port", &port.to_string(), "--picture", "--ascii"]);
    if REPORTS_QUEUES {
        assert!(picture.contains("7 B unread, then FIN"), "{picture}");
        assert!(!picture.contains("8 B unread"), "{picture}");
    }
    assert!(
        picture.contains("FIN: the other side has closed its side"),
        "{picture}"
    );
    drop((listener, silent));
}

/// With a backlog of 2 and 8 clients, Linux queues 3 and leaves 5 in
/// SYN_SENT, their SYNs dropped: peek names them and says why.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "Linux's accept-queue rule (backlog + 1, further SYNs dropped); macOS and Windows size \
              and refuse differently"
)]
fn peek_shows_the_clients_a_full_queue_leaves_out() {
    let (listener, port) = listener(2);
    let address: socket2::SockAddr = SocketAddr::from(([127, 0, 0, 1], port)).into();
    let clients: Vec<socket2::Socket> = (0..8)
        .map(|_| {
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket.set_nonblocking(true).unwrap();
            // In progress: the handshake goes on without this thread.
            let _ = socket.connect(&address);
            socket
        })
        .collect();
    wait_for_kernel("3 queued and 5 clients in SYN_SENT", |table| {
        let waiting = table.listener(port)?.queue?.waiting;
        let syn_sent = table
            .rows
            .iter()
            .filter(|row| row.state == socket_lesson::kernel::TcpState::SynSent && row.remote.port() == port)
            .count();
        (waiting == Some(3) && syn_sent == 5).then_some(())
    });
    #[cfg(target_os = "linux")]
    {
        // The kernel's numbers, as `ss -tn` shows them: LISTEN 3 2, and
        // five rows in SYN_SENT (state 02) toward the port.
        let listening: Vec<ProcRow> = proc_rows(port, 0)
            .into_iter()
            .filter(|row| row.state == 0x0A)
            .collect();
        assert_eq!(listening[0].rx_queue, 3);
        let syn_sent = (0..8)
            .map(|index| clients[index].local_addr().unwrap().as_socket().unwrap().port())
            .filter(|client| proc_row(*client, port).state == 0x02)
            .count();
        assert_eq!(syn_sent, 5);
    }
    let json = peek_json(port);
    let unanswered = json["listeners"][0]["unanswered"].as_array().unwrap();
    assert_eq!(unanswered.len(), 5, "{json}");
    let table = run_to_end("peek", &["--port", &port.to_string()]);
    assert!(
        table.contains("5 clients' connect() unanswered (SYN_SENT, no row on the server's side)"),
        "{table}"
    );
    assert!(
        table.contains("= the accept queue is full (3 waiting, limit 2): the kernel drops their SYN"),
        "{table}"
    );
    let picture = run_to_end("peek", &["--port", &port.to_string(), "--picture", "--ascii"]);
    assert!(
        picture.contains("not let in, connect() still waiting (SYN_SENT):"),
        "{picture}"
    );
    assert!(picture.contains("the accept queue is full"), "{picture}");
    drop((listener, clients));
}

/// A server writing to a client that does not read, and that client
/// writing to a server that does not read: megabytes wait unacknowledged
/// on both sides, and peek shows the kernel's numbers (Send-Q).
#[test]
fn peek_shows_the_bytes_not_yet_acknowledged_on_both_sides() {
    use std::io::Write;
    let (listener, port) = listener(128);
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let client_port = client.local_addr().unwrap().port();
    // Each writes until its send buffer is full; neither reads.
    for side in [&mut server, &mut client] {
        side.set_nonblocking(true).unwrap();
        let chunk = [b'x'; 65536];
        while side.write(&chunk).is_ok() {}
    }
    wait_for_kernel("bytes unacknowledged on both sides", |table| {
        let server = table.server_side(port, client_port)?;
        let client = common::client_side(table, client_port, port)?;
        (server.unacknowledged != Some(0) && client.unacknowledged != Some(0)).then_some(())
    });
    #[cfg(target_os = "linux")]
    {
        // The kernel keeps moving bytes for a while: compare with a reading
        // of /proc that did not change while peek read.
        let mut compared = false;
        for _ in 0..50 {
            let before = (proc_row(port, client_port), proc_row(client_port, port));
            let json = peek_json(port);
            let after = (proc_row(port, client_port), proc_row(client_port, port));
            if before != after {
                continue;
            }
            let row = json_row(&json, client_port);
            assert_eq!(row["server_unacknowledged"], before.0.tx_queue, "{json}");
            assert_eq!(row["client_unacknowledged"], before.1.tx_queue, "{json}");
            assert_eq!(row["server_unread"], before.0.rx_queue, "{json}");
            assert_eq!(row["client_unread"], before.1.rx_queue, "{json}");
            assert!(before.0.tx_queue > 65536, "megabytes in flight: {before:?}");
            compared = true;
            break;
        }
        assert!(
            compared,
            "the kernel's numbers never held still while peek read them"
        );
    }
    let row = json_row(&peek_json(port), client_port);
    if REPORTS_QUEUES {
        assert!(row["server_unacknowledged"].as_u64().unwrap() > 0, "{row}");
        assert!(row["client_unacknowledged"].as_u64().unwrap() > 0, "{row}");
        let table = run_to_end("peek", &["--port", &port.to_string()]);
        assert!(
            table.contains("bytes sent by the server, not yet acknowledged by the client"),
            "{table}"
        );
        assert!(
            table.contains("bytes sent by the client, not yet acknowledged by the server"),
            "{table}"
        );
        let picture = run_to_end("peek", &["--port", &port.to_string(), "--picture", "--ascii"]);
        assert_eq!(picture.matches(" B not acked").count(), 2, "{picture}");
        assert!(picture.lines().all(|line| line.len() <= 80), "{picture}");
    } else {
        assert_eq!(row["server_unacknowledged"], Value::Null, "{row}");
    }
    drop((listener, server, client));
}

/// A client whose program closed its socket leaves the kernel finishing
/// the goodbye (FIN_WAIT2, held by no process): the picture says its
/// socket is closed, not that it exists.
#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "whether a process holds a socket is reported by Linux only"
)]
fn peek_draws_a_client_that_closed_its_socket_as_closed() {
    let (listener, port) = listener(128);
    let open = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let closed = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (open_port, closed_port) = (
        open.local_addr().unwrap().port(),
        closed.local_addr().unwrap().port(),
    );
    let accepted = [listener.accept().unwrap().0, listener.accept().unwrap().0];
    drop(closed);
    wait_for_kernel("the closed client's side in FIN_WAIT2", |table| {
        (common::client_side(table, closed_port, port)?.state == socket_lesson::kernel::TcpState::FinWait2)
            .then_some(())
    });
    #[cfg(target_os = "linux")]
    {
        // The kernel's word: FIN_WAIT2 (05), no inode: no process holds it.
        let row = proc_row(closed_port, port);
        assert_eq!((row.state, row.inode), (0x05, 0));
        assert_ne!(proc_row(open_port, port).inode, 0);
    }
    let json = peek_json(port);
    assert_eq!(json_row(&json, closed_port)["client_held"], false, "{json}");
    assert_eq!(json_row(&json, open_port)["client_held"], true, "{json}");
    let picture = run_to_end("peek", &["--port", &port.to_string(), "--picture", "--ascii"]);
    let box_of = |client: u16| {
        let lines: Vec<&str> = picture.lines().collect();
        let (row, line) = lines
            .iter()
            .enumerate()
            .find(|(_, line)| line.contains(&format!("+- client :{client} -")))
            .unwrap_or_else(|| panic!("the box of :{client}:\n{picture}"));
        let column = line.find(&format!("+- client :{client}")).unwrap();
        lines[row + 1][column..].chars().take(25).collect::<String>()
    };
    assert!(box_of(closed_port).contains("socket: closed"), "{picture}");
    assert!(box_of(open_port).contains("socket: exists"), "{picture}");
    let table = run_to_end("peek", &["--port", &port.to_string()]);
    assert!(
        table.contains("the client's program has closed its socket (FIN_WAIT2)"),
        "{table}"
    );
    drop((listener, open, accepted));
}
