//! server-v1's `serve`, in this process, on a free port: one exchange, and
//! `serve` returns. (The program itself is tested with the lesson's other
//! programs, in the workspace's tests/.)

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::thread;

use client::protocol::{read_utf, write_utf};

#[test]
fn one_client_one_reply_then_serve_returns() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = thread::spawn(move || server_v1::serve(listener));

    let client = TcpStream::connect(address).unwrap();
    write_utf(&mut &client, "Hello").unwrap();
    let reply = read_utf(&mut BufReader::new(&client)).unwrap();
    assert_eq!(reply.as_deref(), Some("Hello World!"));

    // After its one reply serve returns, and the listening socket with it.
    server.join().unwrap().unwrap();
    assert!(TcpStream::connect(address).is_err(), "nothing listens any more");
}
