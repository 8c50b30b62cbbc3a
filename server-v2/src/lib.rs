//! server-v2: accept one client, then talk to it alone, until it says `exit`.
//!
//! This is the version with the lesson's problem. It has two blocking calls,
//! `accept()` and the read in [`session`], and one thread to make them. Once
//! that thread is in the read loop it never calls `accept()` again, so a
//! second client connects (the kernel finishes its handshake and queues it),
//! sends (its bytes wait in the server's receive buffer), and is never
//! answered.

use std::fmt;
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};

use anyhow::{Context, Result};
use client::protocol::{read_utf, write_utf, ProtocolError};
use client::text::shown;
use log::{debug, info};

/// Serves the first client that connects until it sends `exit` or closes,
/// then returns, closing everything, including the connections still queued.
///
/// A session that fails (a connection cut in the middle of a message, a reset,
/// bytes that are not a message) ends the server with that error.
///
/// ```no_run
/// let listener = std::net::TcpListener::bind("127.0.0.1:12345")?;
/// server_v2::serve(listener)?; // returns when the first client is done
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn serve(listener: TcpListener) -> Result<()> {
    info!("listening on {}", listener.local_addr()?);

    // Blocking call 1: accept() waits until the kernel has finished a
    // client's three-way handshake and queued it, then takes it off the
    // accept queue and gives us a socket for it.
    let (socket, client) = listener.accept()?;
    info!("connected: client {client} -> server {}", socket.local_addr()?);

    // From here the only thread loops on this one client and never comes back
    // to accept(). Other clients still connect: the kernel finishes their
    // handshakes and keeps them, and what they send, until someone accepts.
    let end = session(&socket).with_context(|| format!("session with {client}"))?;
    info!("session ended: {end}");

    // Returning drops `socket` and `listener`. The kernel closes them, and
    // resets the connections still waiting in the accept queue.
    info!("closing the connection and the listening socket");
    Ok(())
}

/// Talks to one client: reads a message, replies `message + " World!"`, and
/// again, until the client sends `exit` or closes the connection between
/// messages.
///
/// server-v3 runs this same loop, one session thread per client.
pub fn session(socket: &TcpStream) -> Result<SessionEnd, SessionError> {
    let mut input = BufReader::new(socket);
    let mut output = socket;
    loop {
        // Blocking call 2: read_utf waits until the client's next frame is in
        // our receive buffer. While it waits, nothing else happens here.
        let Some(received) = read_utf(&mut input).map_err(SessionError::Receive)? else {
            return Ok(SessionEnd::ClientClosed);
        };
        // The message is the client's text: shown escaped, so that it cannot
        // forge a line of this log (see client::text).
        debug!("received: {}", shown(&received));
        if received == "exit" {
            return Ok(SessionEnd::Exit);
        }

        let reply = format!("{received} World!");
        write_utf(&mut output, &reply).map_err(SessionError::Reply)?;
        debug!("sent: {}", shown(&reply));
    }
}

/// How a session ended when nothing went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The client sent `exit`.
    Exit,
    /// The client closed the connection between two messages.
    ClientClosed,
}

impl fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionEnd::Exit => "the client sent exit",
            SessionEnd::ClientClosed => "the client closed the connection",
        })
    }
}

/// Why a session failed: a message could not be received, or its reply
/// could not be sent.
#[derive(Debug)]
pub enum SessionError {
    /// Reading the client's next message failed: the connection was cut in
    /// the middle of a frame or reset, or the bytes are not a message.
    Receive(ProtocolError),
    /// The reply could not be sent: it would not fit in one frame, or the
    /// connection failed while writing it.
    Reply(ProtocolError),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::Receive(error) => f.write_str(&error.describe("client")),
            SessionError::Reply(error) => write!(f, "cannot send the reply: {}", error.describe("client")),
        }
    }
}

impl std::error::Error for SessionError {}
