//! server-v1: one client, one message, one reply, then exit.
//!
//! The smallest server there is, in the order of the lesson: the listening
//! socket is already bound (see `main.rs`); [`serve`] accepts one connection,
//! reads one message, replies, and returns, which closes everything.

use std::io::BufReader;
use std::net::TcpListener;

use anyhow::{anyhow, Context, Result};
use client::protocol::{read_utf, write_utf, ProtocolError};
use client::text::shown;
use log::{debug, info};

/// Serves exactly one client with exactly one reply: `message + " World!"`.
///
/// ```no_run
/// let listener = std::net::TcpListener::bind("127.0.0.1:12345")?;
/// server_v1::serve(listener)?; // returns after one exchange
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn serve(listener: TcpListener) -> Result<()> {
    info!("listening on {}", listener.local_addr()?);

    // accept() blocks until a client's three-way handshake, which the kernel
    // carries out by itself, is finished and queued; then it takes that
    // connection off the queue and gives us a socket for it.
    let (socket, client) = listener.accept()?;
    info!("connected: client {client} -> server {}", socket.local_addr()?);
    let mut input = BufReader::new(&socket);
    let mut output = &socket;

    // read_utf blocks until the client's whole frame is in our receive buffer.
    let received = read_utf(&mut input)
        .map_err(in_words)?
        .context("the client closed the connection without sending a message")?;
    debug!("received: {}", shown(&received));

    let reply = format!("{received} World!");
    write_utf(&mut output, &reply)
        .map_err(in_words)
        .context("cannot send the reply")?;
    debug!("sent: {}", shown(&reply));

    // Returning drops `socket` and `listener`: the kernel closes both.
    info!("closing the connection and the listening socket");
    Ok(())
}

/// A failed read or write in the words server-v2 and v3 use: a reset is
/// `the client reset the connection (RST)` on every system, rather than
/// each system's own words.
fn in_words(error: ProtocolError) -> anyhow::Error {
    anyhow!(error.describe("client"))
}
