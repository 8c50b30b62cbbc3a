//! lab: the server's calls made by hand, through its standard input, against
//! real clients. Each call's result line is checked, and the picture after it
//! against where the kernel says the connections are.

use crate::common;

use std::io::Write;
use std::time::Duration;

use common::{
    if_queues_reported, wait_for_kernel, Peer, Running, Server, LISTS_QUEUED_CONNECTIONS, REPORTS_ACCEPTED,
    REPORTS_QUEUES, SILENCE,
};

/// How the picture says a socket's receive buffer holds nothing, where the
/// system reports unread bytes; where it does not, it says so.
const NOTHING_UNREAD: &str = if REPORTS_QUEUES {
    "nothing unread"
} else {
    "unread: not reported"
};

/// The lab, driven line by line: each call's output is its result lines,
/// then the picture, which ends with a blank line.
struct Lab {
    server: Server,
}

/// What one call printed.
struct Output {
    /// The lines before the picture: what the call returned.
    said: Vec<String>,
    /// The picture, as lines.
    picture: Vec<String>,
}

impl Output {
    fn said(&self) -> String {
        self.said.join("\n")
    }

    fn picture(&self) -> String {
        self.picture.join("\n")
    }
}

impl Lab {
    fn start() -> Lab {
        let mut server = Server::start("lab", &["--ascii"]);
        // The help, and the first picture.
        read_call(&mut server.process);
        Lab { server }
    }

    fn port(&self) -> u16 {
        self.server.port
    }

    /// Types `command` and returns what it printed, up to the end of its
    /// picture.
    fn call(&mut self, command: &str) -> Output {
        self.server.process.type_in(&format!("{command}\n"));
        read_call(&mut self.server.process)
    }

    /// Types `command`, which makes no call: returns its one line.
    fn mistake(&mut self, command: &str) -> String {
        self.server.process.type_in(&format!("{command}\n"));
        self.server.process.next_line()
    }
}

/// What the lab says when accept() returns the connection from
/// `client_port` as its socket number `number`.
fn accepted_as(number: usize, client_port: u16) -> String {
    format!("accept() returned socket {number}, connected to 127.0.0.1:{client_port}")
}

/// Reads one call's output: lines up to the picture's first box line, then
/// the picture up to its blank line.
fn read_call(process: &mut Running) -> Output {
    let mut said = Vec::new();
    let mut line = process.next_line();
    while !line.starts_with("+- server") {
        said.push(line);
        line = process.next_line();
    }
    let mut picture = vec![line];
    loop {
        let line = process.next_line();
        if line.is_empty() {
            return Output { said, picture };
        }
        picture.push(line);
    }
}

/// The queue's slots row of a picture: the line with the clients' ports.
fn slots(picture: &str) -> &str {
    picture
        .lines()
        .skip_while(|line| !line.contains("backlog queue"))
        .find(|line| line.contains("| :"))
        .unwrap_or("")
}

#[test]
fn two_clients_wait_in_the_queue_and_accept_takes_them_in_order() {
    let mut lab = Lab::start();
    let port = lab.port();
    let a = Peer::connect(port).unwrap();
    wait_for_kernel("A in the queue", |table| {
        table
            .listener(port)?
            .queue
            .filter(|q| q.waiting == if_queues_reported(1))
    });
    // The lab notes A, as a learner's `show` would, before B connects.
    let seen = lab.call("show");
    if LISTS_QUEUED_CONNECTIONS {
        assert!(
            slots(&seen.picture()).contains(&format!(":{} ", a.port())),
            "{}",
            seen.picture()
        );
    }
    let mut b = Peer::connect(port).unwrap();
    b.send("Hello from B").unwrap(); // 2 + 12 bytes
    let (a_port, b_port) = (a.port(), b.port());
    wait_for_kernel("B's bytes, where reported", |table| {
        common::waits_in_queue(table, port, b_port, 14).then_some(())
    });

    // Both in the queue, A first: the lab watched them arrive.
    let shown = lab.call("show");
    let picture = shown.picture();
    if REPORTS_QUEUES {
        assert!(picture.contains("backlog queue: 2 waiting"), "{picture}");
        assert!(picture.contains("14 B unread"), "{picture}");
    }
    if LISTS_QUEUED_CONNECTIONS {
        assert!(
            picture.contains("oldest first: accept() takes the one on the left"),
            "{picture}"
        );
        let row = slots(&picture);
        let slot_of = |port: u16| {
            row.find(&format!(":{port} "))
                .unwrap_or_else(|| panic!(":{port} in no slot: {picture}"))
        };
        assert!(slot_of(a_port) < slot_of(b_port), "{picture}");
    }
    assert!(picture.contains("sockets from accept(): none"), "{picture}");

    // accept() returns A, the head of the queue; B waits with its bytes.
    let first = lab.call("accept");
    assert_eq!(first.said(), accepted_as(1, a_port));
    let picture = first.picture();
    assert!(
        picture.contains(&format!("socket 1 -- :{a_port}   {NOTHING_UNREAD}")),
        "{picture}"
    );
    if LISTS_QUEUED_CONNECTIONS {
        assert!(slots(&picture).contains(&format!(":{b_port} ")), "{picture}");
    }
    if REPORTS_ACCEPTED {
        wait_for_kernel("A accepted, B queued", |table| {
            let accepted = table.server_side(port, a_port)?.held == Some(true);
            (accepted && table.server_side(port, b_port)?.held == Some(false)).then_some(())
        });
    }

    // accept() returns B; read 2 takes its message from the buffer.
    let second = lab.call("accept");
    assert_eq!(second.said(), accepted_as(2, b_port));
    assert!(
        second.picture().contains(&format!("socket 2 -- :{b_port}")),
        "{}",
        second.picture()
    );
    let read = lab.call("read 2");
    assert_eq!(
        read.said(),
        "read_utf() returned \"Hello from B\": 14 bytes taken from socket 2's receive buffer"
    );
    if REPORTS_QUEUES {
        assert!(
            read.picture()
                .contains(&format!("socket 2 -- :{b_port}   nothing unread")),
            "{}",
            read.picture()
        );
    }
    lab.server.process.type_in("quit\n");
    let (status, stderr) = lab.server.process.wait_exit();
    assert!(status.success(), "{stderr}");
}

#[test]
fn accept_on_an_empty_queue_blocks_until_a_client_connects() {
    let mut lab = Lab::start();
    lab.server.process.type_in("accept\n");
    let blocked = lab.server.process.next_line();
    assert_eq!(
        blocked,
        "blocked in accept(): no finished handshake in the queue; connect a client from another \
         terminal (Ctrl-C stops waiting)"
    );
    // Blocked: nothing more is printed, and the queue is empty.
    assert_eq!(lab.server.process.next_line_within(SILENCE), None);
    let port = lab.port();
    wait_for_kernel("the lab's empty queue", |table| {
        table
            .listener(port)?
            .queue
            .filter(|q| q.waiting == if_queues_reported(0))
    });

    let client = Peer::connect(port).unwrap();
    let accepted = read_call(&mut lab.server.process);
    assert_eq!(accepted.said(), accepted_as(1, client.port()));
}

#[test]
fn read_on_an_empty_buffer_blocks_until_the_client_sends() {
    let mut lab = Lab::start();
    let mut client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    lab.server.process.type_in("read 1\n");
    assert_eq!(
        lab.server.process.next_line(),
        "blocked in read(): socket 1's receive buffer is empty; send a message from its client \
         (Ctrl-C stops waiting)"
    );
    assert_eq!(lab.server.process.next_line_within(SILENCE), None);
    client.send("at last").unwrap();
    let read = read_call(&mut lab.server.process);
    assert_eq!(
        read.said(),
        "read_utf() returned \"at last\": 9 bytes taken from socket 1's receive buffer"
    );
}

/// A message is shown escaped once: a forged line stays on one line, and a
/// backslash is shown as two, not four.
#[test]
fn a_message_read_is_shown_escaped_once() {
    let mut lab = Lab::start();
    let mut client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    client.send("a\\b\n[ main] forged").unwrap();
    let read = lab.call("read 1");
    assert_eq!(
        read.said(),
        r#"read_utf() returned "a\\b\n[ main] forged": 20 bytes taken from socket 1's receive buffer"#
    );
}

#[test]
#[cfg_attr(
    windows,
    ignore = "sends SIGINT with kill, which only Unix has; Windows's Ctrl-C is a console event"
)]
fn ctrl_c_interrupts_a_blocked_accept_and_the_lab_goes_on() {
    let mut lab = Lab::start();
    lab.server.process.type_in("accept\n");
    lab.server.process.expect_line("blocked in accept()");
    // The lab says it blocks just before it calls accept(): a Ctrl-C in
    // between finds nothing to interrupt, and a person presses it again.
    let answer = (0..50)
        .find_map(|_| {
            lab.server.process.interrupt();
            lab.server.process.next_line_within(Duration::from_millis(200))
        })
        .expect("the lab answers Ctrl-C");
    assert_eq!(
        answer,
        "accept() was interrupted (Ctrl-C): nothing was taken from the queue"
    );
    read_call(&mut lab.server.process); // the picture after it

    // Still listening, and still accepting when asked.
    let client = Peer::connect(lab.port()).unwrap();
    let accepted = lab.call("accept");
    assert_eq!(accepted.said(), accepted_as(1, client.port()));
}

#[test]
fn every_mistake_gets_one_line_and_the_lab_goes_on() {
    let mut lab = Lab::start();
    for (typed, line) in [
        ("acept", "unknown command `acept`: type accept, read N, write N TEXT, close N, show, help or quit"),
        ("read", "read needs a socket's number: read N"),
        ("read two", "`two` is not a socket's number: read N, where N is 1, 2, ... in the order accept() returned them"),
        ("write 1", "write needs the text to send: write N TEXT"),
        ("close 1", "there is no socket 1: nothing accepted yet; type accept"),
        ("accept now", "accept takes nothing after it: type just `accept`"),
    ] {
        assert_eq!(lab.mistake(typed), line, "after {typed:?}");
    }
    let client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    assert_eq!(
        lab.mistake("read 2"),
        "there is no socket 2: accept() has returned 1 so far"
    );
    drop(client);
    lab.server.process.type_in("quit\n");
    let (status, stderr) = lab.server.process.wait_exit();
    assert!(status.success(), "{stderr}");
}

#[test]
fn client_v2_talks_to_the_lab() {
    let mut lab = Lab::start();
    let mut client = Running::start("client-v2", &["--port", &lab.port().to_string()]);
    client.expect_line("connected: client");
    client.type_in("Hello, lab\n");
    client.expect_line("sent: Hello, lab");
    lab.call("accept");
    let read = lab.call("read 1");
    assert!(
        read.said().starts_with("read_utf() returned \"Hello, lab\""),
        "{}",
        read.said()
    );
    let wrote = lab.call("write 1 Hello, lab World!");
    assert!(
        wrote.said().starts_with("write_utf() returned: 19 bytes"),
        "{}",
        wrote.said()
    );
    client.expect_line("received: Hello, lab World!");
}

#[test]
#[cfg_attr(
    windows,
    ignore = "knowing the bytes arrived before the close takes the kernel's unread count, which Windows \
              does not report"
)]
fn closing_a_socket_with_unread_bytes_resets_the_connection() {
    let mut lab = Lab::start();
    let mut client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    client.send("never read").unwrap();
    let (port, client_port) = (lab.port(), client.port());
    wait_for_kernel("the bytes in socket 1's buffer", |table| {
        (table.server_side(port, client_port)?.unread == Some(12)).then_some(())
    });
    let closed = lab.call("close 1");
    assert_eq!(
        closed.said(),
        "close() returned: socket 1 is closed with 12 bytes still unread in its receive buffer, so \
         the kernel resets the connection (RST) instead of saying goodbye"
    );
    // The client sees the reset, not the end of the stream.
    assert!(
        matches!(client.closed().unwrap(), common::Closed::Reset(_)),
        "a reset"
    );
}

/// The bytes a read takes are counted as they come from the kernel, not
/// recomputed from the text: modified UTF-8's other forms of a character
/// (an overlong `C1 81` for `A`, `E0 80 80` for NUL) are longer than the
/// form the text would be written in again.
#[test]
fn a_read_counts_the_bytes_it_took() {
    let mut lab = Lab::start();
    let mut client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    client.socket.write_all(&[0, 2, 0xC1, 0x81]).unwrap();
    let read = lab.call("read 1");
    assert!(
        read.said()
            .contains("4 bytes taken from socket 1's receive buffer"),
        "{}",
        read.said()
    );
    client.socket.write_all(&[0, 3, 0xE0, 0x80, 0x80]).unwrap();
    let read = lab.call("read 1");
    assert!(
        read.said()
            .contains("5 bytes taken from socket 1's receive buffer"),
        "{}",
        read.said()
    );
}

/// `close` says how many bytes the kernel held unread, all of them, not as
/// many as one look could take.
#[test]
#[cfg_attr(
    windows,
    ignore = "the unread count is the kernel's, which the Windows table does not report"
)]
fn closing_counts_every_unread_byte() {
    let mut lab = Lab::start();
    let mut client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    // Two frames of 40,000 bytes: more than one look of 65,536 bytes takes,
    // and less than a receive buffer holds.
    let frame = [&[0x9C, 0x3E][..], &[b'x'; 39_998][..]].concat();
    client.socket.write_all(&frame).unwrap();
    client.socket.write_all(&frame).unwrap();
    let (port, client_port) = (lab.port(), client.port());
    wait_for_kernel("both frames in socket 1's buffer", |table| {
        (table.server_side(port, client_port)?.unread == Some(80_000)).then_some(())
    });
    let closed = lab.call("close 1");
    assert!(
        closed.said().contains("closed with 80000 bytes still unread"),
        "{}",
        closed.said()
    );
}

/// A connection already reset sends nothing when its socket is closed:
/// `close` does not say the kernel says goodbye.
#[test]
#[cfg_attr(
    windows,
    ignore = "waits for the reset connection to leave the kernel's table, which the Windows table \
              this project tests (under Wine) keeps listing while the lab holds the socket"
)]
fn closing_a_reset_connection_says_it_was_reset() {
    let mut lab = Lab::start();
    let client = Peer::connect(lab.port()).unwrap();
    lab.call("accept");
    let (port, client_port) = (lab.port(), client.port());
    client.reset().unwrap();
    wait_for_kernel("the reset connection gone from the table", |table| {
        table.server_side(port, client_port).is_none().then_some(())
    });
    let closed = lab.call("close 1");
    assert_eq!(
        closed.said(),
        "close() returned: socket 1 is closed; its connection had already been reset (RST), so the \
         kernel sends nothing more"
    );
}
