//! The instruments: `peek` reads the kernel's table, `crowd` sends a crowd,
//! `--backlog` bounds the accept queue, `--local-port` picks a client's port.

mod common;

use std::net::{SocketAddr, TcpStream};

use common::{unused_port, wait_for_kernel, Peer, Running, Server, SILENCE};
use serde_json::Value;
use socket_lesson::kernel::listener;

/// Runs a program to its end and returns its stdout, asserting success.
fn run_to_end(program: &str, args: &[&str]) -> String {
    let mut process = Running::start(program, args);
    let (status, stderr) = process.wait_exit();
    assert!(
        status.success(),
        "{program} {args:?} exited with {status}: {stderr}"
    );
    process.stdout.join("\n")
}

#[test]
fn peek_sees_a_accepted_and_b_waiting_with_its_bytes() {
    let mut server = Server::start("server-v2", &[]);
    let mut a = Peer::connect(server.port);
    server.expect_log("connected: client");
    a.exchange("from A");
    let mut b = Peer::connect(server.port);
    b.send("from B"); // 2 + 6 bytes
    let (port, b_port) = (server.port, b.port());
    wait_for_kernel("B's bytes", |rows| {
        common::server_side_row(rows, port, b_port).filter(|row| row.rx_queue == 8)
    });

    let json: Value =
        serde_json::from_str(&run_to_end("peek", &["--port", &port.to_string(), "--json"])).unwrap();
    assert_eq!(json["port"], port);
    assert_eq!(json["listening"], true);
    assert_eq!(json["accept_queue"], 1);
    let connections = json["connections"].as_array().unwrap();
    let row = |client_port: u16| {
        connections
            .iter()
            .find(|row| row["client_port"] == client_port)
            .expect("a row for each client")
    };
    assert_eq!(row(a.port())["accepted"], true);
    assert_eq!(row(a.port())["server_unread"], 0);
    assert_eq!(row(b_port)["accepted"], false);
    assert_eq!(row(b_port)["server_unread"], 8);
    assert_eq!(row(b_port)["client_unread"], 0);
    assert_eq!(row(b_port)["state"], "ESTABLISHED");

    let table = run_to_end("peek", &["--port", &port.to_string()]);
    assert!(
        table.contains("1 finished handshake waits for accept()"),
        "{table}"
    );
    assert!(
        table.contains(
            "= handshake done, waiting in the accept queue; 8 bytes unread in the server's receive buffer"
        ),
        "{table}"
    );
}

#[test]
fn peek_watch_redraws_until_stopped() {
    let server = Server::start("server-v3", &[]);
    let mut peek = Running::start("peek", &["--port", &server.port.to_string(), "--watch"]);
    peek.expect_line("listening; the accept queue is empty");
    peek.expect_line("(redrawn every half second; Ctrl-C to stop)");
    // A second frame proves it redraws; it runs until stopped.
    peek.expect_nth_line("(redrawn every half second", 2);
    assert!(peek.is_running());
}

#[test]
fn crowd_starves_all_but_one_against_v2_and_serves_all_against_v3() {
    for (program, served, starved) in [("server-v2", 1, 7), ("server-v3", 8, 0)] {
        let server = Server::start(program, &["--quiet"]);
        let args = [
            "--port",
            &server.port.to_string(),
            "--clients",
            "8",
            "--messages",
            "5",
        ];
        let output = run_to_end("crowd", &[&args[..], &["--timeout-ms", "500", "--json"]].concat());
        let report: Value = serde_json::from_str(&output).unwrap();
        assert_eq!(report["clients"], 8, "{program}: {report}");
        assert_eq!(report["connected"], 8, "{program}: {report}");
        assert_eq!(report["served"], served, "{program}: {report}");
        assert_eq!(report["starved"], starved, "{program}: {report}");
        assert_eq!(report["replies"], 5 * served, "{program}: {report}");
        assert_eq!(report["wrong_replies"], 0, "{program}: {report}");
        for key in ["elapsed_s", "replies_per_s", "p50_us", "p99_us", "max_us"] {
            assert!(report[key].is_number(), "{key} in {report}");
        }
    }
}

#[test]
fn crowd_prints_a_table() {
    let server = Server::start("server-v3", &["--quiet"]);
    let table = run_to_end(
        "crowd",
        &[
            "--port",
            &server.port.to_string(),
            "--clients",
            "3",
            "--messages",
            "2",
        ],
    );
    for row in [
        "clients          3",
        "served           3",
        "starved          0",
        "replies          6",
    ] {
        assert!(table.contains(row), "{row:?} in:\n{table}");
    }
    assert!(table.contains("round trip       p50 "), "{table}");
}

#[test]
fn crowd_without_a_server_says_so_and_fails() {
    let port = unused_port();
    let mut crowd = Running::start("crowd", &["--port", &port.to_string(), "--clients", "2"]);
    let (status, stderr) = crowd.wait_exit();
    assert_eq!(status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("crowd: error: cannot connect to 127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("is the server running?"), "{stderr}");
}

#[test]
fn crowd_says_when_the_open_file_limit_is_too_low_and_still_reports() {
    let server = Server::start("server-v3", &["--quiet"]);
    // A hard limit of 64 open files for 100 clients: crowd raises its soft
    // limit to 64, warns, and the clients without a socket count as starved.
    let crowd = common::binary("crowd").display().to_string();
    let script = format!(
        "ulimit -n 64 && exec {crowd} --port {} --clients 100 --messages 2 --json",
        server.port
    );
    let mut command = std::process::Command::new("sh");
    command.args(["-c", &script]);
    let mut process = Running::start_command(command);
    let (status, stderr) = process.wait_exit();
    assert!(status.success(), "a crowd that ran exits 0: {stderr}");
    assert!(
        stderr.contains("100 clients need about 116 open files, but the limit is 64"),
        "{stderr}"
    );
    assert!(stderr.contains("Run `ulimit -n 116` first"), "{stderr}");
    let report: Value = serde_json::from_str(&process.stdout.join("\n")).unwrap();
    let connected = report["connected"].as_u64().unwrap();
    assert!(connected > 0 && connected < 100, "{report}");
    assert_eq!(report["served"], connected, "{report}");
    assert_eq!(report["starved"], 100 - connected, "{report}");
}

/// Linux queues backlog + 1 finished handshakes; with `--backlog 1`, and A
/// accepted, B and C fill the queue and D's SYN is dropped.
#[test]
fn backlog_1_drops_the_fourth_clients_handshake() {
    let mut server = Server::start("server-v2", &["--backlog", "1"]);
    let mut a = Peer::connect(server.port);
    server.expect_log("connected: client");
    a.exchange("from A");

    let b = Peer::connect(server.port);
    let c = Peer::connect(server.port);
    let port = server.port;
    wait_for_kernel("B and C in the accept queue", |rows| {
        (listener(rows, port)?.rx_queue == 2).then_some(())
    });

    // A handshake on loopback takes microseconds; D's never completes,
    // because the kernel drops its SYN while the queue is full.
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let d = TcpStream::connect_timeout(&address, SILENCE);
    assert!(
        matches!(&d, Err(error) if error.kind() == std::io::ErrorKind::TimedOut),
        "D should not connect while the queue is full: {d:?}"
    );
    // Still only B and C are queued, neither accepted.
    let rows = socket_lesson::kernel::read_table().unwrap();
    assert_eq!(listener(&rows, port).unwrap().rx_queue, 2);
    for queued in [&b, &c] {
        assert_eq!(
            common::server_side_row(&rows, port, queued.port()).unwrap().inode,
            0
        );
    }
    a.exchange("A is still served");
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
