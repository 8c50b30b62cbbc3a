//! server-v2's `serve`, in this process, on a free port: the first client is
//! answered as often as it asks; a second one connects and sends, and gets
//! no answer while the first is there. (The program itself, and what the
//! kernel holds for the second client, are tested in the workspace's tests/.)

use std::io::{BufReader, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use client::protocol::{read_utf, write_utf, ProtocolError};

#[test]
fn the_first_client_is_served_and_the_second_waits() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = thread::spawn(move || server_v2::serve(listener));

    let a = TcpStream::connect(address).unwrap();
    let mut a_replies = BufReader::new(&a);
    for message in ["one", "two"] {
        write_utf(&mut &a, message).unwrap();
        let reply = read_utf(&mut a_replies).unwrap();
        assert_eq!(reply, Some(format!("{message} World!")));
    }

    // B's connect returns: the kernel finished its handshake without the
    // server, which is in A's loop. B's message is taken by the kernel too.
    let b = TcpStream::connect(address).unwrap();
    write_utf(&mut &b, "from B").unwrap();
    b.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let waited = read_utf(&mut BufReader::new(&b));
    assert!(
        matches!(&waited, Err(ProtocolError::Io(error))
            if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "B gets no reply, only the read's time-out: {waited:?}"
    );

    // A is still answered while B waits.
    write_utf(&mut &a, "three").unwrap();
    assert_eq!(read_utf(&mut a_replies).unwrap().as_deref(), Some("three World!"));

    write_utf(&mut &a, "exit").unwrap();
    server.join().unwrap().unwrap();
}
