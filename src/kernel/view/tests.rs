//! The view's rules, each on a table written as Linux prints it.

use unicode_width::UnicodeWidthStr;

use super::*;
use crate::kernel::proc_net::{self, parse_table};
use crate::kernel::{AcceptQueue, Source, Table};
use crate::Lang;

fn view(text: &str, port: u16) -> PortView {
    PortView::of(&Table::new(parse_table(text).unwrap()), port, &proc_net::SOURCE)
}

const HEADER: &str =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/// A row of /proc/net/tcp: `local` and `remote` as the file writes them.
fn line(local: &str, remote: &str, state: u8, rx_queue: u32, inode: u64) -> String {
    format!(
        "   0: {local} {remote} {state:02X} 00000000:{rx_queue:08X} 00:00000000 00000000  1000  0 {inode} 1\n"
    )
}

#[test]
fn the_lesson_picture() {
    let view = view(crate::kernel::proc_net::tests::TCP, 12345);
    assert!(view.listening());
    let listener = &view.listeners[0];
    assert_eq!(listener.queue.waiting, Some(1));
    let ports: Vec<u16> = listener.connections.iter().map(|c| c.client_port).collect();
    assert_eq!(ports, [50000, 60000]);
    let (served, waiting) = (&listener.connections[0], &listener.connections[1]);
    assert_eq!((served.stage, waiting.stage), (Stage::Accepted, Stage::Queued));
    assert_eq!((waiting.server_unread, waiting.client_unread), (Some(7), Some(0)));
    assert_eq!(served.explain(), "accepted: the server holds a socket for it");
    assert!(view.is_consistent());

    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["listeners"][0]["queue"]["waiting"], 1);
    assert_eq!(json["listeners"][0]["connections"][1]["state"], "ESTABLISHED");
    assert_eq!(json["listeners"][0]["connections"][1]["stage"], "queued");

    let table = view.to_string();
    assert!(
        table.starts_with(
            "port 12345: listening on 127.0.0.1:12345; 1 finished handshake waits for accept()\n"
        ),
        "{table}"
    );
    let waiting_row = "127.0.0.1:60000  no                    7              0  ESTABLISHED\n                 = handshake done";
    assert!(table.contains(waiting_row), "{table}");
    assert!(
        !table.contains("not reported"),
        "Linux reports everything:\n{table}"
    );
}

#[test]
fn the_table_in_korean_keeps_its_columns() {
    let view = view(crate::kernel::proc_net::tests::TCP, 12345);
    let table = view.table(Lang::Ko);
    assert!(
        table.starts_with("포트 12345: 127.0.0.1:12345에서 리슨 중"),
        "{table}"
    );
    assert!(
        table.contains("= 핸드셰이크 완료, accept 큐에서 기다림"),
        "{table}"
    );
    // Each row's STATE starts where the header's 상태 does.
    let column = |line: &str, word: &str| line[..line.find(word).unwrap()].width();
    let header = table.lines().nth(1).unwrap();
    for row in table.lines().filter(|line| line.contains("ESTABLISHED")) {
        assert_eq!(column(row, "ESTABLISHED"), column(header, "상태"), "{table}");
    }
    assert!(!table.contains("accepted"), "{table}");
}

#[test]
fn many_closed_connections_are_counted_not_listed() {
    let mut text = [HEADER, &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11)].concat();
    for client in 0..20u16 {
        text += &line(
            "0100007F:3039",
            &format!("0100007F:{:04X}", 40000 + client),
            0x06,
            0,
            0,
        );
    }
    text += &line("0100007F:3039", "0100007F:C350", 0x01, 0, 12);
    let table = view(&text, 12345).to_string();
    assert_eq!(
        table.matches("TIME_WAIT").count(),
        2,
        "one line says them all:\n{table}"
    );
    assert!(
        table.contains("20 closed connections in TIME_WAIT (not listed): closed; the kernel keeps"),
        "{table}"
    );
    assert!(
        table.contains("127.0.0.1:50000"),
        "the open one is listed:\n{table}"
    );
    assert!(table.lines().count() <= 6, "{table}");
}

#[test]
fn a_closed_connection_is_closed_not_unaccepted() {
    let text = [
        HEADER,
        &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11),
        // Accepted, then closed by the server: TIME_WAIT and FIN_WAIT2, no inode.
        &line("0100007F:3039", "0100007F:C350", 0x06, 0, 0),
        &line("0100007F:3039", "0100007F:C351", 0x05, 0, 0),
    ]
    .concat();
    let view = view(&text, 12345);
    for connection in view.connections() {
        assert_eq!(connection.stage, Stage::Closed, "{connection:?}");
        assert_eq!(connection.accepted_column(Lang::En), "-");
        assert!(
            !connection.explain().contains("queue"),
            "{}",
            connection.explain()
        );
    }
    assert!(view.to_string().contains("TIME_WAIT"));
}

#[test]
fn only_the_listeners_connections_are_shown() {
    let text = [
        HEADER,
        // server on 127.0.0.1:12345, one client.
        &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11),
        &line("0100007F:3039", "0100007F:C350", 0x01, 0, 12),
        // An earlier server's connection on another address, 10.0.0.1:12345.
        &line("0100000A:3039", "0200000A:C351", 0x06, 0, 0),
    ]
    .concat();
    let view = view(&text, 12345);
    let clients: Vec<u16> = view.connections().map(|c| c.client_port).collect();
    assert_eq!(clients, [50000]);
}

#[test]
fn nothing_listening_shows_no_connections() {
    // A client that bound local port 12345 and connected elsewhere.
    let text = [HEADER, &line("0100007F:3039", "0100007F:1F90", 0x01, 0, 12)].concat();
    let view = view(&text, 12345);
    assert!(!view.listening());
    assert_eq!(view.connections().count(), 0);
    assert_eq!(view.to_string(), "port 12345: nothing is listening\n");
}

#[test]
fn two_listeners_are_two_queues() {
    let tcp = [
        HEADER,
        &line("0100007F:3039", "00000000:0000", 0x0A, 1, 11),
        &line("0100007F:3039", "0100007F:C350", 0x01, 0, 0),
    ]
    .concat();
    let tcp6 = [
        HEADER,
        &line(
            "00000000000000000000000001000000:3039",
            "00000000000000000000000000000000:0000",
            0x0A,
            0,
            21,
        ),
    ]
    .concat();
    let mut rows = parse_table(&tcp).unwrap();
    rows.extend(parse_table(&tcp6).unwrap());
    let view = PortView::of(&Table::new(rows), 12345, &proc_net::SOURCE);
    assert_eq!(view.listeners.len(), 2);
    assert_eq!(view.listeners[0].connections.len(), 1);
    assert!(view.listeners[1].connections.is_empty());
    let table = view.to_string();
    assert!(
        table.contains("listening on 127.0.0.1:12345; 1 finished handshake waits for accept()"),
        "{table}"
    );
    assert!(
        table.contains("listening on [::1]:12345; the accept queue is empty\nno connections"),
        "{table}"
    );
}

#[test]
fn an_ipv4_client_of_a_dual_stack_listener_is_found() {
    // server on [::]:12345; the client 127.0.0.1:50000 connected over
    // IPv4: the server side is in tcp6 with mapped addresses, the client
    // side in tcp.
    let tcp6 = [
        HEADER,
        &line(
            "00000000000000000000000000000000:3039",
            "00000000000000000000000000000000:0000",
            0x0A,
            0,
            21,
        ),
        &line(
            "0000000000000000FFFF00000100007F:3039",
            "0000000000000000FFFF00000100007F:C350",
            0x01,
            0,
            22,
        ),
    ]
    .concat();
    let tcp = [HEADER, &line("0100007F:C350", "0100007F:3039", 0x01, 5, 23)].concat();
    let mut rows = parse_table(&tcp6).unwrap();
    rows.extend(parse_table(&tcp).unwrap());
    let view = PortView::of(&Table::new(rows), 12345, &proc_net::SOURCE);
    let connection = view.connection(50000).expect("the client's connection");
    assert!(connection.client_here);
    assert_eq!(connection.client_unread, Some(5));
}

#[test]
fn a_queue_that_disagrees_with_its_rows_is_inconsistent() {
    let text = [
        HEADER,
        &line("0100007F:3039", "00000000:0000", 0x0A, 0, 11),
        &line("0100007F:3039", "0100007F:C350", 0x01, 0, 0),
    ]
    .concat();
    assert!(!view(&text, 12345).is_consistent());
}

#[test]
fn a_queued_connection_the_table_does_not_list_is_explained() {
    // The queue counts one, and no row waits in it: a connection reset
    // while it waited.
    let text = [HEADER, &line("0100007F:3039", "00000000:0000", 0x0A, 1, 11)].concat();
    let view = view(&text, 12345);
    assert_eq!(view.listeners[0].unlisted(), 1);
    let table = view.to_string();
    assert!(
        table.contains("a connection reset or closed while it waited is no longer listed"),
        "{table}"
    );
    assert!(!table.contains("the table changed while it was read"), "{table}");
}

#[test]
fn unknown_facts_are_shown_as_unknown() {
    let mut table = Table::new(parse_table(crate::kernel::proc_net::tests::TCP).unwrap());
    for row in &mut table.rows {
        row.held = None;
        row.unread = None;
        row.queue = row.queue.map(|_| AcceptQueue::default());
    }
    let source = Source {
        system: "Elsewhere",
        read_from: "a test",
        not_reported: "this test's system reports no queues",
        reports_queues: false,
        reports_accepted: false,
        command: "",
    };
    let view = PortView::of(&table, 12345, &source);
    let text = view.to_string();
    assert!(
        text.contains("Elsewhere's table gives no length for its accept queue"),
        "{text}"
    );
    assert!(text.contains("?  "), "{text}");
    assert!(
        text.ends_with("? = not reported: this test's system reports no queues\n"),
        "{text}"
    );
    assert!(view.connections().all(|c| c.stage == Stage::QueuedOrAccepted));
}

#[test]
fn a_fin_unacknowledged_bytes_and_unanswered_clients_are_said_as_such() {
    let text = [
        HEADER,
        &line("0100007F:3039", "00000000:0000", 0x0A, 3, 11),
        // CLOSE_WAIT with 7 bytes and the client's FIN (8), held; its client
        // closed its socket (FIN_WAIT2, no inode).
        &line("0100007F:3039", "0100007F:C350", 0x08, 8, 12),
        &line("0100007F:C350", "0100007F:3039", 0x05, 0, 0),
        // A client in SYN_SENT toward the port, with no row on the server's side.
        &line("0100007F:C351", "0100007F:3039", 0x02, 0, 13),
    ]
    .concat();
    let view = view(&text, 12345);
    let closed = view.connection(50000).unwrap();
    assert_eq!((closed.server_unread, closed.fin_from_client), (Some(7), true));
    assert_eq!(
        (closed.client_held, closed.fin_from_server),
        (Some(false), Some(false))
    );
    let unanswered: Vec<u16> = view.listeners[0].unanswered.iter().map(|c| c.port()).collect();
    assert_eq!(unanswered, [50001]);
    let table = view.to_string();
    assert!(
        table.contains("; 7 bytes unread in the server's receive buffer, then the client's FIN"),
        "{table}"
    );
    assert!(
        table.contains("the client's program has closed its socket (FIN_WAIT2)"),
        "{table}"
    );
    assert!(
        table.contains(
            "1 client's connect() unanswered (SYN_SENT, no row on the server's side): 127.0.0.1:50001"
        ),
        "{table}"
    );
    // 3 waiting, the limit unknown: no claim that the queue is full.
    assert!(
        table.contains("= the server's kernel has not answered their SYN yet"),
        "{table}"
    );
}

/// A queue is full on Linux only once more than its limit wait: at the
/// limit, one more handshake still gets in, and nothing is said of a queue
/// whose limit is not reported.
#[test]
fn a_queue_is_full_only_past_its_limit() {
    let listener = |waiting, limit| ListenerView {
        address: "127.0.0.1:12345".parse().unwrap(),
        queue: AcceptQueue {
            waiting,
            in_progress: None,
            limit,
        },
        connections: Vec::new(),
        unanswered: Vec::new(),
    };
    assert!(!listener(Some(2), Some(2)).is_full());
    assert_eq!(listener(Some(3), Some(2)).is_full(), cfg!(target_os = "linux"));
    assert!(!listener(Some(3), None).is_full());
}
