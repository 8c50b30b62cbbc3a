//! A client's side of a conversation, beyond the frame: what a silence, a
//! close or a time-out means, said in one line, and leaving the server to
//! close first. Both clients use it.

use std::io::{self, BufReader};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use log::warn;

use crate::net::is_time_out;
use crate::protocol::{encode, read_utf, MAX_FRAME_PAYLOAD};
use crate::text::shown;

/// After its last message, waits for the server to close the connection, at
/// most `wait` (and no longer than the client's `--timeout`, if it has one),
/// reporting anything else it still sends (a message nobody asked for).
///
/// The side that closes first keeps the connection in TIME_WAIT. The one
/// that said goodbye should let the other close: then the server keeps
/// TIME_WAIT, and this client's `--local-port` is free for its next run at
/// once, instead of being held while our half-closed connection waits.
pub fn let_the_server_close_first(
    input: &mut BufReader<&TcpStream>,
    wait: Duration,
    timeout: Option<Duration>,
) -> io::Result<()> {
    let socket = *input.get_ref();
    let deadline = Instant::now() + timeout.map_or(wait, |timeout| timeout.min(wait));
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        socket.set_read_timeout(Some(left))?;
        match read_utf(input) {
            Ok(Some(unasked)) => warn!(
                "the server sent a message that was not asked for: {}",
                shown(&unasked)
            ),
            // The server closed, as it should; or the time is up, or the
            // connection failed: either way, we close now.
            Ok(None) | Err(_) => return Ok(()),
        }
    }
}

/// The error for `--timeout` passing with no reply, and what it may mean.
///
/// ```
/// let error = client::conversation::no_reply(std::time::Duration::from_secs(2), 12345);
/// assert!(error.to_string().starts_with("no reply within 2s (--timeout)"));
/// ```
pub fn no_reply(timeout: Duration, port: u16) -> anyhow::Error {
    anyhow!(
        "no reply within {timeout:?} (--timeout): the server has not answered; it may not have accepted \
         this connection (`cargo run --bin peek -- --port {port}` shows the message waiting unread in \
         its receive buffer), or it is busy or stuck"
    )
}

/// Whether something to read (a byte, or the end of the connection) arrives
/// within `wait` (`None`: for ever). It is left where it is, for `read_utf`.
///
/// A client waits for its reply's first byte with this, a `peek` under the
/// socket's read time-out, before it reads the frame: a time-out here means
/// that no reply came at all ([`no_reply`]), and one while the frame is
/// read, that the reply stopped in the middle ([`reply_stopped`]). A read
/// that times out in the middle of a frame cannot tell them apart, having
/// taken what it read out of the `BufReader`; `peek` takes nothing.
pub fn arrives_within(socket: &TcpStream, wait: Option<Duration>) -> io::Result<bool> {
    socket.set_read_timeout(wait)?;
    loop {
        match socket.peek(&mut [0]) {
            Ok(_) => return Ok(true),
            Err(error) if is_time_out(&error) => return Ok(false),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
}

/// The error for `--timeout` passing in the middle of a reply: its first
/// byte had arrived, then the rest stopped coming.
///
/// ```
/// let error = client::conversation::reply_stopped(std::time::Duration::from_secs(2));
/// assert!(error.to_string().starts_with("the reply stopped arriving"));
/// ```
pub fn reply_stopped(timeout: Duration) -> anyhow::Error {
    anyhow!(
        "the reply stopped arriving: nothing more came for {timeout:?} (--timeout) in the middle of \
         it; the server or the network is stuck"
    )
}

/// The error for a server that closed instead of replying, which says why
/// when the reason is on our side: the reply, `message + " World!"`, would
/// need more bytes than a frame holds, so the server could not send it.
///
/// ```
/// use client::conversation::closed_without_replying;
///
/// let short = closed_without_replying("Hello").to_string();
/// assert_eq!(short, "the server closed the connection without replying");
/// let long = closed_without_replying(&"a".repeat(65_535)).to_string();
/// assert!(long.contains("would not fit in one frame"), "{long}");
/// ```
pub fn closed_without_replying(message: &str) -> anyhow::Error {
    let reply = encode(&format!("{message} World!")).len();
    if reply > MAX_FRAME_PAYLOAD {
        anyhow!(
            "the server closed the connection without replying: the reply to this message, {reply} \
             bytes, would not fit in one frame (the lesson's frame holds at most 65535 bytes), so the \
             server could not send it; send a shorter message"
        )
    } else {
        anyhow!("the server closed the connection without replying")
    }
}
