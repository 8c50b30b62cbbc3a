//! A client of the lesson's servers, for programs that drive them: the tour
//! and the tests.
//!
//! It speaks the frame of [`client::protocol`] and can also misbehave on
//! purpose (raw bytes, a reset). Every method returns what happened rather
//! than deciding what it means: the tour narrates it, a test asserts on it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use anyhow::{bail, Context};
use client::protocol::{read_utf, write_utf, ProtocolError};

/// The longest a wait for something that takes well under a second on
/// loopback may last before it counts as a failure: a [`Peer`]'s reply, and
/// the tour's waits for a log line or a fact in the kernel's table. Long
/// enough for the slowest machine, short enough that a server that never
/// answers fails a test (or the tour) instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A client connection to a server, speaking the protocol.
#[derive(Debug)]
pub struct Peer {
    /// The connected socket, for writing and for its options.
    pub socket: TcpStream,
    input: BufReader<Recorded>,
}

/// The incoming side of a [`Peer`]'s connection, keeping the bytes the last
/// [`Peer::receive`] read, so that a reply that is not a frame can be shown
/// as the bytes it was.
#[derive(Debug)]
struct Recorded {
    socket: TcpStream,
    bytes: Vec<u8>,
}

impl Read for Recorded {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.socket.read(buffer)?;
        self.bytes.extend_from_slice(&buffer[..read]);
        Ok(read)
    }
}

/// How a connection ended, seen from the client.
#[derive(Debug)]
pub enum Closed {
    /// The server closed it in an orderly way: the end of the stream (FIN).
    Eof,
    /// The server's kernel reset it (RST).
    Reset(io::Error),
}

impl Peer {
    /// Connects to 127.0.0.1:`port`. Returns once the kernel has finished
    /// the handshake, whether or not the server has accepted.
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let peer = socket_lesson::peer::Peer::connect(listener.local_addr()?.port())?;
    /// assert_ne!(peer.port(), 0); // connected, though nothing was accepted
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(port: u16) -> io::Result<Peer> {
        Peer::from_socket(TcpStream::connect(("127.0.0.1", port))?)
    }

    /// Connects to `server`, on this machine or not, giving up when the
    /// handshake has not finished within `timeout` (a server whose accept
    /// queue is full lets new handshakes wait unanswered).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let peer = socket_lesson::peer::Peer::connect_to(listener.local_addr()?, Duration::from_secs(5))?;
    /// assert_eq!(peer.socket.peer_addr()?, listener.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect_to(server: SocketAddr, timeout: Duration) -> io::Result<Peer> {
        Peer::from_socket(TcpStream::connect_timeout(&server, timeout)?)
    }

    /// Connects to 127.0.0.1:`port` from the local port `local_port`, as the
    /// lesson's clients on 50000 and 60000 do.
    pub fn connect_from(port: u16, local_port: u16) -> anyhow::Result<Peer> {
        Ok(Peer::from_socket(client::net::connect(
            "127.0.0.1",
            port,
            Some(local_port),
        )?)?)
    }

    fn from_socket(socket: TcpStream) -> io::Result<Peer> {
        socket.set_read_timeout(Some(PATIENCE))?;
        let input = BufReader::new(Recorded {
            socket: socket.try_clone()?,
            bytes: Vec::new(),
        });
        Ok(Peer { socket, input })
    }

    /// This client's own port, as the server and the kernel see it.
    pub fn port(&self) -> u16 {
        self.address().port()
    }

    /// This client's own address.
    pub fn address(&self) -> SocketAddr {
        self.socket
            .local_addr()
            .expect("a connected socket has a local address")
    }

    /// Sends one message as one frame; returns the frame's size in bytes.
    pub fn send(&mut self, message: &str) -> Result<usize, ProtocolError> {
        write_utf(&mut self.socket, message)?;
        Ok(client::protocol::frame_len(message))
    }

    /// Sends raw bytes, frame or not.
    pub fn send_bytes(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.socket.write_all(bytes)
    }

    /// Reads the next message; `None` if the server closed between messages.
    pub fn receive(&mut self) -> Result<Option<String>, ProtocolError> {
        // What is already buffered is where this frame starts.
        let buffered = self.input.buffer().to_vec();
        self.input.get_mut().bytes = buffered;
        read_utf(&mut self.input)
    }

    /// Reads the next message as [`receive`](Peer::receive) does, waiting at
    /// most `wait` for it: a time-out is an [`io::Error`] that
    /// [`client::net::is_time_out`] recognises.
    pub fn receive_within(&mut self, wait: Duration) -> Result<Option<String>, ProtocolError> {
        self.socket.set_read_timeout(Some(wait))?;
        let received = self.receive();
        self.socket.set_read_timeout(Some(PATIENCE))?;
        received
    }

    /// The bytes the last [`receive`](Peer::receive) read, from where its
    /// frame began: the whole frame when it succeeded, and otherwise what
    /// came instead (the start of an HTTP response, say), up to the failure.
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let mut peer = socket_lesson::peer::Peer::connect(listener.local_addr()?.port())?;
    /// let (mut server, _) = listener.accept()?;
    /// server.write_all(b"HTTP/1.1 400 Bad Request\r\n")?;
    /// drop(server);
    /// assert!(peer.receive().is_err()); // "HT" announces 18,516 bytes; 24 came
    /// assert!(peer.received_bytes().starts_with(b"HTTP/1.1 400"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn received_bytes(&self) -> &[u8] {
        &self.input.get_ref().bytes
    }

    /// Sends `message` and reads the reply, which must be the lesson's,
    /// `message + " World!"`; returns it.
    pub fn exchange(&mut self, message: &str) -> anyhow::Result<String> {
        self.send(message)
            .with_context(|| format!("sending {message:?}"))?;
        let reply = self
            .receive()
            .with_context(|| format!("waiting for the reply to {message:?}"))?
            .with_context(|| {
                format!("the server closed the connection instead of replying to {message:?}")
            })?;
        if reply != format!("{message} World!") {
            bail!("the reply to {message:?} was {reply:?}");
        }
        Ok(reply)
    }

    /// Waits `wait` for anything at all to arrive; succeeds if nothing does.
    /// A reply on loopback takes well under a millisecond, so a silence of a
    /// few hundred milliseconds means no reply is coming now.
    pub fn silence(&mut self, wait: Duration) -> anyhow::Result<()> {
        self.socket.set_read_timeout(Some(wait))?;
        let arrived = self.input.fill_buf().map(|bytes| bytes.to_vec());
        self.socket.set_read_timeout(Some(PATIENCE))?;
        match arrived {
            Err(error) if client::net::is_time_out(&error) => Ok(()),
            Ok(bytes) if bytes.is_empty() => bail!("expected silence, but the server closed the connection"),
            Ok(bytes) => bail!(
                "expected silence, but {} bytes arrived: {bytes:02X?}",
                bytes.len()
            ),
            Err(error) => bail!("expected silence, but the connection failed: {error}"),
        }
    }

    /// Waits for the server to end this connection, and says how: the end
    /// of the stream, or a reset. Anything else (a message, a time-out) is
    /// an error.
    pub fn closed(&mut self) -> anyhow::Result<Closed> {
        match self.receive() {
            Ok(None) => Ok(Closed::Eof),
            Err(ProtocolError::Io(error)) if error.kind() == io::ErrorKind::ConnectionReset => {
                Ok(Closed::Reset(error))
            }
            other => bail!("expected the connection to be closed, got {other:?}"),
        }
    }

    /// Closes the connection with a reset instead of the orderly goodbye:
    /// with `SO_LINGER` at zero, closing sends RST, not FIN.
    pub fn reset(self) -> io::Result<()> {
        socket2::SockRef::from(&self.socket).set_linger(Some(Duration::ZERO))
    }
}
