//! server-v3's `serve`, in this process, on a free port: two clients at
//! once, each answered by its own session thread. (The program itself, its
//! limits and its time-out are tested in the workspace's tests/.)

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::thread;

use client::protocol::{read_utf, write_utf};

#[test]
fn two_clients_at_once_are_both_served() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    // serve never returns: the thread ends with this test's process.
    thread::spawn(move || server_v3::serve(listener, &server_v3::Options::default()));

    let a = TcpStream::connect(address).unwrap();
    let b = TcpStream::connect(address).unwrap();
    let (mut a_replies, mut b_replies) = (BufReader::new(&a), BufReader::new(&b));
    // B speaks while A's session is open: a session thread of its own
    // answers it.
    write_utf(&mut &a, "from A").unwrap();
    write_utf(&mut &b, "from B").unwrap();
    assert_eq!(
        read_utf(&mut b_replies).unwrap().as_deref(),
        Some("from B World!")
    );
    assert_eq!(
        read_utf(&mut a_replies).unwrap().as_deref(),
        Some("from A World!")
    );
}
